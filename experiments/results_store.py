"""The results store: one folder per sweep or run, written so a killed driver loses nothing.

Layout (``docs/results.md`` has every column)::

    DIR/manifest.json         what ran: the command, scenario, seed, design, counts, versions, times
    DIR/sweep.toml            the sweep file as given (sweeps only)
    DIR/design.parquet        point_id, parameter values, derived settings, unit coordinates
    DIR/runs/part-NNNNNN.parquet        one row per finished run and firm (long layout), ok or failed
    DIR/timeseries/part-NNNNNN.parquet  per-step rows of the same runs, when asked for

Every runs part has the same Arrow schema (:func:`runs_schema`): bookkeeping columns, the
design's parameters, ``firm``, then one float64 column per measure; ``error`` and ``traceback``
are always strings (null when the run succeeded). So Polars, pandas, DuckDB and
``pyarrow.dataset`` read ``runs/`` as one table without reconciling parts. Every time series
part has the schema of the first one, which the manifest records.

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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
STORE_FORMAT = 2

#: The columns every runs part starts with, and their Arrow types.
RUN_COLUMNS = (
    ("run_id", pa.int64()),
    ("point_id", pa.int64()),
    ("replication", pa.int64()),
    ("seed", pa.int64()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("traceback", pa.string()),
    ("elapsed_seconds", pa.float64()),
)
_TYPES = {"int64": pa.int64(), "double": pa.float64(), "string": pa.string(), "large_string": pa.string(), "bool": pa.bool_()}


def runs_schema(design: pd.DataFrame, measures: list[str]) -> pa.Schema:
    """The one schema of every runs part: bookkeeping, the design's inputs, ``firm``, measures."""
    design_schema = pa.Table.from_pandas(design, preserve_index=False).schema
    fields = [pa.field(name, kind) for name, kind in RUN_COLUMNS]
    for design_field in design_schema:
        if design_field.name != "point_id" and not design_field.name.startswith("unit::"):
            kind = pa.string() if pa.types.is_large_string(design_field.type) or pa.types.is_null(design_field.type) else design_field.type
            fields.append(pa.field(design_field.name, kind))
    fields.append(pa.field("firm", pa.string()))
    fields.extend(pa.field(measure, pa.float64()) for measure in measures)
    return pa.schema(fields)


def _schema_to_json(schema: pa.Schema | None) -> list[list[str]] | None:
    return None if schema is None else [[field.name, str(field.type)] for field in schema]


def _schema_from_json(columns: list[list[str]] | None) -> pa.Schema | None:
    if columns is None:
        return None
    return pa.schema([pa.field(name, _TYPES.get(kind, pa.string())) for name, kind in columns])


class ResultsStore:
    """Writes a sweep's results; use :meth:`create` for a new sweep and :meth:`reopen` to resume."""

    def __init__(self, directory: Path, manifest: dict[str, Any], lock_file):
        self.directory = directory
        self.manifest = manifest
        self._lock_file = lock_file
        self._next_part = _next_part_number(directory / RUNS)
        self._design = None
        self.runs_schema = _schema_from_json(manifest.get("runs_schema"))
        self.timeseries_schema = _schema_from_json(manifest.get("timeseries_schema"))

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | Path,
        manifest: dict[str, Any],
        design: pd.DataFrame,
        sweep_text: str | None,
        measures: list[str] | None = None,
    ) -> ResultsStore:
        """A new store. ``measures`` fixes the measure columns now; None fixes them from the
        first batch of runs (a custom run function whose outputs are not declared)."""
        directory = Path(directory)
        check_new_directory(directory)
        directory.mkdir(parents=True, exist_ok=True)
        lock_file = _lock(directory)
        (directory / RUNS).mkdir(exist_ok=True)
        (directory / TIMESERIES).mkdir(exist_ok=True)
        if sweep_text is not None:
            _write_atomically(directory / SWEEP_COPY, sweep_text.encode("utf-8"))
        _write_table_atomically(directory / DESIGN, pa.Table.from_pandas(design, preserve_index=False))
        # The manifest goes last: a folder with a manifest has everything needed to resume.
        schema = runs_schema(design, measures) if measures is not None else None
        manifest = {"format": STORE_FORMAT, **manifest, "runs_schema": _schema_to_json(schema), "timeseries_schema": None}
        _write_atomically(directory / MANIFEST, _manifest_bytes(manifest))
        return cls(directory, manifest, lock_file)

    def update_manifest(self, **changes: Any) -> None:
        """Record more in the manifest (e.g. ``finished_at``), atomically."""
        self.manifest.update(changes)
        _write_atomically(self.directory / MANIFEST, _manifest_bytes(self.manifest))

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
        schema = self.runs_schema if self.runs_schema is not None else self._fix_runs_schema(records)
        measures = schema.names[schema.names.index("firm") + 1 :]
        rows = []
        for record in records:
            rows.extend(_conform(record, measures))
        name = f"part-{self._next_part:06d}.parquet"
        series = [record.timeseries for record in records if record.timeseries is not None and not record.failed]
        if series:
            table = pa.Table.from_pandas(pd.concat(series, ignore_index=True), preserve_index=False)
            if self.timeseries_schema is None:
                self.timeseries_schema = table.schema.remove_metadata()
                self.update_manifest(timeseries_schema=_schema_to_json(self.timeseries_schema))
            table = table.select(self.timeseries_schema.names).cast(self.timeseries_schema)
            _write_table_atomically(self.directory / TIMESERIES / name, table)
        table = pa.Table.from_pylist(rows, schema=schema)
        _write_table_atomically(self.directory / RUNS / name, table)
        self._next_part += 1

    def _fix_runs_schema(self, records: list) -> pa.Schema:
        """No declared measures: the measures of this first batch's successful runs are the columns."""
        measures: dict[str, None] = {}
        for record in records:
            for _, values in record.measures:
                measures.update(dict.fromkeys(values))
        self.runs_schema = runs_schema(read_design(self.directory), list(measures))
        self.update_manifest(runs_schema=_schema_to_json(self.runs_schema))
        return self.runs_schema


