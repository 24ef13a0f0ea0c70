"""The compiled loops of the sales phase and of the step's row give exactly what the plain numpy
definitions give, on random states with a fixed seed (so a failure is reproducible)."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel, Scenario, load_scenario
from funnelsim.agents.population import NOBODY, STAGE_BLOCK_ROWS
from funnelsim.agents.salesperson import _free_to_call, first_waiting_leads, leads_by_policy
from funnelsim.model.metrics import COLUMNS, firm_row, firm_row_block


def _random_funnel(model: MarketModel, rng: np.random.Generator, threshold: float) -> None:
    """Scramble a model's funnel: awareness with values exactly at the threshold, leads (some
    worked) and customers of every firm, never a lead and a customer at once."""
    state = model.consumers
    firms, n = state.awareness.shape
    state.recall_threshold = threshold
    state.awareness[:] = rng.random((firms, n))
    state.awareness[rng.random((firms, n)) < 0.1] = threshold
    state.awareness[rng.random((firms, n)) < 0.2] = 0.0
    who = rng.integers(0, firms, n).astype(np.int8)
    stage = rng.random(n)
    state.lead_of[:] = np.where(stage < 0.3, who, NOBODY)
    state.customer_of[:] = np.where((stage >= 0.3) & (stage < 0.45), who, NOBODY)
    state.being_worked[:] = (state.lead_of != NOBODY) & (rng.random(n) < 0.4)


def _three_firms(consumers: int) -> Scenario:
    """The baseline with a third firm (a copy of Closer), so counts per firm cannot hide behind two."""
    data = load_scenario("baseline", {"market.consumers": consumers}).model_dump()
    data["firms"].append({**data["firms"][1], "name": "Third"})
    return load_scenario(data)


@pytest.mark.parametrize("threshold", [5e-324, 0.25, 0.5])
def test_stage_count_block_is_the_plain_masks_on_random_states(threshold):
    model = MarketModel(_three_firms(3001), rng=1, consumer_agents=False)
    state = model.consumers
    rng = np.random.default_rng(11)
    for _ in range(5):
        _random_funnel(model, rng, threshold)
        block = state.stage_count_block()
        assert block.dtype == np.int64 and block.shape == (len(STAGE_BLOCK_ROWS), state.firms)
        counts = dict(zip(STAGE_BLOCK_ROWS, block))
        for f in range(state.firms):
            lead, customer = state.lead_of == f, state.customer_of == f
            aware = (state.awareness[f] >= threshold) & ~lead & ~customer
            assert counts["aware"][f] == np.count_nonzero(aware)
            assert counts["leads"][f] == np.count_nonzero(lead)
            assert counts["customers"][f] == np.count_nonzero(customer)
            assert counts["unaware"][f] == state.size - np.count_nonzero(aware | lead | customer)
            assert counts["rival_customers"][f] == np.count_nonzero((state.customer_of != NOBODY) & ~customer)
            assert counts["leads_in_progress"][f] == np.count_nonzero(lead & state.being_worked)
            assert counts["queue_length"][f] == np.count_nonzero(lead & ~state.being_worked)
        assert all(counts[stage].min() > 0 for stage in STAGE_BLOCK_ROWS), "every stage is exercised"


def test_row_block_is_the_per_column_row_on_random_books():
    """Random ledger amounts (so the order of the additions shows in the last bit) and a
    salesforce with a firm of none."""
    model = MarketModel("baseline", rng=2, overrides={"market.consumers": 1000}, consumer_agents=False)
    rng = np.random.default_rng(5)
    for _ in range(5):
        _random_funnel(model, rng, 0.3)
        ledger = model.ledger
        ledger._step_values[:] = rng.random(ledger._step_values.shape) * 10.0 ** rng.integers(-3, 6, ledger._step_values.shape)
        ledger._total_values[:] = rng.random(ledger._total_values.shape) * 1e6
        salespeople = np.array([0.0, 6.0])
        busy = np.array([0.0, 4.0])
        block = firm_row_block(model.consumers, ledger, salespeople, busy)
        row = firm_row(model.consumers, ledger, salespeople, busy)
        for index, column in enumerate(COLUMNS):
            assert np.array_equal(block[index], np.asarray(row[column], dtype=float)), column
    model.consumers.customer_of[:] = NOBODY
    block = firm_row_block(model.consumers, model.ledger, salespeople, busy)
    assert np.array_equal(block[COLUMNS.index("market_share")], [0.0, 0.0]), "no customers: no share"


def _plain_policy_order(state, firm_index: int, policy: str, leads: np.ndarray) -> np.ndarray:
    """The policy's order as numpy sorts it: by key, ties by consumer row (lexsort)."""
    if policy == "fifo":
        key = state.lead_since[leads].astype(float)
    elif policy == "newest":
        key = -state.lead_since[leads].astype(float)
    else:
        fit = state.price_acceptance(firm_index, 100.0, 0.2)
        key = -(state.awareness[firm_index, leads] * fit[leads])
    return leads[np.lexsort((leads, key))]


