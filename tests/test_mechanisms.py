"""The model's mechanisms: each lever does what the design says it does.

Stochastic comparisons use fixed seeds and sample sizes chosen so that the difference tested is
many standard deviations wide; each test says where its expected number comes from.
"""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel
from funnelsim.agents.funnel import decay_awareness
from funnelsim.model.scenario import Market

NO_MARKETING = {"firms.0.marketing.budget_per_step": 0.0, "firms.1.marketing.budget_per_step": 0.0}
NO_SALES = {"firms.0.sales.salespeople": 0, "firms.1.sales.salespeople": 0}
NO_PROSPECTING = {"firms.0.sales.prospecting": False, "firms.1.sales.prospecting": False}
# The baseline is calibrated so that marketing reaches most in-market consumers' interest (for its
# published advertising elasticity); tests of what happens to free consumers (referrals, a queue
# that grows with the budget) use the weaker awareness it had before, where many stay free.
UNSATURATED = {
    "market.interest_threshold": 0.5,
    "firms.0.marketing.media.lift": 0.05,
    "firms.1.marketing.media.lift": 0.05,
    "firms.0.marketing.jingles.lift": 0.05,
}


def run(small_baseline, overrides, seed=1, consumers=300, steps=60):
    model = MarketModel(small_baseline(overrides, consumers=consumers, steps=steps), rng=seed)
    return model, model.run()


def test_no_marketing_and_no_initial_awareness_means_nobody_ever_hears(small_baseline):
    # Salespeople's cold calls would make people aware; without them nobody ever hears.
    _, table = run(small_baseline, {**NO_MARKETING, **NO_PROSPECTING, "market.initial_awareness": 0.0})
    assert table["aware"].sum() == table["leads"].sum() == table["customers"].sum() == 0
    assert (table["unaware"] == 300).all()


def test_word_of_mouth_alone_spreads_awareness_from_initial_seeds(small_baseline):
    silent, _ = run(small_baseline, {**NO_MARKETING, "market.initial_awareness": 0.05, "word_of_mouth.beta": 0.0})
    talking, _ = run(small_baseline, {**NO_MARKETING, "market.initial_awareness": 0.05, "word_of_mouth.beta": 0.5})
    heard = [model.consumers.awareness.sum() for model in (silent, talking)]
    assert heard[1] > 2 * heard[0]


def test_no_salespeople_and_no_self_serve_means_no_sales(small_baseline):
    _, table = run(small_baseline, {**NO_SALES, "market.self_serve_rate": 0.0})
    assert table["leads"].sum() > 0, "marketing still makes leads"
    assert table["cumulative_new_customers"].max() == 0 and table["revenue"].sum() == 0


def test_without_salespeople_a_firm_still_sells_a_little_through_self_serve(small_baseline):
    _, table = run(small_baseline, {**NO_SALES, "market.self_serve_rate": 0.02}, consumers=1000)
    assert table["new_customers_self_serve"].sum() > 0
    assert table["new_customers_sales"].sum() == 0


@pytest.mark.parametrize("delay_cv", [0.0, 1.0])
def test_leads_go_cold_after_their_patience(small_baseline, delay_cv):
    overrides = {**NO_SALES, "market.self_serve_rate": 0.0, "market.lead_patience": 5, "market.delay_cv": delay_cv}
    model, table = run(small_baseline, overrides, steps=20)
    assert table["leads_cold"].sum() > 0
    state = model.consumers
    waiting = state.lead_of >= 0
    assert np.all(model.steps - state.lead_since[waiting] < state.patience[waiting]), "no lead waits past its patience"
    if delay_cv == 0:  # fixed patience: everyone's is the configured one
        assert np.all(model.steps - state.lead_since[waiting] < 5)


