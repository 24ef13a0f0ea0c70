"""Salespeople work one lead at a time, for a sales cycle of several steps, then close or lose it.

Capacity is the binding fact: a salesperson resolves one lead per cycle, each cycle drawn per
deal around a mean of ``cycle`` steps, so a firm with S salespeople closes on average at most
S / cycle deals per step however many leads it has.
A salesperson with no lead to take prospects (``MarketModel._prospect``); a prospect who agrees to
a meeting is taken like any lead, flagged ``prospected`` so a won deal is counted as prospected.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from funnelsim.agents.delays import draw_delays
from funnelsim.agents.funnel import acceptance, end_lead, paid_price, purchase
from funnelsim.agents.population import NOBODY


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
    def firm(self):
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
        price_ok = acceptance(paid_price(firm), state.willingness_to_pay[lead : lead + 1], market.price_scale)[0]
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
            revenue = purchase(
                state, ledger, f, self.firm, lead, model.steps, model.rng, model.scenario.market.heterogeneity
            )
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
