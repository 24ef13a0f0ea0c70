"""numpy's PCG64 stream drawn inside a compiled loop (agents/pcg64.py) is numpy's, bit for bit,
and leaves the generator where numpy would have."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from funnelsim.agents.pcg64 import fill_doubles, state_words

pytestmark = pytest.mark.skipif(sys.byteorder != "little", reason="the in-loop stream is for little-endian layouts")


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 3, 20_261_201])
@pytest.mark.parametrize("count", [0, 1, 2, 999])
def test_doubles_drawn_in_a_loop_are_numpys_and_numpy_goes_on_from_there(seed, count):
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    for generator in (ours, numpys):  # any state: after doubles, odd 32-bit draws (a kept half) and normals
        generator.random(5)
        generator.integers(2**32, size=3, dtype=np.uint32)
        generator.standard_normal(4)
    got = np.empty(count)
    fill_doubles(state_words(ours.bit_generator), got)
    assert np.array_equal(got, numpys.random(count))
    assert ours.bit_generator.state == numpys.bit_generator.state
    # numpy's own draws continue the same stream, the kept 32-bit half untouched
    assert ours.integers(2**32, size=3, dtype=np.uint32).tolist() == numpys.integers(2**32, size=3, dtype=np.uint32).tolist()
    assert ours.random(3).tolist() == numpys.random(3).tolist()


def test_other_bit_generators_get_no_words_and_keep_numpys_draws():
    for make in (np.random.MT19937, np.random.Philox, np.random.SFC64):
        assert state_words(make(1)) is None
    assert state_words(np.random.default_rng(1).bit_generator) is not None
