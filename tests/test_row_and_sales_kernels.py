"""The compiled loops of the sales phase and of the step's row give exactly what the plain numpy
definitions give, on random states with a fixed seed (so a failure is reproducible)."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel, Scenario, load_scenario
from funnelsim.agents.population import NOBODY, STAGE_BLOCK_ROWS
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
