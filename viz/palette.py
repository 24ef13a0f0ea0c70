"""The colours of every picture funnelsim draws: the page's charts and the PNG figures.

One place, so a firm has the same colour on the page and in the figures a run writes, and so
colours that mean something else (channels, kinds of cost, funnel stages) are kept apart from
the firms' colours. Plain hex strings, usable by ECharts and matplotlib alike; this module
imports nothing.
"""

from __future__ import annotations

#: Firm colours in firm order: matplotlib's "tab10", repeated past ten firms.
FIRM_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip

#: Marketing channels (ColorBrewer "Dark2"): a different meaning, so none is a firm colour.
CHANNEL_COLOURS = {"email": "#1b9e77", "blogging": "#7570b3", "media": "#e7298a", "jingles": "#a6761d"}

#: Other costs beside the channels, and the two kinds of cost in the figures: greys and
#: browns that no firm or channel uses.
COST_COLOURS = {
    "marketer_pay": "#bdbdbd",
    "salesperson_pay": "#737373",
    "commissions": "#d9b38c",
    "referral_rewards": "#5c4033",
    "marketing_cost": "#b08d57",
    "sales_cost": "#525252",
}

#: Funnel stages relative to one firm, in stage-code order (unaware, aware, lead, customer,
#: customer of a rival).
STAGE_COLOURS = ("#cfd8dc", "#90caf9", "#ffb300", "#1b5e20", "#8e24aa")


def firm_colour(index: int) -> str:
    """The colour of the firm at ``index`` (0-based)."""
    return FIRM_COLOURS[index % len(FIRM_COLOURS)]
