"""Replications of one scenario: independent seeds, run here or in a process pool, same results.

Replication ``r`` of a batch with seed ``S`` gets its own integer seed, drawn from the child
stream ``SeedSequence(S, spawn_key=(r,))`` (the r-th child of ``SeedSequence(S).spawn``). That
integer is what the model receives (``MarketModel(scenario, rng=seed)``) and what the tables
record, so one replication can be re-run on its own from the ``seed`` column, and results do not
depend on where or in which order replications run.

With one worker, replications run one after another in this process. With more, they run in a
``ProcessPoolExecutor`` (spawned workers, which ignore Ctrl-C: the driver stops them). Workers
report finished steps through a queue, so the progress bar moves during long replications.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Seeds are stored in int64 columns, so they are kept to 63 bits.
SEED_BITS = 63

#: How many times per replication a worker reports progress.
PROGRESS_REPORTS = 50


@dataclass(frozen=True)
class ReplicationTask:
    """Everything a worker needs for one replication; plain data, so it pickles."""

    scenario: dict[str, Any]  # the resolved scenario (Scenario.to_dict())
    steps: int
    replication: int
    seed: int


def replication_seeds(seed: int, replications: int) -> list[int]:
    """The integer seed of each replication: independent child streams of one ``seed``."""
    shift = np.uint64(64 - SEED_BITS)
    return [
        int(np.random.SeedSequence(seed, spawn_key=(r,)).generate_state(1, dtype=np.uint64)[0] >> shift)
        for r in range(replications)
    ]


def run_replication(task: ReplicationTask, report: Callable[[int], Any] | None = None) -> pd.DataFrame:
    """Run one replication; its table with ``replication`` and ``seed`` in front.

    ``report(n)`` is called now and then with the number of steps done since the last call.
    """
    from funnelsim import MarketModel, load_scenario

    # No per-consumer Mesa agents: a batch reads only the arrays, and results are the same.
    model = MarketModel(load_scenario(task.scenario), rng=task.seed, consumer_agents=False)
    every = max(1, task.steps // PROGRESS_REPORTS)
    unreported = 0
    for _ in range(task.steps):
        model.step()
        unreported += 1
        if report is not None and unreported >= every:
            report(unreported)
            unreported = 0
    if report is not None and unreported:
        report(unreported)
    table = model.table()
    table.insert(0, "seed", np.int64(task.seed))
    table.insert(0, "replication", np.int64(task.replication))
    return table


def run_batch(
    scenario: dict[str, Any],
    steps: int,
    seeds: list[int],
    workers: int = 1,
    on_progress: Callable[[int], Any] | None = None,
) -> pd.DataFrame:
    """Run one replication per seed; the tables stacked in replication order.

    ``on_progress(n)`` receives finished steps as they happen (for a progress bar).
    """
    tasks = [ReplicationTask(scenario, steps, r, seed) for r, seed in enumerate(seeds)]
    if workers <= 1 or len(tasks) <= 1:
        tables = [run_replication(task, on_progress) for task in tasks]
    else:
        tables = _run_in_pool(tasks, min(workers, len(tasks)), on_progress)
    return pd.concat(tables, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# The process pool


_worker_progress: Any = None  # the queue a worker reports finished steps to


def _start_worker(progress_queue) -> None:
    global _worker_progress
    # Ctrl-C in a terminal signals the whole process group; the driver alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_progress = progress_queue


def _run_in_worker(task: ReplicationTask) -> pd.DataFrame:
    return run_replication(task, _worker_progress.put)


def _run_in_pool(
    tasks: list[ReplicationTask], workers: int, on_progress: Callable[[int], Any] | None
) -> list[pd.DataFrame]:
    # spawn, not fork: mesa sets it anyway, and forking a process with threads is unsafe.
    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(progress_queue,)
    )
    tables: dict[int, pd.DataFrame] = {}
    try:
        with _sigint_ignored():
            # Workers are started by submit; started while SIGINT is ignored, they ignore it from
            # the first instruction (Python keeps an inherited SIG_IGN), so a Ctrl-C sent to the
            # whole process group cannot print tracebacks from half-started workers.
            pending = {pool.submit(_run_in_worker, task): task.replication for task in tasks}
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(progress_queue, on_progress)
            for future in done:
                tables[pending.pop(future)] = future.result()
        _drain(progress_queue, on_progress)
    except BaseException:
        _stop_now(pool)
        raise
    finally:
        progress_queue.close()
        progress_queue.cancel_join_thread()
    pool.shutdown(wait=True)
    return [tables[task.replication] for task in tasks]


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _drain(progress_queue, on_progress: Callable[[int], Any] | None) -> None:
    """Pass on the steps workers finished; report 0 when there are none, so a progress bar
    still shows up (and its clock runs) while the workers are starting."""
    finished = 0
    while True:
        try:
            finished += progress_queue.get_nowait()
        except queue.Empty:
            break
    if on_progress is not None:
        on_progress(finished)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop the pool at once: drop queued replications and end the running ones.

    ``shutdown`` alone waits for running tasks to finish, which is not prompt for a Ctrl-C.
    Python 3.14 has ``terminate_workers``; before that the processes are only reachable
    through the private ``_processes``.
    """
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():  # pragma: no cover - a worker stuck in uninterruptible I/O
            process.kill()
