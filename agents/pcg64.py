"""numpy's PCG64 stream, drawn inside a compiled loop: the same doubles, bit for bit.

Word of mouth draws one uniform per (consumer, firm) on every step and compares each with a
bound; drawn by numpy, the draws are first written to an array and then read back, which at
100,000 consumers is 1.6 MB through memory each way. :func:`next_double` makes the same number
inside the loop that uses it, from the generator's own C state, and writes the advanced state
back, so numpy goes on from where the loop stopped and a seed's results do not change.

numpy's PCG64 (``numpy/random/src/pcg64/pcg64.h``): a 128-bit state advanced as
state = state x MULTIPLIER + increment (mod 2**128), each output the XSL-RR mix of the new state
(high half xor low half, rotated right by the top 6 bits), and a double ``(output >> 11) x
2**-53`` (``pcg64_next_double``). Here the 128-bit arithmetic is done in 64-bit halves. Measured
at about 3.5 ns a number against numpy's 2.4 in its own fill loop.

The state is read where numpy keeps it (``bits.ctypes.state_address`` points at a struct whose
first field points at the generator's state and increment). That layout is checked once per
process against the state numpy reports after known draws; any other layout, byte order or bit
generator gets ``None`` from :func:`state_words`, and callers draw with numpy instead. numpy's
lock on the generator is not taken: a model's generator is used by one thread at a time.
"""

from __future__ import annotations

import ctypes
import functools
import sys

import numpy as np

from funnelsim.compiled import kernel

_MULTIPLIER_HIGH = np.uint64(0x2360ED051FC65DA4)
_MULTIPLIER_LOW = np.uint64(0x4385DF649FCCF645)
_LOW32 = np.uint64(0xFFFFFFFF)
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53
_WORDS = ctypes.c_uint64 * 4


def state_words(bits: np.random.BitGenerator) -> np.ndarray | None:
    """The generator's state as four uint64 words (state low, state high, increment low,
    increment high), a view of numpy's own memory: what a kernel advances, numpy sees.

    ``None`` unless ``bits`` is a PCG64 with the layout :func:`_layout` found. The view does not
    keep ``bits`` alive: use it while holding the generator, as a call does.
    """
    if type(bits) is not np.random.PCG64:
        return None
    order = _layout()
    if order is None:
        return None
    words = np.ctypeslib.as_array(_WORDS.from_address(_state_pointer(bits)))
    return words if order == "low-high" else None


def _state_pointer(bits: np.random.PCG64) -> int:
    """Where ``pcg64_state.pcg_state`` (the first field of numpy's C state) points."""
    return ctypes.c_void_p.from_address(bits.ctypes.state_address).value or 0


@functools.cache
def _layout() -> str | None:
    """"low-high" when numpy stores each 128-bit number as a little-endian ``__uint128_t`` (low
    word first), as gcc and clang builds on x86-64 and arm64 do; None for anything else, found
    by reading the words after known draws and comparing them with ``bits.state``."""
    if sys.byteorder != "little":
        return None
    bits = np.random.PCG64(20_261_201)
    generator = np.random.Generator(bits)
    for count in (0, 1, 7):
        generator.random(count)
        words = _WORDS.from_address(_state_pointer(bits))
        reported = bits.state["state"]
        state = int(words[0]) | (int(words[1]) << 64)
        increment = int(words[2]) | (int(words[3]) << 64)
        if (state, increment) != (reported["state"], reported["inc"]):
            return None
    return "low-high"


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
    state_low, state_high = words[0], words[1]
    low = state_low * _MULTIPLIER_LOW
    high = _high_product(state_low, _MULTIPLIER_LOW) + state_low * _MULTIPLIER_HIGH + state_high * _MULTIPLIER_LOW
    new_low = low + words[2]
    new_high = high + words[3] + np.uint64(new_low < low)
    words[0], words[1] = new_low, new_high
    mixed = new_high ^ new_low
    rotation = new_high >> np.uint64(58)
    output = (mixed >> rotation) | (mixed << ((np.uint64(64) - rotation) & np.uint64(63)))
    return np.float64(output >> np.uint64(11)) * _TO_DOUBLE


@kernel
def fill_doubles(words, out):
    """``out[:] = rng.random(out.size)``, drawn from ``words``: for tests and for callers that
    want a block."""
    for i in range(out.size):
        out[i] = next_double(words)
