"""Invariants that hold for every valid scenario, checked after every step (property-based)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelsim import MarketModel, load_scenario
from funnelsim.agents.population import NOBODY
from funnelsim.model.ledger import COST_ITEMS
from funnelsim.model.scenario import CHANNELS

probability = st.floats(0.0, 1.0)


@st.composite
def mixes(draw):
    weights = [draw(st.integers(0, 4)) for _ in CHANNELS]
    if sum(weights) == 0:
        weights[draw(st.integers(0, 3))] = 1
    shares = [w / sum(weights) for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])
    return dict(zip(CHANNELS, shares))


@st.composite
def firms(draw, index):
    budget = draw(st.sampled_from([0.0, 5.0, 50.0, 400.0]))
    return {
        "name": f"firm{index}",
        "quality": draw(probability),
        "price": draw(st.sampled_from([0.0, 50.0, 120.0, 400.0])),
        "unit_cost": draw(st.sampled_from([0.0, 30.0])),
        "coverage": draw(st.sampled_from([0.3, 1.0])),
        "marketing": {
            "budget_per_step": budget,
            "marketers": draw(st.integers(1 if budget else 0, 3)),
            "mix": draw(mixes()),
            "targeting": draw(st.sampled_from(["random", "hubs"])),
            "email": {"cost_per_send": draw(st.sampled_from([0.0, 0.05])), "fatigue": draw(st.sampled_from([0.0, 0.5]))},
            "jingles": {"production_cost": draw(st.sampled_from([0.0, 100.0]))},
        },
        "sales": {
            "salespeople": draw(st.integers(0, 4)),
            "cycle_steps": draw(st.integers(1, 6)),
            "cycle_cv": draw(st.sampled_from([0.0, 0.5, 1.0])),
            "policy": draw(st.sampled_from(["fifo", "best_score", "newest"])),
            "discount": draw(st.sampled_from([0.0, 0.2])),
            "commission": draw(st.sampled_from([0.0, 0.1, 0.3])),
            "referral_reward": draw(st.sampled_from([0.0, 25.0])),
        },
    }


@st.composite
def scenarios(draw):
    count = draw(st.integers(1, 3))
    return load_scenario(
        {
            "market": {
                "consumers": draw(st.integers(20, 150)),
                "in_market_share": draw(probability),
                "initial_awareness": draw(st.sampled_from([0.0, 0.3])),
                "awareness_decay": draw(st.sampled_from([0.0, 0.05, 0.5])),
                "interest_threshold": draw(probability),
                "self_serve_rate": draw(st.sampled_from([0.0, 0.05, 1.0])),
                "lead_patience": draw(st.integers(1, 10)),
                "lead_cooldown": draw(st.integers(0, 5)),
                "churn_rate": draw(st.sampled_from([0.0, 0.05])),
                "delay_cv": draw(st.sampled_from([0.0, 1.0])),
                "referral_share": draw(st.sampled_from([0.0, 0.5])),
                "willingness_to_pay": 100.0,
            },
            "network": {
                "kind": draw(st.sampled_from(["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "ring", "sbm"])),
                "k": draw(st.integers(2, 8)),
            },
            "word_of_mouth": {
                "form": draw(st.sampled_from(["contagion", "fraction"])),
                "beta": draw(probability),
                "lift": draw(probability),
            },
            "firms": [draw(firms(index)) for index in range(count)],
            "seeding": {
                "share": draw(st.sampled_from([0.0, 0.1])),
                "by": draw(st.sampled_from(["random", "degree"])),
                "firm": draw(st.integers(0, count - 1)),
            },
        }
    )


def check_state(model: MarketModel) -> None:
    state, n, firm_count = model.consumers, model.consumers.size, len(model.firm_names)
    # A consumer is a customer of at most one firm and never a lead while a customer.
    assert np.all((state.customer_of >= NOBODY) & (state.customer_of < firm_count))
    assert not np.any((state.customer_of != NOBODY) & (state.lead_of != NOBODY))
    assert np.all((state.awareness >= 0) & (state.awareness <= 1))
    # Exactly one stage per consumer per firm.
    row = model.current_row
    for f in range(firm_count):
        stages = np.bincount(model.stage_of(f), minlength=5)
        assert stages.sum() == n
        assert row["unaware"][f] + row["aware"][f] + row["leads"][f] + row["customers"][f] == n
        assert stages[3] == row["customers"][f] and stages[2] == row["leads"][f]
    # A salesperson works one lead at a time; nobody else works it.
    worked = [person.lead for people in model.salespeople for person in people if not person.idle]
    assert len(worked) == len(set(worked)) == int(state.being_worked.sum())
    for people in model.salespeople:
        for person in people:
            if not person.idle:
                assert state.lead_of[person.lead] == person.firm_index


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 25))
def test_invariants_hold_at_every_step(scenario, seed, steps):
    model = MarketModel(scenario, rng=seed)
    check_state(model)
    for _ in range(steps):
        model.step()
        check_state(model)
    table = model.table()

    counts = [c for c in table.columns if table[c].dtype.kind == "i"]
    assert (table[counts] >= 0).all().all(), "counts never go negative"
    costs = table[list(COST_ITEMS)].sum(axis=1)
    assert np.allclose(table["profit"], table["revenue"] - costs), "profit is revenue minus every cost"
    for _, firm_rows in table.groupby("firm"):
        assert np.allclose(firm_rows["cumulative_profit"], firm_rows["profit"].cumsum())
    assert (table["new_customers"] == table["new_customers_sales"] + table["new_customers_self_serve"]).all()

    for f, firm in enumerate(scenario.firms):
        rows = table[table["firm"] == firm.name]
        budget = firm.marketing.budget_per_step
        assert (rows["marketing_spend"] <= budget * (1 + 1e-9) + 1e-9).all(), "no firm spends more than its budget"
        for channel, share in zip(CHANNELS, firm.marketing.mix.shares()):
            assert (rows[f"spend_{channel}"] <= budget * share * (1 + 1e-9) + 1e-9).all()
        # Capacity: each salesperson resolves one lead per cycle; cycles are drawn per deal, so the
        # cycles of the deals resolved fit in the steps worked, and with fixed cycles (cycle_cv = 0)
        # a salesperson resolves at most steps // cycle leads.
        capacity = 0
        for person in model.salespeople[f]:
            assert person.deals_attempted <= person.cycles_completed_steps <= person.busy_steps <= steps
            if firm.sales.cycle_cv == 0:
                assert person.deals_attempted <= steps // person.cycle_steps()
            capacity += person.deals_attempted
        assert rows["cumulative_new_customers_sales"].iloc[-1] <= capacity
        assert rows["cumulative_deals_won"].iloc[-1] == rows["cumulative_new_customers_sales"].iloc[-1]
