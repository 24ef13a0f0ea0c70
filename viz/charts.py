"""The page's charts as ECharts options: plain dicts of JSON data, drawn by the browser.

Drawing happens in the browser, so a step costs the server only the few milliseconds it takes
to build these dicts; rendering six Matplotlib figures on the server took over a second per
step here. Every function is pure: history in, option out, so the tests check them without a
browser.

``history`` maps a column of the run table to an array of shape (steps + 1, firms), read
straight from the model's DataCollector (see :func:`read_history`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from funnelsim.agents.population import STAGE_NAMES
from funnelsim.model.scenario import CHANNELS
from funnelsim.viz.palette import CHANNEL_COLOURS, COST_COLOURS, FIRM_COLOURS, STAGE_COLOURS, firm_colour

#: Stage labels as the page shows them for one chosen firm. "aware" in the run table counts
#: only those who know the firm and are not (yet) its lead or customer, and says so.
STAGE_LABELS = ("unaware", "aware, not yet a lead", "lead", "customer", "customer of a rival")

#: Table columns per stage, in stage-code order.
STAGE_COLUMNS = ("unaware", "aware", "leads", "customers", "rival_customers")

#: Costs per step, by kind: the four marketing channels, then the people and the sales tactics.
SPEND_COLUMNS = {
    **{f"spend_{channel}": channel for channel in CHANNELS},
    "marketer_pay": "marketers' pay",
    "salesperson_pay": "salespeople's pay",
    "commissions": "commissions",
    "referral_rewards": "referral rewards",
}

#: The colour of each cost: channels and other costs never take a firm's colour.
SPEND_COLOURS = {
    **{f"spend_{channel}": CHANNEL_COLOURS[channel] for channel in CHANNELS},
    **{column: COST_COLOURS[column] for column in ("marketer_pay", "salesperson_pay", "commissions", "referral_rewards")},
}

#: Every column the charts and headline numbers read.
HISTORY_COLUMNS = (
    *STAGE_COLUMNS,
    "market_share",
    "revenue",
    "cumulative_profit",
    "cumulative_new_customers_sales",
    "queue_length",
    "utilization",
    *SPEND_COLUMNS,
)

assert len(STAGE_NAMES) == len(STAGE_LABELS)
assert len(FIRM_COLOURS) >= 10


@dataclass(frozen=True)
class Units:
    """What a number on the page is measured in: the scenario's currency and step length."""

    currency: str = "$"
    step_unit: str = "day"

    @property
    def time_axis(self) -> str:
        return f"time ({self.step_unit}s)"

    @classmethod
    def of(cls, scenario) -> Units:
        return cls(scenario.market.currency, scenario.market.step_unit)


#: Lever changes to mark on the time charts: (step, what changed).
Marks = Sequence[tuple[int, str]]


def read_history(model, columns: Sequence[str] = HISTORY_COLUMNS) -> dict[str, np.ndarray]:
    """The collected rows so far, column by column, as (steps + 1, firms) float arrays."""
    return {column: model.history(column) for column in columns}


def _values(array: np.ndarray, digits: int = 4) -> list[float | None]:
    """JSON-safe numbers (NaN and infinities become gaps) rounded to keep messages small."""
    return [None if not math.isfinite(value) else round(value, digits) for value in array.tolist()]


def _toolbox(file_name: str) -> dict[str, Any]:
    """ECharts' own "save as image" button: the browser writes the chart as a PNG, offline."""
    return {
        "right": 6, "top": 0, "itemSize": 14,
        "feature": {"saveAsImage": {"title": "Save as PNG", "name": file_name, "pixelRatio": 2,
                                    "backgroundColor": "#ffffff"}},
    }  # fmt: skip


def _base(title: str, steps: int, *, y_name: str = "", y_percent: bool = False, units: Units = Units(),
          file_name: str = "funnelsim-chart") -> dict[str, Any]:  # fmt: skip
    """What every time chart shares: no animation (steps come fast), a tooltip, a legend,
    named axes, and a button that saves it as a PNG."""
    axis_label = {"formatter": "{value}%"} if y_percent else {}
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "toolbox": _toolbox(file_name),
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 24, "type": "scroll"},
        "grid": {"left": 72, "right": 24, "top": 64, "bottom": 44},
        "xAxis": {"type": "category", "name": units.time_axis, "nameLocation": "middle", "nameGap": 26,
                  "boundaryGap": False, "data": list(range(steps))},
        "yAxis": {"type": "value", "name": y_name, "axisLabel": axis_label},
        "series": [],
    }  # fmt: skip


