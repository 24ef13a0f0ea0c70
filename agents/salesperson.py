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

from funnelsim.agents import numpy_c
from funnelsim.agents.delays import draw_delays
from funnelsim.agents.funnel import end_lead, paid_price, purchase
from funnelsim.agents.population import NOBODY, ConsumerState, rows_where
from funnelsim.agents.protocols import FirmLike, LedgerLike, MarketLike
from funnelsim.compiled import kernel


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
        model = self.model
        state = model.consumers
        lead = self.lead = int(lead)  # a Python int indexes the arrays faster than a numpy one
        self.prospected = prospected
        # A drawn cycle per deal (gamma around the mean, at least a step), so salespeople hired
        # together do not finish in lock-step forever.
        cycle_cv = model.scenario.firms[self.firm_index].sales.cycle_cv
        self.cycle_length = int(draw_delays(self.cycle_steps(), cycle_cv, 1, model.rng, minimum=1)[0])
        self.steps_left = self.cycle_length
        self.lead_wait = int(model.steps - state.lead_since[lead])
        state.being_worked[lead] = True

    def close_chance(self) -> float:
        """Skill, effort bought by commission, product quality, the lead's awareness, price
        acceptance and freshness multiply. Freshness is ``max(lead_freshness_floor,
        0.5 ** (wait / lead_half_life))``: a lead cools while it waits, down to a floor."""
        firm, market, state = self.firm, self.model.scenario.market, self.model.consumers
        lead = self.lead
        effort = 1.0 + firm.sales.commission_effort * firm.sales.commission
        # Python floats (the same doubles as the array elements) multiply faster than numpy scalars.
        keen = 0.5 + 0.5 * float(state.awareness[self.firm_index, lead])
        price_ok = float(state.price_acceptance(self.firm_index, paid_price(firm), market.price_scale)[lead])
        # Leads cool fast, then level off: contacted after a day or more, a lead still converts at
        # about 1/60 of the first hour's rate (Oldroyd et al. 2011), so the decay stops at a floor.
        freshness = max(market.lead_freshness_floor, 0.5 ** (self.lead_wait / market.lead_half_life))
        quality = 0.5 + 0.5 * firm.quality
        return float(min(1.0, self.skill * effort * quality * keen * price_ok * freshness))

    def step(self) -> None:
        """Work the current lead one step; at the end of the cycle, close it or lose it."""
        if self.lead == NOBODY:  # idle (the property's test, without the call)
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
    in order, by the firm's ``sales.policy``.

    Each lead has a key and the smallest keys go first; ties go to the lower consumer row, so
    results do not depend on sorting luck. ``fifo``'s key is the step the lead joined the queue,
    ``newest``'s minus that, ``best_score``'s minus awareness of the firm x price acceptance
    (keenest, best-fitting leads first).
    """
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
    key[np.isnan(key)] = _NAN_KEY
    return leads[_smallest(key, np.asarray(leads, dtype=np.int64), count)]


def first_waiting_leads(state: ConsumerState, firm_index: int, firm: FirmLike, market: MarketLike, count: int) -> np.ndarray:
    """:func:`leads_by_policy` over the firm's waiting leads (its part of
    :meth:`ConsumerState.waiting_leads`), in one compiled call (:func:`_first_waiting`)."""
    policy = _POLICY_CODES.get(firm.sales.policy, _POLICY_CODES["best_score"])
    fit = _NO_FIT
    if policy == _POLICY_CODES["best_score"]:
        fit = state.price_acceptance(firm_index, paid_price(firm), market.price_scale)
    return _first_waiting(
        state.lead_of, state.being_worked, firm_index, count, policy, state.lead_since, state.awareness[firm_index], fit
    )


#: Codes of the sales policies for :func:`_first_waiting`; any other name is best_score, as in
#: :func:`leads_by_policy`.
_POLICY_CODES = {"fifo": 0, "newest": 1, "best_score": 2}
_NO_FIT = np.empty(0)  # the price acceptance given to a policy that does not look at it

#: Where a NaN key goes (there are none: awareness and price acceptance are numbers in [0, 1]):
#: after every number, as numpy sorts.
_NAN_KEY = float(np.finfo(np.float64).max)


@kernel
def _first_waiting(
    lead_of: np.ndarray,
    being_worked: np.ndarray,
    firm_index: int,
    count: int,
    policy: int,
    lead_since: np.ndarray,
    awareness: np.ndarray,
    fit: np.ndarray,
) -> np.ndarray:
    """The rows :func:`leads_by_policy` gives for the firm's waiting leads,
    ``np.flatnonzero((lead_of == firm_index) & ~being_worked)``, under policy 0 (fifo), 1
    (newest) or 2 (best score, ``fit`` being every consumer's price acceptance); the keys are
    the ones :func:`leads_by_policy` computes.

    The queue is listed without a branch per consumer (flags, then
    :func:`funnelsim.agents.population.rows_where`), so the pass over every consumer pays no
    mispredicted branches.
    """
    flags = np.empty(lead_of.size, dtype=np.uint8)
    for row in range(lead_of.size):
        flags[row] = (lead_of[row] == firm_index) & (not being_worked[row])
    queue = rows_where(flags)
    size = queue.size
    keys = np.empty(size)
    for position in range(size):
        row = queue[position]
        if policy == 0:
            key = float(lead_since[row])
        elif policy == 1:
            key = -float(lead_since[row])
        else:
            key = -(awareness[row] * fit[row])
        keys[position] = _NAN_KEY if key != key else key
    rows = queue[:size]
    return rows[_smallest(keys, rows, count)]


@kernel
def _smallest(keys: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` smallest ``(key, row)``, in that order: numpy's
    ``np.lexsort((rows, keys))[:count]`` for keys that are numbers below +inf (a +inf key is
    never taken).

    One pass keeping the best so far in order: most keys are above the worst of those, which one
    well-predicted comparison tells, so a long queue costs no sort.
    """
    size = keys.size
    count = max(0, min(count, size))
    best_key, best_row, best_position = np.empty(count), np.empty(count, np.int64), np.empty(count, np.int64)
    if count == 0:
        return best_position
    kept = 0
    worst_key, worst_row = np.inf, -1  # the last kept once there are count of them (no tie before)
    for position in range(size):
        key = keys[position]
        if key > worst_key:
            continue
        row = rows[position]
        if key == worst_key and not row < worst_row:
            continue
        place = min(kept, count - 1)  # where it goes: after every kept (key, row) before it
        while place > 0 and (key < best_key[place - 1] or (key == best_key[place - 1] and row < best_row[place - 1])):
            best_key[place], best_row[place] = best_key[place - 1], best_row[place - 1]
            best_position[place] = best_position[place - 1]
            place -= 1
        best_key[place], best_row[place], best_position[place] = key, row, position
        kept = min(kept + 1, count)
        if kept == count:
            worst_key, worst_row = best_key[count - 1], best_row[count - 1]
    return best_position[:kept].copy()


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
    free = _free_to_call(state.reachable[firm_index], state.customer_of, state.lead_of, state.next_lead_step, step)
    contacts = sales.prospect_contacts
    acceptance = state.price_acceptance(firm_index, paid_price(firm), market.price_scale)
    functions = numpy_c.functions()
    for person in idle:
        if functions is not None:  # the calls below, in one compiled call with numpy's own draws
            made, found = _call_round(
                functions, numpy_c.state_of(rng), free, contacts, sales.prospect_response, state.in_market, state.lead_of, acceptance
            )
            if made == 0:
                continue
        else:
            picks = rng.integers(0, max(free.size, 1), contacts)
            draws = rng.random(contacts)
            if free.size == 0:
                continue
            called = free[picks]
            # Someone another salesperson signed up a moment ago is no longer free.
            still_free = state.lead_of[called] == NOBODY
            chance = sales.prospect_response * state.in_market[called] * still_free
            chance *= acceptance[called]
            agreed = np.flatnonzero(draws < chance)
            made = contacts if agreed.size == 0 else int(agreed[0]) + 1
            found = NOBODY if agreed.size == 0 else int(called[agreed[0]])
        ledger.add("prospect_contacts", firm_index, made)
        if found == NOBODY:
            continue
        state.lead_of[found] = firm_index
        state.lead_since[found] = step
        state.referred_by[found] = NOBODY
        # Agreeing to a meeting makes the prospect at least as keen as their interest threshold.
        state.awareness[firm_index, found] = max(state.awareness[firm_index, found], state.interest_threshold[found])
        person.take(found, prospected=True)
        ledger.add("leads_created", firm_index, 1)
        ledger.add("leads_prospected", firm_index, 1)


@kernel
def _free_to_call(
    reachable: np.ndarray, customer_of: np.ndarray, lead_of: np.ndarray, next_lead_step: np.ndarray, step: int
) -> np.ndarray:
    """The consumers a firm's salespeople may call: ``np.flatnonzero(reachable & (customer_of ==
    NOBODY) & (lead_of == NOBODY) & (next_lead_step <= step))``: the flags in one pass instead
    of five, then the list (:func:`funnelsim.agents.population.rows_where`)."""
    flags = np.empty(reachable.size, dtype=np.uint8)
    for row in range(reachable.size):
        flags[row] = reachable[row] & (customer_of[row] == NOBODY) & (lead_of[row] == NOBODY) & (next_lead_step[row] <= step)
    return rows_where(flags).copy()


@kernel
def _call_round(functions, state, free, contacts, response, in_market, lead_of, acceptance):
    """One salesperson's round of calls in :func:`prospect`: ``contacts`` picks among ``free``
    and then as many uniforms, drawn as numpy's ``integers`` and ``random`` draw them; returns
    (calls made, 0 when nobody was free to call; the first who agreed, or NOBODY)."""
    picks = np.empty(contacts, dtype=np.int64)
    for i in range(contacts):
        picks[i] = numpy_c.integer(functions, state, max(free.size, 1))
    draws = np.empty(contacts)
    for i in range(contacts):
        draws[i] = numpy_c.uniform(functions, state)
    if free.size == 0:
        return 0, NOBODY
    for i in range(contacts):
        called = free[picks[i]]
        # Someone another salesperson signed up a moment ago is no longer free.
        chance = response * (1.0 if in_market[called] else 0.0) * (1.0 if lead_of[called] == NOBODY else 0.0) * acceptance[called]
        if draws[i] < chance:
            return i + 1, called
    return contacts, NOBODY
