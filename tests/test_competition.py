"""Outbound prospecting, competition for waiting leads and churned customers, and the price response.

Each test runs a small market with a fixed seed and says where its expected number comes from.
"""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel, load_scenario
from funnelsim.agents.population import NOBODY, acceptance

NO_MARKETING = {"firms.0.marketing.budget_per_step": 0.0, "firms.1.marketing.budget_per_step": 0.0}


def model_of(small_baseline, overrides, consumers=1000, steps=200, seed=3):
    return MarketModel(small_baseline(overrides, consumers=consumers, steps=steps), rng=seed, consumer_agents=False)


# --------------------------------------------------------------------------------------------
# Outbound prospecting


@pytest.mark.parametrize("prospecting", [True, False])
def test_sales_without_marketing_close_customers_only_by_prospecting(small_baseline, prospecting):
    """Zero marketing and nobody aware at the start: the only way to a customer is a cold call.

    Expected size with prospecting on: 8 salespeople x 200 steps, 40 contacts a step, each free
    in-market contact (30%) agreeing with chance 0.01 x acceptance (about 0.5 at the baseline's
    price) gives about 0.06 meetings per idle salesperson-step, so about a hundred meetings and,
    at close chances of 0.1-0.3, some 10-30 customers: far from zero.
    """
    overrides = {
        **NO_MARKETING,
        "market.initial_awareness": 0.0,
        "firms.0.sales.prospecting": prospecting,
        "firms.1.sales.prospecting": prospecting,
    }
    table = model_of(small_baseline, overrides).run()
    final = table[table["step"] == table["step"].max()]
    if prospecting:
        assert final["cumulative_new_customers_sales"].sum() >= 5
        assert table["leads_prospected"].sum() > 0 and table["prospect_contacts"].sum() > 0
        # Prospecting closed customers; a lost prospect stays aware (and customers talk), so some
        # later come back as ordinary leads: sales closes at least what prospecting found.
        assert 0 < table["new_customers_prospected"].sum() <= table["new_customers_sales"].sum()
        assert np.all(final["cumulative_sales_cost"] > 0)
        cost_per_customer = final["cumulative_sales_cost"].sum() / final["cumulative_new_customers"].sum()
        assert np.isfinite(cost_per_customer) and cost_per_customer > 0
    else:
        assert final["cumulative_new_customers_sales"].sum() == 0
        assert table["prospect_contacts"].sum() == table["leads_prospected"].sum() == 0


class RecordingModel(MarketModel):
    """Remembers, for every prospect signed up, whether they were free just before."""

    def _prospect(self, f, idle, step):
        state = self.consumers
        lead_before = state.lead_of.copy()
        customer_before = state.customer_of.copy()
        super()._prospect(f, idle, step)
        for person in idle:
            if not person.idle and person.prospected:
                self.signed.append((lead_before[person.lead], customer_before[person.lead], state.lead_of[person.lead], f))


def test_prospecting_never_works_a_consumer_who_is_a_lead_or_a_customer(small_baseline):
    """Loudmouth floods the market with leads and self-serve customers; Closer's large idle
    salesforce prospects among them. Every prospect must have been nobody's lead or customer."""
    overrides = {
        "market.self_serve_rate": 0.05,
        "market.interest_threshold": 0.5,
        "market.in_market_share": 0.6,
        "firms.0.marketing.budget_per_step": 300.0,
        "firms.1.marketing.budget_per_step": 0.0,
        "firms.1.sales.salespeople": 30,
        "firms.1.sales.prospect_response": 0.5,
    }
    model = RecordingModel(small_baseline(overrides, consumers=800, steps=80), rng=5, consumer_agents=False)
    model.signed = []
    table = model.run()
    final = table[table["step"] == table["step"].max()]
    assert final["customers"].iloc[0] > 50 and table["leads"].max() > 50, "plenty of leads and customers around"
    assert len(model.signed) > 10
    for lead_before, customer_before, lead_after, firm in model.signed:
        assert lead_before == NOBODY and customer_before == NOBODY
        assert lead_after == firm


def test_a_salesperson_with_waiting_leads_does_not_prospect(small_baseline):
    """Prospecting is what idle salespeople do: one lone salesperson facing a long queue never calls."""
    overrides = {
        "market.self_serve_rate": 0.0,
        "market.interest_threshold": 0.05,
        "market.initial_awareness": 1.0,
        "firms.0.sales.salespeople": 1,
        "firms.0.marketing.budget_per_step": 1000.0,
    }
    table = model_of(small_baseline, overrides, consumers=600, steps=30).run()
    loud = table[table["firm"] == "Loudmouth"]
    assert (loud["queue_length"].iloc[1:] > 5).all()
    assert loud["prospect_contacts"].sum() == 0


# --------------------------------------------------------------------------------------------
# Competition at the point of purchase


