"""Reading a results folder back: ``funnelsim.load_results(folder)``.

A ``funnelsim run`` folder and a ``funnelsim sweep`` folder have one format (a run is a sweep of
one design point), so one reader opens both. Tables are pandas and read on first use; for a sweep
too large for memory, :meth:`Results.connect` gives a DuckDB connection with views over the
Parquet parts. The folder layout and every column are in ``docs/results.md``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pandas as pd

from funnelsim.errors import UsageError
from funnelsim.experiments import results_store as store


class Results:
    """A results folder: its manifest and its tables.

    Attributes
    ----------
    directory : Path
        The folder.
    manifest : dict
        What ran: command, scenario, seed rule, design, counts, versions and times.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest: dict[str, Any] = store.read_manifest(self.directory)
        if self.manifest.get("format") != store.STORE_FORMAT:
            raise UsageError(
                f"{self.directory}: results format {self.manifest.get('format')!r}, this funnelsim reads "
                f"format {store.STORE_FORMAT}; rerun it with this version"
            )

    @property
    def kind(self) -> str:
        """``"run"`` or ``"sweep"``."""
        return str(self.manifest.get("kind", "sweep"))

    @functools.cached_property
    def runs(self) -> pd.DataFrame:
        """Every finished run in the long layout: one row per (run, firm), failed runs included
        (one row each, no firm), ordered by run id."""
        return store.read_runs(self.directory)

    @property
    def summary(self) -> pd.DataFrame:
        """End-of-run measures of the runs that succeeded: one row per (run, firm), with the
        run's design point, replication and parameters."""
        runs = self.runs
        ok = runs[runs["status"] == "ok"]
        return ok.drop(columns=["status", "error", "traceback"]).reset_index(drop=True)

    @property
    def failed(self) -> pd.DataFrame:
        """The runs that failed, with their error and traceback."""
        runs = self.runs
        return runs.loc[runs["status"] == "failed", ["run_id", "point_id", "replication", "error", "traceback"]].reset_index(
            drop=True
        )

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        """Per-step rows: one per (run, step, firm), when the run or sweep kept any."""
        return store.read_timeseries(self.directory)

    @functools.cached_property
    def points(self) -> pd.DataFrame:
        """The design: one row per point with its parameters (a run has one point and none)."""
        return store.read_design(self.directory)

    def connect(self):
        """A DuckDB connection with views ``runs``, ``timeseries`` and ``design`` over the files."""
        return store.connect(self.directory)

    def __repr__(self) -> str:
        return f"Results({str(self.directory)!r}, kind={self.kind!r})"


def load_results(folder: str | Path) -> Results:
    """Open a results folder written by ``funnelsim run`` or ``funnelsim sweep``.

    Parameters
    ----------
    folder
        The folder (``--out``) of a run or a sweep.

    Returns
    -------
    Results
        ``.summary``, ``.timeseries``, ``.points``, ``.failed`` and ``.runs`` as pandas tables,
        ``.manifest`` as a dict, and ``.connect()`` for DuckDB.

    Examples
    --------
    >>> results = load_results("results/baseline")  # doctest: +SKIP
    >>> results.summary.groupby("firm")["profit"].mean()  # doctest: +SKIP
    """
    directory = Path(folder)
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such folder")
    return Results(directory)
