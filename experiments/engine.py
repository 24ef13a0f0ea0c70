"""One engine for many runs: a scenario at several points, each over the same replications.

Comparison, calibration and optimization all ask the same question of the model: "what do these
settings give, over R replications?". They ask it here, so every one of them gets

- **common random numbers**: replication ``r`` of every point draws from the same stream,
  ``SeedSequence(seed, spawn_key=(r,))`` (:func:`replication_stream`), so two points differ only
  by their settings and their differences are paired;
- **one place where runs execute**: in this process, in a local process pool or on a Dask
  cluster, through :func:`funnelsim.experiments.executors.open_executor`;
- **one validated scenario**: it is validated once here and shipped to workers as a
  :class:`~funnelsim.model.scenario.Scenario` (it pickles), with each point's overrides on top.

The results are tidy tables: :attr:`Evaluation.summary` has one row per (point, replication,
firm) with every summary measure; :attr:`Evaluation.timeseries`, when asked for, one row per
(point, replication, step, firm).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from funnelsim.experiments.executors import ExecutorHandle, open_executor
from funnelsim.experiments.interrupts import raise_if_interrupted
from funnelsim.model.scenario import Scenario, load_scenario

#: Largest seed accepted anywhere (run, sweep files, evaluate): seeds are stored in int64 columns
#: and numpy's SeedSequence takes non-negative entropy.
MAX_SEED = 2**63 - 1

#: The seed rule, as results manifests record it.
SEED_RULE = "replication r of every design point uses numpy SeedSequence(seed, spawn_key=(r,))"


def replication_stream(seed: int, replication: int) -> np.random.SeedSequence:
    """The random stream of replication ``replication``: the same for every point of a design."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(replication),))


@dataclass(frozen=True)
class EngineTask:
    """One run: plain data and a validated scenario, so it pickles to any worker."""

    point_id: int
    replication: int
    seed: int
    scenario: Scenario  # the point's scenario, validated, overrides applied
    steps: int
    timeseries: tuple[str, ...] | None  # per-step columns to keep; None keeps none


@dataclass
class RunResult:
    point_id: int
    replication: int
    summary: pd.DataFrame
    timeseries: pd.DataFrame | None


def run_task(task: EngineTask) -> RunResult:
    """Run one task (in whichever process it lands) and hand back its tables."""
    from funnelsim.model.market import MarketModel

    try:
        model = MarketModel(task.scenario, rng=replication_stream(task.seed, task.replication), consumer_agents=False)
        table = model.run(task.steps)
    finally:
        raise_if_interrupted()  # a Ctrl-C swallowed inside the run ends the caller's loop here (see interrupts)
    summary = model.summary()
    summary.insert(1, "firm_index", np.arange(len(summary), dtype=np.int64))
    timeseries = None
    if task.timeseries is not None:
        columns = list(task.timeseries) or [c for c in table.columns if c not in ("step", "firm")]
        timeseries = table.loc[:, ["step", "firm", *columns]].reset_index(drop=True)
    return RunResult(task.point_id, task.replication, summary, timeseries)


@dataclass
class Evaluation:
    """What :func:`evaluate` hands back."""

    points: list[dict[str, Any]]
    replications: int
    seed: int
    summary: pd.DataFrame  # point_id, replication, firm, firm_index, measures...
    timeseries: pd.DataFrame | None  # point_id, replication, step, firm, columns...

    def measure(self, name: str, firm: int | str = 0) -> np.ndarray:
        """``name`` for one firm as an array of shape (points, replications): rows are paired
        across points by replication (common random numbers)."""
        rows = self.summary[self.summary["firm_index" if isinstance(firm, int | np.integer) else "firm"] == firm]
        table = rows.pivot(index="point_id", columns="replication", values=name)
        return table.sort_index().to_numpy(dtype=float)


