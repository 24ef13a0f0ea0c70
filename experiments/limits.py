"""Sizes checked before any work starts: how many runs a command may ask for, and whether the
largest run of a request fits in memory.

A mistyped ``--replications 1000000000`` or a sweep grid with ``num = 1e9`` is a valid number to
the parser; without a bound the command spends minutes building seeds or sampling a design before
failing (or after creating its folder). These checks run on counts alone, before anything is
sampled, built or written, and end the command with one line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from funnelsim.errors import UsageError

#: Runs one command may ask for unless ``--max-runs`` raises it. A million runs of the default
#: market is days of CPU time on one core: more is almost surely a typo.
MAX_RUNS = 1_000_000

#: The bound in force: MAX_RUNS, or the command's ``--max-runs`` (:func:`run_limit`), so that
#: the checks deep inside (``evaluate``, each round of a comparison) honour the option too.
_limit: ContextVar[int] = ContextVar("run_limit", default=MAX_RUNS)


@contextmanager
def run_limit(max_runs: int | None) -> Iterator[None]:
    """While inside, :func:`check_run_count` refuses more than ``max_runs`` runs (None: MAX_RUNS)."""
    token = _limit.set(MAX_RUNS if max_runs is None else int(max_runs))
    try:
        yield
    finally:
        _limit.reset(token)


def check_run_count(runs: int, where: str, max_runs: int | None = None) -> int:
    """Refuse more than ``max_runs`` (default: the :func:`run_limit` in force) runs in one command."""
    limit = _limit.get() if max_runs is None else int(max_runs)
    if runs > limit:
        raise UsageError(
            f"{where}: {_count(runs)} runs is more than the {limit:,} one command may start "
            f"(pass --max-runs N to allow more)"
        )
    return runs


def design_size(spec) -> int:
    """Points a sweep file's design will have, computed from its settings without sampling it."""
    design = spec.design
    dimensions = len(spec.parameters)
    if design.kind == "grid":
        return math.prod(
            len(parameter.levels) if parameter.levels is not None else int(parameter.num or 1)
            for parameter in spec.parameters.values()
        )
    samples = int(design.samples or 0)
    if design.kind == "latin_hypercube":
        return samples
    if design.kind == "sobol":
        return samples * (2 * dimensions + 2 if design.second_order else dimensions + 2)
    return samples * (dimensions + 1)  # morris: N trajectories of D + 1 points


def check_largest_fits(scenarios: Iterable, parallel_runs: int, where: str) -> None:
    """:func:`funnelsim.model.footprint.check_fits` on the largest of ``scenarios``."""
    from funnelsim.model.footprint import check_fits, run_bytes

    largest = max(scenarios, key=run_bytes, default=None)
    if largest is not None:
        check_fits(largest, parallel_runs=max(1, int(parallel_runs or 1)), where=where)


def _count(runs: int) -> str:
    return f"{runs:,}" if runs < 10**15 else f"{runs:.3g}"
