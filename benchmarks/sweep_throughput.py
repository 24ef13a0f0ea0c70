"""Benchmark 5: a sweep of many small runs through funnelsim's own sweep loop, on this process,
on one worker process and on two; parallel efficiency and the executor's overhead per run.

It uses the same public pieces ``funnelsim sweep`` uses (sweep file -> plan -> executor ->
``run_sweep`` -> Parquet results store), so the figures include writing the results.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path
from statistics import median

from funnelsim.experiments.executors import open_executor
from funnelsim.experiments.results_store import ResultsStore, read_runs
from funnelsim.experiments.sweep_plan import load_run_function, make_plan
from funnelsim.experiments.sweep_runner import run_sweep
from funnelsim.experiments.sweep_spec import parse_sweep_text

SWEEP_TEMPLATE = """\
description = "benchmark: many small runs"
scenario = "baseline"
steps = {steps}
replications = {replications}
seed = 1

[fixed]
"market.consumers" = {consumers}

[parameters]
"firms.0.price" = {{ levels = {levels} }}

[design]
kind = "grid"

[outputs]
summary = ["customers", "market_share", "profit"]
"""


def sweep_text(runs: int, consumers: int, steps: int) -> str:
    """A grid over up to four prices with enough replications for about ``runs`` runs."""
    levels = [1800.0, 2000.0, 2200.0, 2400.0][: max(1, min(4, runs))]
    replications = -(-runs // len(levels))
    return SWEEP_TEMPLATE.format(steps=steps, replications=replications, consumers=consumers, levels=levels)


def time_sweep(text: str, workers: int | None, folder: Path) -> dict:
    """Wall time of one whole sweep (executor start to shutdown) and the runs' own time."""
    sweep_file = folder / "sweep.toml"
    sweep_file.write_text(text, encoding="utf-8")
    plan = make_plan(parse_sweep_text(text, str(sweep_file)), sweep_file, seed=1)
    run_function = load_run_function(plan.run_function)
    out = folder / ("serial" if workers is None else f"workers-{workers}")
    start = time.perf_counter()
    with open_executor(workers=workers, serial=workers is None) as handle:
        with ResultsStore.create(out, {"seed": plan.seed, "n_runs": plan.n_runs}, plan.point_table(), text) as store:
            outcome = run_sweep(plan, store, handle, run_function, progress=False)
    wall = time.perf_counter() - start
    if outcome.failed:
        raise RuntimeError(f"{outcome.failed} benchmark runs failed; see {out}")
    runs = read_runs(out).drop_duplicates("run_id")  # the runs table has a row per run and firm
    return {
        "workers": workers or 0,
        "runs": plan.n_runs,
        "wall_seconds": wall,
        "runs_per_second": plan.n_runs / wall,
        "run_seconds_total": float(runs["elapsed_seconds"].sum()),
    }


def load_run_machinery() -> int:
    """What a pool worker imports before its first run; returns the worker's process id."""
    import funnelsim.experiments.run_functions  # noqa: F401
    import funnelsim.experiments.sweep_plan  # noqa: F401
    from funnelsim import MarketModel  # noqa: F401

    return os.getpid()


def worker_startup(workers: int, limit_seconds: float = 300.0) -> float:
    """Seconds from opening a pool of ``workers`` until every worker has imported what runs need.

    Keeps a few tiny calls in flight until each worker has answered one: the first worker up
    answers many while the last is still importing.
    """
    start = time.perf_counter()
    with open_executor(workers=workers) as handle:
        seen: set[int] = set()
        pending: set = set()
        while len(seen) < workers:
            if time.perf_counter() - start > limit_seconds:
                return math.nan
            while len(pending) < 2 * workers:
                pending.add(handle.executor.submit(load_run_machinery))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            seen.update(future.result() for future in done)
        ready = time.perf_counter() - start
        wait(pending)
    return ready


#: A fixed amount of plain Python work, with no imports, for measuring the machine itself.
_CPU_LOOP = "x = 0\nfor i in range({count}):\n    x += i\n"


def machine_parallel_ceiling(loop_count: int, repetitions: int) -> float:
    """Parallel efficiency of this machine for two plain CPU-bound processes (1 is perfect).

    Wall time of one process running a plain loop, divided by the wall time of two running it at
    once: the best the sweep could do here, since shared hosts rarely give two full cores.
    """
    command = [sys.executable, "-c", _CPU_LOOP.format(count=loop_count)]
    ratios = []
    for _ in range(repetitions):
        start = time.perf_counter()
        subprocess.run(command, check=True)
        alone = time.perf_counter() - start
        start = time.perf_counter()
        pair = [subprocess.Popen(command) for _ in range(2)]
        for process in pair:
            process.wait()
        together = time.perf_counter() - start
        ratios.append(alone / together)
    return median(ratios)


def sweep_throughput(runs: int, consumers: int, steps: int, repetitions: int, loop_count: int = 20_000_000) -> dict:
    """Median over repetitions of 1-worker and 2-worker sweeps, taken in alternation, and one in-process sweep."""
    text = sweep_text(runs, consumers, steps)
    samples: dict[str, list[dict]] = {"serial": [], "one_worker": [], "two_workers": []}
    startup: dict[str, list[float]] = {"one_worker": [], "two_workers": []}
    with tempfile.TemporaryDirectory() as scratch:
        for repetition in range(repetitions):
            for name, workers in (("serial", None), ("one_worker", 1), ("two_workers", 2)):
                if workers is None and repetition > 0:
                    continue  # in-process runs only give the overhead's baseline: once is enough
                folder = Path(scratch) / f"{name}-{repetition}"
                folder.mkdir()
                samples[name].append(time_sweep(text, workers, folder))
                if workers:
                    startup[name].append(worker_startup(workers))
    medians = {name: _median_sample(values) for name, values in samples.items()}
    one, two, serial = medians["one_worker"], medians["two_workers"], medians["serial"]
    startup_one, startup_two = median(startup["one_worker"]), median(startup["two_workers"])
    total_runs = one["runs"]
    steady_one = _rate(total_runs, one["wall_seconds"] - startup_one)
    steady_two = _rate(total_runs, two["wall_seconds"] - startup_two)
    return {
        "runs": total_runs,
        "consumers": consumers,
        "steps": steps,
        "repetitions": repetitions,
        **medians,
        "parallel_efficiency": two["runs_per_second"] / (2 * one["runs_per_second"]),
        # Time the one-worker pool spends beyond the runs themselves (start-up, pickling, results), per run.
        "overhead_per_run_seconds": (one["wall_seconds"] - one["run_seconds_total"]) / total_runs,
        # The same measured against running the runs in this process, through the same loop and store.
        "overhead_vs_serial_per_run_seconds": (one["wall_seconds"] - serial["wall_seconds"]) / total_runs,
        # Starting the workers (a fresh interpreter importing funnelsim each), once per sweep.
        "worker_startup_seconds": {"one_worker": startup_one, "two_workers": startup_two},
        # Efficiency once the workers are up: what a long sweep tends to.
        "steady_parallel_efficiency": steady_two / (2 * steady_one),
        "machine_parallel_ceiling": machine_parallel_ceiling(loop_count, repetitions),
    }


def _rate(runs: int, seconds: float) -> float:
    """Runs per second; NaN when start-up, measured apart, took longer than the whole sweep (tiny sweeps)."""
    return runs / seconds if seconds > 0 else math.nan


def _median_sample(values: list[dict]) -> dict:
    ordered = sorted(values, key=lambda sample: sample["wall_seconds"])
    return ordered[len(ordered) // 2]