@pytest.mark.parametrize("policy", ["fifo", "newest", "best_score"])
def test_the_leads_taken_first_are_the_policy_sorted_queue(policy):
    """Queues of every length, many ties (leads that joined on the same step, equal awareness),
    and salesforces larger than the queue."""
    overrides = {"market.consumers": 2000, "firms.0.sales.policy": policy, "firms.0.price": 100.0}
    overrides.update({"firms.0.sales.discount": 0.0, "market.price_scale": 0.2})
    model = MarketModel("baseline", rng=3, overrides=overrides, consumer_agents=False)
    state, firm, market = model.consumers, model.scenario.firms[0], model.scenario.market
    rng = np.random.default_rng(17)
    for trial in range(40):
        _random_funnel(model, rng, 0.3)
        state.lead_since[:] = rng.integers(0, 6, state.size)  # few distinct steps: ties everywhere
        state.awareness[0, rng.random(state.size) < 0.5] = 0.5
        if trial % 4 == 0:  # a short queue
            state.lead_of[rng.random(state.size) < 0.995] = NOBODY
        waiting = np.flatnonzero((state.lead_of == 0) & ~state.being_worked)
        plain = _plain_policy_order(state, 0, policy, waiting)
        for count in (1, 2, 3, 7, 40):
            expected = plain[:count]
            assert np.array_equal(first_waiting_leads(state, 0, firm, market, count), expected), (trial, count)
            assert np.array_equal(leads_by_policy(state, 0, firm, market, waiting, count), expected), (trial, count)
            shuffled = rng.permutation(waiting)  # given in any order, ties still go to the lower row
            assert np.array_equal(leads_by_policy(state, 0, firm, market, shuffled, count), expected), (trial, count)
    assert leads_by_policy(state, 0, firm, market, np.empty(0, dtype=np.int64), 3).size == 0


def test_the_consumers_free_to_call_are_the_plain_mask():
    model = MarketModel("baseline", rng=4, overrides={"market.consumers": 3000}, consumer_agents=False)
    state = model.consumers
    rng = np.random.default_rng(23)
    for step in (0, 3, 9):
        _random_funnel(model, rng, 0.3)
        state.next_lead_step[:] = rng.integers(0, 12, state.size)
        state.reachable[:] = rng.random(state.reachable.shape) < 0.7
        for firm in range(state.firms):
            plain = np.flatnonzero(
                state.reachable[firm] & (state.customer_of == NOBODY) & (state.lead_of == NOBODY) & (state.next_lead_step <= step)
            )
            free = _free_to_call(state.reachable[firm], state.customer_of, state.lead_of, state.next_lead_step, step)
            assert free.dtype == plain.dtype and np.array_equal(free, plain)
            assert 0 < free.size < state.size


def test_a_reporter_added_or_removed_mid_run_is_seen_at_the_next_collect():
    """The collector checks for reporters besides the model's own only when its reporters
    change, so a change between steps must still be seen."""
    model = MarketModel("baseline", rng=2, overrides={"market.consumers": 300}, consumer_agents=False)
    collector = model.datacollector
    model.run(2)
    collector._new_model_reporter("steps_seen", lambda m: m.steps)
    model.run(2)
    del collector.model_reporters["steps_seen"]
    model.run(1)
    collector._new_model_reporter("twice", lambda m: 2 * m.steps)
    model.run(1)
    assert collector.model_vars["steps_seen"] == [3, 4]
    assert collector.model_vars["twice"] == [12]
    assert len(collector.model_vars["Closer.customers"]) == 7
