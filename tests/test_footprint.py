"""The memory guard: its estimate covers what a run really allocates, and absurd runs are
refused at once, before anything is built."""

import time
import tracemalloc

import pytest

from funnelsim import MarketModel, load_scenario
from funnelsim.errors import UsageError
from funnelsim.model import footprint


@pytest.mark.parametrize("kind", ["watts_strogatz", "erdos_renyi", "sbm", "ring", "complete", "barabasi_albert"])
def test_estimate_covers_the_measured_peak_within_a_small_factor(kind):
    scenario = load_scenario("baseline", {"market.consumers": 20_000, "network.kind": kind})
    tracemalloc.start()
    try:
        model = MarketModel(scenario, rng=1, consumer_agents=False)
        for _ in range(10):
            model.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = footprint.run_bytes(scenario)
    # Over 20 steps the per-step table adds a few kilobytes: the peak is the build.
    assert estimate >= 0.8 * peak, f"{kind}: estimate {estimate:,} under the measured peak {peak:,}"
    assert estimate <= 6 * peak + 2**20, f"{kind}: estimate {estimate:,} far above the measured peak {peak:,}"


def test_the_most_consumers_the_schema_allows_is_refused_at_once_on_a_small_machine(monkeypatch):
    # The schema stops at 100,000,000 consumers (a billion is refused there); with 8 GiB free,
    # the estimate (about 300 bytes a consumer plus 320 per consumer's ties) cannot fit.
    monkeypatch.setattr(footprint, "available_bytes", lambda: 8 * 2**30)
    scenario = load_scenario("baseline", {"market.consumers": 100_000_000})
    started = time.perf_counter()
    with pytest.raises(UsageError, match=r"market.consumers = 100,000,000 .* needs about .* GiB"):
        footprint.check_fits(scenario)
    assert time.perf_counter() - started < 1.0


def test_parallel_runs_multiply_the_need():
    scenario = load_scenario("baseline", {"market.consumers": 10_000})
    one = footprint.check_fits(scenario)
    assert footprint.check_fits(scenario, parallel_runs=2) == 2 * one
