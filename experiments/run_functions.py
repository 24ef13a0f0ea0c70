"""Run functions: what a worker does with one :class:`RunTask`.

A run function is any module-level callable ``fn(task) -> RunOutput`` (or a plain dict of
measures). Module-level so it pickles by reference and works the same in this process, in a
process pool and on a Dask worker. :func:`execute_run` wraps it: it times the run and turns an
exception into a failed record carrying the error and traceback, so one bad point never stops a
sweep.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from funnelsim.experiments import progress
from funnelsim.experiments.sweep_plan import RunTask
from funnelsim.model.scenario import Scenario

#: How many times per run the model run reports finished steps (for the progress bar).
PROGRESS_REPORTS = 50

#: Columns every run record starts with, in this order; then the design's parameters, ``firm``
#: and the measures (see :mod:`funnelsim.experiments.results_store` for the fixed schema).
RECORD_COLUMNS = ("run_id", "point_id", "replication", "seed", "status", "error", "traceback", "elapsed_seconds")


@dataclass
class RunOutput:
    """What a run function hands back: measures and, if asked for, a per-step table.

    ``measures`` is either a table with a ``firm`` column and one column per measure (what
    ``model.summary()`` gives), or a flat dict ``{"<firm>.<measure>": value}`` (or
    ``{"<measure>": value}`` for a measure that belongs to no firm).
    """

    measures: dict[str, Any] | pd.DataFrame
    timeseries: pd.DataFrame | None = None


@dataclass
class RunRecord:
    """One finished run as stored: its rows in the long layout (one per firm), and its time
    series rows if any. ``row`` holds what every row of the run shares."""

    row: dict[str, Any]
    measures: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)  # (firm, {measure: value})
    timeseries: pd.DataFrame | None = None

    @property
    def failed(self) -> bool:
        return self.row["status"] == "failed"

    def rows(self) -> list[dict[str, Any]]:
        """The run's rows: one per firm, or one with no firm for a failed run."""
        if not self.measures:
            return [{**self.row, "firm": None}]
        return [{**self.row, "firm": firm, **values} for firm, values in self.measures]