PLENTY_OF_LEADS = {
    "market.in_market_share": 1.0,
    "market.initial_awareness": 1.0,
    "market.interest_threshold": 0.05,
    "market.self_serve_rate": 0.0,
    "market.lead_patience": 1000,
    "firms.0.sales.cycle_steps": 4,
    "firms.0.sales.cycle_cv": 0.0,  # fixed cycles, so capacity is exact (drawn ones: on average)
    "market.lead_half_life": 1000.0,  # leads that wait keep their chance: these tests are about capacity
}


def test_more_salespeople_close_more_when_leads_are_plentiful(small_baseline):
    # With a queue that never empties, attempts are exactly capacity: S salespeople x 60 steps / 4.
    wins = {}
    for salespeople in (1, 2, 4):
        attempts, won = 0, 0
        for seed in range(3):
            # Skill 1 is the same for every salesperson (a Beta draw otherwise), so only headcount differs.
            overrides = {**PLENTY_OF_LEADS, "firms.0.sales.salespeople": salespeople, "firms.0.sales.skill": 1.0}
            _, table = run(small_baseline, overrides, seed=seed, consumers=600)
            firm = table[table["firm"] == "Loudmouth"]
            assert (firm["queue_length"].iloc[1:] > 0).all(), "the queue never runs dry"
            attempts += firm["deals_attempted"].sum()
            won += firm["deals_won"].sum()
        assert attempts == 3 * salespeople * (60 // 4)
        wins[salespeople] = won
    # Wins are binomial at one win rate (about 0.5 here): 45 vs 90 vs 180 attempts are > 3 sd apart.
    assert wins[1] < wins[2] < wins[4]


def test_salesforce_capacity_caps_closes_however_much_marketing_makes_leads(small_baseline):
    tables = {}
    for budget in (50.0, 5000.0):
        overrides = {**UNSATURATED, "firms.0.marketing.budget_per_step": budget, "market.self_serve_rate": 0.0, "firms.0.sales.cycle_cv": 0.0}
        _, table = run(small_baseline, overrides, consumers=2000, steps=90)
        tables[budget] = table[table["firm"] == "Loudmouth"]
    loud = tables[5000.0]
    people, cycle = 2, 3  # the baseline's Loudmouth
    assert loud["deals_attempted"].sum() <= people * 90 // cycle
    assert loud["queue_length"].mean() > 5 * tables[50.0]["queue_length"].mean(), "leads pile up"
    assert loud["leads_cold"].sum() > tables[50.0]["leads_cold"].sum(), "and go cold"


def test_discounts_raise_the_close_rate_and_lower_revenue_per_sale(small_baseline):
    # Price well above most consumers' willingness to pay, so price acceptance binds.
    base = {
        **PLENTY_OF_LEADS,
        "firms.0.price": 4000.0,
        "firms.0.sales.salespeople": 20,
        "firms.0.sales.cycle_steps": 1,
        "firms.0.sales.policy": "newest",
        # No rival: otherwise the price-sensitive leads pick the cheaper rival and Loudmouth's
        # leads are the ones who would pay anyway.
        "firms.1.coverage": 0.0,
    }
    results = {}
    for discount in (0.0, 0.3):
        won = attempted = revenue = 0.0
        for seed in range(2):
            _, table = run(small_baseline, {**base, "firms.0.sales.discount": discount}, seed=seed, consumers=3000)
            firm = table[table["firm"] == "Loudmouth"]
            won += firm["deals_won"].sum()
            attempted += firm["deals_attempted"].sum()
            revenue += firm["revenue"].sum()
        assert attempted == 2 * 20 * 60, "the queue never runs dry"
        results[discount] = (won / attempted, revenue / won)
    # Mean acceptance over the log-normal wtp (median 2400, sigma 0.4) is 0.37 at 4000 and 0.64
    # at 2800, so the win rate should rise about 1.7 times, from roughly 0.09 to 0.15. With
    # 2,400 attempts each the difference has a binomial sd near 0.009: require 0.03, over
    # 3 sd above zero and 3 sd below the expected gap of 0.06.
    assert results[0.3][0] > results[0.0][0] + 0.03
    assert results[0.0][1] == pytest.approx(4000.0)
    assert results[0.3][1] == pytest.approx(4000.0 * 0.7)


def test_referral_packages_bring_warm_leads_and_pay_for_referred_buyers(small_baseline):
    # Referred leads join the queue after the sales phase, so they wait at least a day: with the
    # default 4-hour half-life that costs them 59/60 of their chance. This test is about the
    # referral bookkeeping, so leads here cool over two weeks instead.
    overrides = {**UNSATURATED, "firms.1.sales.referral_reward": 100.0, "market.referral_share": 0.5, "market.lead_half_life": 14.0}
    _, table = run(small_baseline, overrides, consumers=2000, steps=120)
    closer = table[table["firm"] == "Closer"]
    assert closer["leads_referred"].sum() > 0
    assert closer["new_customers_referred"].sum() > 0
    assert np.allclose(closer["referral_rewards"], 100.0 * closer["new_customers_referred"])
    _, without = run(small_baseline, {"firms.1.sales.referral_reward": 0.0}, consumers=2000, steps=120)
    assert without["leads_referred"].sum() == 0 and without["referral_rewards"].sum() == 0


def test_commission_costs_a_share_of_salesperson_revenue(small_baseline):
    _, table = run(small_baseline, {"firms.1.sales.commission": 0.1}, consumers=1000)
    closer = table[table["firm"] == "Closer"]
    assert closer["revenue_sales"].sum() > 0
    assert np.allclose(closer["commissions"], 0.1 * closer["revenue_sales"])


def test_commission_shortens_the_cycle(small_baseline):
    model, _ = run(small_baseline, {"firms.1.sales.commission": 0.2, "firms.1.sales.cycle_steps": 10}, steps=1)
    # Each 10% of commission cuts the cycle by commission_speedup (0.3): 10 x (1 - 0.6) = 4.
    assert model.salespeople[1][0].cycle_steps() == 4


def test_jingle_listeners_forget_more_slowly():
    market = Market(awareness_decay=0.1)

    class State:  # the two arrays decay_awareness touches
        awareness = np.full((1, 2), 0.8)
        memorable = np.array([[True, False]])

    decay_awareness(State, market, np.array([0.5]))
    assert State.awareness[0].tolist() == pytest.approx([0.8 * 0.95, 0.8 * 0.9])


def test_hub_targeting_reaches_better_connected_consumers(small_baseline):
    degrees = {}
    for targeting in ("random", "hubs"):
        overrides = {
            "network.kind": "barabasi_albert",
            "firms.0.marketing.targeting": targeting,
            "firms.0.marketing.mix": {"email": 0.0, "blogging": 0.0, "media": 1.0, "jingles": 0.0},
            "firms.0.marketing.budget_per_step": 4.0,  # 200 impressions over 2000 consumers
            "firms.1.marketing.budget_per_step": 0.0,
            "word_of_mouth.beta": 0.0,
        }
        model, _ = run(small_baseline, overrides, consumers=2000, steps=1)
        reached = model.consumers.first_touch[0] > 0
        degrees[targeting] = model.network.degree[reached].mean()
    # Degree-weighted picks have mean degree E[d^2]/E[d], well above E[d] = 10 on this network.
    assert degrees["hubs"] > 1.5 * degrees["random"]


def test_email_overuse_makes_readers_unsubscribe(small_baseline):
    unsubscribed = {}
    for budget in (1.0, 200.0):
        overrides = {
            "firms.0.marketing.mix": {"email": 1.0, "blogging": 0.0, "media": 0.0, "jingles": 0.0},
            "firms.0.marketing.budget_per_step": budget,
            "firms.0.marketing.email.bought_list_share": 0.5,
        }
        model, _ = run(small_baseline, overrides, consumers=1000, steps=20)
        unsubscribed[budget] = model.consumers.unsubscribed[0].sum()
    assert unsubscribed[200.0] > 3 * unsubscribed[1.0]


def test_blog_readers_are_mostly_in_the_market(small_baseline):
    overrides = {
        "firms.0.marketing.mix": {"email": 0.0, "blogging": 1.0, "media": 0.0, "jingles": 0.0},
        "firms.0.marketing.budget_per_step": 300.0,
        "firms.1.marketing.budget_per_step": 0.0,
        "word_of_mouth.beta": 0.0,
        "market.in_market_share": 0.2,
    }
    model, _ = run(small_baseline, overrides, consumers=3000, steps=20)
    state = model.consumers
    readers = state.first_touch[0] == 2
    # in_market_bias 5: an in-market consumer is 5 times likelier to find a post; repeat reads
    # of the same consumer pull the ratio of distinct readers down a little from 5.
    ratio = readers[state.in_market].mean() / readers[~state.in_market].mean()
    assert readers.sum() > 300 and ratio > 2.5


def test_no_coverage_means_no_leads_or_customers_for_that_firm(small_baseline):
    _, table = run(small_baseline, {"firms.1.coverage": 0.0}, consumers=500)
    closer = table[table["firm"] == "Closer"]
    assert closer["leads"].sum() == 0 and closer["customers"].sum() == 0


def test_first_and_last_touch_attribution_adds_up_to_revenue(small_baseline):
    _, table = run(small_baseline, {}, consumers=1000, steps=90)
    for which in ("first", "last"):
        columns = [c for c in table.columns if c.startswith(f"revenue_{which}_touch_")]
        assert np.allclose(table[columns].sum(axis=1), table["revenue"])
    assert table["revenue"].sum() > 0


def test_community_targeting_reaches_only_that_community(small_baseline):
    overrides = {
        "network.kind": "sbm",
        "network.communities": 4,
        "firms.0.marketing.targeting": "community",
        "firms.0.marketing.target_community": 2,
        "firms.0.marketing.mix": {"email": 0.0, "blogging": 0.0, "media": 0.5, "jingles": 0.5},
        "firms.0.marketing.jingles.production_cost": 0.0,
        "word_of_mouth.beta": 0.0,
    }
    model, _ = run(small_baseline, overrides, consumers=800, steps=5)
    reached = model.consumers.first_touch[0] > 0
    assert reached.sum() > 50
    assert np.all(model.network.community_of[reached] == 2)


@pytest.mark.parametrize("wait", [0, 1, 2, 69, 10_000])
def test_a_waiting_lead_cools_to_the_freshness_floor_never_below(small_baseline, wait):
    # Oldroyd, McElheran & Elkington (2011): a lead reached within the hour is about 60 times likelier
    # to qualify than one reached after 24 hours or more, so waiting multiplies the close chance by
    # max(floor, 0.5 ** (wait / half_life)): 1 for a lead taken at once, the floor (default 1/60)
    # (0.0167) from about a day on, however long the lead waited.
    model = MarketModel(small_baseline({}, consumers=200, steps=1), rng=3)
    market = model.scenario.market
    assert market.lead_freshness_floor == pytest.approx(1 / 60, rel=0.01)
    person = model.salespeople[0][0]
    person.lead = int(np.flatnonzero(model.consumers.in_market)[0])
    person.lead_wait = 0
    fresh = person.close_chance()
    assert fresh > 0
    person.lead_wait = wait
    expected = max(market.lead_freshness_floor, 0.5 ** (wait / market.lead_half_life))
    assert person.close_chance() == pytest.approx(fresh * expected, rel=1e-12)
    if wait >= 2:  # two days of cooling at a 0.17-day half-life is far below the floor
        assert person.close_chance() == pytest.approx(fresh * market.lead_freshness_floor, rel=1e-12)


def test_without_a_floor_a_long_wait_cools_a_lead_to_nothing(small_baseline):
    model = MarketModel(small_baseline({"market.lead_freshness_floor": 0.0}, consumers=200, steps=1), rng=3)
    person = model.salespeople[0][0]
    person.lead = int(np.flatnonzero(model.consumers.in_market)[0])
    person.lead_wait = 69  # Loudmouth's mean wait in the baseline (first in, first out)
    assert person.close_chance() < 1e-30