def _steps(history: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(history.values())))


def _mark_changes(option: dict[str, Any], marks: Marks | None) -> None:
    """A dashed vertical line with a flag at every step where a lever changed while running.

    The lines ride on the first series of each panel (ECharts draws a mark line with a series).
    """
    if not marks:
        return
    line = {
        "silent": False, "symbol": "none", "animation": False,
        "lineStyle": {"type": "dashed", "color": "#37474f", "width": 1.2},
        # A flag at the top of each line; hovering the line says what changed (full text).
        "label": {"formatter": "⚑", "position": "end", "fontSize": 12, "color": "#37474f"},
        "tooltip": {"trigger": "item", "formatter": "{b}"},
        "data": [{"xAxis": int(step), "name": text} for step, text in marks],
    }  # fmt: skip
    seen: set[int] = set()
    for series in option["series"]:
        panel = series.get("xAxisIndex", 0)
        if panel not in seen:
            seen.add(panel)
            series["markLine"] = line


def funnel_option(history: Mapping[str, np.ndarray], firm: int, firm_name: str, units: Units = Units(),
                  marks: Marks | None = None) -> dict[str, Any]:  # fmt: skip
    """Consumers by funnel stage for one firm over time (top), and the customers on their own
    scale (bottom), where a few dozen customers among thousands of consumers stay visible.

    In the run table unaware, aware, leads and customers partition the population (a rival's
    customer counts as aware or unaware of this firm), so those four are stacked on top.
    """
    option = _base(f"Funnel for {firm_name}", _steps(history), units=units, file_name=f"funnel-{firm_name}")
    for column, label, colour in zip(STAGE_COLUMNS[:4], STAGE_LABELS[:4], STAGE_COLOURS[:4]):
        option["series"].append({
            "name": label, "type": "line", "stack": "funnel", "areaStyle": {}, "symbol": "none",
            "lineStyle": {"width": 0}, "color": colour, "data": _values(history[column][:, firm], 0),
        })  # fmt: skip
    option["series"].append({
        "name": f"customers of {firm_name}", "type": "line", "symbol": "none", "color": STAGE_COLOURS[3],
        "lineStyle": {"width": 2.5}, "xAxisIndex": 1, "yAxisIndex": 1,
        "data": _values(history["customers"][:, firm], 0),
    })  # fmt: skip
    option["series"].append({
        "name": "customers of rivals", "type": "line", "symbol": "none", "color": STAGE_COLOURS[4],
        "lineStyle": {"type": "dashed", "width": 2}, "xAxisIndex": 1, "yAxisIndex": 1,
        "data": _values(history[STAGE_COLUMNS[4]][:, firm], 0),
    })  # fmt: skip
    _two_panels(option, "consumers by stage", "customers", units)
    option["legend"] = {"top": 24, "itemGap": 8, "itemWidth": 14, "textStyle": {"fontSize": 11}}
    option["grid"][0]["top"] = 88  # room for the legend's two lines
    _mark_changes(option, marks)
    return option


def _per_firm_lines(option: dict[str, Any], values: np.ndarray, firm_names: Sequence[str], **extra: Any) -> None:
    for index, name in enumerate(firm_names):
        option["series"].append({
            "name": name, "type": "line", "symbol": "none", "color": firm_colour(index),
            "data": _values(values[:, index], 2), **extra,
        })  # fmt: skip


def market_share_option(history: Mapping[str, np.ndarray], firm_names: Sequence[str], units: Units = Units(),
                        marks: Marks | None = None) -> dict[str, Any]:  # fmt: skip
    option = _base("Market share (share of all customers)", _steps(history), y_name="market share (%)",
                   y_percent=True, units=units, file_name="market-share")  # fmt: skip
    option["yAxis"].update({"min": 0, "max": 100})
    _per_firm_lines(option, 100 * history["market_share"], firm_names)
    _mark_changes(option, marks)
    return option


