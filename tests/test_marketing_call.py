"""A marketer's step in one compiled call (agents/marketing_call.py) gives what the channel
functions give (agents/channels.py through Marketer.step): the same draws, awareness, touches,
lists, ledger and generator state, for every channel and the edges of each."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from funnelsim import MarketModel
from funnelsim.agents import marketing_call

pytestmark = pytest.mark.skipif(sys.byteorder != "little", reason="the in-loop stream is for little-endian layouts")

CASES = {
    "baseline": ({}, 40),
    "community targeting": (
        {"network.kind": "sbm", "firms.0.marketing.targeting": "community", "firms.0.marketing.target_community": 1},
        30,
    ),
    "free email": ({"firms.0.marketing.email.cost_per_send": 0.0}, 30),
    # 30 consumers and a blog read 50 times a post: readers repeat beyond the 16 powers kept at first.
    "blog readers repeating": (
        {"market.consumers": 30, "firms.0.marketing.blogging.cost_per_post": 1.0, "firms.0.marketing.blogging.reach_per_post": 50.0},
        20,
    ),
    # Media reaching most of 20,000 consumers: numpy's tail shuffle instead of Floyd's sample.
    "media beyond Floyd's range": ({"market.consumers": 20_000, "firms.0.marketing.budget_per_step": 5000.0}, 4),
    "everyone in the market": ({"market.in_market_share": 1.0}, 25),
    "nobody in the market": ({"market.in_market_share": 0.0}, 25),
    "no search bias": ({"firms.1.marketing.blogging.in_market_bias": 0.0}, 25),
    "no budget": ({"firms.1.marketing.budget_per_step": 0.0}, 20),
    "a jingle paid off in a few steps": ({"firms.0.marketing.jingles.production_cost": 100.0}, 30),
    "no lift": ({"firms.0.marketing.media.lift": 0.0, "firms.0.marketing.blogging.lift": 0.0}, 20),
}


def run(small_baseline, overrides: dict, steps: int, compiled: bool, monkeypatch) -> tuple[MarketModel, object, list[bool]]:
    calls: list[bool] = []
    spend = marketing_call.spend

    def counted(*args):
        done = spend(*args) if compiled else False
        calls.append(done)
        return done

    with monkeypatch.context() as patch:
        patch.setattr(marketing_call, "spend", counted)
        model = MarketModel(small_baseline({"market.consumers": 800, **overrides}), rng=11, consumer_agents=False)
        table = model.run(steps)
    return model, table, calls


@pytest.mark.parametrize("case", list(CASES))
def test_one_compiled_call_gives_what_the_channel_functions_give(case, small_baseline, monkeypatch):
    overrides, steps = CASES[case]
    compiled, compiled_table, calls = run(small_baseline, overrides, steps, True, monkeypatch)
    plain, plain_table, _ = run(small_baseline, overrides, steps, False, monkeypatch)
    assert all(calls), "every marketer's step took the compiled call"
    assert compiled_table.equals(plain_table)
    ours, theirs = compiled.consumers, plain.consumers
    for name in ("awareness", "first_touch", "first_touch_step", "last_touch", "last_touch_step", "unsubscribed", "memorable"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
    assert np.array_equal(compiled.ledger.step_values(), plain.ledger.step_values())
    for mine, other in zip(compiled.channel_contexts, plain.channel_contexts):
        assert mine.marketing == other.marketing  # the post stock and what the jingle has been paid
    assert compiled.rng.bit_generator.state == plain.rng.bit_generator.state


def test_hub_targeting_and_other_generators_use_the_channel_functions(small_baseline, monkeypatch):
    # Hubs are drawn by numpy's weighted choice, and only PCG64's stream is drawn in the loop.
    _, _, calls = run(small_baseline, {"firms.0.marketing.targeting": "hubs"}, 5, True, monkeypatch)
    assert calls.count(False) == 10 and calls.count(True) == 5  # firm 0's two marketers decline
    model = MarketModel(small_baseline({"market.consumers": 300}), rng=np.random.Generator(np.random.MT19937(3)), consumer_agents=False)
    context = model.channel_contexts[0]
    assert not marketing_call.spend(context, 100.0, model.ledger, 1)
