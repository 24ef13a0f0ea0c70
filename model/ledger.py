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

#: Row of each item in the ledger's (items, firms) arrays.
ITEM_ROW = {item: row for row, item in enumerate(ITEMS)}
_ROWS: dict[tuple[str, ...], np.ndarray] = {}  # rows of the item tuples given to Ledger.add_items


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

    def add_items(self, items: tuple[str, ...], firm_index: int, amounts: np.ndarray) -> None:
        """Add ``amounts[i]`` to ``items[i]`` (distinct items) of firm ``firm_index``: one array operation
        instead of an :meth:`add` per item, with the same sums."""
        self._step_values[self.step_rows(items), firm_index] += amounts

    def step_values(self) -> np.ndarray:
        """This step's amounts as one (items, firms) array, for compiled code that adds to them
        directly (rows by :meth:`step_rows`)."""
        return self._step_values

    def step_rows(self, items: tuple[str, ...]) -> np.ndarray:
        """The rows of ``items`` in :meth:`step_values`."""
        rows = _ROWS.get(items)
        if rows is None:
            rows = _ROWS[items] = np.array([ITEM_ROW[item] for item in items], dtype=np.intp)
        return rows

    def add_per_firm(self, item: str, firm_indices: np.ndarray, amounts: np.ndarray | float = 1.0) -> None:
        """Add amounts for many events at once; ``firm_indices`` gives each event's firm."""
        if isinstance(amounts, float) and amounts == 1.0:
            # Counting events: the same sums as weights of 1.0 (whole numbers, exact), without them.
            self.step[item] += np.bincount(firm_indices, minlength=self.firms)
            return
        weights = amounts if isinstance(amounts, np.ndarray) and amounts.shape == firm_indices.shape else np.broadcast_to(amounts, firm_indices.shape)
        self.step[item] += np.bincount(firm_indices, weights=weights, minlength=self.firms)

    def close_step(self) -> None:
        self._total_values += self._step_values

    def step_copy(self) -> dict[str, np.ndarray]:
        """This step's amounts by item, as rows of one fresh array."""
        return dict(zip(ITEMS, self._step_values.copy()))

    def profit(self, totals: bool = False) -> np.ndarray:
        book = self.total if totals else self.step
        return book["revenue"] - sum(book[item] for item in COST_ITEMS)
