"""Samples without replacement, draw for draw numpy's, at a fraction of the cost.

Media, jingles and email each draw a sample without replacement from up to the whole population
on every step. numpy's ``Generator.choice(n, k, replace=False)`` does this with Floyd's algorithm
when n is at most 10,000 or k at most n // 50, spending most of its time around the draws rather
than on them. :func:`choice_without_replacement` does the same algorithm in a compiled loop on the
same 32-bit draws (:func:`uint32_draws`, ``integers(2**32, dtype=uint32)`` made cheaply): the same
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

import ctypes
import functools
import sys

import numpy as np

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
    if (
        (elements is not None and elements.ndim != 1)
        or size < 0
        or size > n
        or n >= _UINT32_RANGE
        or (n > _TAIL_SHUFFLE_ABOVE and size > n // _TAIL_SHUFFLE_SHARE)
    ):
        return rng.choice(population, size=size, replace=False)  # numpy's errors, rows, and its other algorithm
    # One draw per value taken (none for [0, 0], when the whole population is taken) and one per
    # swap of the shuffle; Lemire's rejections, rare below 2**32, need more, taken as they come.
    needed = size - (size == n and size > 0) + max(size - 1, 0)
    draws = uint32_draws(rng, needed)
    taken = np.empty(size, dtype=np.int64)
    # Marks for the values taken: n bytes, unless the population is too large for them (a set then).
    seen = np.zeros(n if n <= _MARK_AT_MOST else 0, dtype=np.bool_)
    while _floyd(n, size, draws, taken, seen):
        draws = np.concatenate([draws, uint32_draws(rng, 1)])
    return taken if elements is None else elements.take(taken)


def uint32_draws(rng: np.random.Generator, count: int) -> np.ndarray:
    """The generator's next ``count`` 32-bit draws: ``rng.integers(2**32, size=count, dtype=np.uint32)``.

    Those are the bit generator's ``next_uint32`` outputs, which every bounded integer numpy draws
    below 2**32 is made from. numpy's default bit generator, PCG64, makes them by halving 64-bit
    outputs, low half first, and keeps an unused high half for the next call (``has_uint32`` and
    ``uinteger`` in its C state). ``integers`` costs a few microseconds before its first draw;
    the raw 64-bit outputs (``random_raw``) cost a fraction of that, so they are halved here, the
    kept half taken first, and the kept half left in the state as numpy would have left it.
    """
    bits = rng.bit_generator
    kept_half = _pcg64_kept_half(bits)
    if kept_half is None:
        return rng.integers(_UINT32_RANGE, size=count, dtype=np.uint32)
    kept = kept_half.has_uint32
    raws = bits.random_raw((count - kept + 1) // 2 if count else 0)
    draws = raws.view(np.uint32)  # low half, then high half, of each (little-endian)
    if kept:  # the kept half first
        halves, draws = draws, np.empty(draws.size + 1, dtype=np.uint32)
        draws[0], draws[1:] = kept_half.uinteger, halves
    if count:
        kept_half.has_uint32 = (count - kept) % 2  # an unused high half is kept for the next draw
        if raws.size:
            kept_half.uinteger = int(draws[-1])  # numpy keeps the high half of every output it halves
    return draws[:count]


class _PCG64KeptHalf(ctypes.Structure):
    """The head of numpy's PCG64 C state (``pcg64_state`` in ``numpy/random/src/pcg64/pcg64.h``)."""

    _fields_ = [("pcg_state", ctypes.c_void_p), ("has_uint32", ctypes.c_int), ("uinteger", ctypes.c_uint32)]


def _pcg64_kept_half(bits: np.random.BitGenerator) -> _PCG64KeptHalf | None:
    """The kept-half fields of a PCG64's C state, read and written in place; None for another bit
    generator, or when this numpy's layout is not the one checked once by :func:`_layout_checked`."""
    if type(bits) is not np.random.PCG64 or not _layout_checked():
        return None
    return _PCG64KeptHalf.from_address(bits.ctypes.state_address)


@functools.cache
def _layout_checked() -> bool:
    """Whether the C state's fields are where :class:`_PCG64KeptHalf` says, on this machine and
    numpy: read and written through it, they agree with the state numpy reports after known draws."""
    if sys.byteorder != "little":
        return False
    bits = np.random.PCG64(20_251_201)
    rng = np.random.Generator(bits)
    fields = _PCG64KeptHalf.from_address(bits.ctypes.state_address)
    for draws in (1, 1, 3):
        rng.integers(_UINT32_RANGE, size=draws, dtype=np.uint32)
        state = bits.state
        if (fields.has_uint32, fields.uinteger) != (state["has_uint32"], state["uinteger"]):
            return False
    fields.has_uint32, fields.uinteger = 0, 12_345
    return (bits.state["has_uint32"], bits.state["uinteger"]) == (0, 12_345)


_LOW = np.uint64(0xFFFFFFFF)


