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
from funnelsim.model.state import ConsumerState


def talk_strength(state: ConsumerState, aware_weight: float) -> np.ndarray:
    """(n, firms) matrix of how strongly each consumer talks about each firm."""
    strength = np.empty((state.size, state.firms))
    for firm in range(state.firms):
        column = state.awareness[firm] * aware_weight
        customers = state.customer_of == firm
        column[customers] = state.satisfaction[customers]
        strength[:, firm] = column
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


def spread(state: ConsumerState, network: Network, settings: WordOfMouth, rng: np.random.Generator) -> np.ndarray:
    """Raise the awareness of those who hear; returns how many heard about each firm."""
    if settings.beta == 0.0 or settings.lift == 0.0:
        return np.zeros(state.firms, dtype=np.int64)
    exposure = network.exposure(talk_strength(state, settings.aware_weight))
    chance = hearing_chance(exposure, network, settings, state.susceptibility)
    heard = rng.random(chance.shape) < chance
    for firm in range(state.firms):
        listeners = heard[:, firm]
        row = state.awareness[firm]
        row[listeners] += settings.lift * (1.0 - row[listeners])
    return heard.sum(axis=0)
