"""numpy's own C draws (uniform, gamma, beta, Gumbel, bounded integers) called from kernels (agents/numpy_c.py) are numpy's, and the rules that
use them give, in one compiled call, what their numpy path gives."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel
from funnelsim.agents import numpy_c
from funnelsim.compiled import kernel

GENERATORS = {"PCG64": np.random.PCG64, "MT19937": np.random.MT19937}


@kernel
def _draws(functions, state, shape, a, b, count):
    out = np.empty((5, count))
    for i in range(count):
        out[0, i] = numpy_c.uniform(functions, state)
    for i in range(count):
        out[1, i] = numpy_c.gamma(functions, state, shape, 1.5)
    for i in range(count):
        out[2, i] = numpy_c.beta(functions, state, a, b)
    for i in range(count):
        out[3, i] = numpy_c.gumbel(functions, state, 0.0, 1.0)
    for i in range(count):
        out[4, i] = numpy_c.integer(functions, state, 1 + i % 3 + (i // 3) * 1_000_003)
    return out


@pytest.mark.parametrize("make", list(GENERATORS.values()), ids=list(GENERATORS))
@pytest.mark.parametrize(("shape", "a", "b"), [(0.3, 0.5, 0.8), (1.0, 2.0, 0.5), (7.5, 30.0, 12.0)])
def test_draws_from_a_kernel_are_numpys_and_numpy_goes_on_from_there(make, shape, a, b):
    # Gamma below, at and above shape 1 (three methods); beta by Johnk's method and by gammas.
    functions = numpy_c.functions()
    assert functions is not None, "numpy exports its C distributions on this machine"
    ours, numpys = np.random.Generator(make(5)), np.random.Generator(make(5))
    got = _draws(functions, numpy_c.state_of(ours), shape, a, b, 400)
    highs = 1 + np.arange(400) % 3 + (np.arange(400) // 3) * 1_000_003  # 1 takes no draw; up to 2**27
    expected = [numpys.random(400), numpys.gamma(shape, 1.5, 400), numpys.beta(a, b, 400), numpys.gumbel(size=400)]
    expected.append([numpys.integers(0, high) for high in highs])
    assert np.array_equal(got, np.array(expected))
    assert ours.random(5).tolist() == numpys.random(5).tolist()


CASES = {
    "baseline": {},
    "switching, self-serve and churn": {"market.switch_rate": 0.2, "market.self_serve_rate": 0.05, "market.churn_rate": 0.02},
    "referrals": {"firms.0.sales.referral_reward": 50.0, "firms.1.sales.referral_reward": 20.0, "market.referral_share": 0.4},
    # Every tie refers, on a dense network: new customers share neighbours, who join once.
    "shared referrals": {"firms.0.sales.referral_reward": 50.0, "market.referral_share": 1.0, "network.k": 40, "market.self_serve_rate": 0.05},
    "constant delays": {"market.delay_cv": 0.0, "firms.0.sales.cycle_cv": 0.0},
    "exact qualities": {"firms.0.quality": 1.0, "firms.1.quality": 0.0},
    "one firm": {"firms": [{"name": "Solo"}]},
    # No marketing: the in-market stay free, and idle salespeople find them by calling.
    "salespeople prospecting": {
        "market.consumers": 200,
        "firms.0.marketing.budget_per_step": 0.0,
        "firms.1.marketing.budget_per_step": 0.0,
        "firms.0.sales.prospect_response": 0.1,
        "firms.1.sales.prospect_response": 0.3,
    },
    "complete graph": {"network.kind": "complete", "word_of_mouth.beta": 0.001, "firms.0.sales.referral_reward": 50.0},
}


@pytest.mark.parametrize("bits", ["PCG64", "MT19937"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_model_with_compiled_draws_runs_as_with_numpys(case, bits, small_baseline, monkeypatch):
    def run() -> tuple[MarketModel, object]:
        rng = np.random.Generator(GENERATORS[bits](21))
        model = MarketModel(small_baseline({"market.consumers": 600, **CASES[case]}), rng=rng, consumer_agents=False)
        return model, model.run(60)

    compiled, compiled_table = run()
    with monkeypatch.context() as patch:
        patch.setattr(numpy_c, "functions", lambda: None)
        plain, plain_table = run()
    assert compiled_table.equals(plain_table)
    ours, theirs = compiled.consumers, plain.consumers
    for name in ("awareness", "lead_of", "customer_of", "patience", "next_lead_step", "satisfaction", "referred_by", "lead_since"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
    for item, total in compiled.ledger.total.items():  # every amount booked over the run
        assert np.array_equal(total, plain.ledger.total[item]), item
    assert compiled.rng.random(3).tolist() == plain.rng.random(3).tolist()


def test_without_compiling_there_are_no_c_draws(monkeypatch):
    monkeypatch.setattr(numpy_c.numba_config, "DISABLE_JIT", True)
    numpy_c._checked.cache_clear()
    try:
        assert numpy_c.functions() is None
    finally:
        monkeypatch.undo()
        numpy_c._checked.cache_clear()
    assert numpy_c.functions() is not None
