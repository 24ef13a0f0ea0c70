"""Waiting times drawn per event, so no cycle in the results comes from a constant delay.

A fixed delay keeps every cohort in step: leads that form together go cold together, come back
together after the cooldown and go cold together again, so the lead queue swings with a period
of patience + cooldown. Drawing each delay when it starts breaks that lock-step.

Every delay is ``minimum + floor(G + U)`` steps, with ``G`` a gamma variable of mean
``mean - minimum`` and standard deviation ``cv x mean`` and ``U`` uniform on [0, 1) (stochastic
rounding, so the mean in steps is exactly ``mean``). The gamma family is chosen because its
coefficient of variation is free: ``cv = 1`` with no minimum is the exponential, the memoryless
patience of the Erlang-A queue with abandonment (Garnett, Mandelbaum & Reiman 2002), and
``cv < 1`` is a unimodal, right-skewed delay like the Erlang distribution of a process made of
several stages (a sales cycle of meetings), close to the log-normal service times Brown et al.
(2005) measured. ``cv = 0`` gives the constant delay, drawing nothing.
"""

from __future__ import annotations

import math

import numpy as np

from funnelsim.agents import numpy_c
from funnelsim.compiled import kernel


def draw_delays(mean: float, cv: float, size: int, rng: np.random.Generator, minimum: int = 0) -> np.ndarray:
    """``size`` whole-step delays of mean ``mean`` (at least ``minimum``) and coefficient of variation about ``cv``.

    Parameters
    ----------
    mean : float
        Mean delay in steps; a mean at or below ``minimum`` gives ``minimum`` every time.
    cv : float
        Standard deviation over the mean of the continuous delay; 0 gives the constant ``mean``
        (rounded), drawing no random numbers, which is the model before delays were drawn.
    size : int
        How many delays.
    rng : numpy.random.Generator
        The model's generator.
    minimum : int
        The shortest delay (1 for a patience or a sales cycle, 0 for a cooldown).

    Returns
    -------
    numpy.ndarray
        int64 delays in steps.
    """
    if size == 0:
        return np.empty(0, dtype=np.int64)
    shape, scale, constant = delay_law(mean, cv, minimum)
    if constant >= 0:
        return np.full(size, constant, dtype=np.int64)
    functions = numpy_c.functions()
    if functions is not None:  # numpy's gamma and uniform draws in one compiled call
        delays = np.empty(size, dtype=np.int64)
        fill_delays(functions, numpy_c.state_of(rng), shape, scale, constant, minimum, delays)
        return delays
    if size == 1:
        # One delay (a salesperson's cycle, a lost lead): the same two draws as scalars, which
        # skips numpy's array set-up; floor of the same double sum, so the same whole number.
        return np.array([minimum + math.floor(rng.gamma(shape, scale) + rng.random())], dtype=np.int64)
    continuous = rng.gamma(shape, scale, size)
    return minimum + np.floor(continuous + rng.random(size)).astype(np.int64)


def delay_law(mean: float, cv: float, minimum: int = 0) -> tuple[float, float, int]:
    """``(shape, scale, constant)`` of :func:`draw_delays`' delays: the gamma's shape and scale,
    or, when nothing is drawn (cv 0, or a mean at or below the minimum), the constant delay
    (-1 otherwise). Computed in Python, as :func:`draw_delays` always did, for compiled callers."""
    spare = mean - minimum
    if cv <= 0.0 or spare <= 0.0:
        return 1.0, 1.0, max(minimum, round(mean))
    shape = (spare / (cv * mean)) ** 2
    return shape, spare / shape, -1


@kernel
def fill_delays(functions, state, shape, scale, constant, minimum, out):
    """``out[:] = draw_delays(...)`` for the law of :func:`delay_law`, with numpy's own gamma and
    uniform draws (:mod:`funnelsim.agents.numpy_c`) in its order: every gamma, then every uniform."""
    if constant >= 0:
        out[:] = constant
        return
    continuous = np.empty(out.size)
    for i in range(out.size):
        continuous[i] = numpy_c.gamma(functions, state, shape, scale)
    for i in range(out.size):
        out[i] = minimum + np.int64(math.floor(continuous[i] + numpy_c.uniform(functions, state)))