def evaluate(
    scenario: Scenario | str | dict[str, Any],
    points: Sequence[Mapping[str, Any]] | None = None,
    *,
    replications: int = 1,
    seed: int = 0,
    steps: int | None = None,
    first_replication: int = 0,
    timeseries: Sequence[str] | bool = False,
    workers: int | None = 1,
    scheduler: str | None = None,
    handle: ExecutorHandle | None = None,
    progress: bool = False,
    description: str = "runs",
) -> Evaluation:
    """Run ``scenario`` at every point (dotted-key overrides) over the same replications.

    Parameters
    ----------
    scenario
        A validated :class:`Scenario`, a built-in name, a file or a dict.
    points
        One dict of dotted-key overrides per point; ``None`` means the scenario as given.
    replications, seed, first_replication
        Replications ``first_replication .. first_replication + replications - 1`` run with
        streams ``SeedSequence(seed, spawn_key=(r,))``: the same at every point, so adding
        replications later extends a design without rerunning what ran.
    steps
        Steps per run (default: the scenario's ``market.steps``).
    timeseries
        ``True`` keeps every per-step column, a list keeps those columns, ``False`` none.
    workers, scheduler, handle
        Where runs execute: ``workers=1`` in this process, more in a local process pool,
        ``scheduler`` on a Dask cluster, or an executor the caller already opened (``handle``).

    Every point is validated before any run starts: a bad key or value raises
    :class:`~funnelsim.model.scenario.ScenarioError` naming the point.
    """
    base = load_scenario(scenario)
    point_list = [dict(point) for point in (points if points is not None else [{}])]
    from funnelsim.experiments.limits import check_largest_fits, check_run_count

    # Sizes before work: at most limits.MAX_RUNS runs, and the largest point must fit in memory
    # as many times as runs execute at once here.
    check_run_count(len(point_list) * max(int(replications), 0), "evaluate" if description == "runs" else description)
    scenarios = [load_scenario(base, overrides) if overrides else base for overrides in point_list]
    if handle is None and scheduler is None:
        check_largest_fits(scenarios, workers or 1, "evaluate")
    keep: tuple[str, ...] | None
    if timeseries is True:
        keep = ()
    elif timeseries:
        keep = tuple(timeseries)  # type: ignore[arg-type]
    else:
        keep = None
    tasks = [
        EngineTask(point_id, r, int(seed), point_scenario, steps if steps is not None else point_scenario.market.steps, keep)
        for point_id, point_scenario in enumerate(scenarios)
        for r in range(first_replication, first_replication + replications)
    ]
    if handle is not None:
        results = _run_all(tasks, handle, progress, description)
    elif scheduler is None and (workers or 1) <= 1:
        results = [run_task(task) for task in _progress(tasks, progress, description)]
    else:
        with open_executor(workers=workers, scheduler=scheduler) as opened:
            results = _run_all(tasks, opened, progress, description)
    return _collect(point_list, replications, int(seed), results)


def _progress(tasks: list[EngineTask], progress: bool, description: str) -> Iterator[EngineTask]:
    yield from tqdm(tasks, desc=description, unit="run", file=sys.stderr, disable=not progress, dynamic_ncols=True)


def _run_all(tasks: list[EngineTask], handle: ExecutorHandle, progress: bool, description: str) -> list[RunResult]:
    """Keep the executor busy with a bounded number of runs in flight; results in task order."""
    pending = iter(enumerate(tasks))
    in_flight: dict[Future, int] = {}
    results: list[RunResult | None] = [None] * len(tasks)
    with tqdm(total=len(tasks), desc=description, unit="run", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar:

        def submit_more() -> None:
            while len(in_flight) < handle.capacity():
                item = next(pending, None)
                if item is None:
                    return
                index, task = item
                in_flight[handle.executor.submit(run_task, task)] = index

        submit_more()
        while in_flight:
            done, _ = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
            raise_if_interrupted()
            for future in done:
                results[in_flight.pop(future)] = future.result()
                bar.update(1)
            submit_more()
    return [result for result in results if result is not None]


def _collect(points: list[dict[str, Any]], replications: int, seed: int, results: list[RunResult]) -> Evaluation:
    summaries = []
    series = []
    for result in results:
        summary = result.summary
        summary.insert(0, "replication", np.int64(result.replication))
        summary.insert(0, "point_id", np.int64(result.point_id))
        summaries.append(summary)
        if result.timeseries is not None:
            table = result.timeseries
            table.insert(0, "replication", np.int64(result.replication))
            table.insert(0, "point_id", np.int64(result.point_id))
            series.append(table)
    summary_table = pd.concat(summaries, ignore_index=True)
    timeseries_table = pd.concat(series, ignore_index=True) if series else None
    return Evaluation(points, replications, seed, summary_table, timeseries_table)
