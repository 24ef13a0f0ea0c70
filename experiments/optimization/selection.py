"""Naming a winner honestly: the leading candidates on new replications, paired intervals, and
the probability that each is truly the best.

The search scores every candidate on the same few replications and keeps the best scores, which
flatters them (the winner's curse: the top of many noisy means is biased upward). So the
``leaders`` best candidates, and the scenario as given, are run again on *new* replications,
the same ones for all of them, and only those runs name the winner and give its interval.

- Intervals of a mean: Student's t over the replications (``scipy.stats.t``).
- Differences against the best: paired by replication (common random numbers remove the noise
  both share), a t interval and ``scipy.stats.ttest_rel``'s p-value. A candidate is
  *distinguishable* from the best when the interval of its difference lies wholly below zero.
- Probability of being the best: a bootstrap over the paired replications: replications are
  resampled with replacement (the same draw for every candidate, so the pairing is kept), and
  the share of resamples in which each candidate has the highest mean is its probability. It
  reflects the noise of the replications run, not uncertainty about the model itself.
- The near-optimal region: every searched candidate whose paired difference against the winner,
  on the search replications, is not significantly below zero. No correction for the number of
  comparisons is made, so the region errs on the side of being wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
#: Spawn key of the bootstrap's stream, apart from the replications' and the sampler's.
BOOTSTRAP_KEY = 0xB0075


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "lo": self.lo, "hi": self.hi}


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Mean and Student-t interval of one candidate's replications."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return Interval(mean, float("nan"), float("nan"))
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * stats.sem(values)
    return Interval(mean, mean - float(half), mean + float(half))


def paired_differences(values: np.ndarray, best: int, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Each row of ``values`` (candidates x paired replications) minus row ``best``: mean, interval,
    two-sided p-value, and whether it is distinguishable from the best (interval below zero)."""
    rows = []
    for index in range(values.shape[0]):
        difference = values[index] - values[best]
        interval = mean_interval(difference, confidence)
        if index == best or np.allclose(difference, 0.0):
            p_value = 1.0
        else:
            p_value = float(stats.ttest_rel(values[index], values[best]).pvalue)
        rows.append(
            {
                "difference": interval.mean,
                "difference_lo": interval.lo,
                "difference_hi": interval.hi,
                "p_value": p_value,
                "distinguishable": bool(interval.hi < 0),
            }
        )
    return pd.DataFrame(rows)


def probability_best(values: np.ndarray, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray:
    """Bootstrap over paired replications: the share of resamples in which each row has the
    highest mean (ties go to the first)."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(BOOTSTRAP_KEY,)))
    count = values.shape[1]
    picks = rng.integers(0, count, size=(resamples, count))
    means = values[:, picks].mean(axis=2)  # candidates x resamples
    winners = means.argmax(axis=0)
    return np.bincount(winners, minlength=values.shape[0]) / resamples


def near_optimal(search: np.ndarray, winner_row: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """For each candidate (rows of ``search``, paired with ``winner_row``), whether it is not
    distinguishable from the winner: its paired difference's interval reaches zero."""
    difference = search - winner_row[None, :]
    if search.shape[1] < 2:
        return np.ones(search.shape[0], dtype=bool)
    half = stats.t.ppf(0.5 + confidence / 2, search.shape[1] - 1) * stats.sem(difference, axis=1)
    return difference.mean(axis=1) + half >= -1e-12


def leader_trials(scores: pd.Series, keys: pd.Series, count: int) -> list[int]:
    """The ``count`` best trials by search score (ties to the earlier trial), skipping repeats of
    a candidate already taken (``keys``: one hashable per trial)."""
    order = sorted(scores.index, key=lambda trial: (-scores[trial], trial))
    chosen, seen = [], set()
    for trial in order:
        if keys[trial] in seen:
            continue
        seen.add(keys[trial])
        chosen.append(int(trial))
        if len(chosen) == count:
            break
    return chosen
