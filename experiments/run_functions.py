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
from dataclasses import dataclass
from typing import Any

import pandas as pd

from funnelsim.experiments.sweep_plan import RunTask

#: Columns every run record starts with, in this order.
RECORD_COLUMNS = ("run_id", "point_id", "replication", "seed_entropy", "status", "error", "traceback", "elapsed_seconds")


@dataclass
class RunOutput:
    """What a run function hands back: scalar measures and, if asked for, a per-step table."""

    measures: dict[str, Any]
    timeseries: pd.DataFrame | None = None


@dataclass
class RunRecord:
    """One finished run as stored: a flat row, plus its time series rows if any."""

    row: dict[str, Any]
    timeseries: pd.DataFrame | None = None

    @property
    def failed(self) -> bool:
        return self.row["status"] == "failed"


def run_market_model(task: RunTask) -> RunOutput:
    """The default run function: one funnelsim model run.

    ``load_scenario(base, overrides=point)``, ``MarketModel(scenario, rng=task.seed_sequence())``,
    run for the sweep's steps; ``model.summary()`` (one row per firm) is flattened into
    ``"<firm>.<measure>"`` columns.
    """
    from funnelsim import MarketModel, load_scenario

    scenario = load_scenario(task.scenario, overrides=task.overrides)
    model = MarketModel(scenario, rng=task.seed_sequence())
    timeseries = model.run(task.steps)
    measures = flatten_summary(model.summary(), task.summary_measures)
    kept = None
    if task.timeseries_columns:
        missing = [column for column in task.timeseries_columns if column not in timeseries.columns]
        if missing:
            raise KeyError(f"outputs.timeseries: no column {missing[0]!r} in model.run(); it has {list(timeseries.columns)}")
        kept = timeseries.loc[:, ["step", "firm", *task.timeseries_columns]].reset_index(drop=True)
    return RunOutput(measures=measures, timeseries=kept)


def check_output_names(
    scenario: dict[str, Any], overrides: dict[str, Any], summary: list[str] | None, timeseries: list[str], where: str
) -> None:
    """Stop a sweep before it starts when it asks for a measure the model does not report.

    Runs the first design point on a small population for one step; if even that fails, the
    runs themselves will say why, so this check stays silent.
    """
    from funnelsim import MarketModel, load_scenario
    from funnelsim.errors import UsageError

    probe = dict(overrides)
    if scenario.get("network", {}).get("kind") != "file":
        probe["market.consumers"] = min(int(probe.get("market.consumers", scenario["market"]["consumers"])), 100)
    try:
        model = MarketModel(load_scenario(scenario, overrides=probe), rng=0)
        columns = model.run(1).columns
        measures = model.summary().columns
    except Exception:
        return
    for name in summary or []:
        if name not in measures:
            raise UsageError(f"{where}: outputs.summary: the model reports no measure {name!r} (it has {', '.join(measures)})")
    for name in timeseries:
        if name not in columns:
            raise UsageError(f"{where}: outputs.timeseries: the model has no column {name!r} (it has {', '.join(columns)})")


def flatten_summary(summary: pd.DataFrame, measures: tuple[str, ...] | None) -> dict[str, Any]:
    """One row per firm -> ``{"<firm>.<measure>": value}``, keeping ``measures`` (all numeric if None)."""
    table = summary.set_index("firm") if "firm" in summary.columns else summary
    if measures is None:
        measures = tuple(column for column in table.columns if pd.api.types.is_numeric_dtype(table[column]))
    missing = [measure for measure in measures if measure not in table.columns]
    if missing:
        raise KeyError(f"outputs.summary: no measure {missing[0]!r} in model.summary(); it has {list(table.columns)}")
    return {f"{firm}.{measure}": _scalar(table.at[firm, measure]) for firm in table.index for measure in measures}


def execute_run(run_function: Callable[[RunTask], Any], task: RunTask) -> RunRecord:
    """Run one task and always return a record: failures carry their error and traceback."""
    started = time.perf_counter()
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "replication": task.replication,
        "seed_entropy": task.seed_entropy,
        "status": "ok",
        "error": None,
        "traceback": None,
        "elapsed_seconds": 0.0,
    }
    row.update(task.parameters)
    row.update(task.overrides)
    timeseries = None
    try:
        output = run_function(task)
        if isinstance(output, Mapping):
            output = RunOutput(measures=dict(output))
        row.update({name: _scalar(value) for name, value in output.measures.items() if name not in row})
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
    row["elapsed_seconds"] = time.perf_counter() - started
    return RunRecord(row=row, timeseries=timeseries)


def failed_record(task: RunTask, error: BaseException) -> RunRecord:
    """A record for a run whose worker could not hand back a result (e.g. Dask gave up on it)."""
    row = {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "replication": task.replication,
        "seed_entropy": task.seed_entropy,
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
