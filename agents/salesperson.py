"""Salespeople work one lead at a time, for a sales cycle of several steps, then close or lose it.

Capacity is the binding fact: a salesperson resolves one lead per cycle, each cycle drawn per
deal around a mean of ``cycle`` steps, so a firm with S salespeople closes on average at most
S / cycle deals per step however many leads it has.
Which waiting lead an idle salesperson takes is the firm's policy (:func:`leads_by_policy`). A
salesperson with no lead to take prospects (:func:`prospect`); a prospect who agrees to a meeting
is taken like any lead, flagged ``prospected`` so a won deal is counted as prospected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mesa
import numpy as np

from funnelsim.agents.delays import draw_delays
from funnelsim.agents.funnel import end_lead, paid_price, purchase
from funnelsim.agents.population import NOBODY, ConsumerState
from funnelsim.agents.protocols import FirmLike, LedgerLike, MarketLike


class Salesperson(mesa.Agent):
    def __init__(self, model: mesa.Model, firm_index: int, skill: float):
        super().__init__(model)
        self.firm_index = firm_index
        self.skill = skill
        self.lead = NOBODY  # consumer row being worked, or NOBODY when idle
        self.steps_left = 0
        self.lead_wait = 0  # steps the current lead waited before being taken
        self.prospected = False  # the current lead was found by cold outreach
        self.deals_won = 0
        self.deals_attempted = 0
        self.busy_steps = 0
        self.cycle_length = 0  # drawn length of the current deal's cycle
        self.cycles_completed_steps = 0  # sum of the drawn cycles of every resolved deal

    @property
    def firm(self) -> FirmLike:
        return self.model.scenario.firms[self.firm_index]

    @property
    def idle(self) -> bool:
        return self.lead == NOBODY

    def cycle_steps(self) -> int:
        """Mean cycle: commission shortens it, each 10% of commission cutting it by commission_speedup.
        Each deal's own cycle is drawn around this mean (:meth:`take`)."""
        sales = self.firm.sales
        factor = max(0.0, 1.0 - sales.commission_speedup * sales.commission / 0.1)
        return max(1, math.ceil(sales.cycle_steps * factor - 1e-9))

    def take(self, lead: int, prospected: bool = False) -> None:
        state = self.model.consumers
        self.lead = int(lead)
        self.prospected = prospected
        # A drawn cycle per deal (gamma around the mean, at least a step), so salespeople hired
        # together do not finish in lock-step forever.
        self.cycle_length = int(draw_delays(self.cycle_steps(), self.firm.sales.cycle_cv, 1, self.model.rng, minimum=1)[0])
        self.steps_left = self.cycle_length
        self.lead_wait = int(self.model.steps - state.lead_since[lead])
        state.being_worked[lead] = True

    def close_chance(self) -> float:
        """Skill, effort bought by commission, product quality, the lead's awareness, price
        acceptance and freshness multiply. Freshness is ``max(lead_freshness_floor,
        0.5 ** (wait / lead_half_life))``: a lead cools while it waits, down to a floor."""
        firm, market, state = self.firm, self.model.scenario.market, self.model.consumers
        lead = self.lead
        effort = 1.0 + firm.sales.commission_effort * firm.sales.commission
        keen = 0.5 + 0.5 * state.awareness[self.firm_index, lead]
        price_ok = state.price_acceptance(self.firm_index, paid_price(firm), market.price_scale)[lead]
        # Leads cool fast, then level off: contacted after a day or more, a lead still converts at
        # about 1/60 of the first hour's rate (Oldroyd et al. 2011), so the decay stops at a floor.
        freshness = max(market.lead_freshness_floor, 0.5 ** (self.lead_wait / market.lead_half_life))
        quality = 0.5 + 0.5 * firm.quality
        return float(min(1.0, self.skill * effort * quality * keen * price_ok * freshness))

    def step(self) -> None:
        """Work the current lead one step; at the end of the cycle, close it or lose it."""
        if self.idle:
            return
        self.busy_steps += 1
        self.steps_left -= 1
        if self.steps_left > 0:
            return
        model, f = self.model, self.firm_index
        ledger, state = model.ledger, model.consumers
        lead = np.array([self.lead])
        self.deals_attempted += 1
        self.cycles_completed_steps += self.cycle_length
        ledger.add("deals_attempted", f, 1)
        if model.rng.random() < self.close_chance():
            revenue = purchase(state, ledger, f, self.firm, lead, model.steps, model.rng, model.scenario.market.heterogeneity)
            self.deals_won += 1
            ledger.add("deals_won", f, 1)
            ledger.add("new_customers_sales", f, 1)
            ledger.add("revenue_sales", f, revenue)
            ledger.add("commissions", f, revenue * self.firm.sales.commission)
            if self.prospected:
                ledger.add("new_customers_prospected", f, 1)
        else:
            end_lead(state, lead, model.scenario.market, model.steps, model.rng)
        self.lead = NOBODY


