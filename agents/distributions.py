"""numpy's binomial and Poisson draws inside a compiled loop: the same numbers, bit for bit.

A marketing channel draws how many consumers its impressions reach (a binomial), how many read
the blog (a Poisson) and how many of those are in the market (a binomial again). Made by numpy,
each is a Python call; made here, inside the loop that then picks and reaches those consumers,
from the generator's own state (:mod:`funnelsim.agents.pcg64`), they are the numbers numpy would
have made, and the generator is left where numpy would have left it.

The algorithms are numpy's (``random_binomial`` and ``random_poisson`` in numpy's
``distributions.c``, the same since numpy 1.17), with its arithmetic in its order, so every
intermediate double is the same:

- binomial(n, p): with r = min(p, 1 - p), inversion of the distribution function when n r <= 30,
  else the BTPE rejection method (Kachitvichyanukul & Schmeiser 1988); for p > 1/2 it draws
  n - binomial(n, 1 - p). n = 0 or p = 0 take no draw (p = 1 does: inversion at r = 0).
- Poisson(lam): multiplying uniforms until the product falls below e^-lam when lam < 10, else the
  transformed rejection method PTRS (Hoermann 1993); lam = 0 takes no draw.

exp and log here are the C library's, as in numpy's C code (numba calls the same functions; a
test checks the results against numpy's draws for many parameters). The callers check the
parameters numpy would refuse (a negative n or lam, p outside [0, 1], lam above numpy's limit).
"""

from __future__ import annotations

import math

import numpy as np

from funnelsim.agents.pcg64 import next_double
from funnelsim.compiled import kernel

#: numpy's largest Poisson mean (``POISSON_LAM_MAX``): larger ones are refused.
POISSON_LAM_MAX = float(np.iinfo(np.int64).max - np.sqrt(np.iinfo(np.int64).max) * 10)

#: Coefficients of the Stirling series of log Gamma used by :func:`log_gamma` (numpy's ``random_loggam``).
_STIRLING = np.array(
    [
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936507936507937e-04,
        -5.952380952380952e-04,
        8.417508417508418e-04,
        -1.917526917526918e-03,
        6.410256410256410e-03,
        -2.955065359477124e-02,
        1.796443723688307e-01,
        -1.39243221690590e00,
    ]
)
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)  # computed as numpy's C code computes it


@kernel
def binomial(words, n, p):
    """A binomial(n, p) draw, as ``Generator.binomial(n, p)`` makes it."""
    if n == 0 or p == 0.0:
        return 0
    if p <= 0.5:
        if p * n <= 30.0:
            return _binomial_inversion(words, n, p)
        return _binomial_btpe(words, n, p)
    q = 1.0 - p
    if q * n <= 30.0:
        return n - _binomial_inversion(words, n, q)
    return n - _binomial_btpe(words, n, q)


@kernel
def _binomial_inversion(words, n, p):
    """Walk up the distribution function from 0 until it passes a uniform draw; a walk past
    ``bound`` (ten standard deviations above the mean) starts again with a new draw."""
    q = 1.0 - p
    q_to_n = math.exp(n * math.log(q))
    mean = n * p
    bound = np.int64(min(float(n), mean + 10.0 * math.sqrt(mean * q + 1)))
    x = 0
    chance = q_to_n
    u = next_double(words)
    while u > chance:
        x += 1
        if x > bound:
            x = 0
            chance = q_to_n
            u = next_double(words)
        else:
            u -= chance
            chance = ((n - x + 1) * p * chance) / (x * q)
    return x


