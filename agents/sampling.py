"""Samples without replacement, draw for draw numpy's, at a fraction of the cost.

Media, jingles and email each draw a sample without replacement from up to the whole population
on every step. numpy's ``Generator.choice(n, k, replace=False)`` does this with Floyd's algorithm
when n is at most 10,000 or k at most n // 50, spending most of its time around the draws rather
than on them. :func:`choice_without_replacement` does the same algorithm in a compiled loop on the
same 32-bit draws, taken from the generator with ``integers(2**32, dtype=uint32)``: the same
numbers of the bit generator in the same order, so the sample and the generator's state after it
are exactly numpy's, and a seed's results do not change. Outside Floyd's range numpy is called.

numpy's algorithm (``numpy/random/_generator.pyx``, ``Generator.choice``, numpy 1.17 and later):
for j = n - k, ..., n - 1, draw v uniform on [0, j]; take v if not yet taken, else take j. Then
shuffle the k taken values: for i = k - 1, ..., 1, swap element i with one drawn uniform on
[0, i]. Every "uniform on [0, r]" is Lemire's method on the generator's 32-bit draws
(``buffered_bounded_lemire_uint32`` in ``distributions.c``), which rejects a draw now and then
and takes another; r = 0 takes no draw.
"""

from __future__ import annotations

import numpy as np

from funnelsim.compiled import kernel

#: numpy's Floyd's-algorithm range (Generator.choice with shuffle): n <= 10,000 or k <= n // 50.
_TAIL_SHUFFLE_ABOVE = 10_000
_TAIL_SHUFFLE_SHARE = 50
_UINT32_RANGE = 2**32
_MARK_AT_MOST = 1 << 24


def choice_without_replacement(rng: np.random.Generator, population: int | np.ndarray, size: int) -> np.ndarray:
    """``rng.choice(population, size=size, replace=False)``: the same sample, the same draws.

    ``population`` is a count n (sample from 0..n-1) or a 1-D array (sample its elements).
    """
    n = population if isinstance(population, int | np.integer) else len(population)
    n, size = int(n), int(size)
    if size < 0 or size > n or n >= _UINT32_RANGE or (n > _TAIL_SHUFFLE_ABOVE and size > n // _TAIL_SHUFFLE_SHARE):
        return rng.choice(population, size=size, replace=False)  # numpy's errors, and its other algorithm
    # One draw per value taken (none for [0, 0], when the whole population is taken) and one per
    # swap of the shuffle; Lemire's rejections, rare below 2**32, need more, asked for as they come.
    needed = size - (size == n and size > 0) + max(size - 1, 0)
    draws = rng.integers(_UINT32_RANGE, size=needed, dtype=np.uint32)
    taken = np.empty(size, dtype=np.int64)
    # Marks for the values taken: n bytes, unless the population is too large for them (a set then).
    seen = np.zeros(n if n <= _MARK_AT_MOST else 0, dtype=np.bool_)
    while (short := _floyd(n, size, draws, taken, seen)) > 0:
        draws = np.concatenate([draws, rng.integers(_UINT32_RANGE, size=short, dtype=np.uint32)])
    if isinstance(population, np.ndarray):
        return population.take(taken)
    return taken


@kernel
def _bounded(draws, used, rejected, bound):
    """Lemire's uniform on [0, bound - 1] from ``draws[used:]``, as numpy's
    ``buffered_bounded_lemire_uint32``: (value, draws used, draws rejected); value -1 when the
    draws ran out."""
    while used < draws.size:
        m = np.uint64(draws[used]) * bound
        used += 1
        leftover = m & np.uint64(0xFFFFFFFF)
        # The threshold (a division) only when the cheap bound does not settle it, as numpy's.
        if leftover >= bound or leftover >= (np.uint64(0xFFFFFFFF) - (bound - np.uint64(1))) % bound:
            return np.int64(m >> np.uint64(32)), used, rejected
        rejected += 1
    return np.int64(-1), used, rejected


@kernel
def _floyd(n, size, draws, taken, seen):
    """Floyd's sample of ``size`` of 0..n-1 and its shuffle into ``taken``, as numpy does it, from
    the 32-bit ``draws``. ``seen`` marks the values taken: n zeros (zeroed again on return), or
    an empty array for a hash set of them (numpy's, for a population too large to mark).

    Returns 0, or, when the draws ran out (rejections took some), how many were rejected: at
    least that many more are needed, and the call is made again with them."""
    used, rejected, filled = 0, 0, 0
    marking = seen.size > 0
    # Otherwise a set of taken values: open addressing over a power of two >= 1.2 x size, as numpy's.
    mask = np.uint64(max(int(1.2 * size), 1))
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    slots = np.full(1 if marking else int(mask) + 1, -1, dtype=np.int64)
    for j in range(n - size, n):
        v = 0  # uniform on [0, j]: no draw when j is 0
        if j > 0:
            v, used, rejected = _bounded(draws, used, rejected, np.uint64(j) + np.uint64(1))
            if v < 0:
                break
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
    if filled < size:
        return max(rejected, 1)
    for i in range(size - 1, 0, -1):
        k, used, rejected = _bounded(draws, used, rejected, np.uint64(i) + np.uint64(1))
        if k < 0:
            return max(rejected, 1)
        taken[i], taken[k] = taken[k], taken[i]
    return 0
