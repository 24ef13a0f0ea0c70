"""Delays are drawn per event, so no echo cycle follows from a fixed patience and cooldown."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel, load_scenario
from funnelsim.agents.delays import draw_delays


def echo(overrides: dict, seed: int = 1) -> tuple[float, int]:
    """Autocorrelation of the differenced lead queue of Loudmouth at lag patience + cooldown, over
    the baseline's year, and the number of differences it is computed from."""
    scenario = load_scenario("baseline", overrides)
    table = MarketModel(scenario, rng=seed).run()
    lag = scenario.market.lead_patience + scenario.market.lead_cooldown
    queue = table.loc[table["firm"] == "Loudmouth", "queue_length"].to_numpy(dtype=float)
    change = np.diff(queue)
    change -= change.mean()
    return float((change[:-lag] * change[lag:]).sum() / (change * change).sum()), change.size


@pytest.fixture(scope="module")
def shipped_echo():
    return echo({})


def test_the_shipped_baseline_has_no_echo_at_patience_plus_cooldown(shipped_echo):
    value, n = shipped_echo
    # Under white noise a sample autocorrelation is about normal with sd 1/sqrt(n) (n = 365 here,
    # sd 0.052); 4 sd leaves a false-alarm chance of about 6e-5. Measured: 0.014 with seed 1.
    assert abs(value) < 4 / np.sqrt(n)


def test_fixed_delays_make_the_echo_the_check_is_there_to_catch(shipped_echo):
    # delay_cv = 0 is the model before delays were drawn (main at 8a82948 measured about 0.7); a
    # waiting lead that moves to a rival restarts its wait, which also breaks cohorts, so switching
    # is off too.
    value, n = echo({"market.delay_cv": 0.0, "market.switch_rate": 0.0})
    assert value > 8 / np.sqrt(n)  # measured: 0.67


@pytest.mark.parametrize(("mean", "cv", "minimum"), [(30, 1.0, 1), (30, 1.0, 0), (3, 0.5, 1), (60, 0.3, 0)])
def test_drawn_delays_have_the_configured_mean_and_spread(mean, cv, minimum):
    draws = draw_delays(mean, cv, 200_000, np.random.default_rng(7), minimum=minimum)
    assert draws.dtype.kind == "i" and draws.min() >= minimum
    # The continuous gamma part has sd cv x mean; stochastic rounding adds at most 1/4 variance.
    # The sample mean's sd is then under (cv mean + 1) / sqrt(200000): 4 of those.
    assert abs(draws.mean() - mean) < 4 * (cv * mean + 1) / np.sqrt(draws.size)
    assert draws.std() == pytest.approx(cv * mean, abs=0.5 + 0.02 * cv * mean)


def test_cv_zero_gives_the_fixed_delay_and_draws_nothing():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    assert (draw_delays(30, 0.0, 5, rng, minimum=1) == 30).all()
    assert rng.bit_generator.state == state


def test_cold_leads_wait_their_own_patience(small_baseline):
    # No salespeople and no self-serve, so every lead waits until its own patience runs out.
    model = MarketModel(
        small_baseline(
            {"firms.0.sales.salespeople": 0, "firms.1.sales.salespeople": 0, "market.self_serve_rate": 0.0},
            consumers=2000,
        ),
        rng=4,
    )
    waits = []
    for _ in range(60):
        before = model.consumers.lead_of.copy(), model.consumers.lead_since.copy(), model.consumers.patience.copy()
        model.step()
        gone = np.flatnonzero((before[0] >= 0) & (model.consumers.lead_of < 0))
        waits.extend((model.steps - before[1][gone] - before[2][gone]).tolist())
    assert len(waits) > 50
    assert set(waits) == {0}  # each went cold exactly when its own patience ran out
    assert np.unique(model.consumers.patience).size > 10  # and patience differs from lead to lead
