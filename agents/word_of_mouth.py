"""Word of mouth: each consumer hears about each firm from the sum over their ties.

Consumer j talks about firm f with strength ``talkativeness_j * w_jf`` where ``w_jf`` is the
customer's satisfaction if j is f's customer, and ``aware_weight * awareness_jf`` otherwise.
A consumer's exposure is the sum over neighbours; the chance of hearing is
``susceptibility * (1 - (1 - beta) ** exposure)`` (contagion) or
``susceptibility * min(1, beta * exposure / degree)`` (fraction, the network Bass form).
Everyone hears from the state at the start of the phase, so the result does not depend on order.

The sum is a sparse product over the network (:func:`hearers`); for the contagion form on a
network of ties it is computed only for the few pairs whose draw a cheap bound cannot rule out
(:func:`contagion_hearers`), with the same result.
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
    """(n, firms) strengths in one pass (see :func:`_strength`)."""
    firms, size = awareness.shape
    strength = np.empty((size, firms))
    for c in range(size):
        for f in range(firms):
            strength[c, f] = _strength(awareness, aware_weight, customer_of, satisfaction, talkativeness, f, c)
    return strength


@kernel
def _talk_strength_by_firm(awareness, aware_weight, customer_of, satisfaction, talkativeness):
    """(firms, n) strengths, firm by firm: a consumer's strengths for the firms are apart, but the
    pass runs four times faster than :func:`_talk_strength`'s (it vectorises), which suits rules
    that read one firm's strength at a time."""
    firms, size = awareness.shape
    strength = np.empty((firms, size))
    for f in range(firms):
        for c in range(size):
            strength[f, c] = _strength(awareness, aware_weight, customer_of, satisfaction, talkativeness, f, c)
    return strength


@kernel
def _strength(awareness, aware_weight, customer_of, satisfaction, talkativeness, f, c):
    """How strongly consumer c talks about firm f: (awareness x weight, or the satisfaction of
    f's customer) x talkativeness, the two products numpy took in that order."""
    return (satisfaction[c] if customer_of[c] == f else awareness[f, c] * aware_weight) * talkativeness[c]


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
    ties = network.zero_one_ties()
    if settings.form == "contagion" and settings.beta < 1.0 and ties is not None:
        strength = _talk_strength_by_firm(state.awareness, settings.aware_weight, state.customer_of, state.satisfaction, state.talkativeness)
        listener, firm_of = contagion_hearers(strength, ties, settings.beta, state.susceptibility, state.customer_of, rng)
    else:
        exposure = network.exposure_of_rows(talk_strength(state, settings.aware_weight))
        listener, firm_of = hearers(exposure, network, settings, state.susceptibility, rng)
    return _raise_heard(state.awareness, listener, firm_of, settings.lift)