def _conform(record, measures: list[str]) -> list[dict[str, Any]]:
    """The record's rows in the fixed schema; a run whose measures do not fit it becomes a
    failed run saying why (a column that changes type or appears mid-sweep is a bug to see)."""
    known = set(measures)
    problem = None
    for _, values in record.measures:
        for measure, value in values.items():
            if measure not in known:
                problem = f"measure {measure!r} is not one of this folder's columns ({', '.join(measures)})"
            elif value is not None and not isinstance(value, (int, float, np.number)):
                problem = f"measure {measure!r} is {value!r}, not a number"
    if problem is not None and not record.failed:
        record.row.update(status="failed", error=f"ValueError: {problem}", traceback=problem)
        record.measures = []
        record.timeseries = None
    rows = record.rows()
    for row in rows:
        for measure in measures:
            value = row.get(measure)
            row[measure] = None if value is None else float(value)
    return rows


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
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, ValueError) as error:
        raise UsageError(f"{path}: cannot read the manifest ({' '.join(str(error).split())[:200]})") from None
    if not isinstance(manifest, dict):
        raise UsageError(f"{path}: not a funnelsim manifest (expected a JSON object)")
    return manifest


#: What a damaged or hand-edited results folder raises while it is read: bad JSON or Parquet,
#: wrong types, missing keys, ids out of range.
DAMAGE = (ValueError, KeyError, TypeError, IndexError, AttributeError, LookupError, ArithmeticError)


@contextmanager
def damaged_folder(directory: str | Path, advice: str = "") -> Iterator[None]:
    """Turn the errors a damaged or edited results folder causes while it is read into one
    :class:`UsageError` naming the folder, instead of a traceback from pandas or pyarrow."""
    import pyarrow as pa

    try:
        yield
    except UsageError:
        raise
    except (*DAMAGE, pa.ArrowException) as error:
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise UsageError(
            f"{directory}: damaged or edited results folder ({type(error).__name__}: {detail}){advice}"
        ) from None


def read_design(directory: str | Path) -> pd.DataFrame:
    return pd.read_parquet(Path(directory) / DESIGN)


def read_runs(directory: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every finished run, one row per run and firm (long layout), ordered by run id."""
    return _read_parts(Path(directory) / RUNS, columns, order_by=["run_id"])


def read_timeseries(directory: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    return _read_parts(Path(directory) / TIMESERIES, columns, order_by=["run_id", "step"])


def connect(directory: str | Path):
    """A DuckDB connection with views ``runs``, ``timeseries`` and ``design`` over the Parquet files."""
    import duckdb

    directory = Path(directory)
    connection = duckdb.connect()
    views = {"runs": directory / RUNS, "timeseries": directory / TIMESERIES}
    for view, folder in views.items():
        if any(folder.glob("part-*.parquet")):
            connection.execute(
                f"CREATE VIEW {view} AS SELECT * FROM read_parquet({_sql_string(str(folder / 'part-*.parquet'))})"
            )
    connection.execute(f"CREATE VIEW design AS SELECT * FROM read_parquet({_sql_string(str(directory / DESIGN))})")
    return connection


def _read_parts(folder: Path, columns: list[str] | None, order_by: list[str]) -> pd.DataFrame:
    """The parts of one folder as one table: they share one schema, so pyarrow reads them as is."""
    import pyarrow.dataset as ds

    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame(columns=columns or [])
    table = ds.dataset([str(part) for part in parts], format="parquet").to_table(columns=columns)
    frame = table.to_pandas()
    keys = [key for key in order_by if key in frame.columns]
    # A stable sort keeps firms (and steps) in the order the run wrote them.
    return frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- atomic files ---------------------------------------------------------------------------------


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, default=str) + "\n").encode("utf-8")


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