@kernel
def _binomial_btpe(words, n, p):
    """BTPE for p <= 1/2 and n p > 30: a triangle, two parallelograms and two exponential tails
    over the distribution, with a squeeze and, near the mode, the exact ratio of probabilities."""
    r = min(p, 1.0 - p)
    q = 1.0 - r
    fm = n * r + r
    m = np.int64(math.floor(fm))
    p1 = math.floor(2.195 * math.sqrt(n * r * q) - 4.6 * q) + 0.5
    xm = m + 0.5
    xl = xm - p1
    xr = xm + p1
    c = 0.134 + 20.5 / (15.3 + m)
    a = (fm - xl) / (fm - xl * r)
    lam_left = a * (1.0 + a / 2.0)
    a = (xr - fm) / (xr * q)
    lam_right = a * (1.0 + a / 2.0)
    p2 = p1 * (1.0 + 2.0 * c)
    p3 = p2 + c / lam_left
    p4 = p3 + c / lam_right
    nrq = n * r * q
    while True:
        u = next_double(words) * p4
        v = next_double(words)
        if u <= p1:  # the triangle: accepted at once
            y = np.int64(math.floor(xm - p1 * v + u))
            break
        if u <= p2:  # the parallelograms
            x = xl + (u - p1) / c
            v = v * c + 1.0 - abs(m - x + 0.5) / p1
            if v > 1.0:
                continue
            y = np.int64(math.floor(x))
        elif u <= p3:  # the left tail
            if v == 0.0:
                continue
            y = np.int64(math.floor(xl + math.log(v) / lam_left))
            if y < 0:
                continue
            v = v * (u - p2) * lam_left
        else:  # the right tail
            if v == 0.0:
                continue
            y = np.int64(math.floor(xr - math.log(v) / lam_right))
            if y > n:
                continue
            v = v * (u - p3) * lam_right
        if _btpe_accepts(n, r, q, m, xm, nrq, y, v):
            break
    if p > 0.5:
        y = n - y
    return y


@kernel
def _btpe_accepts(n, r, q, m, xm, nrq, y, v):
    """BTPE's test of a candidate ``y`` with height ``v``: the ratio of probabilities to the mode's,
    exactly when y is near the mode, else a squeeze and then Stirling's approximation."""
    k = abs(y - m)
    if not (k > 20 and k < nrq / 2.0 - 1):
        s = r / q
        a = s * (n + 1)
        ratio = 1.0
        if m < y:
            for i in range(m + 1, y + 1):
                ratio *= a / i - s
        elif m > y:
            for i in range(y + 1, m + 1):
                ratio /= a / i - s
        return v <= ratio
    rho = (k / nrq) * ((k * (k / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5)
    t = -k * k / (2 * nrq)
    log_v = math.log(v) if v > 0.0 else -math.inf
    if log_v < t - rho:
        return True
    if log_v > t + rho:
        return False
    x1 = y + 1.0
    f1 = m + 1.0
    z = n + 1.0 - m
    w = n - y + 1.0
    bound = (
        xm * math.log(f1 / x1)
        + (n - m + 0.5) * math.log(z / w)
        + (y - m) * math.log(w * r / (x1 * q))
        + _stirling_tail(f1)
        + _stirling_tail(z)
        + _stirling_tail(x1)
        + _stirling_tail(w)
    )
    return not log_v > bound


@kernel
def _stirling_tail(x):
    """The correction term of Stirling's formula BTPE adds for each of its four factorials."""
    x2 = x * x
    return (13680.0 - (462.0 - (132.0 - (99.0 - 140.0 / x2) / x2) / x2) / x2) / x / 166320.0


@kernel
def poisson(words, lam):
    """A Poisson(lam) draw, as ``Generator.poisson(lam)`` makes it."""
    if lam >= 10:
        return _poisson_ptrs(words, lam)
    if lam == 0:
        return 0
    limit = math.exp(-lam)
    x = 0
    product = 1.0
    while True:
        product *= next_double(words)
        if product > limit:
            x += 1
        else:
            return x


@kernel
def _poisson_ptrs(words, lam):
    """PTRS for lam >= 10: a transformed uniform proposes k, a box accepts most at once, the rest
    are compared with the Poisson probability through log Gamma."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = next_double(words) - 0.5
        v = next_double(words)
        us = 0.5 - abs(u)
        k = np.int64(math.floor((2 * a / us + b) * u + lam + 0.43))
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        log_v = math.log(v) if v > 0.0 else -math.inf
        if log_v + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - log_gamma(k + 1.0):
            return k


@kernel
def log_gamma(x):
    """log Gamma(x) for x > 0 by numpy's series (``random_loggam``): shifted up to 7 or more,
    Stirling's series there, and the shift taken off again."""
    if x == 1.0 or x == 2.0:
        return 0.0
    shift = 0
    x0 = x
    if x <= 7.0:
        shift = np.int64(7 - x)
        x0 = x + shift
    x2 = 1.0 / (x0 * x0)
    series = _STIRLING[9]
    for k in range(8, -1, -1):
        series *= x2
        series += _STIRLING[k]
    value = series / x0 + _HALF_LOG_TWO_PI + (x0 - 0.5) * math.log(x0) - x0
    if x <= 7.0:
        for _ in range(shift):
            value -= math.log(x0 - 1.0)
            x0 -= 1.0
    return value
