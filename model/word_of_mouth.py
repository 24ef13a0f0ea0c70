"""Word of mouth: one sparse product over the network for all firms at once.

Consumer j talks about firm f with strength ``talkativeness_j * w_jf`` where ``w_jf`` is the
customer's satisfaction if j is f's customer, and ``aware_weight * awareness_jf`` otherwise.
A consumer's exposure is the sum over neighbours; the chance of hearing is
``susceptibility * (1 - (1 - beta) ** exposure)`` (contagion) or
``susceptibility * min(1, beta * exposure / degree)`` (fraction, the network Bass form).
Everyone hears from the state at the start of the phase, so the result does not depend on order.
"""

from __future__ import annotations

import numpy as np

from funnelsim.model.network import Network
from funnelsim.model.scenario import WordOfMouth
from funnelsim.model.state import NOBODY, ConsumerState


def talk_strength(state: ConsumerState, aware_weight: float) -> np.ndarray:
    """(n, firms) matrix of how strongly each consumer talks about each firm.

    C-ordered (one row per consumer) because that is the layout scipy's sparse product reads
    fastest; customers, a small minority, are patched in by index rather than by a mask.
    """
    strength = np.empty((state.size, state.firms))
    np.multiply(state.awareness.T, aware_weight, out=strength)
    customers = np.flatnonzero(state.customer_of != NOBODY)
    strength[customers, state.customer_of[customers]] = state.satisfaction[customers]
    strength *= state.talkativeness[:, None]
    return strength


def hearing_chance(exposure: np.ndarray, network: Network, settings: WordOfMouth, susceptibility: np.ndarray) -> np.ndarray:
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


def hearers(exposure: np.ndarray, network: Network, settings: WordOfMouth, susceptibility: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat positions (consumer * firms + firm) of those who hear, one uniform draw per pair.

    Equal, draw for draw, to ``rng.random(shape) < hearing_chance(...)``, but for the contagion
    form it evaluates the exponential only where it can matter: since 1 - e^(-x) <= x, a draw at
    or above susceptibility x rate x exposure (rate = -log(1 - beta)) cannot be a hearing, and on
    most steps nearly every draw is. That skips the costliest operation of the step.
    """
    draws = rng.random(exposure.shape)
    if settings.form != "contagion" or settings.beta >= 1.0:
        return np.flatnonzero(draws < hearing_chance(exposure, network, settings, susceptibility))
    log_keep = np.log1p(-settings.beta)
    bound = exposure * (-log_keep * (1.0 + _BOUND_MARGIN))
    bound *= susceptibility[:, None]
    candidates = np.flatnonzero(draws < bound)
    firms = exposure.shape[1]
    # The exact chance, computed as hearing_chance does, for the few candidates only.
    chance = -np.expm1(exposure.ravel()[candidates] * log_keep) * susceptibility[candidates // firms]
    return candidates[draws.ravel()[candidates] < chance]


def spread(state: ConsumerState, network: Network, settings: WordOfMouth, rng: np.random.Generator) -> np.ndarray:
    """Raise the awareness of those who hear; returns how many heard about each firm."""
    if settings.beta == 0.0 or settings.lift == 0.0:
        return np.zeros(state.firms, dtype=np.int64)
    exposure = network.exposure(talk_strength(state, settings.aware_weight))
    heard = hearers(exposure, network, settings, state.susceptibility, rng)
    listener, firm_of = np.divmod(heard, state.firms)
    for firm in range(state.firms):
        listeners = listener[firm_of == firm]
        row = state.awareness[firm]
        row[listeners] += settings.lift * (1.0 - row[listeners])
    return np.bincount(firm_of, minlength=state.firms)