def _two_panels(option: dict[str, Any], top_name: str, bottom_name: str, units: Units = Units()) -> None:
    """Turn a one-grid option into two stacked grids sharing the time axis."""
    steps = option["xAxis"]["data"]
    option["grid"] = [
        {"left": 76, "right": 24, "top": 64, "height": "28%"},
        {"left": 76, "right": 24, "bottom": 44, "height": "28%"},
    ]
    option["xAxis"] = [
        {"type": "category", "gridIndex": 0, "boundaryGap": False, "data": steps, "axisLabel": {"show": False}},
        {"type": "category", "gridIndex": 1, "boundaryGap": False, "data": steps, "name": units.time_axis,
         "nameLocation": "middle", "nameGap": 26},
    ]  # fmt: skip
    option["yAxis"] = [
        {"type": "value", "gridIndex": 0, "name": top_name, "nameTextStyle": {"align": "left"}},
        {"type": "value", "gridIndex": 1, "name": bottom_name, "nameTextStyle": {"align": "left"}},
    ]
    option["tooltip"] = {"trigger": "axis"}
    option["axisPointer"] = {"link": [{"xAxisIndex": "all"}]}


def money_option(history: Mapping[str, np.ndarray], firm_names: Sequence[str], units: Units = Units(),
                 marks: Marks | None = None) -> dict[str, Any]:  # fmt: skip
    """Revenue per step (top) and cumulative profit (bottom), one line per firm."""
    option = _base(f"Revenue and cumulative profit ({units.currency})", _steps(history), units=units,
                   file_name="revenue-profit")  # fmt: skip
    _per_firm_lines(option, history["revenue"], firm_names)
    _per_firm_lines(option, history["cumulative_profit"], firm_names, xAxisIndex=1, yAxisIndex=1)
    _two_panels(option, f"revenue ({units.currency} per {units.step_unit})", f"cumulative profit ({units.currency})", units)
    _mark_changes(option, marks)
    return option


def spend_option(history: Mapping[str, np.ndarray], firm: int, firm_name: str, units: Units = Units(),
                 marks: Marks | None = None) -> dict[str, Any]:  # fmt: skip
    """One firm's costs per step, stacked by channel and kind, so no channel hides another;
    each legend entry gives the total so far, so a channel that spent nothing is named too."""
    option = _base(f"Spend of {firm_name} per {units.step_unit}, by channel and kind", _steps(history),
                   y_name=f"spend ({units.currency} per {units.step_unit})", units=units,
                   file_name=f"spend-{firm_name}")  # fmt: skip
    option["legend"] = {"top": 24, "itemGap": 6, "itemWidth": 14, "textStyle": {"fontSize": 11}}
    option["grid"]["top"] = 96  # room for the legend's lines
    for column, label in SPEND_COLUMNS.items():
        total = float(np.nansum(history[column][:, firm]))
        option["series"].append({
            "name": f"{label} ({units.currency}{_short(total)})", "type": "line", "stack": "spend", "areaStyle": {},
            "symbol": "none", "lineStyle": {"width": 0}, "color": SPEND_COLOURS[column],
            "data": _values(history[column][:, firm], 2),
        })  # fmt: skip
    _mark_changes(option, marks)
    return option


def _short(value: float) -> str:
    """12,345 -> 12.3k: legend totals that stay short."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:,.0f}"


def sales_floor_option(history: Mapping[str, np.ndarray], firm_names: Sequence[str], units: Units = Units(),
                       marks: Marks | None = None) -> dict[str, Any]:  # fmt: skip
    """Leads waiting in each firm's queue (top) and the share of salespeople busy (bottom)."""
    option = _base("Lead queue and salesperson utilization", _steps(history), units=units, file_name="sales-floor")
    _per_firm_lines(option, history["queue_length"], firm_names)
    _per_firm_lines(option, 100 * history["utilization"], firm_names, xAxisIndex=1, yAxisIndex=1)
    _two_panels(option, "leads waiting", "salespeople busy (%)", units)
    option["yAxis"][1].update({"min": 0, "max": 100})
    _mark_changes(option, marks)
    return option


