"""The results store: one folder per sweep, written so a killed driver loses nothing.

Layout::

    DIR/manifest.json         what was swept: the sweep file, seed, design, counts, versions
    DIR/sweep.toml            the sweep file as given
    DIR/design.parquet        point_id, parameter values, derived settings, unit coordinates
    DIR/runs/part-NNNNNN.parquet        one row per finished run (ok or failed)
    DIR/timeseries/part-NNNNNN.parquet  per-step rows of the same runs, when asked for

Every file is written under a temporary name, flushed to disk and renamed, so a reader (or a
resumed sweep) only ever sees whole files. A batch writes its time series part first and its
runs part last: the runs part is the commit, and a time series part without one is left over
from a killed driver and is removed on resume. A run is finished exactly when its row is in a
runs part, so resuming reruns nothing that finished and loses nothing that did.

One driver at a time: the folder is locked (``flock``) while a sweep writes to it; the lock
goes away with the process, even after ``kill -9``.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from funnelsim.errors import UsageError

MANIFEST = "manifest.json"
SWEEP_COPY = "sweep.toml"
DESIGN = "design.parquet"
RUNS = "runs"
TIMESERIES = "timeseries"
LOCK = ".lock"
TEMPORARY_SUFFIX = ".tmp"
STORE_FORMAT = 1


class ResultsStore:
    """Writes a sweep's results; use :meth:`create` for a new sweep and :meth:`reopen` to resume."""

    def __init__(self, directory: Path, manifest: dict[str, Any], lock_file):
        self.directory = directory
        self.manifest = manifest
        self._lock_file = lock_file
        self._next_part = _next_part_number(directory / RUNS)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, directory: str | Path, manifest: dict[str, Any], design: pd.DataFrame, sweep_text: str) -> ResultsStore:
        directory = Path(directory)
        check_new_directory(directory)
        directory.mkdir(parents=True, exist_ok=True)
        lock_file = _lock(directory)
        (directory / RUNS).mkdir(exist_ok=True)
        (directory / TIMESERIES).mkdir(exist_ok=True)
        _write_atomically(directory / SWEEP_COPY, sweep_text.encode("utf-8"))
        _write_table_atomically(directory / DESIGN, pa.Table.from_pandas(design, preserve_index=False))
        # The manifest goes last: a folder with a manifest has everything needed to resume.
        manifest = {"format": STORE_FORMAT, **manifest}
        _write_atomically(directory / MANIFEST, json.dumps(manifest, indent=2, default=str).encode("utf-8"))
        return cls(directory, manifest, lock_file)

    @classmethod
    def reopen(cls, directory: str | Path) -> ResultsStore:
        """Open a store to finish its sweep: clear what a killed driver left half-written."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        lock_file = _lock(directory)
        for leftover in directory.rglob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()
        committed = {path.name for path in (directory / RUNS).glob("part-*.parquet")}
        for timeseries_part in (directory / TIMESERIES).glob("part-*.parquet"):
            if timeseries_part.name not in committed:
                timeseries_part.unlink()
        return cls(directory, manifest, lock_file)

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading back what is finished -----------------------------------------------------

    def finished_mask(self, n_runs: int) -> np.ndarray:
        """A boolean per run id: True when the run has a row in a committed runs part."""
        finished = np.zeros(n_runs, dtype=bool)
        for part in sorted((self.directory / RUNS).glob("part-*.parquet")):
            run_ids = pq.read_table(part, columns=["run_id"]).column("run_id").to_numpy()
            finished[run_ids] = True
        return finished

    def count_failed(self) -> int:
        failed = 0
        for part in (self.directory / RUNS).glob("part-*.parquet"):
            status = pq.read_table(part, columns=["status"]).column("status").to_pylist()
            failed += status.count("failed")
        return failed

    # -- writing ---------------------------------------------------------------------------

    def write_batch(self, records: Iterable) -> None:
        """Commit finished runs: their time series part (if any) first, their runs part last."""
        records = list(records)
        if not records:
            return
        name = f"part-{self._next_part:06d}.parquet"
        series = [record.timeseries for record in records if record.timeseries is not None]
        if series:
            table = pa.Table.from_pandas(pd.concat(series, ignore_index=True), preserve_index=False)
            _write_table_atomically(self.directory / TIMESERIES / name, table)
        rows = pd.DataFrame([record.row for record in records])
        _write_table_atomically(self.directory / RUNS / name, pa.Table.from_pandas(rows, preserve_index=False))
        self._next_part += 1


# -- checks and reading, for the command line and for analysis ----------------------------------


def check_new_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {directory}: exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()):
        if (directory / MANIFEST).exists():
            raise UsageError(f"--out {directory}: already holds a sweep; add --resume to finish it, or pick another --out")
        raise UsageError(f"--out {directory}: folder is not empty; pick another --out")


def read_manifest(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise UsageError(f"{directory}: no sweep results here (no {MANIFEST})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"{path}: cannot read the manifest ({error})") from None


def read_design(directory: str | Path) -> pd.DataFrame:
    return pd.read_parquet(Path(directory) / DESIGN)


def read_runs(directory: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every finished run, one row each, ordered by run id (DuckDB, so parts may differ in columns)."""
    return _read_parts(Path(directory) / RUNS, columns, order_by="run_id")


def read_timeseries(directory: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    return _read_parts(Path(directory) / TIMESERIES, columns, order_by="run_id, step, firm")


def connect(directory: str | Path):
    """A DuckDB connection with views ``runs``, ``timeseries`` and ``design`` over the Parquet files."""
    import duckdb

    directory = Path(directory)
    connection = duckdb.connect()
    views = {"runs": directory / RUNS, "timeseries": directory / TIMESERIES}
    for view, folder in views.items():
        if any(folder.glob("part-*.parquet")):
            connection.execute(
                f"CREATE VIEW {view} AS SELECT * FROM read_parquet({_sql_string(str(folder / 'part-*.parquet'))}, union_by_name = true)"
            )
    connection.execute(f"CREATE VIEW design AS SELECT * FROM read_parquet({_sql_string(str(directory / DESIGN))})")
    return connection


def _read_parts(folder: Path, columns: list[str] | None, order_by: str) -> pd.DataFrame:
    import duckdb

    if not any(folder.glob("part-*.parquet")):
        return pd.DataFrame(columns=columns or [])
    selected = ", ".join(f'"{column}"' for column in columns) if columns else "*"
    query = (
        f"SELECT {selected} FROM read_parquet({_sql_string(str(folder / 'part-*.parquet'))}, union_by_name = true) "
        f"ORDER BY {order_by}"
    )
    connection = duckdb.connect()
    try:
        return connection.execute(query).df()
    finally:
        connection.close()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- atomic files ---------------------------------------------------------------------------------


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _write_table_atomically(path: Path, table: pa.Table) -> None:
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    with open(temporary, "wb") as handle:
        pq.write_table(table, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _next_part_number(folder: Path) -> int:
    numbers = [int(path.stem.removeprefix("part-")) for path in folder.glob("part-*.parquet")]
    return max(numbers, default=0) + 1


def _lock(directory: Path):
    lock_file = open(directory / LOCK, "a+")
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise UsageError(f"{directory}: another funnelsim sweep is writing to this folder") from None
    return lock_file
