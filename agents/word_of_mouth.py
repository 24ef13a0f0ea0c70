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

from funnelsim.agents.pcg64 import next_double, state_words
from funnelsim.agents.population import ConsumerState
from funnelsim.agents.protocols import NetworkLike, WordOfMouthLike
from funnelsim.compiled import kernel


def talk_strength(state: ConsumerState, aware_weight: float) -> np.ndarray:
    """(firms, n) matrix of how strongly each consumer talks about each firm.

    ``awareness x aware_weight``, or the satisfaction for the firm a consumer is a customer of,
    times the consumer's talkativeness. Stored consumer by consumer (the (firms, n) result is the
    transpose of an (n, firms) array): a neighbour's strengths for every firm then share one cache
    line, which the product over the network reads at random.
    """
    return _talk_strength(state.awareness, aware_weight, state.customer_of, state.satisfaction, state.talkativeness).T


@kernel
def _talk_strength(
    awareness: np.ndarray, aware_weight: float, customer_of: np.ndarray, satisfaction: np.ndarray, talkativeness: np.ndarray
) -> np.ndarray:
    """(n, firms) strengths in one pass: (awareness x weight, or satisfaction) x talkativeness,
    the two products numpy took in that order."""
    firms, size = awareness.shape
    strength = np.empty((size, firms))
    for c in range(size):
        for f in range(firms):
            value = satisfaction[c] if customer_of[c] == f else awareness[f, c] * aware_weight
            strength[c, f] = value * talkativeness[c]
    return strength


def hearing_chance(
    exposure: np.ndarray, network: NetworkLike, settings: WordOfMouthLike, susceptibility: np.ndarray
) -> np.ndarray:
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
    if settings.form == "contagion" and settings.beta >= 1.0:
        draws = rng.random((size, firms))
        heard = np.flatnonzero(draws < hearing_chance(exposure.T, network, settings, susceptibility))
        return np.divmod(heard, firms)
    # The draws are made inside the loops, one per (consumer, firm) in that order, from the
    # generator's own state (agents/pcg64.py): the numbers rng.random((n, firms)) would give,
    # without writing them out and reading them back. Another generator gets numpy's array.
    words, draws = state_words(rng.bit_generator), _NO_DRAWS
    if words is None:
        words, draws = _NO_WORDS, rng.random((size, firms))
    if settings.form == "fraction":
        return _hear_fraction(words, draws, exposure, network.degree, susceptibility, settings.beta)
    log_keep = np.log1p(-settings.beta)
    consumer, firm_index, drawn = _below_bound(words, draws, exposure, susceptibility, -log_keep * (1.0 + _BOUND_MARGIN))
    # The exact chance, computed as hearing_chance does, for the few candidates only.
    chance = -np.expm1(exposure[firm_index, consumer] * log_keep) * susceptibility[consumer]
    kept = drawn < chance
    return consumer[kept], firm_index[kept]


_NO_DRAWS = np.empty((0, 0))
_NO_WORDS = np.empty(0, dtype=np.uint64)


@kernel
def _draw(words, draws, c, f):
    """Consumer c's draw for firm f: from the generator's state, or from numpy's array of them."""
    return next_double(words) if draws.size == 0 else draws[c, f]


@kernel
def _hear_fraction(
    words: np.ndarray, draws: np.ndarray, exposure: np.ndarray, degree: np.ndarray, susceptibility: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """(consumer, firm) pairs, by consumer then firm, whose draw is below the fraction form's
    chance ``min(1, beta x exposure / max(degree, 1)) x susceptibility``, computed as
    :func:`hearing_chance` computes it."""
    firms, size = exposure.shape
    consumer = np.empty(size * firms, dtype=np.int64)
    firm_index = np.empty(size * firms, dtype=np.int64)
    found = 0
    for c in range(size):
        links = max(degree[c], 1.0)
        for f in range(firms):
            share = beta * exposure[f, c] / links
            if _draw(words, draws, c, f) < min(1.0, share) * susceptibility[c]:
                consumer[found] = c
                firm_index[found] = f
                found += 1
    return consumer[:found], firm_index[:found]


@kernel
def _below_bound(
    words: np.ndarray, draws: np.ndarray, exposure: np.ndarray, susceptibility: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(consumer, firm, draw) of each pair, by consumer then firm, whose draw is below the linear
    bound ``exposure x rate x susceptibility`` (multiplied in that order, as numpy did)."""
    firms, size = exposure.shape
    consumer = np.empty(size * firms, dtype=np.int64)
    firm_index = np.empty(size * firms, dtype=np.int64)
    drawn = np.empty(size * firms)
    found = 0
    for c in range(size):
        for f in range(firms):
            draw = _draw(words, draws, c, f)
            if draw < exposure[f, c] * rate * susceptibility[c]:
                consumer[found] = c
                firm_index[found] = f
                drawn[found] = draw
                found += 1
    return consumer[:found], firm_index[:found], drawn[:found]


def spread(state: ConsumerState, network: NetworkLike, settings: WordOfMouthLike, rng: np.random.Generator) -> np.ndarray:
    """Raise the awareness of those who hear; returns how many heard about each firm."""
    if settings.beta == 0.0 or settings.lift == 0.0:
        return np.zeros(state.firms, dtype=np.int64)
    exposure = network.exposure_of_rows(talk_strength(state, settings.aware_weight))
    listener, firm_of = hearers(exposure, network, settings, state.susceptibility, rng)
    return _raise_heard(state.awareness, listener, firm_of, settings.lift)


@kernel
def _raise_heard(awareness: np.ndarray, listener: np.ndarray, firm_of: np.ndarray, lift: float) -> np.ndarray:
    """a <- a + lift (1 - a) for each (listener, firm) pair (each pair at most once); returns how
    many heard about each firm."""
    heard = np.zeros(awareness.shape[0], dtype=np.int64)
    for i in range(listener.size):
        f, c = firm_of[i], listener[i]
        awareness[f, c] += lift * (1.0 - awareness[f, c])
        heard[f] += 1
    return heard
