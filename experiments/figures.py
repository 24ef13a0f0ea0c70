"""Figures of a batch run, drawn from its time series table (matplotlib, no display needed).

Every figure shows each firm in its own colour (the same colour in every figure and on the live
page, see :mod:`funnelsim.viz.palette`): a line for the median over replications and a shaded
band from the 10th to the 90th percentile, so the spread between replications is visible at a
glance. With one replication the band is just the line. Money axes carry the scenario's
currency and time axes the length of a step, so a figure read alone still says what it shows.

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot: no global state, no
display, and nothing to close.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from funnelsim.model.scenario import CHANNELS
from funnelsim.viz.palette import CHANNEL_COLOURS, COST_COLOURS, firm_colour

#: Percentiles of the band across replications.
BAND = (0.1, 0.9)

#: Funnel stages as the run table counts them, with names a marketer reads right: "aware"
#: counts only those who know the firm but are not (yet) its lead or customer.
STAGES = (
    ("customers", "Customers"),
    ("leads", "Leads (waiting or being worked)"),
    ("aware", "Aware, not yet a lead"),
    ("unaware", "Unaware (never heard, or forgot)"),
)
COST_KINDS = (("marketing_cost", "marketing (channels + marketers)"), ("sales_cost", "sales (pay, commissions, referrals)"))
#: Colours of the kinds of cost: never a firm's colour, which would read as that firm.
KIND_COLOURS = {kind: COST_COLOURS[kind] for kind, _ in COST_KINDS}

DPI = 110


def draw_figures(
    timeseries: pd.DataFrame, directory: str | Path, title: str = "", step_unit: str = "step", currency: str = "$"
) -> list[Path]:
    """Draw every figure of a run into ``directory``; the paths written, in a fixed order.

    ``step_unit`` (``market.step_unit``) names the time axes and ``currency``
    (``market.currency``) the money axes.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    context = _Context(timeseries, title, step_unit, currency)
    written = []
    for name, draw in FIGURES.items():
        figure = draw(context)
        path = directory / f"{name}.png"
        figure.savefig(path, dpi=DPI)
        written.append(path)
    return written


class _Context:
    """The table plus what every figure needs: firms in order, their colours, labels."""

    def __init__(self, timeseries: pd.DataFrame, title: str, step_unit: str, currency: str = "$"):
        table = timeseries.copy()
        if "replication" not in table.columns:
            table["replication"] = 0
        self.table = table.sort_values(["replication", "firm", "step"], kind="stable")
        self.firms = list(dict.fromkeys(timeseries["firm"]))  # order of first appearance
        self.replications = int(table["replication"].nunique())
        self.colours = {firm: firm_colour(index) for index, firm in enumerate(self.firms)}
        self.title = title
        self.unit = step_unit or "step"
        self.currency = currency
        self.time_label = f"time ({self.unit}s)"
        self.steps = int(table["step"].max()) if len(table) else 0

    def note(self) -> str:
        if self.replications == 1:
            return "1 replication"
        low, high = (round(100 * q) for q in BAND)
        return f"line: median of {self.replications} replications; band: {low}th-{high}th percentile"

    def cumulative(self, column: str) -> pd.Series:
        """A per-step column summed over time within each replication and firm."""
        return self.table.groupby(["replication", "firm"], sort=False)[column].cumsum()

    def rolling(self, column: str, window: int) -> pd.Series:
        grouped = self.table.groupby(["replication", "firm"], sort=False)[column]
        return grouped.transform(lambda values: values.rolling(window, min_periods=1).mean())


