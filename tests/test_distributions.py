"""numpy's binomial and Poisson draws made inside compiled loops (agents/distributions.py) are
numpy's, number for number, and leave the generator where numpy leaves it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from funnelsim.agents.distributions import POISSON_LAM_MAX, binomial, log_gamma, poisson
from funnelsim.agents.pcg64 import state_words

pytestmark = pytest.mark.skipif(sys.byteorder != "little", reason="the in-loop stream is for little-endian layouts")

# Both of numpy's binomial methods (inversion for n min(p, 1 - p) <= 30, BTPE above) on both sides
# of p = 1/2, the edges that take no draw (n = 0, p = 0) and p = 1, which takes one.
BINOMIAL_N = [0, 1, 5, 30, 31, 61, 1000, 123_457, 10**9]
BINOMIAL_P = [0.0, 1e-9, 0.001, 0.03, 0.1, 0.4999, 0.5, 0.5001, 0.7, 0.97, 0.999, 1.0]


@pytest.mark.parametrize("n", BINOMIAL_N)
def test_binomial_draws_are_numpys_for_every_method_and_edge(n):
    for p in BINOMIAL_P:
        ours, numpys = np.random.default_rng(n + int(p * 1e6)), np.random.default_rng(n + int(p * 1e6))
        words = state_words(ours.bit_generator)
        got = [int(binomial(words, n, p)) for _ in range(500)]
        assert got == [int(numpys.binomial(n, p)) for _ in range(500)], (n, p)
        assert ours.bit_generator.state == numpys.bit_generator.state, (n, p)


# The product of uniforms below 10, PTRS (with its log-Gamma test) from 10 on, and no draw at 0.
@pytest.mark.parametrize("lam", [0.0, 1e-6, 0.5, 3.0, 9.999, 10.0, 10.5, 30.0, 1234.5, 1e6, 1e12])
def test_poisson_draws_are_numpys_below_and_above_ten(lam):
    ours, numpys = np.random.default_rng(int(lam) + 3), np.random.default_rng(int(lam) + 3)
    words = state_words(ours.bit_generator)
    got = [int(poisson(words, lam)) for _ in range(2000)]
    assert got == [int(numpys.poisson(lam)) for _ in range(2000)]
    assert ours.bit_generator.state == numpys.bit_generator.state


def test_log_gamma_is_the_log_of_the_factorial():
    # Stirling's series with its shift: within a few units in the last place of the exact value.
    from math import lgamma

    for x in (1.0, 2.0, 3.0, 6.5, 7.0, 8.0, 51.0, 1e4 + 1):
        assert log_gamma(x) == pytest.approx(lgamma(x), rel=1e-13, abs=1e-14)


def test_the_poisson_limit_is_numpys():
    numpys = np.random.default_rng(0)
    numpys.poisson(POISSON_LAM_MAX)
    with pytest.raises(ValueError, match="lam value too large"):
        numpys.poisson(np.nextafter(POISSON_LAM_MAX, np.inf))