def rivals(better_rival: bool, switch_rate: float = 0.05, firms: int = 2) -> dict:
    """Two firms everyone knows; only firm 0 markets, so it forms most leads. Firm 1 either
    matches it or is much better (full quality, half the price)."""
    firm = {
        "quality": 0.3,
        "price": 100.0,
        "marketing": {"budget_per_step": 0.0, "marketers": 0},
        "sales": {"salespeople": 1, "cycle_steps": 5, "prospecting": False},
    }
    data = {
        "market": {
            "consumers": 1500,
            "steps": 60,
            "willingness_to_pay": 100.0,
            "initial_awareness": 1.0,
            "interest_threshold": 0.2,
            "awareness_decay": 0.0,
            "self_serve_rate": 0.0,
            "lead_patience": 100,
            "switch_rate": switch_rate,
        },
        "word_of_mouth": {"beta": 0.0},
        "firms": [
            {**firm, "name": "incumbent", "marketing": {"budget_per_step": 300.0, "marketers": 1}},
            {**firm, "name": "rival", **({"quality": 1.0, "price": 50.0} if better_rival else {})},
        ][:firms],
    }
    return data


def test_a_much_better_rival_wins_waiting_leads():
    """The incumbent's queue fills while nobody knows the rival; then everyone learns of a much
    better rival. Re-weighing, the incumbent's waiting leads now prefer the rival with logit odds
    (1.0 x a(50)) / (0.3 x a(100)) = 3.3 x 1.0 / 0.5, about 7 to 1, so about 7 in 8 of those who
    re-weigh (5% a step) move to the rival; the rival's own leads move back with odds 1 in 8."""
    model = MarketModel(load_scenario(rivals(better_rival=True)), rng=2, consumer_agents=False)
    for _ in range(10):
        model.consumers.awareness[1] = 0.0
        model.step()
    queued = int(model.table()["leads"].iloc[-2])
    assert queued > 100, "the incumbent has a queue to lose"
    model.consumers.awareness[1] = 1.0
    model.run(20)
    later = model.table().query("step > 10")
    won = later.groupby("firm")["leads_won_from_rival"].sum()
    lost = later.groupby("firm")["leads_lost_to_rival"].sum()
    assert won.sum() == lost.sum(), "every move is one lead lost by one firm and won by another"
    # Expected rival wins: about queued x (1 - 0.95^20) x 7/8, i.e. over half the queue.
    assert won["rival"] > 0.3 * queued
    assert won["rival"] > 3 * won["incumbent"]


def test_no_lead_switches_with_one_firm_or_a_zero_switch_rate():
    for data in (rivals(better_rival=True, firms=1), rivals(better_rival=True, switch_rate=0.0)):
        table = MarketModel(load_scenario(data), rng=2, consumer_agents=False).run()
        assert table["leads_lost_to_rival"].sum() == table["leads_won_from_rival"].sum() == 0
        assert table["leads"].sum() > 0


def test_a_switching_lead_is_in_one_queue_and_never_poached_from_a_salesperson():
    model = MarketModel(load_scenario(rivals(better_rival=True, switch_rate=0.5)), rng=4, consumer_agents=False)
    for _ in range(40):
        worked = {person.lead: person.firm_index for people in model.salespeople for person in people if not person.idle}
        model.step()
        state = model.consumers
        for lead, firm in worked.items():
            # Still with the salesperson's firm, or resolved (customer, or released), never moved.
            assert state.lead_of[lead] in (firm, NOBODY)
        assert not np.any((state.lead_of != NOBODY) & (state.customer_of != NOBODY))
    assert model.table()["leads_won_from_rival"].sum() > 0


def test_churned_customers_can_buy_from_a_rival(small_baseline):
    overrides = {"market.churn_rate": 0.02, "market.lead_cooldown": 5, "market.self_serve_rate": 0.05}
    model = model_of(small_baseline, overrides, consumers=800, steps=250)
    model.run()
    both = model.consumers.ever_customer.all(axis=0)
    assert both.sum() > 0, "some consumers were customers of both firms"


# --------------------------------------------------------------------------------------------
# Price response


def test_price_acceptance_is_the_documented_logistic_and_moves_every_consumer():
    wtp = np.array([50.0, 100.0, 200.0, 1000.0])
    got = acceptance(100.0, wtp, 0.1)
    expected = 1.0 / (1.0 + np.exp((100.0 / wtp - 1.0) / 0.1))
    assert np.allclose(got, expected)
    assert got[1] == pytest.approx(0.5)
    # A higher price lowers every consumer's acceptance, also those who value it far above the price.
    higher = acceptance(110.0, wtp, 0.1)
    assert np.all(higher < got)
    # Scale 0 is the sharp cut-off; a free product is always accepted.
    assert acceptance(100.0, wtp, 0.0).tolist() == [0.0, 1.0, 1.0, 1.0]
    assert acceptance(0.0, wtp, 0.1).tolist() == [1.0] * 4
    # Far above willingness to pay the chance is 0, without overflow warnings.
    with np.errstate(all="raise"):
        assert acceptance(1e6, np.array([1.0]), 0.01)[0] == 0.0
