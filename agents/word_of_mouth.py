"""Word of mouth: one sparse product over the network per firm per step.

Consumer j talks about firm f with strength ``talkativeness_j * w_jf`` where ``w_jf`` is the
customer's satisfaction if j is f's customer, and ``aware_weight * awareness_jf`` otherwise.
A consumer's exposure is the sum over neighbours; the chance of hearing is
``susceptibility * (1 - (1 - beta) ** exposure)`` (contagion) or
``susceptibility * min(1, beta * exposure / degree)`` (fraction, the network Bass form).
Everyone hears from the state at the start of the phase, so the result does not depend on order.
"""

from __future__ import annotations

import numpy as np

from funnelsim.agents.population import NOBODY, ConsumerState
from funnelsim.agents.protocols import NetworkLike, WordOfMouthLike


def talk_strength(state: ConsumerState, aware_weight: float) -> np.ndarray:
    """(firms, n) matrix of how strongly each consumer talks about each firm.

    One row per firm, the layout of the awareness it comes from; customers, a small minority,
    are patched in by index rather than by a mask.
    """
    strength = state.awareness * aware_weight
    customers = np.flatnonzero(state.customer_of != NOBODY)
    strength[state.customer_of[customers], customers] = state.satisfaction[customers]
    strength *= state.talkativeness
    return strength


def hearing_chance(exposure: np.ndarray, network: NetworkLike, settings: WordOfMouthLike, susceptibility: np.ndarray) -> np.ndarray:
    """Chance of hearing for (n, firms) exposure."""
    if settings.form == "contagion":
        if settings.beta >= 1.0:
            chance = (exposure > 0).astype(float)
        else:
            chance = -np.expm1(exposure * np.log1p(-settings.beta))
    else:
        degree = np.maximum(network.degree, 1.0)[:, None]
        chance = np.minimum(1.0, settings.beta * exposure / degree)
    return chance * susceptibility[:, None]


#: Relative safety margin of the linear bound on the contagion chance, far above rounding error.
_BOUND_MARGIN = 1e-9


def hearers(
    exposure: np.ndarray, network: NetworkLike, settings: WordOfMouthLike, susceptibility: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(consumer, firm) pairs of those who hear, for (firms, n) exposure, ordered by consumer then firm.

    One uniform draw per (consumer, firm), drawn in that order: equal, draw for draw, to
    ``rng.random((n, firms)) < hearing_chance(exposure.T, ...)``. For the contagion form it
    evaluates the exponential only where it can matter: since 1 - e^(-x) <= x, a draw at or above
    susceptibility x rate x exposure (rate = -log(1 - beta)) cannot be a hearing, and on most
    steps nearly every draw is. That skips the costliest operation of the step.
    """
    firms, size = exposure.shape
    draws = rng.random((size, firms)).T  # drawn consumer by consumer, viewed firm by firm
    if settings.form != "contagion" or settings.beta >= 1.0:
        heard = np.flatnonzero(draws.T < hearing_chance(exposure.T, network, settings, susceptibility))
        return np.divmod(heard, firms)
    log_keep = np.log1p(-settings.beta)
    bound = exposure * (-log_keep * (1.0 + _BOUND_MARGIN))
    bound *= susceptibility
    f, consumer = np.nonzero(draws < bound)
    # The exact chance, computed as hearing_chance does, for the few candidates only.
    chance = -np.expm1(exposure[f, consumer] * log_keep) * susceptibility[consumer]
    kept = draws[f, consumer] < chance
    f, consumer = f[kept], consumer[kept]
    order = np.lexsort((f, consumer))
    return consumer[order], f[order]


def spread(state: ConsumerState, network: NetworkLike, settings: WordOfMouthLike, rng: np.random.Generator) -> np.ndarray:
    """Raise the awareness of those who hear; returns how many heard about each firm."""
    if settings.beta == 0.0 or settings.lift == 0.0:
        return np.zeros(state.firms, dtype=np.int64)
    exposure = network.exposure_of_rows(talk_strength(state, settings.aware_weight))
    listener, firm_of = hearers(exposure, network, settings, state.susceptibility, rng)
    for f in range(state.firms):
        listeners = listener[firm_of == f]
        row = state.awareness[f]
        row[listeners] += settings.lift * (1.0 - row[listeners])
    return np.bincount(firm_of, minlength=state.firms)
