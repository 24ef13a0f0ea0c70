"""The quick answer: the Bass model fitted to per-period adoptions by nonlinear least squares.

Following Srinivasan & Mason (1986), the adoptions observed in period ``t`` (``t = 1`` is the
first period of the data, which starts at launch) are

    x(t) = m [F(t) - F(t-1)] + e(t),   F(t) = (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t)),

and p, q, m minimise the sum of squared errors (``scipy.optimize.least_squares``). Fitting
adoptions per period rather than the cumulative curve keeps the errors roughly independent, and
fitting F over the whole period rather than its density at the period's end avoids the bias of
the time-interval approximation (the point of Srinivasan & Mason's paper).

Intervals are Wald intervals from the asymptotic covariance ``s^2 (J'J)^-1`` (J the Jacobian
at the optimum, ``s^2`` the residual variance on n - 3 degrees of freedom) with Student-t
quantiles: cheap, and measured in the tests to cover the truth on synthetic Bass data. Forecast
bands draw (p, q, m) from that normal approximation and add the residual noise, so they carry
both parameter uncertainty and period-to-period noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

#: The two-sided level of every interval and band (the issue's 90%).
LEVEL = 0.90


def bass_cumulative(t: np.ndarray, p: float | np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """F(t), the share of the market potential adopted by time t (t in periods since launch).

    ``p`` and ``q`` may be arrays that broadcast against ``t`` (a grid of curves at once)."""
    t = np.asarray(t, dtype=float)
    decay = np.exp(-(p + q) * t)
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def bass_adoptions(
    t: np.ndarray, p: float | np.ndarray, q: float | np.ndarray, m: float | np.ndarray
) -> np.ndarray:
    """Expected adoptions in periods ``t`` (each period ``(t-1, t]``): m [F(t) - F(t-1)]."""
    t = np.asarray(t, dtype=float)
    return m * (bass_cumulative(t, p, q) - bass_cumulative(t - 1.0, p, q))


@dataclass
class BassFit:
    """A fitted Bass curve: estimates, covariance, intervals and goodness of fit."""

    p: float
    q: float
    m: float
    covariance: np.ndarray  # of (p, q, m)
    residual_sd: float
    periods: np.ndarray  # the data's period labels the fit saw
    observed: np.ndarray
    fitted: np.ndarray
    intervals: dict[str, list[float]] = field(default_factory=dict)
    goodness_of_fit: dict[str, float] = field(default_factory=dict)

    @property
    def estimates(self) -> np.ndarray:
        return np.array([self.p, self.q, self.m])

    def expected(self, periods: np.ndarray) -> np.ndarray:
        """Expected adoptions in the given period labels (past or future)."""
        return bass_adoptions(np.asarray(periods) - self.periods[0] + 1, self.p, self.q, self.m)

    def band(self, periods: np.ndarray, draws: int = 2000, seed: int = 0, level: float = LEVEL) -> dict[str, np.ndarray]:
        """Median and ``level`` band of adoptions in ``periods``: parameter draws plus residual noise."""
        rng = np.random.default_rng(seed)
        t = np.asarray(periods) - self.periods[0] + 1
        samples = rng.multivariate_normal(self.estimates, self.covariance, size=draws, method="svd")
        # The normal approximation can step outside the model's domain; such draws are redrawn
        # as the estimate rather than dropped, which would bias the band towards small spreads.
        invalid = (samples[:, 0] <= 0) | (samples[:, 1] < 0) | (samples[:, 2] <= 0)
        samples[invalid] = self.estimates
        paths = np.stack([bass_adoptions(t, *theta) for theta in samples])
        paths += rng.normal(0.0, self.residual_sd, size=paths.shape)
        paths = np.clip(paths, 0.0, None)  # counts are never negative
        tail = (1.0 - level) / 2.0
        return {
            "median": np.median(paths, axis=0),
            "lo": np.quantile(paths, tail, axis=0),
            "hi": np.quantile(paths, 1.0 - tail, axis=0),
        }

    def to_dict(self) -> dict:
        return {
            "method": "Bass nonlinear least squares on per-period adoptions (Srinivasan & Mason 1986)",
            "p": self.p,
            "q": self.q,
            "m": self.m,
            "intervals": self.intervals,
            "interval_method": f"Wald {LEVEL:.0%} from the asymptotic covariance s^2 (J'J)^-1, Student-t on n-3 df",
            "standard_errors": dict(zip(("p", "q", "m"), np.sqrt(np.diag(self.covariance)).tolist(), strict=True)),
            "goodness_of_fit": self.goodness_of_fit,
            "periods": [int(self.periods[0]), int(self.periods[-1])],
        }


def _start_values(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A coarse grid over (p, q) with m solved exactly (adoptions are linear in m) at each point.

    Bass's own OLS regression often gives a negative m or p on short series; the grid cannot.
    """
    p = np.geomspace(1e-4, 0.5, 40)[:, None, None]
    q = np.linspace(0.0, 2.0, 41)[None, :, None]
    shapes = bass_adoptions(t[None, None, :], p, q, 1.0)  # (p, q, period) for m = 1
    m = np.maximum((shapes @ x) / np.maximum(np.sum(shapes * shapes, axis=-1), 1e-300), x.sum())
    sse = np.sum((x - m[..., None] * shapes) ** 2, axis=-1)
    i, j = np.unravel_index(np.nanargmin(sse), sse.shape)
    return np.array([p[i, 0, 0], q[0, j, 0], m[i, j]])


