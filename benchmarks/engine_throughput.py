"""Benchmark 7: many small runs through the engine (``funnelsim.experiments.engine.evaluate``).

Two batches users run: a calibration-sized one (the ``bass`` scenario, 13 steps, as a calibration
evaluates it) and a sweep-sized one (``baseline`` at 3,000 consumers, 90 steps). Each runs in this
process and on a local pool of two workers; runs per second per core, the parallel efficiency
(two workers' rate over twice the in-process rate, so every cost of the pool counts against it),
and the shares of the pool's wall time spent starting workers and writing the results.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from benchmarks.sweep_throughput import worker_startup
from funnelsim.experiments.engine import evaluate
from funnelsim.model.scenario import load_scenario


def _batch(name: str, overrides: dict, runs: int, steps: int) -> dict:
    scenario = load_scenario(name, overrides or None)
    timings, cpu = {}, {}
    for label, workers in (("in_process", 1), ("two_workers", 2)):
        start, cpu_start, children_start = time.perf_counter(), time.process_time(), _children_cpu()
        evaluation = evaluate(scenario, replications=runs, seed=1, steps=steps, workers=workers)
        timings[label] = time.perf_counter() - start
        # CPU time of this process and of the workers (reaped when the pool closes): what the
        # batch needs of the cores, which other processes on a shared machine do not inflate.
        cpu[label] = time.process_time() - cpu_start + _children_cpu() - children_start
    startup = worker_startup(2)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        evaluation.summary.to_parquet(Path(folder) / "summary.parquet")
        writing = time.perf_counter() - start
    in_process_rate = runs / timings["in_process"]
    pool_rate = runs / timings["two_workers"]
    return {
        "scenario": name,
        "overrides": overrides,
        "runs": runs,
        "steps": steps,
        "consumers": scenario.market.consumers,
        "in_process_seconds": timings["in_process"],
        "two_workers_seconds": timings["two_workers"],
        "in_process_cpu_seconds": cpu["in_process"],
        "two_workers_cpu_seconds": cpu["two_workers"],
        "in_process_cpu_seconds_per_run": cpu["in_process"] / runs,
        "two_workers_cpu_seconds_per_run": cpu["two_workers"] / runs,
        # The pool's CPU cost of a run against the in-process one: 1 means the pool adds no work.
        "cpu_efficiency": cpu["in_process"] / cpu["two_workers"] if cpu["two_workers"] > 0 else float("nan"),
        "in_process_runs_per_second": in_process_rate,
        "two_workers_runs_per_second_per_core": pool_rate / 2,
        "parallel_efficiency": pool_rate / (2 * in_process_rate),
        "worker_startup_seconds": startup,
        "startup_share": startup / timings["two_workers"],
        "writing_seconds": writing,
        "writing_share": writing / timings["two_workers"],
        "summary_rows": len(evaluation.summary),
    }


def _children_cpu() -> float:
    """User and system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def engine_throughput(bass_runs: int, bass_steps: int, sweep_runs: int, sweep_steps: int, sweep_consumers: int) -> dict:
    return {
        "calibration": _batch("bass", {}, bass_runs, bass_steps),
        "sweep": _batch("baseline", {"market.consumers": sweep_consumers}, sweep_runs, sweep_steps),
    }
