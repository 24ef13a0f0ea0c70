"""The ``elasticities`` study: how a firm's customers respond to its marketing budget and price.

An elasticity is d ln(customers) / d ln(setting). It is measured by arc differences: the
scenario runs with the firm's setting at ``1 - change`` and ``1 + change`` times its value, over
the same replications (common random numbers, through
:func:`funnelsim.experiments.engine.evaluate`), and each replication gives one paired estimate

    e_r = [ln C_r(1 + change) - ln C_r(1 - change)] / [ln(1 + change) - ln(1 - change)]

where C_r is the firm's customers at the end of the run. The estimate is their mean, with a
Student t confidence interval over replications (:func:`scipy.stats.t.interval`); pairing removes
the noise the two runs share, so few replications give a usable interval.

The published ranges it is compared with (:data:`PUBLISHED`): advertising elasticities of sales
about 0.05 to 0.3 (mean 0.12 short-term, 0.24 long-term over 751 estimates; Sethuraman, Tellis &
Briesch 2011) and price elasticities about -1 to -4 (mean -2.62 over 1,851 estimates; Bijmolt,
van Heerde & Pieters 2005).

Run it with ``funnelsim elasticities`` (see ``--help``) or ``measure_elasticities("baseline")``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from funnelsim.errors import UsageError
from funnelsim.experiments.engine import evaluate
from funnelsim.experiments.limits import check_run_count
from funnelsim.model.scenario import Scenario, get_dotted, load_scenario

#: The settings whose elasticities are measured, by name: the firm's key and the published range.
SETTINGS = {
    "advertising": ("marketing.budget_per_step", (0.05, 0.3)),
    "price": ("price", (-4.0, -1.0)),
}

#: Published ranges of the elasticity of sales, for comparison.
PUBLISHED = {name: interval for name, (_, interval) in SETTINGS.items()}


@dataclass(frozen=True)
class Elasticity:
    """One measured elasticity."""

    firm: str
    setting: str
    estimate: float
    low: float  # confidence interval
    high: float
    std: float  # of the per-replication estimates
    replications: int
    per_replication: np.ndarray


def paired_elasticity(low: np.ndarray, high: np.ndarray, change: float) -> np.ndarray:
    """Per-replication arc elasticities from customers at (1 - change) and (1 + change).

    ``low`` and ``high`` are paired by replication. A replication with no customers at either
    point has no logarithm; it raises, since the elasticity is then undefined, not zero.
    """
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if np.any(low <= 0) or np.any(high <= 0):
        raise UsageError("elasticities: a replication ended with no customers, so ln(customers) is undefined")
    return (np.log(high) - np.log(low)) / (math.log1p(change) - math.log1p(-change))


def measure_elasticities(
    scenario: Scenario | str | dict[str, Any] = "baseline",
    *,
    firms: list[int] | None = None,
    settings: tuple[str, ...] = ("advertising", "price"),
    change: float = 0.1,
    replications: int = 20,
    seed: int = 0,
    steps: int | None = None,
    confidence: float = 0.95,
    overrides: dict[str, Any] | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Measure advertising and price elasticities of each firm's customers.

    Parameters
    ----------
    scenario
        Anything :func:`funnelsim.load_scenario` takes.
    firms
        Firm indices to measure (default: every firm).
    settings
        Names from :data:`SETTINGS`.
    change
        Relative change either side of the scenario's value (0.1 is +-10%).
    replications, seed, steps, workers, scheduler, progress
        As for :func:`funnelsim.experiments.engine.evaluate`.
    confidence
        Level of the Student t interval over replications.
    overrides
        Dotted-key overrides applied to the scenario first.

    Returns
    -------
    pandas.DataFrame
        One row per (firm, setting): ``estimate``, ``low``, ``high``, ``std``, ``replications``,
        and the published range ``published_low``, ``published_high``.
    """
    if not 0 < change < 1:
        raise UsageError(f"elasticities: change must be between 0 and 1, got {change}")
    if replications < 2:
        raise UsageError(f"elasticities: a confidence interval needs at least 2 replications, got {replications}")
    unknown = [name for name in settings if name not in SETTINGS]
    if unknown:
        raise UsageError(f"elasticities: unknown setting {unknown[0]!r} (known: {', '.join(SETTINGS)})")
    base = load_scenario(scenario, overrides)
    indices = list(range(len(base.firms))) if firms is None else list(firms)
    for index in indices:
        if not 0 <= index < len(base.firms):
            raise UsageError(f"elasticities: no firm {index} (the scenario has {len(base.firms)})")
    points: list[dict[str, Any]] = []
    labels: list[tuple[int, str]] = []
    for index in indices:
        firm = base.firms[index].model_dump()
        for name in settings:
            key, _ = SETTINGS[name]
            value = get_dotted(firm, key)
            if value <= 0:
                raise UsageError(f"elasticities: firms.{index}.{key} is {value}; an elasticity needs a positive value")
            for factor in (1 - change, 1 + change):
                points.append({f"firms.{index}.{key}": float(value) * factor})
            labels.append((index, name))
    check_run_count(len(points) * replications, f"{len(points)} points (each setting -/+{change:g}) x {replications:,} replications")
    result = evaluate(
        base, points, replications=replications, seed=seed, steps=steps, workers=workers, scheduler=scheduler,
        progress=progress,
        description="elasticities",
    )
    rows = []
    for position, (index, name) in enumerate(labels):
        customers = result.measure("customers", firm=index)
        estimates = paired_elasticity(customers[2 * position], customers[2 * position + 1], change)
        rows.append(_summarize(base.firms[index].name, name, estimates, confidence))
    return pd.DataFrame(
        [
            {
                "firm": row.firm,
                "setting": row.setting,
                "estimate": row.estimate,
                "low": row.low,
                "high": row.high,
                "std": row.std,
                "replications": row.replications,
                "published_low": PUBLISHED[row.setting][0],
                "published_high": PUBLISHED[row.setting][1],
            }
            for row in rows
        ]
    )


def _summarize(firm: str, setting: str, estimates: np.ndarray, confidence: float) -> Elasticity:
    mean = float(estimates.mean())
    std = float(estimates.std(ddof=1))
    sem = std / math.sqrt(estimates.size)
    if sem > 0:
        low, high = stats.t.interval(confidence, estimates.size - 1, loc=mean, scale=sem)
    else:
        low = high = mean
    return Elasticity(firm, setting, mean, float(low), float(high), std, int(estimates.size), estimates)


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    """``python -m funnelsim.experiments.elasticities ...``: the same as ``funnelsim elasticities ...``."""
    from funnelsim.cli.main import main as cli_main

    return cli_main(["elasticities", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
