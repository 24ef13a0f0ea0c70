"""Where runs execute: this process, a local process pool, or an existing Dask cluster.

All three are standard ``concurrent.futures`` executors, so one loop serves them all (``funnelsim
run``, ``funnelsim sweep`` and :func:`funnelsim.experiments.engine.evaluate`):
``ProcessPoolExecutor`` on one machine, ``distributed.Client.get_executor()`` on a cluster, and
:class:`SerialExecutor` for running in this process (debugging, and checking that results do not
depend on where they ran).

One interrupt strategy for all of them: pool workers ignore SIGINT (a Ctrl-C reaches the whole
process group; the driver alone decides what stops), the driver turns SIGTERM into the same
``KeyboardInterrupt`` and remembers both (:mod:`funnelsim.experiments.interrupts`), and on any
interruption the pool's queued runs are dropped and its running workers ended at once. Workers
also watch their driver and exit when it is gone, so even a ``kill -9`` of the driver leaves no
worker behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from funnelsim.errors import UsageError
from funnelsim.experiments.interrupts import raise_if_interrupted


@dataclass
class ExecutorHandle:
    executor: Executor
    description: str
    capacity: Callable[[], int]  # how many runs to keep in flight right now
    progress_queue: Any = None  # (run_id, steps) reports from pool workers, if they can send any


class SerialExecutor(Executor):
    """Runs each submitted call at once, in this process, and returns a finished future."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        # A Ctrl-C swallowed inside the run (see interrupts) left a failed result, not a finished run.
        raise_if_interrupted()
        return future


@contextmanager
def open_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    serial: bool = False,
    connect_timeout: float = 10.0,
    run_function: str | None = None,
) -> Iterator[ExecutorHandle]:
    """Open the executor a sweep runs on; a Dask scheduler is reached (or refused) before anything starts."""
    if serial:
        yield ExecutorHandle(SerialExecutor(), "this process, one run after another", lambda: 1)
    elif scheduler:
        with _dask_executor(scheduler, connect_timeout, run_function) as handle:
            yield handle
    else:
        with _process_pool(workers) as handle:
            yield handle


@contextmanager
def _process_pool(workers: int | None) -> Iterator[ExecutorHandle]:
    count = workers or os.cpu_count() or 1
    # spawn, not fork: importing mesa sets it anyway, and forking a process with threads is unsafe.
    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), progress_queue),
    )
    description = f"{count} local worker process{'es' if count != 1 else ''}"
    try:
        yield ExecutorHandle(pool, description, lambda: 2 * count, progress_queue)
    except BaseException:
        # Interrupted or failed: drop queued runs and end running ones now.
        _stop_now(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        progress_queue.close()
        progress_queue.cancel_join_thread()  # never wait on reports nobody will read


def _start_worker(driver_pid: int, progress_queue) -> None:
    """A pool worker: reports steps to the driver, ignores Ctrl-C, exits when the driver is gone."""
    from funnelsim.experiments import progress

    progress.set_reporter(lambda run_id, steps: progress_queue.put_nowait((run_id, steps)))
    _exit_with_driver(driver_pid)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop the pool at once: drop queued runs and end the running ones.

    ``shutdown`` alone waits for running tasks, which is not prompt for a Ctrl-C. Python 3.14
    has ``terminate_workers``; before that the processes are reachable only through ``_processes``.
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


def _exit_with_driver(driver_pid: int) -> None:
    """Pool workers ignore Ctrl-C (the driver decides) and exit when the driver is gone (e.g.
    killed with SIGKILL) instead of lingering."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == driver_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-driver", daemon=True).start()


@contextmanager
def _dask_executor(address: str, connect_timeout: float, run_function: str | None) -> Iterator[ExecutorHandle]:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask distributed, which is not installed: pip install 'funnelsim[dask]'"
        ) from None

    check_scheduler_address(address)
    try:
        client = Client(address, timeout=connect_timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        message = " ".join(str(error).split())
        raise UsageError(f"--scheduler {address}: cannot reach a Dask scheduler ({message})") from None
    try:
        _check_workers(client, address, run_function)
        capacity = _DaskCapacity(client)
        # pure=False: two runs are never the same task, and results are never cached. A worker
        # that dies has its runs rescheduled by Dask on the others (distributed.scheduler.allowed-failures).
        executor = client.get_executor(pure=False)
        yield ExecutorHandle(executor, f"Dask cluster at {address} ({capacity.threads} worker threads now)", capacity)
    finally:
        client.close()


#: Dask transports a scheduler address may use here (inproc: a cluster in this process, as tests
#: and notebooks make); UCX needs ucx-py, which funnelsim does not install.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "inproc")


def check_scheduler_address(address: str) -> str:
    """Refuse, in one line, an address Dask cannot connect to, before a Client exists: a Client
    that fails half-built prints a second traceback when the interpreter collects it."""
    from distributed.comm.addressing import parse_address, parse_host_port

    if not isinstance(address, str) or not address.strip():
        raise UsageError("--scheduler '': give an address such as tcp://10.0.0.5:8786")
    try:
        scheme, location = parse_address(address if "://" in address else f"tcp://{address}")
        if scheme not in SCHEDULER_SCHEMES:
            raise UsageError(
                f"--scheduler {address}: the {scheme}:// transport is not supported here "
                f"(use tcp:// or tls://)"
            )
        if scheme != "inproc":
            parse_host_port(location, default_port=8786)
    except UsageError:
        raise
    except (ValueError, TypeError) as error:
        message = " ".join(str(error).split())
        raise UsageError(f"--scheduler {address}: not a scheduler address ({message})") from None
    return address


def _check_workers(client, address: str, run_function: str | None) -> None:
    """Every connected worker must import funnelsim and the run function, or nothing starts."""
    try:
        client.run(worker_environment_check, run_function)
    except Exception as error:  # the worker's own exception, re-raised here
        message = " ".join(str(error).split())
        raise UsageError(
            f"--scheduler {address}: a worker cannot load the runs ({type(error).__name__}: {message}); "
            "install funnelsim (and the run function's module) on every worker"
        ) from None


def worker_environment_check(run_function: str | None) -> str:
    """Runs on each Dask worker before a sweep: imports what the runs will need."""
    import funnelsim
    from funnelsim.experiments.sweep_plan import load_run_function

    if run_function:
        load_run_function(run_function)
    return funnelsim.__version__


class _DaskCapacity:
    """Runs to keep in flight: twice the cluster's threads, re-read now and then as workers come and go."""

    refresh_seconds = 5.0

    def __init__(self, client):
        self._client = client
        self._checked = 0.0
        self.threads = 0
        self._refresh()

    def _refresh(self) -> None:
        self.threads = sum(self._client.nthreads().values())
        self._checked = time.monotonic()

    def __call__(self) -> int:
        if time.monotonic() - self._checked > self.refresh_seconds:
            self._refresh()
        return 2 * max(self.threads, 1)