@kernel
def _lemire_rejection(draws, used, spare, m, bound):
    """Lemire's rejection step for ``m`` = draw x ``bound`` whose low half fell below ``bound``
    (numpy's ``buffered_bounded_lemire_uint32``): while the low half is below the threshold
    (2**32 - bound) mod bound, take the next draw. Returns (m, draws used, spare draws left);
    spare -1 when the draws ran out."""
    threshold = (_LOW - (bound - np.uint64(1))) % bound
    while (m & _LOW) < threshold:
        if spare == 0:
            return m, used, -1
        spare -= 1
        m = np.uint64(draws[used]) * bound
        used += 1
    return m, used, spare


@kernel
def _floyd(n, size, draws, taken, seen):
    """Floyd's sample of ``size`` of 0..n-1 and its shuffle into ``taken``, as numpy does it, from
    the 32-bit ``draws``. ``seen`` marks the values taken: n zeros (zeroed again on return), or
    an empty array for a hash set of them (numpy's, for a population too large to mark).

    Each uniform on [0, r] is Lemire's: the high half of draw x (r + 1), unless the low half falls
    below the threshold (rare: at most (r + 1) / 2**32 of draws), when another draw is taken.
    Returns 0; or 1 when a rejection needed more draws than given: the call is then made again
    with one more draw (rejections are rare, and no draw may be taken that numpy would not take).
    """
    # Draws beyond one per value taken (none for [0, 0]) and one per swap: for rejections.
    spare = draws.size - (size - (size == n and size > 0) + max(size - 1, 0))
    used, filled = 0, 0
    marking = seen.size > 0
    # Otherwise a set of taken values: open addressing over a power of two >= 1.2 x size, as numpy's.
    mask = np.uint64(max(int(1.2 * size), 1))
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    slots = np.full(1 if marking else int(mask) + 1, -1, dtype=np.int64)
    for j in range(n - size, n):
        v = 0  # uniform on [0, j]: no draw when j is 0
        if j > 0:
            bound = np.uint64(j) + np.uint64(1)
            m = np.uint64(draws[used]) * bound
            used += 1
            if (m & _LOW) < bound:
                m, used, spare = _lemire_rejection(draws, used, spare, m, bound)
                if spare < 0:
                    break
            v = np.int64(m >> np.uint64(32))
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
        return 1
    for i in range(size - 1, 0, -1):
        bound = np.uint64(i) + np.uint64(1)
        m = np.uint64(draws[used]) * bound
        used += 1
        if (m & _LOW) < bound:
            m, used, spare = _lemire_rejection(draws, used, spare, m, bound)
            if spare < 0:
                return 1
        k = np.int64(m >> np.uint64(32))
        taken[i], taken[k] = taken[k], taken[i]
    return 0


def uniform_picks(
    rng: np.random.Generator, first: np.ndarray, first_count: int, second: np.ndarray, second_count: int
) -> np.ndarray:
    """``first_count`` elements of ``first`` and then ``second_count`` of ``second``, each drawn
    uniformly with replacement: ``np.concatenate([first[rng.integers(0, first.size, first_count)],
    second[rng.integers(0, second.size, second_count)]])``, the same draws, from one batch.

    ``rng.integers(0, m, k)`` for m < 2**32 makes each of its k numbers by Lemire's method from
    the 32-bit draws (none when m is 1), so the two calls take one run of 32-bit draws.
    """
    for pool, count in ((first, first_count), (second, second_count)):
        if count and (pool.size == 0 or pool.size >= _UINT32_RANGE):
            return np.concatenate(
                [first[rng.integers(0, first.size, first_count)], second[rng.integers(0, second.size, second_count)]]
            )
    needed = (first_count if first.size > 1 else 0) + (second_count if second.size > 1 else 0)
    draws = uint32_draws(rng, needed)
    picks = np.empty(first_count + second_count, dtype=np.result_type(first, second))
    while _uniform_picks(first, first_count, second, draws, picks):
        draws = np.concatenate([draws, uint32_draws(rng, 1)])
    return picks


@kernel
def _uniform_picks(first, first_count, second, draws, picks):
    """Fill ``picks`` with ``first_count`` uniform picks from ``first``, then the rest from
    ``second``, by Lemire's method on ``draws`` as numpy's ``integers``; returns 0, or 1 when a
    rejection needed one more draw than given (see :func:`_floyd`)."""
    spare = draws.size - ((first_count if first.size > 1 else 0) + ((picks.size - first_count) if second.size > 1 else 0))
    used = 0
    for i in range(picks.size):
        pool = first if i < first_count else second
        k = 0
        if pool.size > 1:
            bound = np.uint64(pool.size)
            m = np.uint64(draws[used]) * bound
            used += 1
            if (m & _LOW) < bound:
                m, used, spare = _lemire_rejection(draws, used, spare, m, bound)
                if spare < 0:
                    return 1
            k = np.int64(m >> np.uint64(32))
        picks[i] = pool[k]
    return 0
