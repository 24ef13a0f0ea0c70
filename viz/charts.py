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
from typing import Any

import numpy as np

from funnelsim.model.scenario import CHANNELS
from funnelsim.model.state import STAGE_NAMES

#: Colours of the funnel stages, in stage-code order (unaware, aware, lead, customer, rival).
STAGE_COLOURS = ("#cfd8dc", "#64b5f6", "#ffb300", "#2e7d32", "#c62828")

#: Stage labels as the page shows them for one chosen firm.
STAGE_LABELS = ("unaware", "aware", "lead", "customer", "customer of a rival")

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

#: Firm colours (ECharts' own palette, repeated past ten firms).
FIRM_COLOURS = ("#5470c6", "#ee6666", "#91cc75", "#fac858", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc", "#888888")

assert len(STAGE_NAMES) == len(STAGE_LABELS)


def read_history(model, columns: Sequence[str] = HISTORY_COLUMNS) -> dict[str, np.ndarray]:
    """The collected rows so far, column by column, as (steps + 1, firms) float arrays."""
    return {column: model.history(column) for column in columns}


def _values(array: np.ndarray, digits: int = 4) -> list[float | None]:
    """JSON-safe numbers (NaN and infinities become gaps) rounded to keep messages small."""
    return [None if not math.isfinite(value) else round(value, digits) for value in array.tolist()]


def _base(title: str, steps: int, *, y_name: str = "", y_percent: bool = False) -> dict[str, Any]:
    """What every time chart shares: no animation (steps come fast), a tooltip, a legend."""
    axis_label = {"formatter": "{value}%"} if y_percent else {}
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 24, "type": "scroll"},
        "grid": {"left": 64, "right": 24, "top": 64, "bottom": 40},
        "xAxis": {"type": "category", "name": "step", "nameLocation": "middle", "nameGap": 26,
                  "boundaryGap": False, "data": list(range(steps))},
        "yAxis": {"type": "value", "name": y_name, "axisLabel": axis_label},
        "series": [],
    }  # fmt: skip


def _steps(history: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(history.values())))


def funnel_option(history: Mapping[str, np.ndarray], firm: int, firm_name: str) -> dict[str, Any]:
    """Consumers by funnel stage for one firm over time.

    In the run table unaware, aware, leads and customers partition the population (a rival's
    customer counts as aware or unaware of this firm), so those four are stacked, and the
    rivals' customers are drawn as a line across them.
    """
    option = _base(f"Funnel for {firm_name}: consumers by stage", _steps(history))
    for column, label, colour in zip(STAGE_COLUMNS[:4], STAGE_LABELS[:4], STAGE_COLOURS[:4]):
        option["series"].append({
            "name": label, "type": "line", "stack": "funnel", "areaStyle": {}, "symbol": "none",
            "lineStyle": {"width": 0}, "color": colour, "data": _values(history[column][:, firm], 0),
        })  # fmt: skip
    option["series"].append({
        "name": "customers of rivals", "type": "line", "symbol": "none", "color": STAGE_COLOURS[4],
        "lineStyle": {"type": "dashed", "width": 2}, "data": _values(history[STAGE_COLUMNS[4]][:, firm], 0),
    })  # fmt: skip
    return option


def _per_firm_lines(option: dict[str, Any], values: np.ndarray, firm_names: Sequence[str], **extra: Any) -> None:
    for index, name in enumerate(firm_names):
        option["series"].append({
            "name": name, "type": "line", "symbol": "none", "color": FIRM_COLOURS[index % len(FIRM_COLOURS)],
            "data": _values(values[:, index], 2), **extra,
        })  # fmt: skip


def market_share_option(history: Mapping[str, np.ndarray], firm_names: Sequence[str]) -> dict[str, Any]:
    option = _base("Market share", _steps(history), y_percent=True)
    option["yAxis"].update({"min": 0, "max": 100})
    _per_firm_lines(option, 100 * history["market_share"], firm_names)
    return option


def _two_panels(option: dict[str, Any], top_name: str, bottom_name: str) -> None:
    """Turn a one-grid option into two stacked grids sharing the step axis."""
    steps = option["xAxis"]["data"]
    option["grid"] = [
        {"left": 72, "right": 24, "top": 64, "height": "28%"},
        {"left": 72, "right": 24, "bottom": 40, "height": "28%"},
    ]
    option["xAxis"] = [
        {"type": "category", "gridIndex": 0, "boundaryGap": False, "data": steps, "axisLabel": {"show": False}},
        {"type": "category", "gridIndex": 1, "boundaryGap": False, "data": steps, "name": "step",
         "nameLocation": "middle", "nameGap": 26},
    ]  # fmt: skip
    option["yAxis"] = [
        {"type": "value", "gridIndex": 0, "name": top_name},
        {"type": "value", "gridIndex": 1, "name": bottom_name},
    ]
    option["tooltip"] = {"trigger": "axis"}
    option["axisPointer"] = {"link": [{"xAxisIndex": "all"}]}


