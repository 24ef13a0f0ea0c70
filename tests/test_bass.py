"""The Bass limit: the built-in `bass` scenario follows the discrete map its docs state.

Expected numbers come from the map itself,
    F(n+1) = F(n) + [1 - (1 - p)(1 - q A(n)/(N-1))] (1 - F(n)),   A(n) = N F(n),
and tolerances from its variance: given the state at step n, each of the N(1 - F(n)) non-adopters
adopts independently with the hazard h(n) in brackets, so new adopters are binomial.
"""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel, load_scenario
from funnelsim.model.bass import bass_closed_form, bass_expected_step


@pytest.fixture(scope="module")
def bass_run():
    scenario = load_scenario("bass")
    model = MarketModel(scenario, rng=2024)
    table = model.run()
    adopters = table["customers"].to_numpy().astype(float)
    return scenario, adopters


def test_bass_scenario_runs_at_100000_consumers_without_an_explicit_complete_graph(bass_run):
    scenario, adopters = bass_run
    assert scenario.market.consumers == 100_000
    assert scenario.network.kind == "complete"
    assert adopters[-1] > 0.8 * scenario.market.consumers


def test_each_step_adds_the_adopters_the_map_expects(bass_run):
    scenario, adopters = bass_run
    n, p, q = scenario.market.consumers, scenario.bass.p, scenario.bass.q
    before, after = adopters[:-1], adopters[1:]
    expected = np.array([bass_expected_step(a, n, p, q) for a in before])
    hazard = (expected - before) / (n - before)
    variance = (n - before) * hazard * (1 - hazard)
    # The standardized sum over all steps is close to normal with mean 0 and sd 1.
    z_total = (after - expected).sum() / np.sqrt(variance.sum())
    assert abs(z_total) < 4
    # And no single step is out of line (150 steps: 5 sd has a chance of ~1e-4 of a false alarm).
    z_steps = (after - expected) / np.sqrt(variance)
    assert np.max(np.abs(z_steps)) < 5


def test_the_whole_curve_stays_within_its_propagated_spread(bass_run):
    scenario, adopters = bass_run
    n, p, q = scenario.market.consumers, scenario.bass.p, scenario.bass.q
    # Linear noise approximation: push the mean through the map and the variance through its
    # derivative, adding each step's binomial variance.
    mean, variance = [0.0], [0.0]
    for _ in range(len(adopters) - 1):
        f = mean[-1]
        hazard = 1 - (1 - p) * (1 - q * f * n / (n - 1))
        slope = 1 - hazard + (1 - f) * (1 - p) * q * n / (n - 1)
        mean.append(f + hazard * (1 - f))
        variance.append(slope**2 * variance[-1] + (1 - f) * hazard * (1 - hazard) / n)
    mean, sd = np.array(mean), np.sqrt(np.array(variance))
    deviation = np.abs(adopters / n - mean)
    assert np.all(deviation[1:] < 5 * sd[1:])


def test_the_map_is_close_to_the_closed_form_bass_curve_for_monthly_steps():
    # The docs' claim: with small per-step p and q the discrete map tracks the continuous curve.
    p, q, n = 0.0025, 0.0317, 100_000
    adopted = [0.0]
    for _ in range(150):
        adopted.append(bass_expected_step(adopted[-1], n, p, q))
    gap = np.abs(np.array(adopted) / n - bass_closed_form(np.arange(151), p, q))
    assert gap.max() < 0.01  # measured: 0.007
