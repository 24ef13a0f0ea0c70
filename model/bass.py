"""The Bass diffusion curves the built-in `bass` scenario is checked against (docs/model.md)."""

from __future__ import annotations

import numpy as np


def bass_expected_step(adopted: float, n: int, p: float, q: float) -> float:
    """Expected adopters after one step of the bass scenario, given ``adopted`` now.

    Marketing reaches each consumer with chance p; a non-adopter hears from the adopters among
    its n-1 neighbours on the complete graph with chance q x adopted/(n-1); the two are
    independent, so a non-adopter adopts with chance 1 - (1 - p)(1 - q adopted/(n-1)).
    """
    hazard = 1.0 - (1.0 - p) * (1.0 - q * adopted / max(n - 1, 1))
    return adopted + hazard * (n - adopted)


def bass_closed_form(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """The continuous Bass curve F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})."""
    decay = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return (1.0 - decay) / (1.0 + (q / p) * decay) if p > 0 else np.zeros_like(decay)