def money_option(history: Mapping[str, np.ndarray], firm_names: Sequence[str]) -> dict[str, Any]:
    """Revenue per step (top) and cumulative profit (bottom), one line per firm."""
    option = _base("Revenue and cumulative profit", _steps(history))
    _per_firm_lines(option, history["revenue"], firm_names)
    _per_firm_lines(option, history["cumulative_profit"], firm_names, xAxisIndex=1, yAxisIndex=1)
    _two_panels(option, "revenue per step", "cumulative profit")
    return option


def spend_option(history: Mapping[str, np.ndarray], firm: int, firm_name: str) -> dict[str, Any]:
    """One firm's costs per step, stacked by channel and kind."""
    option = _base(f"Spend per step of {firm_name}, by channel and kind", _steps(history))
    option["legend"] = {"top": 24, "itemGap": 6, "itemWidth": 14, "textStyle": {"fontSize": 11}}
    option["grid"]["top"] = 92  # room for the legend's two lines
    for column, label in SPEND_COLUMNS.items():
        option["series"].append({
            "name": label, "type": "line", "stack": "spend", "areaStyle": {}, "symbol": "none",
            "lineStyle": {"width": 0}, "data": _values(history[column][:, firm], 2),
        })  # fmt: skip
    return option


def sales_floor_option(history: Mapping[str, np.ndarray], firm_names: Sequence[str]) -> dict[str, Any]:
    """Leads waiting in each firm's queue (top) and the share of salespeople busy (bottom)."""
    option = _base("Lead queue and salesperson utilization", _steps(history))
    _per_firm_lines(option, history["queue_length"], firm_names)
    _per_firm_lines(option, 100 * history["utilization"], firm_names, xAxisIndex=1, yAxisIndex=1)
    _two_panels(option, "leads waiting", "utilization %")
    option["yAxis"][1].update({"min": 0, "max": 100})
    return option


def network_option(positions: np.ndarray, edges: np.ndarray, stages: np.ndarray, rows: np.ndarray,
                   title: str, subtitle: str = "") -> dict[str, Any]:  # fmt: skip
    """The drawn consumers at their fixed positions, coloured by stage.

    Edges are one silent line broken after every edge ("-" is ECharts' gap) and consumers one
    scatter series per stage. The browser draws that in tens of milliseconds, where ECharts'
    ``graph`` series took 150-250 ms per step (measured with 400 consumers and 1,300 edges).
    """
    points = np.column_stack([np.round(positions, 4), rows]).tolist()
    edge_path: list[Any] = []
    for start, end in np.round(positions[edges], 4).tolist() if len(edges) else []:
        edge_path += [start, end, "-"]
    series: list[dict[str, Any]] = [{
        "name": "ties", "type": "line", "silent": True, "symbol": "none", "connectNulls": False,
        "lineStyle": {"color": "#90a4ae", "width": 0.6, "opacity": 0.5}, "z": 1, "data": edge_path,
    }]  # fmt: skip
    for code, (label, colour) in enumerate(zip(STAGE_LABELS, STAGE_COLOURS)):
        series.append({
            "name": label, "type": "scatter", "symbolSize": 7, "color": colour,
            "itemStyle": {"borderColor": "#ffffff", "borderWidth": 0.5},
            "data": [point for point, stage in zip(points, stages.tolist()) if stage == code],
        })  # fmt: skip
    hidden_axis = {"type": "value", "show": False, "min": -1.08, "max": 1.08}
    return {
        "animation": False,
        "title": {"text": title, "subtext": subtitle, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item", "formatter": "consumer {@[2]}: {a}"},
        "legend": {"top": 44, "data": list(STAGE_LABELS)},
        "grid": {"left": 8, "right": 8, "top": 80, "bottom": 8},
        "xAxis": hidden_axis,
        "yAxis": dict(hidden_axis),
        "series": series,
    }


def stage_bar_option(counts: Sequence[int], population: int, title: str) -> dict[str, Any]:
    """The aggregated view: every consumer counted by stage, one stacked bar."""
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
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
