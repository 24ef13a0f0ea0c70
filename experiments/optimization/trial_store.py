"""The working folder of an optimization: every finished batch of trials is on disk at once.

Layout of ``DIR.partial`` (renamed away when the optimization has written ``DIR``)::

    manifest.json                 the settings; a resume must match them
    trials/batch-NNNNNN.parquet   one row per (trial, replication) of a finished batch
    baseline.parquet              the scenario as given, on the search replications
    final.parquet                 the leaders and the baseline on the final replications

Each file is written under a temporary name and renamed, so a reader (or a resume) only sees
whole files; a driver killed in the middle of a batch loses that batch only, and a resume runs
it again with the same candidates (see :mod:`.search`). With no folder (``directory=None``),
nothing is written and nothing can be resumed: the Python API without ``out``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from funnelsim.errors import UsageError

MANIFEST = "manifest.json"
TRIALS = "trials"
BASELINE = "baseline.parquet"
FINAL = "final.parquet"
PARTIAL_SUFFIX = ".partial"


def partial_directory(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + PARTIAL_SUFFIX)


class TrialStore:
    def __init__(self, directory: Path | None):
        self.directory = directory

    @classmethod
    def create(cls, directory: Path | None, manifest: dict[str, Any]) -> TrialStore:
        if directory is not None:
            if directory.exists():
                raise UsageError(
                    f"{directory}: an interrupted optimization is there; pass --resume to finish it or remove it"
                )
            (directory / TRIALS).mkdir(parents=True)
            _write_text(directory / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
        return cls(directory)

    @classmethod
    def reopen(cls, directory: Path, manifest: dict[str, Any]) -> TrialStore:
        """The folder of an interrupted run with the same settings, or a one-line error."""
        path = directory / MANIFEST
        if not path.is_file():
            raise UsageError(f"{directory}: nothing to resume (no {MANIFEST}); run without --resume")
        saved = json.loads(path.read_text(encoding="utf-8"))
        for key, value in manifest.items():
            if key in RESUMABLE_CHANGES:
                continue
            if json.loads(json.dumps(value, default=str)) != saved.get(key):
                shown = f" ({saved.get(key)!r}, now {value!r})" if len(repr(value)) + len(repr(saved.get(key))) < 120 else ""
                raise UsageError(f"{directory}: was started with a different {key}{shown}; resume with the same settings")
        (directory / TRIALS).mkdir(exist_ok=True)
        return cls(directory)

    # -- reading --------------------------------------------------------------------------

    def trials(self) -> pd.DataFrame | None:
        if self.directory is None:
            return None
        parts = sorted((self.directory / TRIALS).glob("batch-*.parquet"))
        if not parts:
            return None
        return pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)

    def read(self, name: str) -> pd.DataFrame | None:
        if self.directory is None or not (self.directory / name).is_file():
            return None
        return pd.read_parquet(self.directory / name)

    # -- writing --------------------------------------------------------------------------

    def write_batch(self, batch: int, rows: pd.DataFrame) -> None:
        if self.directory is not None:
            _write_parquet(self.directory / TRIALS / f"batch-{batch:06d}.parquet", rows)

    def write(self, name: str, rows: pd.DataFrame) -> None:
        if self.directory is not None:
            _write_parquet(self.directory / name, rows)


#: Settings a resume may change: more trials extend the search; where runs execute does not
#: change any number.
RESUMABLE_CHANGES = ("trials", "workers", "scheduler")


def _write_parquet(path: Path, rows: pd.DataFrame) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    rows.to_parquet(temporary, index=False)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
