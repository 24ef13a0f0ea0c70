"""The figure of a paired comparison: each difference B - A with its confidence interval.

One small panel per measure (the measures have different units, so they do not share an axis),
one row per firm inside it. A filled dot is a significant difference (its interval misses zero),
an open one is not; the dashed line is zero. Built with ``matplotlib.figure.Figure``, no pyplot.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from funnelsim.model.labels import measure_label
from funnelsim.viz.palette import firm_colour

DPI = 110


def draw_comparison(
    table: pd.DataFrame, path: str | Path, title: str = "", confidence: float = 0.95, scenario=None
) -> Path:
    """Draw ``table`` (a :attr:`Comparison.table`) to ``path`` (PNG) and return the path.

    Firms keep the colours they have in every other figure and on the page; ``scenario`` (side
    A) gives the measures their readable names and units (currency, step length).
    """
    measures = list(dict.fromkeys(table["measure"]))
    firms = list(dict.fromkeys(table["firm"]))
    columns = min(3, len(measures))
    rows = math.ceil(len(measures) / columns)
    figure = Figure(figsize=(4.2 * columns, 0.9 + (0.45 * len(firms) + 0.9) * rows), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for axis, measure in zip(axes, measures):
        mine = table[table["measure"] == measure].set_index("firm").reindex(firms)
        for position, firm in enumerate(firms):
            row = mine.loc[firm]
            colour = firm_colour(position)
            y = len(firms) - 1 - position
            if np.isfinite(row["lo"]):
                axis.hlines(y, row["lo"], row["hi"], color=colour, linewidth=2.2)
            if np.isfinite(row["diff"]):
                filled = bool(row["significant"])
                axis.plot(
                    row["diff"], y, "o", markersize=7, color=colour,
                    markerfacecolor=colour if filled else "white", markeredgewidth=1.6,
                )
        axis.axvline(0.0, color="0.4", linestyle="--", linewidth=1)
        axis.set_yticks(range(len(firms)), list(reversed(firms)))
        axis.set_ylim(-0.7, len(firms) - 0.3)
        axis.set_title(f"{measure_label(measure, scenario)}: B - A", fontsize=10, wrap=True)
        axis.tick_params(axis="x", labelsize=8)
        axis.grid(axis="x", alpha=0.3)
    for axis in axes[len(measures):]:
        axis.set_visible(False)
    heading = f"Difference B - A with {100 * confidence:g}% paired intervals (filled: significant)"
    figure.suptitle(f"{title}\n{heading}" if title else heading, fontsize=11)
    path = Path(path)
    figure.savefig(path)
    return path