def leads_by_policy(
    state: ConsumerState, firm_index: int, firm: FirmLike, market: MarketLike, leads: np.ndarray, count: int
) -> np.ndarray:
    """The ``count`` leads of ``leads`` (the firm's waiting leads) an idle salesforce takes first,
    in order, by the firm's ``sales.policy``."""
    if leads.size == 0:
        return leads
    policy = firm.sales.policy
    if policy == "fifo":
        key = state.lead_since[leads].astype(float)
    elif policy == "newest":
        key = -state.lead_since[leads].astype(float)
    else:  # best_score: keenest, best-fitting leads first
        fit = state.price_acceptance(firm_index, paid_price(firm), market.price_scale)[leads]
        key = -(state.awareness[firm_index, leads] * fit)
    count = min(count, leads.size)
    # Stable order: ties go to the lower consumer row, so results do not depend on sorting luck.
    first = np.lexsort((leads, key))[:count] if leads.size <= 4 * count else _smallest(key, leads, count)
    return leads[first]


def _smallest(key: np.ndarray, leads: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` smallest keys (ties by row), without sorting everything."""
    threshold = np.partition(key, count - 1)[count - 1]
    candidates = np.flatnonzero(key <= threshold)
    order = np.lexsort((leads[candidates], key[candidates]))
    return candidates[order[:count]]


def prospect(
    idle: Sequence[Salesperson],
    state: ConsumerState,
    firm_index: int,
    firm: FirmLike,
    market: MarketLike,
    ledger: LedgerLike,
    step: int,
    rng: np.random.Generator,
) -> None:
    """Outbound prospecting: each idle salesperson calls consumers who are nobody's lead or
    customer, one at a time, until one agrees to a meeting or the step's contacts run out.

    A contact is drawn at random from the firm's reachable consumers who are free (no lead,
    no customer of any firm, not cooling down); it agrees with chance ``prospect_response x
    price acceptance`` if in the market, never otherwise. The one who agrees becomes the
    firm's lead and is worked at once by the salesperson who found them. Every salesperson
    draws the same number of numbers whatever happens, so runs stay comparable (common
    random numbers).
    """
    sales = firm.sales
    free = np.flatnonzero(
        state.reachable[firm_index] & (state.customer_of == NOBODY) & (state.lead_of == NOBODY) & (state.next_lead_step <= step)
    )
    contacts = sales.prospect_contacts
    for person in idle:
        picks = rng.integers(0, max(free.size, 1), contacts)
        draws = rng.random(contacts)
        if free.size == 0:
            continue
        called = free[picks]
        # Someone another salesperson signed up a moment ago is no longer free.
        still_free = state.lead_of[called] == NOBODY
        chance = sales.prospect_response * state.in_market[called] * still_free
        chance *= state.price_acceptance(firm_index, paid_price(firm), market.price_scale)[called]
        agreed = np.flatnonzero(draws < chance)
        made = contacts if agreed.size == 0 else int(agreed[0]) + 1
        ledger.add("prospect_contacts", firm_index, made)
        if agreed.size == 0:
            continue
        found = int(called[agreed[0]])
        state.lead_of[found] = firm_index
        state.lead_since[found] = step
        state.referred_by[found] = NOBODY
        # Agreeing to a meeting makes the prospect at least as keen as their interest threshold.
        state.awareness[firm_index, found] = max(state.awareness[firm_index, found], state.interest_threshold[found])
        person.take(found, prospected=True)
        ledger.add("leads_created", firm_index, 1)
        ledger.add("leads_prospected", firm_index, 1)