def _band(context: _Context, values: pd.Series, firm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps, and the low / median / high of ``values`` across replications, for one firm."""
    mask = (context.table["firm"] == firm).to_numpy()
    frame = pd.DataFrame(
        {"step": context.table["step"].to_numpy()[mask], "replication": context.table["replication"].to_numpy()[mask],
         "value": np.asarray(values, dtype=float)[mask]}
    )
    wide = frame.pivot(index="step", columns="replication", values="value")
    low = wide.quantile(BAND[0], axis=1)
    mid = wide.median(axis=1)
    high = wide.quantile(BAND[1], axis=1)
    return wide.index.to_numpy(), low.to_numpy(), mid.to_numpy(), high.to_numpy()


def _plot_band(axes, context: _Context, values: pd.Series, firm: str, colour, label: str | None = None) -> None:
    steps, low, mid, high = _band(context, values, firm)
    axes.fill_between(steps, low, high, color=colour, alpha=0.22, linewidth=0)
    axes.plot(steps, mid, color=colour, linewidth=1.8, label=label)


def _finish(figure: Figure, context: _Context, heading: str, firm_legend: bool = True) -> Figure:
    """Title on top; at the bottom the firms' colours, captioned with what line and band mean."""
    title = f"{context.title}: {heading}" if context.title else heading
    figure.suptitle(title, fontsize=13, fontweight="bold", wrap=True)
    if firm_legend:
        handles = [Line2D([], [], color=context.colours[firm], linewidth=2.5, label=firm) for firm in context.firms]
        figure.legend(
            handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False, fontsize=9.5,
            title=context.note(), title_fontsize=8.5,
        )
    else:
        # supxlabel, unlike a free text, is given room by the constrained layout.
        figure.supxlabel(context.note(), fontsize=8.5, color="#555555")
    return figure


def _style(axes, title: str, ylabel: str, context: _Context) -> None:
    axes.set_title(title, fontsize=11)
    axes.set_ylabel(ylabel)
    spec = axes.get_subplotspec()
    if spec is None or spec.is_last_row():  # panels above share the bottom row's time axis
        axes.set_xlabel(context.time_label)
    axes.grid(True, alpha=0.3)
    axes.set_xlim(0, max(context.steps, 1))
    axes.yaxis.set_major_formatter(FuncFormatter(_short_number))


def _short_number(value: float, _position=None) -> str:
    """Axis labels a person reads at a glance: 12k, 1.4M."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.6g}"


# ---------------------------------------------------------------------------------------------
# The figures


def funnel_figure(context: _Context) -> Figure:
    """Consumers in each funnel stage over time, one panel per stage (each with its own scale,
    so a few dozen customers among thousands of consumers stay visible), a line per firm."""
    figure = Figure(figsize=(11, 7.5), layout="constrained")
    grid = figure.subplots(2, 2, sharex=True)
    for axes, (column, label) in zip(grid.flat, STAGES):
        for firm in context.firms:
            _plot_band(axes, context, context.table[column], firm, context.colours[firm])
        _style(axes, label, "customers" if column == "customers" else "consumers", context)
        axes.set_ylim(bottom=0)
    return _finish(figure, context, "the funnel over time")


def market_share_figure(context: _Context) -> Figure:
    figure = Figure(figsize=(9, 5), layout="constrained")
    axes = figure.subplots()
    for firm in context.firms:
        _plot_band(axes, context, 100 * context.table["market_share"], firm, context.colours[firm])
    _style(axes, "Share of all customers", "market share (%)", context)
    axes.set_ylim(-2, 102)  # a share of exactly 0 or 100 stays visible off the frame
    return _finish(figure, context, "market share")


def _window(context: _Context) -> int:
    """Steps in the moving average of per-step money: about 26 points over the run."""
    return max(1, round(context.steps / 26))


def revenue_profit_figure(context: _Context) -> Figure:
    figure = Figure(figsize=(11, 4.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    window = _window(context)
    revenue = context.rolling("revenue", window)
    profit = context.table["cumulative_profit"]
    for firm in context.firms:
        _plot_band(left, context, revenue, firm, context.colours[firm])
        _plot_band(right, context, profit, firm, context.colours[firm])
    unit, currency = context.unit, context.currency
    average = f" ({window}-{unit} average)" if window > 1 else ""
    _style(left, f"Revenue per {unit}{average}", f"revenue ({currency} per {unit})", context)
    _style(right, "Cumulative profit", f"profit ({currency})", context)
    right.axhline(0, color="#333333", linewidth=0.8)
    return _finish(figure, context, "revenue and profit")


def _median_by_step(context: _Context, column: str, firm: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    steps, _, mid, _ = _band(context, context.rolling(column, window) if window > 1 else context.table[column], firm)
    return steps, mid


def spend_figure(context: _Context) -> Figure:
    """Per firm: marketing spend per step stacked by channel (left), so channels with equal
    shares sit on top of each other instead of hiding each other, and cumulative cost by kind
    (right). Each channel's legend entry gives its total, so a channel that spent nothing is
    still named."""
    rows = len(context.firms)
    figure = Figure(figsize=(11, 0.9 + 3.0 * rows), layout="constrained")
    grid = np.atleast_2d(figure.subplots(rows, 2, sharex=True, squeeze=False))
    window = _window(context)
    unit, currency = context.unit, context.currency
    average = f", {window}-{unit} average" if window > 1 else ""
    for row, firm in enumerate(context.firms):
        by_channel, by_kind = grid[row]
        stacked, labels, colours = [], [], []
        for channel in CHANNELS:
            steps, values = _median_by_step(context, f"spend_{channel}", firm, window)
            total = _band(context, context.cumulative(f"spend_{channel}"), firm)[2][-1]
            stacked.append(np.nan_to_num(values))
            labels.append(f"{channel}: {currency}{_short_number(total)} in all")
            colours.append(CHANNEL_COLOURS[channel])
        by_channel.stackplot(steps, *stacked, labels=labels, colors=colours, alpha=0.85, linewidth=0)
        for column, label in COST_KINDS:
            _plot_band(by_kind, context, context.table[f"cumulative_{column}"], firm, KIND_COLOURS[column], label)
        _style(by_channel, f"{firm}: marketing spend per {unit} by channel (stacked{average})",
               f"spend ({currency} per {unit})", context)  # fmt: skip
        _style(by_kind, f"{firm}: cumulative cost by kind", f"cost ({currency})", context)
        by_channel.set_ylim(bottom=0)
        by_channel.legend(frameon=False, fontsize=8.5, loc="upper left", ncols=2)
        by_kind.legend(frameon=False, fontsize=8.5, loc="upper left")
    figure.suptitle(
        f"{context.title}: spend by channel and by kind" if context.title else "spend by channel and by kind",
        fontsize=13, fontweight="bold", wrap=True,
    )
    if context.replications == 1:
        note = "1 replication"
    else:
        low, high = (round(100 * q) for q in BAND)
        note = (f"left: medians over {context.replications} replications, stacked; "
                f"right: line = median, band = {low}th-{high}th percentile")  # fmt: skip
    figure.supxlabel(note, fontsize=8.5, color="#555555")
    return figure


#: File name (without .png) -> drawing function, in the order a reader should look at them.
FIGURES: dict[str, Callable[[_Context], Figure]] = {
    "funnel": funnel_figure,
    "market_share": market_share_figure,
    "revenue_profit": revenue_profit_figure,
    "spend": spend_figure,
}
