"""The ledger: money and deal counts per firm per step, and their running totals.

Every amount the model moves goes through :meth:`Ledger.add`, so profit is by construction
revenue minus the sum of the cost items listed in :data:`COST_ITEMS`, and nothing is counted in
two places.
"""

from __future__ import annotations

import numpy as np

from funnelsim.agents.channel_codes import CHANNELS, TOUCH_NAMES

#: Costs that are subtracted from revenue to give profit.
COST_ITEMS = (
    "cost_of_goods",
    *(f"spend_{channel}" for channel in CHANNELS),
    "marketer_pay",
    "salesperson_pay",
    "commissions",
    "referral_rewards",
)

#: Amounts and counts kept per step that are not costs.
OTHER_ITEMS = (
    "revenue",
    "revenue_sales",
    "revenue_self_serve",
    "discounts",
    "new_customers",
    "new_customers_sales",
    "new_customers_self_serve",
    "new_customers_referred",
    "leads_created",
    "leads_referred",
    "leads_cold",
    "deals_attempted",
    "deals_won",
    "churned",
    "emails_sent",
    "unsubscribes",
    "impressions",
    "consumers_reached",
    "leads_taken",
    "lead_wait_total",
    "self_serve_wait_total",  # steps in the queue of the leads that bought on their own
    "cold_wait_total",  # steps in the queue of the leads that went cold
    "salesperson_busy",
    *(f"revenue_first_touch_{name}" for name in TOUCH_NAMES),
    *(f"revenue_last_touch_{name}" for name in TOUCH_NAMES),
    # Outbound prospecting and competition for waiting leads (kept last so earlier columns keep their place).
    "prospect_contacts",
    "leads_prospected",
    "new_customers_prospected",
    "leads_won_from_rival",
    "leads_lost_to_rival",
    "switch_wait_total",
)

ITEMS = OTHER_ITEMS + COST_ITEMS


class Ledger:
    """Per-step amounts for each firm, reset at the start of every step, plus running totals.

    The amounts live in two (items, firms) arrays; ``step[item]`` and ``total[item]`` are views
    of their rows, so opening and closing a step are one array operation each.
    """

    def __init__(self, firms: int):
        self.firms = firms
        self._step_values = np.zeros((len(ITEMS), firms))
        self._total_values = np.zeros((len(ITEMS), firms))
        self._bind_views()

    def _bind_views(self) -> None:
        self.step = dict(zip(ITEMS, self._step_values))
        self.total = dict(zip(ITEMS, self._total_values))

    def __getstate__(self) -> dict:
        # Views would unpickle as separate arrays; keep the two blocks and rebuild the views.
        return {"firms": self.firms, "_step_values": self._step_values, "_total_values": self._total_values}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind_views()

    def open_step(self) -> None:
        self._step_values.fill(0.0)

    def add(self, item: str, firm_index: int, amount: float) -> None:
        self.step[item][firm_index] += amount

    def add_per_firm(self, item: str, firm_indices: np.ndarray, amounts: np.ndarray | float = 1.0) -> None:
        """Add amounts for many events at once; ``firm_indices`` gives each event's firm."""
        self.step[item] += np.bincount(firm_indices, weights=np.broadcast_to(amounts, firm_indices.shape), minlength=self.firms)

    def close_step(self) -> None:
        self._total_values += self._step_values

    def step_copy(self) -> dict[str, np.ndarray]:
        """This step's amounts by item, as rows of one fresh array."""
        return dict(zip(ITEMS, self._step_values.copy()))

    def profit(self, totals: bool = False) -> np.ndarray:
        book = self.total if totals else self.step
        return book["revenue"] - sum(book[item] for item in COST_ITEMS)
