"""The sweep loop: submit runs to an executor, collect them as they finish, stream them to disk.

One loop for every executor (a process pool, a Dask cluster, this process): it keeps a bounded
number of runs in flight and writes finished runs in batches, so memory stays flat however many
runs a sweep has. Whatever stops the loop (the end, Ctrl-C, a broken pool), the runs that have
finished are written before it returns; a driver killed outright loses at most the batch it was
holding, and those runs simply run again on ``--resume``.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from tqdm import tqdm

from funnelsim.experiments import progress as run_progress
from funnelsim.experiments.executors import ExecutorHandle
from funnelsim.experiments.interrupts import raise_if_interrupted
from funnelsim.experiments.results_store import ResultsStore
from funnelsim.experiments.run_functions import RunRecord, execute_run, failed_record
from funnelsim.experiments.sweep_plan import RunTask, SweepPlan


class SweepAborted(RuntimeError):
    """The executor itself broke (e.g. a pool worker process died); finished runs are saved."""


@dataclass
class SweepOutcome:
    total: int
    finished_before: int  # runs already in the store when this session started
    ok: int  # runs that succeeded in this session
    failed: int  # runs that failed in this session
    failed_before: int

    @property
    def finished(self) -> int:
        return self.finished_before + self.ok + self.failed

    @property
    def remaining(self) -> int:
        return self.total - self.finished

    @property
    def failed_total(self) -> int:
        return self.failed_before + self.failed


def run_sweep(
    plan: SweepPlan,
    store: ResultsStore,
    handle: ExecutorHandle,
    run_function: Callable[[RunTask], object],
    *,
    batch_size: int = 200,
    flush_seconds: float = 10.0,
    progress: bool = True,
    description: str = "sweep",
    unit: str = "run",
) -> SweepOutcome:
    """Run every run of ``plan`` that ``store`` does not have yet, and commit each as it finishes.

    Runs are committed in batches of ``batch_size``, or after ``flush_seconds`` when runs are slow.
    With ``unit="step"`` the progress bar counts model steps, reported from inside runs, so it
    moves during a few long runs (``funnelsim run``); with ``"run"`` it counts runs.
    """
    finished = store.finished_mask(plan.n_runs)
    outcome = SweepOutcome(
        total=plan.n_runs, finished_before=int(finished.sum()), ok=0, failed=0, failed_before=store.count_failed()
    )
    pending = plan.tasks(skip=finished)
    in_flight: dict[Future, RunTask] = {}
    batch: list[RunRecord] = []
    last_flush = time.monotonic()
    steps = unit == "step"
    scale = plan.steps if steps else 1
    bar = tqdm(
        total=plan.n_runs * scale,
        initial=outcome.finished_before * scale,
        unit=unit,
        desc=description,
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,
        dynamic_ncols=True,
    )

    def submit_more() -> None:
        while len(in_flight) < handle.capacity():
            task = next(pending, None)
            if task is None:
                return
            in_flight[handle.executor.submit(execute_run, run_function, task)] = task

    reported: dict[int, int] = {}

    def on_steps(run_id: int, count: int) -> None:
        if steps:
            reported[run_id] = reported.get(run_id, 0) + count
            bar.update(count)

    previous_reporter = run_progress.set_reporter(on_steps)  # runs in this process report here
    try:
        submit_more()
        while in_flight:
            done, _ = wait(in_flight, timeout=0.5 if steps else flush_seconds, return_when=FIRST_COMPLETED)
            raise_if_interrupted()
            _drain(handle.progress_queue, on_steps)
            for future in done:
                task = in_flight.pop(future)
                record = _record_of(future, task)
                batch.append(record)
                if record.failed:
                    outcome.failed += 1
                else:
                    outcome.ok += 1
                bar.update(scale - reported.pop(task.run_id, 0) if steps else 1)
            if done:
                bar.set_postfix_str(f"failed {outcome.failed_total}, remaining {outcome.remaining}", refresh=False)
            if len(batch) >= batch_size or (batch and time.monotonic() - last_flush >= flush_seconds):
                store.write_batch(batch)
                batch = []
                last_flush = time.monotonic()
            submit_more()
    finally:
        run_progress.set_reporter(previous_reporter)
        # Whatever ended the loop, keep every run that finished.
        store.write_batch(batch)
        bar.close()
    return outcome


def _drain(progress_queue, on_steps: Callable[[int, int], None]) -> None:
    """Pass on the steps pool workers reported since the last look."""
    if progress_queue is None:
        return
    while True:
        try:
            run_id, count = progress_queue.get_nowait()
        except (queue.Empty, OSError, ValueError):  # empty, or closed by an interrupted pool
            return
        on_steps(run_id, count)


def _record_of(future: Future, task: RunTask) -> RunRecord:
    """The run's record; a run the executor could not finish (Dask gave up on it) is a failed run."""
    try:
        return future.result()
    except BrokenProcessPool as error:
        raise SweepAborted(f"a local worker process died ({error})") from None
    except Exception as error:
        return failed_record(task, error)