def network_option(positions: np.ndarray, edges: np.ndarray, stages: np.ndarray, rows: np.ndarray,
                   title: str, subtitle: str = "", details: Mapping[str, np.ndarray] | None = None,
                   units: Units = Units(), firm_name: str = "") -> dict[str, Any]:  # fmt: skip
    """The drawn consumers at their fixed positions, coloured by stage; hovering one shows its state.

    Edges are one silent line broken after every edge ("-" is ECharts' gap) and consumers one
    scatter series per stage. The browser draws that in tens of milliseconds, where ECharts'
    ``graph`` series took 150-250 ms per step (measured with 400 consumers and 1,300 edges).

    ``details`` holds, per drawn consumer, ``awareness`` (0-1, of the chosen firm), ``needs``
    (bool), ``willingness_to_pay`` and ``ties`` (network degree); hovering the consumer shows
    them.
    """
    points: list[Any] = np.column_stack([np.round(positions, 4), rows]).tolist()
    if details is not None:
        # ECharts' tooltip templates cannot reach a point's extra values, so each point carries
        # its description as its name; the tooltip keeps its line breaks (white-space: pre-line).
        of = f" of {firm_name}" if firm_name else ""
        awareness = np.round(100 * np.asarray(details["awareness"], dtype=float)).astype(int).tolist()
        needs = np.asarray(details["needs"], dtype=bool).tolist()
        pay = np.round(np.asarray(details["willingness_to_pay"], dtype=float)).astype(int).tolist()
        ties = np.asarray(details["ties"]).astype(int).tolist()
        labels = [STAGE_LABELS[int(code)] for code in stages.tolist()]
        points = [
            {"value": [x, y, int(row)],
             "name": f"consumer {int(row)}\nstage: {label}\nawareness{of}: {aware}%\n"
                     f"needs the product: {'yes' if need else 'no'}\nwilling to pay: {units.currency}{wtp:,}\nties: {degree}"}
            for (x, y, row), label, aware, need, wtp, degree in zip(points, labels, awareness, needs, pay, ties)
        ]  # fmt: skip
    edge_path: list[Any] = []
    for start, end in np.round(positions[edges], 4).tolist() if len(edges) else []:
        edge_path += [start, end, "-"]
    series: list[dict[str, Any]] = [{
        "name": "ties", "type": "line", "silent": True, "symbol": "none", "connectNulls": False,
        "lineStyle": {"color": "#90a4ae", "width": 0.6, "opacity": 0.5}, "z": 1, "data": edge_path,
        "tooltip": {"show": False},
    }]  # fmt: skip
    for code, (label, colour) in enumerate(zip(STAGE_LABELS, STAGE_COLOURS)):
        series.append({
            "name": label, "type": "scatter", "symbolSize": 8, "color": colour,
            "itemStyle": {"borderColor": "#ffffff", "borderWidth": 0.5},
            "emphasis": {"scale": 1.8, "itemStyle": {"borderColor": "#000000", "borderWidth": 1}},
            "data": [point for point, stage in zip(points, stages.tolist()) if stage == code],
        })  # fmt: skip
    tip = "{b}" if details is not None else "{a}"
    hidden_axis = {"type": "value", "show": False, "min": -1.08, "max": 1.08}
    return {
        "animation": False,
        "title": {"text": title, "subtext": subtitle, "left": "center", "textStyle": {"fontSize": 14},
                  "subtextStyle": {"lineHeight": 15}},
        "toolbox": _toolbox("network"),
        "tooltip": {"trigger": "item", "formatter": tip, "className": "funnelsim-tooltip",
                    "extraCssText": "white-space: pre-line;"},
        "legend": {"top": 62, "data": list(STAGE_LABELS)},
        "grid": {"left": 8, "right": 8, "top": 96, "bottom": 8},
        "xAxis": hidden_axis,
        "yAxis": dict(hidden_axis),
        "series": series,
    }


def stage_bar_option(counts: Sequence[int], population: int, title: str) -> dict[str, Any]:
    """The aggregated view: every consumer counted by stage, one stacked bar."""
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "toolbox": _toolbox("stages"),
        "tooltip": {"trigger": "item"},
        "legend": {"top": 24},
        "grid": {"left": 24, "right": 24, "top": 80, "bottom": 40},
        "xAxis": {"type": "value", "max": population, "name": "consumers", "nameLocation": "middle", "nameGap": 26},
        "yAxis": {"type": "category", "data": [""], "axisTick": {"show": False}},
        "series": [
            {"name": label, "type": "bar", "stack": "all", "color": colour, "data": [int(count)],
             "barWidth": "60%"}
            for label, colour, count in zip(STAGE_LABELS, STAGE_COLOURS, counts)
        ],
    }  # fmt: skip
