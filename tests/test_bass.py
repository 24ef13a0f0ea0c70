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


@pytest.fixture(scope="module", params=[{}, {"bass.p": 0.01, "bass.q": 0.4, "market.steps": 25}], ids=["builtin", "p_q_only"])
def bass_run(request):
    # The second run sets nothing but p and q (and a shorter run): the loader derives the rest.
    scenario = load_scenario("bass", request.param)
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
    assert before.max() < n, "someone is left to adopt at every step tested"
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


# --------------------------------------------------------------------------------------------
# The network Bass model: [bass] on any network, q times the adopted share of one's neighbours.


def ring_map(p: float, q: float, steps: int) -> np.ndarray:
    """Expected adopted share on an infinite ring with two neighbours, step by step.

    The discrete-time form of the one-dimensional Bass model of Fibich & Gibori (2010). A
    non-adopter adopts with chance 1 - (1 - p)(1 - q/2)^m, m its adopted neighbours. Given that j
    has not adopted, its two sides evolve independently, so with T the adoption step of its left
    neighbour, u(n) = P(T > n) and g(n) = E[(1 - q/2)^(n - T)+] (the chance the left side has not
    converted j by step n):
        g(n) = u(n-1) + sum_{m<n} (u(m-1) - u(m)) (1 - q/2)^(n-m),   u(n) = (1 - p)^n g(n),
    and F(n) = 1 - (1 - p)^n g(n)^2.
    """
    keep = 1.0 - q / 2.0
    u, adopted = [1.0], [0.0]
    for n in range(1, steps + 1):
        g = u[n - 1] + sum((u[m - 1] - u[m]) * keep ** (n - m) for m in range(1, n))
        u.append((1.0 - p) ** n * g)
        adopted.append(1.0 - (1.0 - p) ** n * g * g)
    return np.array(adopted)


def network_bass(kind: str, k: int, seed: int, consumers: int = 20_000, steps: int = 40) -> np.ndarray:
    scenario = load_scenario(
        "bass",
        {"bass.p": 0.01, "bass.q": 0.4, "market.consumers": consumers, "market.steps": steps, "network.kind": kind, "network.k": k},
    )
    return MarketModel(scenario, rng=seed).run()["customers"].to_numpy() / consumers


def test_the_network_bass_model_on_a_ring_follows_the_one_dimensional_map():
    runs = np.array([network_bass("ring", 2, seed) for seed in range(8)])
    expected = ring_map(0.01, 0.4, 40)
    steps = [10, 20, 30]
    # Neighbours adopt together on a ring, so the spread is wider than binomial: measure it across
    # the 8 replications and test their mean against the map (t with 7 df: 5 se is p < 0.002).
    spread = runs[:, steps].std(axis=0, ddof=1)
    assert np.all(spread < 0.03), "replications agree closely (measured sd about 0.01)"
    gap = np.abs(runs[:, steps].mean(axis=0) - expected[steps])
    assert np.all(gap < 5 * spread / np.sqrt(8))


def test_the_ring_is_the_slowest_and_the_complete_graph_the_fastest():
    # Fibich & Gibori (2010): spatial structure slows Bass diffusion, the one-dimensional lattice most.
    complete, small_world, ring = (network_bass(kind, k, seed=3) for kind, k in
                                   (("complete", 10), ("watts_strogatz", 10), ("ring", 2)))
    for step in (10, 20):  # measured at step 10: 0.45, 0.37, 0.23 (sd about 0.01 each)
        assert ring[step] + 0.05 < small_world[step] < complete[step] - 0.03
    assert ring[-1] > 0.9 and small_world[-1] > 0.99  # all of them still get there


def test_funnelsim_run_bass_on_a_ring_just_works(tmp_path):
    from funnelsim.cli import main

    out = tmp_path / "out"
    code = main(["run", "bass", "--set", "network.kind=ring", "--set", "network.k=2", "--set", "market.consumers=2000",
                 "--steps", "12", "--replications", "1", "--workers", "1", "--seed", "1", "--out", str(out)])
    assert code in (0, None)
    assert (out / "summary.csv").is_file()
