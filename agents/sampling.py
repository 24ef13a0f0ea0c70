"""Samples without replacement, draw for draw numpy's, at a fraction of the cost.

Media, jingles and email each draw a sample without replacement from up to the whole population
on every step. numpy's ``Generator.choice(n, k, replace=False)`` does this with Floyd's algorithm
when n is at most 10,000 or k at most n // 50, spending most of its time around the draws rather
than on them. :func:`choice_without_replacement` does the same algorithm in a compiled loop that
makes numpy's 32-bit draws itself from the generator's own state (:mod:`funnelsim.agents.pcg64`):
the same numbers of the bit generator in the same order, so the sample and the generator's state
after it are exactly numpy's, and a seed's results do not change. Outside Floyd's range numpy
shuffles the tail of 0..n-1, and so does :func:`sample_positions`; for a bit generator other
than PCG64, numpy is called.

numpy's algorithm (``numpy/random/_generator.pyx``, ``Generator.choice``, numpy 1.17 and later):
for j = n - k, ..., n - 1, draw v uniform on [0, j]; take v if not yet taken, else take j. Then
shuffle the k taken values: for i = k - 1, ..., 1, swap element i with one drawn uniform on
[0, i]. Outside Floyd's range, the tail shuffle: in 0..n-1, for i = n - 1 down to max(n - k, 1),
swap element i with one drawn uniform on [0, i], and take the last k. Every "uniform on [0, r]"
is Lemire's method on the generator's 32-bit draws (:func:`funnelsim.agents.pcg64.bounded`);
r = 0 takes no draw.
"""

from __future__ import annotations

import numpy as np

from funnelsim.agents.pcg64 import bounded, generator_state
from funnelsim.compiled import kernel

#: numpy's Floyd's-algorithm range (Generator.choice with shuffle): n <= 10,000 or k <= n // 50.
_TAIL_SHUFFLE_ABOVE = 10_000
_TAIL_SHUFFLE_SHARE = 50
_UINT32_RANGE = 2**32
_MARK_AT_MOST = 1 << 24


def choice_without_replacement(rng: np.random.Generator, population: int | np.ndarray, size: int) -> np.ndarray:
    """``rng.choice(population, size=size, replace=False)``: the same sample, the same draws.

    ``population`` is a count n (sample from 0..n-1) or a sequence (sample its elements).
    """
    elements = None if isinstance(population, int | np.integer) else np.asarray(population)
    n = int(population) if elements is None else elements.size
    size = int(size)
    state = generator_state(rng.bit_generator)
    if state is None or (elements is not None and elements.ndim != 1) or size < 0 or size > n or n >= _UINT32_RANGE:
        return rng.choice(population, size=size, replace=False)  # numpy's errors and rows
    taken = sample_positions(state[0], state[1], n, size, marks_for(n))
    return taken if elements is None else elements.take(taken)


def marks_for(n: int) -> np.ndarray:
    """Zeroed marks for :func:`sample_positions` on a population of n: n bytes, or none when the
    population is too large for them (a hash set of the values taken is used then)."""
    return np.zeros(n if n <= _MARK_AT_MOST else 0, dtype=np.bool_)


@kernel
def sample_positions(words, kept, n, size, seen):
    """``size`` distinct values of 0..n-1 (n < 2**32), as ``rng.choice(n, size, replace=False)``
    draws them: Floyd's algorithm, or the tail shuffle where numpy uses it. ``seen``: zeroed marks
    of at least n bytes, left zeroed, or an empty array (see :func:`marks_for`)."""
    if n > _TAIL_SHUFFLE_ABOVE and size > n // _TAIL_SHUFFLE_SHARE:
        return _tail_shuffle(words, kept, n, size)
    taken = np.empty(size, dtype=np.int64)
    _floyd(words, kept, n, size, taken, seen)
    return taken


@kernel
def _tail_shuffle(words, kept, n, size):
    """The last ``size`` of 0..n-1 after numpy's partial shuffle of them from the end."""
    values = np.arange(n)
    for i in range(n - 1, max(n - size, 1) - 1, -1):
        k = np.int64(bounded(words, kept, np.uint64(i) + np.uint64(1)))
        values[i], values[k] = values[k], values[i]
    return values[n - size :].copy()


@kernel
def _floyd(words, kept, n, size, taken, seen):
    """Floyd's sample of ``size`` of 0..n-1 and its shuffle into ``taken``, as numpy does it, drawn
    from the generator's ``words`` and ``kept`` half. ``seen`` marks the values taken: n zeros
    (zeroed again on return), or an empty array for a hash set of them (numpy's, for a population
    too large to mark)."""
    marking = seen.size > 0
    # Otherwise a set of taken values: open addressing over a power of two >= 1.2 x size, as numpy's.
    mask = np.uint64(max(int(1.2 * size), 1))
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    slots = np.full(1 if marking else int(mask) + 1, -1, dtype=np.int64)
    filled = 0
    for j in range(n - size, n):
        v = 0  # uniform on [0, j]: no draw when j is 0
        if j > 0:
            v = np.int64(bounded(words, kept, np.uint64(j) + np.uint64(1)))
        if marking:
            pick = j if seen[v] else v  # v taken before: take j, which no earlier step could take
            seen[pick] = True
        else:
            loc = np.uint64(v) & mask
            while slots[loc] != -1 and slots[loc] != v:
                loc = (loc + np.uint64(1)) & mask
            pick = v
            if slots[loc] != -1:
                pick = j
                loc = np.uint64(j) & mask
                while slots[loc] != -1:
                    loc = (loc + np.uint64(1)) & mask
            slots[loc] = pick
        taken[filled] = pick
        filled += 1
    if marking:
        for i in range(filled):
            seen[taken[i]] = False
    for i in range(size - 1, 0, -1):
        k = np.int64(bounded(words, kept, np.uint64(i) + np.uint64(1)))
        taken[i], taken[k] = taken[k], taken[i]


def uniform_picks(
    rng: np.random.Generator, first: np.ndarray, first_count: int, second: np.ndarray, second_count: int
) -> np.ndarray:
    """``first_count`` elements of ``first`` and then ``second_count`` of ``second``, each drawn
    uniformly with replacement: ``np.concatenate([first[rng.integers(0, first.size, first_count)],
    second[rng.integers(0, second.size, second_count)]])``, the same draws, in one compiled loop.

    ``rng.integers(0, m, k)`` for m < 2**32 makes each of its k numbers by Lemire's method from
    the 32-bit draws (none when m is 1).
    """
    state = generator_state(rng.bit_generator)
    usable = all(not count or 0 < pool.size < _UINT32_RANGE for pool, count in ((first, first_count), (second, second_count)))
    if state is None or not usable:
        return np.concatenate(
            [first[rng.integers(0, first.size, first_count)], second[rng.integers(0, second.size, second_count)]]
        )
    picks = np.empty(first_count + second_count, dtype=np.result_type(first, second))
    uniform_picks_into(state[0], state[1], first, first_count, second, picks)
    return picks


@kernel
def uniform_picks_into(words, kept, first, first_count, second, picks):
    """Fill ``picks`` with ``first_count`` uniform picks from ``first``, then the rest from
    ``second``, by Lemire's method as numpy's ``integers``."""
    for i in range(picks.size):
        pool = first if i < first_count else second
        k = 0
        if pool.size > 1:
            k = np.int64(bounded(words, kept, np.uint64(pool.size)))
        picks[i] = pool[k]