def contagion_hearers(
    strength: np.ndarray,
    ties: tuple[np.ndarray, np.ndarray],
    beta: float,
    susceptibility: np.ndarray,
    customer_of: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hearers` for the contagion form on a network of 0/1 ties (CSR ``indptr, indices``),
    from the (firms, n) talk strengths rather than their exposure: the same pairs, the same draws.

    Most draws are above a bound that needs no exposure: a consumer's exposure to a firm is at
    most their ties to its customers times the largest customer strength (satisfaction) plus
    their other ties times the largest other strength, so a draw at or above that bound x rate x
    susceptibility cannot pass the linear bound of :func:`hearers`. The exposure, summed as the
    product sums it, is computed only for the rest, about 4% of the pairs in the baseline; the
    product over every tie was most of what word of mouth cost. ``customer_of``: each consumer's
    firm, or -1; ``ties`` must be symmetric (each tie listed from both ends), as every builder's are.
    """
    words, draws = state_words(rng.bit_generator), _NO_DRAWS
    if words is None:
        words, draws = _NO_WORDS, rng.random((strength.shape[1], strength.shape[0]))
    log_keep = np.log1p(-beta)
    indptr, indices = ties
    consumer, firm_index, drawn, exposure = _below_bound_on_ties(
        words, draws, indptr, indices, np.ascontiguousarray(strength), customer_of, susceptibility, -log_keep * (1.0 + _BOUND_MARGIN)
    )
    chance = -np.expm1(exposure * log_keep) * susceptibility[consumer]
    kept = drawn < chance
    return consumer[kept], firm_index[kept]


@kernel
def _sum_rest(indices, strength, f, start, end, total):
    """``total`` plus the strengths for firm ``f`` of the tied consumers ``indices[start:end]``, in order."""
    for j in range(start, end):
        total += strength[f, indices[j]]
    return total


@kernel
def _below_bound_on_ties(words, draws, indptr, indices, strength, customer_of, susceptibility, rate):
    """:func:`_below_bound` with each candidate's exposure computed from its ties (``strength``
    is (firms, n), ties symmetric); returns (consumer, firm, draw, exposure) of the pairs below
    the bound."""
    firms, size = strength.shape
    # The largest strength for each firm among its customers (their satisfaction) and among the
    # rest (awareness x weight), and each consumer's ties to each firm's customers: customers are
    # few, so counting from their side is cheap.
    top_customer, top_other = np.zeros(firms), np.zeros(firms)
    customer_ties = np.zeros((size, firms), dtype=np.int32)
    for f in range(firms):
        row = strength[f]
        largest_customer = largest_other = 0.0  # kept in registers: the pass is a chain of maxima
        for c in range(size):
            if customer_of[c] == f:
                largest_customer = max(largest_customer, row[c])
                for j in range(indptr[c], indptr[c + 1]):
                    customer_ties[indices[j], f] += 1
            else:
                largest_other = max(largest_other, row[c])
        top_customer[f], top_other[f] = largest_customer, largest_other
    # First every draw, in order, against the bound that needs no exposure.
    maybe_consumer = np.empty(size * firms, dtype=np.int64)
    maybe_firm = np.empty(size * firms, dtype=np.int64)
    maybe_draw = np.empty(size * firms)
    found = 0
    for c in range(size):
        links = indptr[c + 1] - indptr[c]
        for f in range(firms):
            draw = _draw(words, draws, c, f)
            to_customers = customer_ties[c, f]
            ceiling = ((links - to_customers) * top_other[f] + to_customers * top_customer[f]) * (1.0 + _BOUND_MARGIN)
            if draw < ceiling * rate * susceptibility[c]:  # few do: written only then
                maybe_consumer[found], maybe_firm[found], maybe_draw[found] = c, f, draw
                found += 1
    # Then the exposure of each such pair, four at a time: a sum is a chain of dependent
    # additions, and four chains side by side keep the processor busy while each waits.
    totals = np.empty(found)
    blocked = found - found % 4
    for i in range(0, blocked, 4):
        c0, f0 = maybe_consumer[i], maybe_firm[i]
        c1, f1 = maybe_consumer[i + 1], maybe_firm[i + 1]
        c2, f2 = maybe_consumer[i + 2], maybe_firm[i + 2]
        c3, f3 = maybe_consumer[i + 3], maybe_firm[i + 3]
        s0, s1, s2, s3 = indptr[c0], indptr[c1], indptr[c2], indptr[c3]
        n0, n1, n2, n3 = indptr[c0 + 1] - s0, indptr[c1 + 1] - s1, indptr[c2 + 1] - s2, indptr[c3 + 1] - s3
        common = min(min(n0, n1), min(n2, n3))
        t0 = t1 = t2 = t3 = 0.0
        for m in range(common):
            t0 += strength[f0, indices[s0 + m]]
            t1 += strength[f1, indices[s1 + m]]
            t2 += strength[f2, indices[s2 + m]]
            t3 += strength[f3, indices[s3 + m]]
        totals[i] = _sum_rest(indices, strength, f0, s0 + common, s0 + n0, t0)
        totals[i + 1] = _sum_rest(indices, strength, f1, s1 + common, s1 + n1, t1)
        totals[i + 2] = _sum_rest(indices, strength, f2, s2 + common, s2 + n2, t2)
        totals[i + 3] = _sum_rest(indices, strength, f3, s3 + common, s3 + n3, t3)
    for i in range(blocked, found):
        c, f = maybe_consumer[i], maybe_firm[i]
        totals[i] = _sum_rest(indices, strength, f, indptr[c], indptr[c + 1], 0.0)
    consumer = np.empty(found, dtype=np.int64)
    firm_index = np.empty(found, dtype=np.int64)
    drawn = np.empty(found)
    exposure = np.empty(found)
    kept = 0
    for i in range(found):
        c, f = maybe_consumer[i], maybe_firm[i]
        if maybe_draw[i] < totals[i] * rate * susceptibility[c]:
            consumer[kept], firm_index[kept], drawn[kept], exposure[kept] = c, f, maybe_draw[i], totals[i]
            kept += 1
    return consumer[:kept], firm_index[:kept], drawn[:kept], exposure[:kept]


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
