"""What ``funnelsim run`` prints: the terminal summary of a results folder.

The folder itself has the one format every run and sweep shares (manifest.json, design.parquet,
runs/, timeseries/; see :mod:`funnelsim.experiments.results_store` and ``docs/results.md``), plus
``figures/*.png`` (funnel, market share, revenue and profit, spend; see figures.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from funnelsim.experiments.provenance import environment, git_commit, now_utc  # noqa: F401  (old home)
from funnelsim.experiments.results_store import MANIFEST, RUNS, TIMESERIES

FIGURES = "figures"

#: The measures of the terminal table: summary column, label, how to format it.
TERMINAL_MEASURES = (
    ("customers", "customers", "count"),
    ("market_share", "market share", "percent"),
    ("revenue", "revenue", "money"),
    ("profit", "profit", "money"),
    ("acquisition_cost", "acquisition cost", "money"),
    ("marketing_return", "marketing return", "ratio"),
    ("sales_return", "sales return", "ratio"),
)


# ---------------------------------------------------------------------------------------------
# The terminal summary


def summary_table(summary: pd.DataFrame) -> str:
    """Per firm (columns) and measure (rows): mean ± standard deviation over replications."""
    firms = list(dict.fromkeys(summary["firm"]))
    replications = summary["replication"].nunique() if "replication" in summary else 1
    grouped = summary.groupby("firm", sort=False)
    cells: list[list[str]] = [["", *firms]]
    for column, label, kind in TERMINAL_MEASURES:
        means, spreads = grouped[column].mean(), grouped[column].std(ddof=1)
        row = [label]
        for firm in firms:
            spread = spreads[firm] if replications > 1 else math.nan
            row.append(_cell(means[firm], spread, kind))
        cells.append(row)
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = []
    for row in cells:
        first = row[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def _cell(mean: float, spread: float, kind: str) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    scale, pattern, suffix = {
        "count": (1.0, "{:,.0f}", ""),
        "money": (1.0, "{:,.0f}", ""),
        "percent": (100.0, "{:.1f}", "%"),
        "ratio": (1.0, "{:.2f}", ""),
    }[kind]
    mean, spread = mean * scale, spread * scale
    if kind == "money" and 0 < abs(mean) < 100:
        pattern = "{:,.2f}"  # small amounts (a cost per customer of 0.004) keep their cents
    if kind in ("count", "money") and spread > 0:
        # Show no more digits than the spread supports: 1,392,400 ± 86,849 -> 1,392,000 ± 87,000.
        unit = 10 ** max(0, math.floor(math.log10(spread)) - 1)
        mean, spread = round(mean / unit) * unit, round(spread / unit) * unit
    text = pattern.format(mean) + suffix
    if not math.isnan(spread):
        text += " ± " + pattern.format(spread)
    return text


def terminal_report(
    scenario_name: str,
    summary: pd.DataFrame,
    replications: int,
    steps: int,
    step_unit: str,
    seed: int,
    directory: Path,
    figures: bool = True,
) -> str:
    """What ``funnelsim run`` prints at the end."""
    runs = f"{replications} replication{'s' if replications != 1 else ''}"
    spread = ", mean ± sd" if replications > 1 else ""
    files = f"{MANIFEST}, {RUNS}/, {TIMESERIES}/" + (f", {FIGURES}/" if figures else "")
    lines = [
        f"{scenario_name}: {runs} x {steps} {step_unit}{'s' if steps != 1 else ''} (seed {seed}{spread})",
        "",
        summary_table(summary) if not summary.empty else "no replication succeeded",
        "",
        "acquisition cost: marketing + sales cost per new customer; marketing return: gross margin per unit",
        "of marketing cost; sales return: revenue closed by salespeople per unit of sales cost.",
        f"Results in {directory}/ ({files}); read them with funnelsim.load_results('{directory}')",
    ]
    return "\n".join(lines)
