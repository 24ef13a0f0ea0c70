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
from funnelsim.agents.population import STAGE_BLOCK_ROWS, ConsumerState
from funnelsim.compiled import kernel
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
_CUMULATIVE_POSITIONS = [position for position, _ in _CUMULATIVE_ITEMS]
_CUMULATIVE_ROWS = [row for _, row in _CUMULATIVE_ITEMS]
#: Rows of the block for a derived measure: this step's, then the running total's.
_DERIVED = {name: [_POSITION[name], _POSITION[f"cumulative_{name}"]] for name in ("marketing_spend", "marketing_cost", "sales_cost", "profit")}


def firm_row_block(state: ConsumerState, ledger: Ledger, salespeople: np.ndarray, busy: np.ndarray) -> np.ndarray:
    """All columns for every firm at the end of a step, as one fresh (columns, firms) float array
    with rows in :data:`COLUMNS` order.

    The same numbers as :func:`firm_row`, filled by one compiled call (:func:`_fill_row_block`)
    instead of an array operation per column: a run collects a row every step, and for small
    populations the bookkeeping of building it used to cost as much as the step's rules.
    """
    block = np.empty((len(COLUMNS), state.firms))
    _fill_row_block(
        block,
        state.stage_count_block(),
        np.asarray(salespeople, dtype=float),
        np.asarray(busy, dtype=float),
        ledger._step_values,
        ledger._total_values,
        state.size,
        *_LAYOUT,
    )
    return block


#: Where :func:`_fill_row_block` finds and puts things (passed in, not read as globals, so a
#: kernel cached on disk never keeps a layout from an older ledger). ``derived_at`` lists the
#: measures of ``_DERIVED`` in its order: marketing spend, marketing cost, sales cost, profit.
_LAYOUT = (
    _FIRST_ITEM,
    _POSITION["salespeople"],
    _POSITION["utilization"],
    _POSITION["customers"],
    _POSITION["market_share"],
    _POSITION["penetration"],
    np.array(_SPEND, dtype=np.int64),
    np.array(_COSTS, dtype=np.int64),
    np.array([_ITEM[item] for item in ("marketer_pay", "salesperson_pay", "commissions", "referral_rewards", "revenue")]),
    np.array([[_DERIVED[name][book] for name in _DERIVED] for book in (0, 1)]),  # derived_at
    np.array(_CUMULATIVE_POSITIONS, dtype=np.int64),
    np.array(_CUMULATIVE_ROWS, dtype=np.int64),
)
assert COLUMNS[: len(STAGE_BLOCK_ROWS)] == STAGE_BLOCK_ROWS  # the stage counts are copied as one block


@kernel
def _fill_row_block(
    block: np.ndarray,
    stage_counts: np.ndarray,
    salespeople: np.ndarray,
    busy: np.ndarray,
    step_values: np.ndarray,
    total_values: np.ndarray,
    size: int,
    first_item: int,
    salespeople_at: int,
    utilization_at: int,
    customers_at: int,
    market_share_at: int,
    penetration_at: int,
    spend_rows: np.ndarray,
    cost_rows: np.ndarray,
    money_rows: np.ndarray,
    derived_at: np.ndarray,
    cumulative_at: np.ndarray,
    cumulative_rows: np.ndarray,
) -> None:
    """Fill the row ``block`` as :func:`firm_row` computes it, column for column.

    The stage counts (:meth:`ConsumerState.stage_count_block`) are its first rows and this step's
    ledger items follow the salesforce's two columns; utilization is busy over salespeople (0
    without any); for this step's amounts and for the running totals (book 0 and 1 of
    ``derived_at``), marketing spend is the spend items added one by one from the first, marketing
    cost adds marketers' pay to it, sales cost is salespeople's pay + commissions + referral
    rewards, and profit is revenue minus the cost items added one by one from the first: the
    additions in the order :func:`firm_row` makes them, so the same floating-point sums
    (``firm_row``'s ``sum()`` starts from 0, and ledger amounts are never -0.0, so that changes
    nothing). Market
    share is customers over all customers (0 while there are none), penetration customers over
    ``size``. ``money_rows`` are the ledger rows of marketers' pay, salespeople's pay, commissions,
    referral rewards and revenue.
    """
    firms = block.shape[1]
    marketer_pay, salesperson_pay, commissions = money_rows[0], money_rows[1], money_rows[2]
    referral_rewards, revenue = money_rows[3], money_rows[4]
    for row in range(stage_counts.shape[0]):
        for f in range(firms):
            block[row, f] = stage_counts[row, f]
    for f in range(firms):
        block[salespeople_at, f] = salespeople[f]
        block[utilization_at, f] = busy[f] / salespeople[f] if salespeople[f] > 0 else 0.0
    for item in range(step_values.shape[0]):
        for f in range(firms):
            block[first_item + item, f] = step_values[item, f]
    for book in range(2):
        values = step_values if book == 0 else total_values
        for f in range(firms):
            spend = values[spend_rows[0], f]
            for k in range(1, spend_rows.size):
                spend = spend + values[spend_rows[k], f]
            costs = values[cost_rows[0], f]
            for k in range(1, cost_rows.size):
                costs = costs + values[cost_rows[k], f]
            block[derived_at[book, 0], f] = spend
            block[derived_at[book, 1], f] = spend + values[marketer_pay, f]
            block[derived_at[book, 2], f] = values[salesperson_pay, f] + values[commissions, f] + values[referral_rewards, f]
            block[derived_at[book, 3], f] = values[revenue, f] - costs
    for k in range(cumulative_at.size):
        for f in range(firms):
            block[cumulative_at[k], f] = total_values[cumulative_rows[k], f]
    total = 0.0
    for f in range(firms):
        total += block[customers_at, f]  # whole numbers: exact in any order
    for f in range(firms):
        customers = block[customers_at, f]
        block[market_share_at, f] = customers / total if total > 0 else 0.0
        block[penetration_at, f] = customers / size


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
