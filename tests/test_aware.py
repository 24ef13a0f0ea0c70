"""The aware stage: awareness (the chance of recognising the firm when prompted) at or above the
recall threshold, not any trace of awareness."""

from __future__ import annotations

import numpy as np

from funnelsim import MarketModel
from funnelsim.agents.population import AWARE, UNAWARE


def test_aware_means_awareness_at_or_above_the_recall_threshold(small_baseline):
    model = MarketModel(small_baseline({"market.recall_threshold": 0.5}, consumers=200), rng=1)
    state = model.consumers
    state.awareness[0, :4] = [0.0, 0.2, 0.5, 0.9]
    assert model.stage_of(0)[:4].tolist() == [UNAWARE, UNAWARE, AWARE, AWARE]
    assert [model.consumer(row).stage(0) for row in range(4)] == ["unaware", "unaware", "aware", "aware"]
    counts = state.stage_counts()
    free = (state.lead_of != 0) & (state.customer_of != 0)
    assert counts["aware"][0] == np.count_nonzero(free & (state.awareness[0] >= 0.5))
    assert counts["aware"][0] == np.count_nonzero(model.stage_of(0) == AWARE)


def test_a_zero_threshold_counts_any_awareness_but_never_none(small_baseline):
    model = MarketModel(small_baseline({"market.recall_threshold": 0.0}, consumers=200), rng=1)
    model.consumers.awareness[0, :3] = [0.0, 0.02, 0.9]
    assert model.stage_of(0)[:3].tolist() == [UNAWARE, AWARE, AWARE]


def test_in_the_baseline_awareness_builds_over_weeks_not_days(small_baseline):
    # With the old definition (any awareness above forget_below) almost everyone knew Loudmouth
    # within a week; recall at the default threshold takes weeks. Measured with seed 1 on 10,000
    # consumers: aware 1,083 at day 7 and 6,304 at day 21 (aware, lead or customer: 2,605 and
    # 7,551), against 8,876 aware, lead or customer at day 7 with the old definition.
    table = MarketModel(small_baseline(consumers=10_000, steps=21), rng=1).run()
    loud = table[table["firm"] == "Loudmouth"].set_index("step")
    assert loud.loc[7, "aware"] < 0.2 * 10_000
    assert loud.loc[21, "aware"] > 2 * loud.loc[7, "aware"]
    old = MarketModel(small_baseline({"market.recall_threshold": 0.01}, consumers=10_000, steps=7), rng=1).run()
    # Counted as aware or further down the funnel (the baseline's low interest threshold turns many
    # of those who know the firm into leads, which are not counted as aware).
    known = old.set_index(["step", "firm"]).loc[(7, "Loudmouth"), ["aware", "leads", "customers"]].sum()
    assert known > 0.8 * 10_000
    recalled = loud.loc[7, ["aware", "leads", "customers"]].sum()
    assert known > 2 * recalled
