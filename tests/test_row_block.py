"""The per-step row kept as one block: the same numbers as the per-column row, and Mesa's
``model_vars`` still filled (lazily) with a tuple per step per column."""

from __future__ import annotations

import numpy as np

from funnelsim import MarketModel
from funnelsim.model.metrics import COLUMNS, firm_row, firm_row_block


def test_row_block_equals_the_per_column_row_exactly():
    model = MarketModel("baseline", rng=4, overrides={"market.consumers": 1500})
    for _ in range(25):
        model.step()
    counts = np.array([len(people) for people in model.salespeople], dtype=float)
    busy = model.ledger.step["salesperson_busy"]
    block = firm_row_block(model.consumers, model.ledger, counts, busy)
    row = firm_row(model.consumers, model.ledger, counts, busy)
    assert block.shape == (len(COLUMNS), 2)
    for index, column in enumerate(COLUMNS):
        assert np.array_equal(block[index], np.asarray(row[column], dtype=float)), column
    assert row["customers"].sum() > 0, "the comparison covers a market with customers"


def test_model_vars_fill_from_the_blocks_between_reads_and_match_the_table():
    model = MarketModel("baseline", rng=2, overrides={"market.consumers": 400})
    model.run(3)
    first = {name: list(values) for name, values in model.datacollector.model_vars.items()}
    assert all(len(values) == 4 for values in first.values())
    table = model.run(4)
    collected = model.datacollector.model_vars
    assert all(len(values) == 8 for values in collected.values())
    assert all(collected[name][:4] == first[name] for name in first)  # nothing listed twice
    for firm in model.firm_names:
        rows = table[table.firm == firm]
        for column in ("customers", "revenue", "cumulative_profit"):
            assert np.array_equal(np.array(collected[f"{firm}.{column}"], dtype=float), rows[column].to_numpy(dtype=float))
    assert isinstance(collected["Closer.aware"][0], float)  # one labelled scalar per firm and measure


def test_a_reporter_added_by_a_user_is_collected_mesas_way_beside_the_columns():
    model = MarketModel("baseline", rng=2, overrides={"market.consumers": 300})
    model.datacollector._new_model_reporter("steps_seen", lambda m: m.steps)
    model.run(3)
    collected = model.datacollector.model_vars
    assert collected["steps_seen"] == [1, 2, 3]
    assert len(collected["Closer.customers"]) == 4  # step 0 and three steps
    assert len(model.table()) == 8