def run_market_model(task: RunTask) -> RunOutput:
    """The default run function: one funnelsim model run.

    The point's scenario is the validated base with the point's overrides (validated here, once),
    ``MarketModel(scenario, rng=task.seed_sequence())``, run for the sweep's steps; its summary
    (one row per firm) is the run's measures.
    """
    from funnelsim import MarketModel, load_scenario

    scenario = load_scenario(task.scenario, overrides=task.overrides)
    model = MarketModel(scenario, rng=task.seed_sequence(), consumer_agents=False)
    every, unreported = max(1, task.steps // PROGRESS_REPORTS), 0
    for _ in range(task.steps):
        model.step()
        unreported += 1
        if unreported >= every:
            progress.report(task.run_id, unreported)
            unreported = 0
    if unreported:
        progress.report(task.run_id, unreported)
    timeseries = model.table()
    summary = model.summary()
    if task.summary_measures is not None:
        missing = [measure for measure in task.summary_measures if measure not in summary.columns]
        if missing:
            raise KeyError(f"outputs.summary: no measure {missing[0]!r} in model.summary(); it has {list(summary.columns)}")
        summary = summary.loc[:, ["firm", *task.summary_measures]]
    kept = None
    if task.timeseries_columns:
        missing = [column for column in task.timeseries_columns if column not in timeseries.columns]
        if missing:
            raise KeyError(f"outputs.timeseries: no column {missing[0]!r} in model.run(); it has {list(timeseries.columns)}")
        kept = timeseries.loc[:, ["step", "firm", *task.timeseries_columns]].reset_index(drop=True)
    return RunOutput(measures=summary, timeseries=kept)


def check_output_names(
    scenario: Scenario, overrides: dict[str, Any], summary: list[str] | None, timeseries: list[str], where: str
) -> list[str] | None:
    """Stop a sweep before it starts when it asks for a measure the model does not report, and
    name the measures its runs will report (the results' fixed columns).

    Runs the first design point on a small population for one step; if even that fails, the
    runs themselves will say why, so this check stays silent and returns None.
    """
    from funnelsim import MarketModel, load_scenario
    from funnelsim.errors import UsageError
    from funnelsim.suggest import did_you_mean

    probe = dict(overrides)
    if scenario.network.kind != "file":
        probe["market.consumers"] = min(int(probe.get("market.consumers", scenario.market.consumers)), 100)
    try:
        model = MarketModel(load_scenario(scenario, overrides=probe), rng=0, consumer_agents=False)
        columns = model.run(1).columns
        table = model.summary()
    except Exception:
        return list(summary) if summary is not None else None
    measures = list(table.columns)
    for name in summary or []:
        if name not in measures:
            raise UsageError(
                f"{where}: outputs.summary: the model reports no measure {name!r}{did_you_mean(name, measures)} "
                f"(it has {', '.join(measures)})"
            )
    for name in timeseries:
        if name not in columns:
            raise UsageError(
                f"{where}: outputs.timeseries: the model has no column {name!r}{did_you_mean(name, columns)} "
                f"(it has {', '.join(columns)})"
            )
    return summary_measures(table, tuple(summary) if summary is not None else None)


def summary_measures(summary: pd.DataFrame, measures: tuple[str, ...] | None = None) -> list[str]:
    """The measure columns of a ``model.summary()`` table: ``measures``, or every numeric one."""
    if measures is not None:
        return list(measures)
    return [
        column for column in summary.columns
        if column != "firm" and pd.api.types.is_numeric_dtype(summary[column]) and not pd.api.types.is_bool_dtype(summary[column])
    ]


def long_measures(measures: Mapping[str, Any] | pd.DataFrame) -> list[tuple[str | None, dict[str, Any]]]:
    """A run's measures as ``[(firm, {measure: value})]``, in firm order of first appearance.

    A table needs a ``firm`` column; a flat dict's ``"Firm A.profit"`` is firm ``"Firm A"``,
    measure ``profit`` (split at the last dot), and ``"profit"`` belongs to no firm.
    """
    if isinstance(measures, pd.DataFrame):
        columns = summary_measures(measures)
        return [
            (str(row["firm"]), {column: _scalar(row[column]) for column in columns})
            for row in measures.to_dict(orient="records")
        ]
    by_firm: dict[str | None, dict[str, Any]] = {}
    for name, value in measures.items():
        firm, dot, measure = str(name).rpartition(".")
        by_firm.setdefault(firm if dot else None, {})[measure] = _scalar(value)
    return list(by_firm.items())


def execute_run(run_function: Callable[[RunTask], Any], task: RunTask) -> RunRecord:
    """Run one task and always return a record: failures carry their error and traceback."""
    started = time.perf_counter()
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "replication": task.replication,
        "seed": task.seed,
        "status": "ok",
        "error": None,
        "traceback": None,
        "elapsed_seconds": 0.0,
    }
    row.update(task.parameters)
    row.update(task.overrides)
    timeseries = None
    measures: list[tuple[str | None, dict[str, Any]]] = []
    try:
        output = run_function(task)
        if isinstance(output, Mapping):
            output = RunOutput(measures=dict(output))
        measures = long_measures(output.measures)
        timeseries = output.timeseries
        if timeseries is not None:
            timeseries = timeseries.copy()
            timeseries.insert(0, "run_id", task.run_id)
            timeseries.insert(1, "point_id", task.point_id)
            timeseries.insert(2, "replication", task.replication)
    except Exception as error:  # a failing run is data, not the end of the sweep
        row["status"] = "failed"
        row["error"] = failure_message(error)
        row["traceback"] = traceback.format_exc()
        timeseries = None
        measures = []
    row["elapsed_seconds"] = time.perf_counter() - started
    return RunRecord(row=row, measures=measures, timeseries=timeseries)


def failed_record(task: RunTask, error: BaseException) -> RunRecord:
    """A record for a run whose worker could not hand back a result (e.g. Dask gave up on it)."""
    row = {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "replication": task.replication,
        "seed": task.seed,
        "status": "failed",
        "error": failure_message(error),
        "traceback": "".join(traceback.format_exception(error)),
        "elapsed_seconds": math.nan,
    }
    row.update(task.parameters)
    row.update(task.overrides)
    return RunRecord(row=row)


def failure_message(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value
