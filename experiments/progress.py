"""Steps finished inside runs, for a progress bar that moves during long runs.

A run function calls :func:`report` every so often. Where the report goes is set per process:
in the driver (runs in this process) the sweep loop updates its bar directly; in a local pool
worker it goes into a queue the loop drains (:mod:`funnelsim.experiments.executors`); on a Dask
worker it goes nowhere, and the bar moves when runs finish.
"""

from __future__ import annotations

from collections.abc import Callable

_reporter: Callable[[int, int], object] | None = None


def set_reporter(reporter: Callable[[int, int], object] | None) -> Callable[[int, int], object] | None:
    """Send reports to ``reporter(run_id, steps)`` from now on; returns the previous one."""
    global _reporter
    previous, _reporter = _reporter, reporter
    return previous


def report(run_id: int, steps: int) -> None:
    """``steps`` more steps of run ``run_id`` are done."""
    if _reporter is not None:
        _reporter(run_id, steps)
