"""numpy's PCG64 stream drawn inside a compiled loop (agents/pcg64.py) is numpy's, bit for bit,
and leaves the generator where numpy would have."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from funnelsim.agents.pcg64 import bounded, fill_doubles, generator_state, next_uint32, state_words

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


@pytest.mark.parametrize("count", [0, 1, 2, 599, 600])
@pytest.mark.parametrize("kept_half", [False, True])
def test_32_bit_draws_are_numpys_kept_half_first_and_leave_the_generator_as_numpy_would(count, kept_half):
    ours, numpys = np.random.default_rng(12), np.random.default_rng(12)
    if kept_half:  # one 32-bit draw made: the generator keeps the other half of a 64-bit output
        ours.integers(9, size=1), numpys.integers(9, size=1)
    words, kept = generator_state(ours.bit_generator)
    got = [int(next_uint32(words, kept)) for _ in range(count)]
    assert got == numpys.integers(2**32, size=count, dtype=np.uint32).tolist()
    assert ours.bit_generator.state == numpys.bit_generator.state


@pytest.mark.parametrize("bound", [1, 2, 3, 1000, 2**31 + 1, 3_000_000_000, 2**32])
def test_bounded_integers_are_numpys_including_lemires_rejections(bound):
    # Near 2**32 Lemire's method rejects up to half the draws: the rejections must match too.
    ours, numpys = np.random.default_rng(bound), np.random.default_rng(bound)
    words, kept = generator_state(ours.bit_generator)
    got = [int(bounded(words, kept, np.uint64(bound))) for _ in range(300)] if bound > 1 else []
    expected = numpys.integers(0, bound, size=300).tolist() if bound > 1 else []
    assert got == expected
    assert ours.bit_generator.state == numpys.bit_generator.state


def test_the_views_follow_each_generator_as_generators_come_and_go():
    # Views are reused per state address; generators made and freed reuse addresses, and two live
    # ones must never share views.
    left, right = np.random.default_rng(1), np.random.default_rng(2)
    left_numpy, right_numpy = np.random.default_rng(1), np.random.default_rng(2)
    for seed in range(150):  # more than the views kept at once
        passing, passing_numpy = np.random.default_rng(seed), np.random.default_rng(seed)
        for ours, numpys in ((left, left_numpy), (passing, passing_numpy), (right, right_numpy)):
            got = np.empty(3)
            fill_doubles(state_words(ours.bit_generator), got)
            assert got.tolist() == numpys.random(3).tolist()
        del passing
