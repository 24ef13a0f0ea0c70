"""numpy's own random distributions in C, called from compiled loops on the model's generator.

numpy's ``Generator`` makes each draw with a C function of its bit generator's state:
``random_gamma(bitgen_t *state, double shape, double scale)``, ``random_beta``, ``random_gumbel``,
``random_standard_uniform``. The extension module that holds them (``numpy.random._generator``)
exports them, so a kernel can call them with the generator's ``bitgen_t`` address
(``bit_generator.ctypes.bit_generator``): numpy's own code on the model's own state, so a
kernel's draws are numpy's, one for one, for any bit generator, and numpy goes on from where
the kernel stopped. This lets a rule that draws gamma delays or Gumbel tastes run as one
compiled call instead of a chain of numpy calls.

The functions' addresses are looked up once per process and checked against numpy's draws
(:func:`functions`); where a numpy does not export them, numba runs as plain Python
(``NUMBA_DISABLE_JIT``), or the check fails, :func:`functions` is None and callers draw with
numpy as before. A kernel takes the addresses as an int64 array and the state address as an
integer: passing ctypes function objects to a kernel costs about 30 us a call in numba's
dispatch, an array a tenth of a microsecond.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import config as numba_config
from numba.extending import intrinsic

from funnelsim.compiled import kernel

#: Positions in the array of :func:`functions`.
UNIFORM, GAMMA, BETA, GUMBEL, BOUNDED = range(5)
_NAMES = ("random_standard_uniform", "random_gamma", "random_beta", "random_gumbel", "random_bounded_uint64")


def functions() -> np.ndarray | None:
    """Addresses of numpy's C functions, in :data:`UNIFORM`, :data:`GAMMA`, ... order, or None
    where they cannot be used (see the module's notes)."""
    return _checked()


def state_of(rng: np.random.Generator) -> int:
    """The address of ``rng``'s ``bitgen_t``, what numpy's C functions take as their first argument."""
    return rng.bit_generator.ctypes.bit_generator.value


@functools.cache
def _checked() -> np.ndarray | None:
    if getattr(numba_config, "DISABLE_JIT", False):  # (set from the environment at import)
        return None
    try:
        import numpy.random._generator as generator_module

        library = ctypes.CDLL(generator_module.__file__)
        addresses = np.array([ctypes.cast(getattr(library, name), ctypes.c_void_p).value for name in _NAMES], dtype=np.int64)
    except (OSError, AttributeError, TypeError):
        return None
    for make in (np.random.PCG64, np.random.MT19937):
        ours, numpys = np.random.Generator(make(20_261_201)), np.random.Generator(make(20_261_201))
        drawn = _sample(addresses, state_of(ours))
        expected = np.concatenate(
            [
                numpys.random(3),
                numpys.gamma(0.6, 2.0, 3),
                numpys.gamma(3.5, 0.5, 3),
                numpys.beta(2.0, 5.0, 3),
                numpys.beta(0.5, 0.7, 3),
                numpys.gumbel(size=3),
                numpys.integers(0, 1, 2),
                numpys.integers(0, 7, 3),
                numpys.integers(0, 2**31 + 5, 3),
            ]
        )
        # Equal draws, and numpy goes on from the same place.
        if not np.array_equal(drawn, expected) or ours.random(4).tolist() != numpys.random(4).tolist():
            return None
    return addresses


@kernel
def _sample(functions, state):
    """Three of each draw :func:`_checked` compares with numpy's."""
    out = np.empty(26)
    for i in range(3):
        out[i] = uniform(functions, state)
    for i in range(3):
        out[3 + i] = gamma(functions, state, 0.6, 2.0)
    for i in range(3):
        out[6 + i] = gamma(functions, state, 3.5, 0.5)
    for i in range(3):
        out[9 + i] = beta(functions, state, 2.0, 5.0)
    for i in range(3):
        out[12 + i] = beta(functions, state, 0.5, 0.7)
    for i in range(3):
        out[15 + i] = gumbel(functions, state, 0.0, 1.0)
    for i, high in enumerate((1, 1, 7, 7, 7, 2**31 + 5, 2**31 + 5, 2**31 + 5)):
        out[18 + i] = integer(functions, state, high)
    return out


def _pointer(builder, address):
    return builder.inttoptr(address, ir.IntType(8).as_pointer())


@intrinsic
def _call_none(typingctx, address, state):
    """``double f(void *state)`` at ``address``."""

    def codegen(context, builder, signature, args):
        function_type = ir.FunctionType(ir.DoubleType(), [ir.IntType(8).as_pointer()])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        return builder.call(function, [_pointer(builder, args[1])])

    return types.float64(types.int64, types.int64), codegen


@intrinsic
def _call_two(typingctx, address, state, first, second):
    """``double f(void *state, double first, double second)`` at ``address``."""

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        function_type = ir.FunctionType(double, [ir.IntType(8).as_pointer(), double, double])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        return builder.call(function, [_pointer(builder, args[1]), args[2], args[3]])

    return types.float64(types.int64, types.int64, types.float64, types.float64), codegen


@intrinsic
def _call_bounded(typingctx, address, state, off, bound):
    """``uint64_t f(void *state, uint64_t off, uint64_t rng, uint64_t mask, bool use_masked)``
    at ``address``, with no mask (Lemire's method, as ``integers`` uses)."""

    def codegen(context, builder, signature, args):
        word = ir.IntType(64)
        function_type = ir.FunctionType(word, [ir.IntType(8).as_pointer(), word, word, word, ir.IntType(32)])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        no_mask = ir.Constant(word, 0)
        return builder.call(function, [_pointer(builder, args[1]), args[2], args[3], no_mask, ir.Constant(ir.IntType(32), 0)])

    return types.uint64(types.int64, types.int64, types.uint64, types.uint64), codegen


@kernel
def integer(functions, state, high):
    """``rng.integers(0, high)`` for 1 <= high: none drawn when high is 1."""
    return np.int64(_call_bounded(functions[BOUNDED], state, np.uint64(0), np.uint64(high - 1)))


@kernel
def uniform(functions, state):
    """``rng.random()``."""
    return _call_none(functions[UNIFORM], state)


@kernel
def gamma(functions, state, shape, scale):
    """``rng.gamma(shape, scale)``."""
    return _call_two(functions[GAMMA], state, np.float64(shape), np.float64(scale))


@kernel
def beta(functions, state, a, b):
    """``rng.beta(a, b)``."""
    return _call_two(functions[BETA], state, np.float64(a), np.float64(b))


@kernel
def gumbel(functions, state, location, scale):
    """``rng.gumbel(location, scale)``."""
    return _call_two(functions[GUMBEL], state, np.float64(location), np.float64(scale))
