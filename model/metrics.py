"""What is measured: the per-step columns of the run table and the end-of-run summary.

The per-step row is built from the consumer arrays (stage counts) and the ledger in one pass,
never by looping over consumers. Derived measures are defined here once:

- market share: the firm's customers over all customers (0 while nobody has bought);
- penetration: the firm's customers over all consumers;
- marketing cost: channel spend plus marketers' pay; sales cost: salespeople's pay, commissions
  and referral rewards (discounts are revenue not taken, reported apart, never subtracted twice);
- customer acquisition cost: marketing plus sales cost over new customers, cumulatively;
- the lead queue: its mean length, the rate leads join it, and the mean wait of the leads that
  left it, by how they left (taken by a salesperson, bought on their own, went cold) and over
  all three; Little's law L = lambda W ties the three together (docs/validation.md);
- marketing return: gross margin (revenue minus cost of goods) per unit of marketing cost, and
  market share points per 1,000 of marketing cost; sales return: revenue closed by salespeople
  per unit of sales cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.agents.channel_codes import CHANNELS, TOUCH_NAMES
from funnelsim.agents.population import ConsumerState
from funnelsim.model.ledger import COST_ITEMS, ITEMS, Ledger

STAGE_COLUMNS = ("unaware", "aware", "leads", "customers", "rival_customers")

#: Running totals kept as columns, named ``cumulative_<item>``.
CUMULATIVE = (
    "revenue",
    "profit",
    "marketing_spend",
    "marketing_cost",
    "sales_cost",
    "new_customers",
    "new_customers_sales",
    "cost_of_goods",
    "deals_attempted",
    "deals_won",
    "leads_created",
    "leads_cold",
    "revenue_sales",
)

#: Every column of the run table after ``step`` and ``firm``, in order.
COLUMNS = (
    *STAGE_COLUMNS,
    "queue_length",
    "leads_in_progress",
    "salespeople",
    "utilization",
    *ITEMS,
    "marketing_spend",
    "marketing_cost",
    "sales_cost",
    "profit",
    "market_share",
    "penetration",
    *(f"cumulative_{item}" for item in CUMULATIVE),
)


def _is_count(column: str) -> bool:
    """Whether a column counts consumers, leads, deals or events (an integer in the table)."""
    base = column.removeprefix("cumulative_")
    return base in STAGE_COLUMNS or base.startswith(("new_customers", "leads_", "deals_")) or base in {
        "queue_length",
        "salespeople",
        "churned",
        "emails_sent",
        "unsubscribes",
        "consumers_reached",
        "salesperson_busy",
        "prospect_contacts",
    }


#: The integer columns of the run table.
COUNT_COLUMNS = tuple(column for column in COLUMNS if _is_count(column))


#: Where things sit in a row block (see :func:`firm_row_block`): rows of COLUMNS.
_POSITION = {column: index for index, column in enumerate(COLUMNS)}
_FIRST_ITEM = _POSITION[ITEMS[0]]
assert COLUMNS[_FIRST_ITEM : _FIRST_ITEM + len(ITEMS)] == ITEMS  # the ledger's rows are copied as one block
_ITEM = {item: index for index, item in enumerate(ITEMS)}
_SPEND = [_ITEM[f"spend_{channel}"] for channel in CHANNELS]
_COSTS = [_ITEM[item] for item in COST_ITEMS]
_CUMULATIVE_ITEMS = [(_POSITION[f"cumulative_{item}"], _ITEM[item]) for item in CUMULATIVE if item in _ITEM]


def firm_row_block(state: ConsumerState, ledger: Ledger, salespeople: np.ndarray, busy: np.ndarray) -> np.ndarray:
    """All columns for every firm at the end of a step, as one fresh (columns, firms) float array
    with rows in :data:`COLUMNS` order.

    The same numbers as :func:`firm_row`, built with a few block copies instead of a dict entry
    per column: a run collects a row every step, and for small populations the bookkeeping of
    building it used to cost as much as the step's rules.
    """
    firms = state.firms
    block = np.empty((len(COLUMNS), firms))
    counts = state.stage_counts()
    for column in STAGE_COLUMNS:
        block[_POSITION[column]] = counts[column]
    leads = np.flatnonzero(state.lead_of >= 0)
    worked = leads[state.being_worked[leads]]
    in_progress = np.bincount(state.lead_of[worked].astype(np.int64), minlength=firms)
    block[_POSITION["leads_in_progress"]] = in_progress
    block[_POSITION["queue_length"]] = counts["leads"] - in_progress
    block[_POSITION["salespeople"]] = salespeople
    block[_POSITION["utilization"]] = np.divide(busy, salespeople, out=np.zeros(firms), where=salespeople > 0)
    step_values, total_values = ledger._step_values, ledger._total_values
    block[_FIRST_ITEM : _FIRST_ITEM + len(ITEMS)] = step_values
    for values, prefix in ((step_values, ""), (total_values, "cumulative_")):
        # Summed row by row from zero, in the listed order, exactly as firm_row's sum() does.
        spend = sum(values[index] for index in _SPEND)
        block[_POSITION[f"{prefix}marketing_spend"]] = spend
        block[_POSITION[f"{prefix}marketing_cost"]] = spend + values[_ITEM["marketer_pay"]]
        block[_POSITION[f"{prefix}sales_cost"]] = (
            values[_ITEM["salesperson_pay"]] + values[_ITEM["commissions"]] + values[_ITEM["referral_rewards"]]
        )
        block[_POSITION[f"{prefix}profit"]] = values[_ITEM["revenue"]] - sum(values[index] for index in _COSTS)
    for position, item in _CUMULATIVE_ITEMS:
        block[position] = total_values[item]
    customers = counts["customers"]
    total = customers.sum()
    block[_POSITION["market_share"]] = customers / total if total > 0 else 0.0
    block[_POSITION["penetration"]] = customers / state.size
    return block


def firm_row(state: ConsumerState, ledger: Ledger, salespeople: np.ndarray, busy: np.ndarray) -> dict[str, np.ndarray]:
    """All columns for every firm at the end of a step, as arrays of length ``firms``."""
    row: dict[str, np.ndarray] = dict(state.stage_counts())
    leads = np.flatnonzero(state.lead_of >= 0)
    lead_firm = state.lead_of[leads].astype(np.int64)
    worked = state.being_worked[leads]
    row["leads_in_progress"] = np.bincount(lead_firm[worked], minlength=state.firms)
    row["queue_length"] = row["leads"] - row["leads_in_progress"]
    row["salespeople"] = salespeople
    row["utilization"] = np.divide(busy, salespeople, out=np.zeros(state.firms), where=salespeople > 0)
    row.update(ledger.step_copy())
    for book, prefix in ((ledger.step, ""), (ledger.total, "cumulative_")):
        spend = sum((book[f"spend_{channel}"] for channel in CHANNELS), start=np.zeros(state.firms))
        row[f"{prefix}marketing_spend"] = spend
        row[f"{prefix}marketing_cost"] = spend + book["marketer_pay"]
        row[f"{prefix}sales_cost"] = book["salesperson_pay"] + book["commissions"] + book["referral_rewards"]
        row[f"{prefix}profit"] = book["revenue"] - sum(book[item] for item in COST_ITEMS)
    for item in CUMULATIVE:
        if f"cumulative_{item}" not in row:
            row[f"cumulative_{item}"] = ledger.total[item].copy()
    customers = row["customers"]
    total = customers.sum()
    row["market_share"] = customers / total if total > 0 else np.zeros(state.firms)
    row["penetration"] = customers / state.size
    return row


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """End-of-run measures, one row per firm (and per replication if the table has that column)."""
    keys = [key for key in ("replication", "seed") if key in table.columns] + ["firm"]
    last = table.sort_values("step", kind="stable").groupby(keys, sort=False).tail(1).set_index(keys)
    grouped = table.groupby(keys, sort=False)
    summary = pd.DataFrame(index=last.index)
    summary["steps"] = last["step"]
    for column in ("customers", "market_share", "penetration"):
        summary[column] = last[column]
    for item in ("revenue", "profit", "marketing_cost", "sales_cost", "new_customers", "revenue_sales"):
        summary[item] = last[f"cumulative_{item}"]
    gross_margin = last["cumulative_revenue"] - last["cumulative_cost_of_goods"]
    costs = last["cumulative_marketing_cost"] + last["cumulative_sales_cost"]
    summary["acquisition_cost"] = _ratio(costs, last["cumulative_new_customers"])
    summary["marketing_return"] = _ratio(gross_margin, last["cumulative_marketing_cost"])
    summary["share_per_1k_marketing"] = _ratio(100.0 * last["market_share"], last["cumulative_marketing_cost"] / 1000.0)
    summary["sales_return"] = _ratio(last["cumulative_revenue_sales"], last["cumulative_sales_cost"])
    summary["win_rate"] = _ratio(last["cumulative_deals_won"], last["cumulative_deals_attempted"])
    summary["lead_conversion"] = _ratio(last["cumulative_new_customers"], last["cumulative_leads_created"])
    summary["leads_cold"] = last["cumulative_leads_cold"]
    summary["utilization"] = grouped["utilization"].mean()
    summary["mean_queue_length"] = grouped["queue_length"].mean()
    waits = ["lead_wait_total", "leads_taken", "self_serve_wait_total", "new_customers_self_serve", "cold_wait_total", "leads_cold"]
    waits += ["switch_wait_total", "leads_lost_to_rival", "leads_won_from_rival", "leads_prospected"]
    sums = grouped[[*waits, *_attribution_columns()]].sum()
    summary["mean_lead_wait"] = _ratio(sums["lead_wait_total"], sums["leads_taken"])
    # Every way out of the queue, for Little's law: steps counted from joining to leaving it.
    summary["mean_wait_self_serve"] = _ratio(sums["self_serve_wait_total"], sums["new_customers_self_serve"])
    summary["mean_wait_cold"] = _ratio(sums["cold_wait_total"], sums["leads_cold"])
    # A lead that moves to a rival leaves this queue (after its wait) and arrives in the rival's;
    # a prospect is worked at once and never joins a queue.
    left = sums["leads_taken"] + sums["new_customers_self_serve"] + sums["leads_cold"] + sums["leads_lost_to_rival"]
    waited = sums["lead_wait_total"] + sums["self_serve_wait_total"] + sums["cold_wait_total"] + sums["switch_wait_total"]
    summary["mean_queue_wait"] = _ratio(waited, left)
    arrivals = last["cumulative_leads_created"] - sums["leads_prospected"] + sums["leads_won_from_rival"]
    summary["lead_arrival_rate"] = _ratio(arrivals, last["step"])
    for column in _attribution_columns():
        summary[column] = sums[column]
    return summary.reset_index()


def _attribution_columns() -> list[str]:
    return [f"revenue_{which}_touch_{name}" for which in ("first", "last") for name in TOUCH_NAMES]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is zero (an undefined return, not 0)."""
    return numerator.astype(float).div(denominator.astype(float).where(denominator != 0))
