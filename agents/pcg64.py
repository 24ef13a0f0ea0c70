"""numpy's PCG64 stream, drawn inside a compiled loop: the same numbers, bit for bit.

Word of mouth draws one uniform per (consumer, firm) on every step and compares each with a
bound; drawn by numpy, the draws are first written to an array and then read back, which at
100,000 consumers is 1.6 MB through memory each way. :func:`next_double` makes the same number
inside the loop that uses it, from the generator's own C state, and writes the advanced state
back, so numpy goes on from where the loop stopped and a seed's results do not change.

numpy's PCG64 (``numpy/random/src/pcg64/pcg64.h``): a 128-bit state advanced as
state = state x MULTIPLIER + increment (mod 2**128), each output the XSL-RR mix of the new state
(high half xor low half, rotated right by the top 6 bits), and a double ``(output >> 11) x
2**-53`` (``pcg64_next_double``). A 32-bit draw (what numpy's bounded integers, ``integers``
and ``choice``, are made from) is the low half of an output, and the high half is kept for the
next one (``has_uint32`` and ``uinteger`` in numpy's C state, ``pcg64_next32``). Here the 128-bit
arithmetic is done in 64-bit halves; about 2 ns a number, as numpy's own fill loop.

The state is read where numpy keeps it: ``bits.ctypes.state_address`` points at numpy's
``pcg64_state``, whose first field points at the generator's state and increment and whose next
two hold the kept half. That layout is checked once per process against the state numpy reports
after known draws; any other layout, byte order or bit generator gets ``None`` from
:func:`generator_state`, and callers draw with numpy instead. numpy's lock on the generator is
not taken: a model's generator is used by one thread at a time.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import warnings

import numpy as np

from funnelsim.compiled import kernel

_MULTIPLIER_HIGH = np.uint64(0x2360ED051FC65DA4)
_MULTIPLIER_LOW = np.uint64(0x4385DF649FCCF645)
_LOW32 = np.uint64(0xFFFFFFFF)
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53
# The arithmetic wraps around 2**64 on purpose; run as plain Python (NUMBA_DISABLE_JIT=1, for a
# debugger) numpy would warn on every draw.
warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning, module=__name__)

_WORDS = ctypes.c_uint64 * 4
_KEPT = ctypes.c_uint32 * 2
#: Offset of ``has_uint32`` in numpy's ``pcg64_state``, after the pointer to the generator.
_KEPT_OFFSET = ctypes.sizeof(ctypes.c_void_p)


def generator_state(bits: np.random.BitGenerator) -> tuple[np.ndarray, np.ndarray] | None:
    """``(words, kept)``: views of numpy's own memory, so what a kernel advances, numpy sees.

    ``words``: four uint64, the state's low and high words, then the increment's; ``kept``: two
    uint32, whether a high half is kept (``has_uint32``) and that half (``uinteger``). ``None``
    unless ``bits`` is a PCG64 laid out as :func:`_layout_checked` found. The views do not keep
    ``bits`` alive: use them while holding the generator, as a call does.
    """
    if type(bits) is not np.random.PCG64 or not _layout_checked():
        return None
    address = bits.ctypes.state_address
    pointer = _state_pointer(address)
    # Views are made once per generator (a step asks about ten times): kept by the state's address
    # and reused while the same state pointer is found there, so they always alias live memory.
    known = _VIEWS.get(address)
    if known is not None and known[0] == pointer:
        return known[1], known[2]
    words = np.ctypeslib.as_array(_WORDS.from_address(pointer))
    kept = np.ctypeslib.as_array(_KEPT.from_address(address + _KEPT_OFFSET))
    if len(_VIEWS) >= _VIEWS_KEPT:
        _VIEWS.clear()
    _VIEWS[address] = (pointer, words, kept)
    return words, kept


#: address of numpy's C state -> (its state pointer, words, kept): see :func:`generator_state`.
_VIEWS: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
_VIEWS_KEPT = 64


def state_words(bits: np.random.BitGenerator) -> np.ndarray | None:
    """The ``words`` of :func:`generator_state`, for loops that draw doubles only."""
    state = generator_state(bits)
    return None if state is None else state[0]


def _state_pointer(address: int) -> int:
    """Where ``pcg64_state.pcg_state`` (the first field of numpy's C state at ``address``) points."""
    return ctypes.c_void_p.from_address(address).value or 0


@functools.cache
def _layout_checked() -> bool:
    """Whether numpy keeps each 128-bit number as a little-endian ``__uint128_t`` (low word first,
    as gcc and clang builds on x86-64 and arm64 do) and the kept half right after the pointer to
    them: read after known draws, the words agree with what ``bits.state`` reports."""
    if sys.byteorder != "little":
        return False
    bits = np.random.PCG64(20_261_201)
    generator = np.random.Generator(bits)
    for doubles, halves in ((0, 0), (1, 1), (7, 3), (2, 1)):
        generator.random(doubles)
        generator.integers(2**32, size=halves, dtype=np.uint32)
        address = bits.ctypes.state_address
        words = _WORDS.from_address(_state_pointer(address))
        kept = _KEPT.from_address(address + _KEPT_OFFSET)
        reported = bits.state
        state = int(words[0]) | (int(words[1]) << 64)
        increment = int(words[2]) | (int(words[3]) << 64)
        if (state, increment) != (reported["state"]["state"], reported["state"]["inc"]):
            return False
        if (int(kept[0]), int(kept[1])) != (reported["has_uint32"], reported["uinteger"]):
            return False
    return True


@kernel
def _high_product(a, b):
    """The high 64 bits of the 128-bit product of two 64-bit numbers, from 32-bit halves."""
    a_low, a_high = a & _LOW32, a >> np.uint64(32)
    b_low, b_high = b & _LOW32, b >> np.uint64(32)
    low_low = a_low * b_low
    low_high = a_low * b_high
    high_low = a_high * b_low
    middle = (low_low >> np.uint64(32)) + (low_high & _LOW32) + (high_low & _LOW32)
    return a_high * b_high + (low_high >> np.uint64(32)) + (high_low >> np.uint64(32)) + (middle >> np.uint64(32))


@kernel
def next_double(words):
    """Advance the state in ``words`` by one step and return numpy's ``random()`` for it."""
    return np.float64(next_uint64(words) >> np.uint64(11)) * _TO_DOUBLE


@kernel
def next_uint32(words, kept):
    """numpy's next 32-bit draw: the kept high half if there is one, else the low half of a new
    output, whose high half is kept."""
    if kept[0] != 0:
        kept[0] = 0
        return kept[1]
    output = next_uint64(words)
    kept[0] = 1
    kept[1] = np.uint32(output >> np.uint64(32))
    return np.uint32(output & _LOW32)


@kernel
def bounded(words, kept, bound):
    """A uniform integer on [0, ``bound``) for 1 <= bound <= 2**32, as numpy makes one (Lemire's
    method on 32-bit draws, ``buffered_bounded_lemire_uint32`` in ``distributions.c``): the high
    half of draw x bound, unless the low half falls below (2**32 - bound) mod bound, when the
    draw is rejected and another taken (rare: at most bound / 2**32 of draws)."""
    product = np.uint64(next_uint32(words, kept)) * bound
    if (product & _LOW32) < bound:
        threshold = (_LOW32 - (bound - np.uint64(1))) % bound
        while (product & _LOW32) < threshold:
            product = np.uint64(next_uint32(words, kept)) * bound
    return product >> np.uint64(32)


@kernel
def next_uint64(words):
    """Advance the state in ``words`` by one step and return numpy's 64-bit output for it."""
    state_low, state_high = words[0], words[1]
    low = state_low * _MULTIPLIER_LOW
    high = _high_product(state_low, _MULTIPLIER_LOW) + state_low * _MULTIPLIER_HIGH + state_high * _MULTIPLIER_LOW
    new_low = low + words[2]
    new_high = high + words[3] + np.uint64(new_low < low)
    words[0], words[1] = new_low, new_high
    mixed = new_high ^ new_low
    rotation = new_high >> np.uint64(58)
    return (mixed >> rotation) | (mixed << ((np.uint64(64) - rotation) & np.uint64(63)))


@kernel
def fill_doubles(words, out):
    """``out[:] = rng.random(out.size)``, drawn from ``words``: for tests and for callers that
    want a block."""
    for i in range(out.size):
        out[i] = next_double(words)
