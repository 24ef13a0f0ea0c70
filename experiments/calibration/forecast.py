"""The band over every period (fitted, held out, beyond the data) and the forecast table."""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVEL = 0.90


def band_from_paths(paths: np.ndarray, level: float = LEVEL) -> dict[str, np.ndarray]:
    """Median and central ``level`` band, period by period, of simulated paths (draws x periods)."""
    tail = (1.0 - level) / 2.0
    return {
        "median": np.median(paths, axis=0),
        "lo": np.quantile(paths, tail, axis=0),
        "hi": np.quantile(paths, 1.0 - tail, axis=0),
    }


def band_table(periods: np.ndarray, observed: np.ndarray, band: dict[str, np.ndarray], fitted_periods: int) -> pd.DataFrame:
    """One row per period: ``period, observed, median, lo, hi, part`` (fit, holdout or horizon)."""
    count = len(band["median"])
    values = np.full(count, np.nan)
    values[: len(observed)] = observed
    first = int(periods[0])
    part = np.where(np.arange(count) < fitted_periods, "fit", np.where(np.arange(count) < len(observed), "holdout", "horizon"))
    return pd.DataFrame(
        {
            "period": np.arange(first, first + count, dtype=np.int64),
            "observed": values,
            "median": band["median"],
            "lo": band["lo"],
            "hi": band["hi"],
            "part": part,
        }
    )


def forecast_table(table: pd.DataFrame) -> pd.DataFrame:
    """The held-out and beyond-the-data rows, as ``forecast.csv`` has them."""
    rows = table[table["part"] != "fit"]
    return rows.loc[:, ["period", "observed", "median", "lo", "hi"]].reset_index(drop=True)


def holdout_coverage(table: pd.DataFrame) -> float | None:
    """Share of held-out observations inside the band (None without a hold-out)."""
    rows = table[table["part"] == "holdout"]
    if rows.empty:
        return None
    inside = (rows["observed"] >= rows["lo"]) & (rows["observed"] <= rows["hi"])
    return float(inside.mean())