def fit_bass(periods: np.ndarray, adopters: np.ndarray, level: float = LEVEL) -> BassFit:
    """Fit p, q, m to per-period adoptions ``adopters`` observed in consecutive ``periods``.

    Parameters
    ----------
    periods
        Consecutive period labels (e.g. years); the first is the first period after launch.
    adopters
        Adoptions (new customers, unit sales) per period, in the data's own units.
    level
        Two-sided level of the intervals.

    Returns
    -------
    BassFit
        m is in the units of ``adopters``; p and q are per period.
    """
    periods = np.asarray(periods, dtype=np.int64)
    x = np.asarray(adopters, dtype=float)
    n = len(x)
    if n < 4:
        raise ValueError(f"a Bass fit needs at least 4 periods (3 parameters and a residual); got {n}")
    t = periods - periods[0] + 1
    total = float(x.sum())
    start = _start_values(t, x)
    # Scale m to order one so that the three parameters are of comparable size for the solver.
    scale = max(total, 1e-12)

    def residuals(theta: np.ndarray) -> np.ndarray:
        p, q, m = theta
        return (bass_adoptions(t, p, q, m * scale) - x) / scale

    lower = [1e-9, 0.0, total / scale]
    upper = [1.0, 10.0, np.inf]
    start_scaled = np.clip(start / [1.0, 1.0, scale], lower, [u if np.isfinite(u) else 1e12 for u in upper])
    result = optimize.least_squares(residuals, start_scaled, bounds=(lower, upper), method="trf", x_scale="jac", max_nfev=5000)
    p, q, m_scaled = result.x
    m = m_scaled * scale
    fitted = bass_adoptions(t, p, q, m)
    rss = float(np.sum((x - fitted) ** 2))
    dof = max(n - 3, 1)
    s2 = rss / dof
    jac = result.jac * np.array([scale, scale, 1.0])  # d(adoptions)/d(p, q, m) in data units
    try:
        covariance = s2 * np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        covariance = s2 * np.linalg.pinv(jac.T @ jac)
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    quantile = stats.t.ppf(0.5 + level / 2.0, dof)
    estimates = np.array([p, q, m])
    intervals = {
        name: [float(max(estimates[i] - quantile * se[i], 0.0)), float(estimates[i] + quantile * se[i])]
        for i, name in enumerate(("p", "q", "m"))
    }
    positive = x > 0
    gof = {
        "r2": float(1.0 - rss / max(np.sum((x - x.mean()) ** 2), 1e-300)),
        "rmse": float(np.sqrt(rss / n)),
        "mape": float(np.mean(np.abs((x[positive] - fitted[positive]) / x[positive])) * 100.0),
        "periods": n,
    }
    return BassFit(float(p), float(q), float(m), covariance, float(np.sqrt(s2)), periods, x, fitted, intervals, gof)
