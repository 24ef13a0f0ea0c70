"""Marketing's compiled paths give exactly what the plain array rules give: awareness raised and
touches recorded for everyone a channel reaches."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim import MarketModel
from funnelsim.agents.sampling import choice_without_replacement, uniform_picks


@pytest.fixture
def state(small_baseline):
    state = MarketModel(small_baseline(consumers=300), rng=2, consumer_agents=False).consumers
    state.awareness[:] = np.random.default_rng(6).random(state.awareness.shape)
    return state


def plain_raise(awareness: np.ndarray, consumers: np.ndarray, lift: float) -> np.ndarray:
    """The rule as array operations: 1 - (1 - a) (1 - lift) ** times, per distinct consumer."""
    hit, times = np.unique(consumers, return_counts=True)
    expected = awareness.copy()
    remaining = 1.0 - lift if times.max() == 1 else (1.0 - lift) ** times
    expected[hit] = 1.0 - (1.0 - expected[hit]) * remaining
    return expected


def test_a_consumer_listed_many_times_compounds_every_listing(state):
    # 40 listings of consumer 7 (more than the 16 powers kept at first), 3 of 8, 1 of 9.
    reached = np.random.default_rng(1).permutation(np.array([7] * 40 + [8] * 3 + [9]))
    before = state.awareness.copy()
    expected = plain_raise(before[0], reached, 0.05)
    state.raise_awareness(0, reached, 0.05)
    assert np.array_equal(state.awareness[0], expected)
    assert state.awareness[0, 7] == pytest.approx(1.0 - (1.0 - before[0, 7]) * 0.95**40, rel=1e-14)
    others = np.setdiff1d(np.arange(300), [7, 8, 9])
    assert np.array_equal(state.awareness[0, others], before[0, others])
    assert np.array_equal(state.awareness[1], before[1])


def test_raising_twice_by_a_lift_is_listing_twice(state):
    once_each = state.awareness[0].copy()
    state.raise_awareness(0, np.array([4, 4]), 0.3)
    twice = state.awareness[0, 4]
    assert twice == pytest.approx(1.0 - (1.0 - once_each[4]) * 0.7 * 0.7, rel=1e-15)


def test_touch_keeps_the_first_channel_and_replaces_the_last(state):
    before = state.awareness.copy()
    state.touch(1, np.array([3, 5, 5]), channel_code=2, step=4)
    state.touch(1, np.array([5, 6]), channel_code=3, step=9)
    assert state.first_touch[1, [3, 5, 6]].tolist() == [2, 2, 3]
    assert state.first_touch_step[1, [3, 5, 6]].tolist() == [4, 4, 9]
    assert state.last_touch[1, [3, 5, 6]].tolist() == [2, 3, 3]
    assert state.last_touch_step[1, [3, 5, 6]].tolist() == [4, 9, 9]
    assert np.count_nonzero(state.first_touch) == 3 and np.count_nonzero(state.last_touch) == 3
    assert np.array_equal(state.awareness, before)  # a touch raises no awareness


@pytest.mark.parametrize("distinct", [False, True])
def test_reach_is_raise_awareness_then_touch(state, distinct):
    rng = np.random.default_rng(3)
    reached = rng.choice(300, 80, replace=False) if distinct else rng.integers(0, 300, 200)
    apart = {
        name: getattr(state, name).copy()
        for name in ("awareness", "first_touch", "first_touch_step", "last_touch", "last_touch_step")
    }
    state.touch(0, np.array([11, 12]), channel_code=1, step=2)  # some consumers touched before
    before = {name: getattr(state, name).copy() for name in apart}
    state.raise_awareness(0, reached, 0.2, distinct)
    state.touch(0, reached, 4, 7)
    apart = {name: getattr(state, name).copy() for name in apart}
    for name, values in before.items():
        getattr(state, name)[:] = values
    state.reach(0, reached, 0.2, distinct, channel_code=4, step=7)
    for name, values in apart.items():
        assert np.array_equal(getattr(state, name), values), name


def test_a_lift_of_zero_raises_nothing_but_reach_still_touches(state):
    before = state.awareness.copy()
    state.reach(0, np.array([1, 2, 2]), 0.0, channel_code=3, step=5)
    assert np.array_equal(state.awareness, before)
    assert state.last_touch[0, [1, 2]].tolist() == [3, 3]


def test_an_index_outside_the_consumers_or_firms_is_an_error_and_changes_nothing(state):
    before = state.awareness.copy()
    for firm, bad in ((0, np.array([1, 300])), (0, np.array([-1, 2])), (2, np.array([1, 2])), (-1, np.array([1, 2]))):
        with pytest.raises(IndexError, match="out of range"):
            state.reach(firm, bad, 0.5, channel_code=1, step=1)
    assert np.array_equal(state.awareness, before) and not state.first_touch.any()


# Sizes on both sides of numpy's switch to its other algorithm (n > 10,000 and k > n // 50), the
# whole population, nothing, and populations near 2**32 where Lemire's method rejects about a
# third of the draws (so the sample needs more draws than it asked for first).
SAMPLES = [(10_000, 1393), (10_000, 10_000), (10_000, 0), (1, 1), (2, 2), (7, 3), (9884, 720), (10_001, 200), (10_001, 201)]
SAMPLES += [(60_000, 1200), (200_000, 150_000), (3_000_000_000, 1000), (2**32 - 1, 300)]


@pytest.mark.parametrize(("n", "k"), SAMPLES)
def test_a_sample_without_replacement_is_numpys_draw_for_draw(n, k):
    for seed in range(6):
        numpys, ours = np.random.default_rng(seed), np.random.default_rng(seed)
        if seed % 2:  # half a 64-bit draw left over in the generator: the next 32-bit draw uses it
            numpys.integers(5, size=1), ours.integers(5, size=1)
        expected = numpys.choice(n, size=k, replace=False)
        got = choice_without_replacement(ours, n, k)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
        # The generators are left in the same state: the same next 32-bit and 64-bit draws.
        assert ours.integers(1000, size=3).tolist() == numpys.integers(1000, size=3).tolist()
        assert ours.random() == numpys.random()


def test_a_sample_of_an_array_is_numpys_and_bad_sizes_are_numpys_errors():
    members = np.random.default_rng(1).permutation(5000)[:1234]
    numpys, ours = np.random.default_rng(4), np.random.default_rng(4)
    assert np.array_equal(choice_without_replacement(ours, members, 300), numpys.choice(members, size=300, replace=False))
    with pytest.raises(ValueError, match="larger sample"):
        choice_without_replacement(ours, 10, 11)


@pytest.mark.parametrize(
    ("first_size", "second_size", "first_count", "second_count"),
    [
        (3000, 7000, 40, 10),
        (3000, 7000, 400, 300),
        (1, 7000, 5, 5),
        (3000, 1, 5, 5),
        (0, 10, 0, 4),
        (10, 0, 4, 0),
        (50, 50, 0, 0),
    ],
)
def test_uniform_picks_from_two_pools_are_numpys_two_integers_calls(first_size, second_size, first_count, second_count):
    """Blog readers: picks inside the market, then outside it (a pool of one takes no draw)."""
    first, second = np.arange(first_size) * 2, np.arange(second_size) * 2 + 1
    for seed in range(4):
        numpys, ours = np.random.default_rng(seed), np.random.default_rng(seed)
        if seed % 2:
            numpys.integers(5, size=1), ours.integers(5, size=1)
        picks_first = first[numpys.integers(0, first.size, first_count)] if first.size else first[:0]
        picks_second = second[numpys.integers(0, second.size, second_count)] if second.size else second[:0]
        expected = np.concatenate([picks_first, picks_second])
        got = uniform_picks(ours, first, first_count, second, second_count)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)
        assert ours.bit_generator.state == numpys.bit_generator.state


def test_pcg64s_state_is_read_in_place_and_other_bit_generators_give_numpys_draws_too():
    import sys

    from funnelsim.agents.pcg64 import generator_state

    # numpy's default generator takes the fast path (its state layout checked on this numpy).
    assert (generator_state(np.random.default_rng(1).bit_generator) is not None) == (sys.byteorder == "little")
    for make in (np.random.MT19937, np.random.Philox, np.random.SFC64):
        numpys, ours = np.random.Generator(make(3)), np.random.Generator(make(3))
        expected = numpys.choice(10_000, size=700, replace=False)
        assert np.array_equal(choice_without_replacement(ours, 10_000, 700), expected)
        assert ours.integers(1000, size=3).tolist() == numpys.integers(1000, size=3).tolist()
        assert ours.random() == numpys.random()


def _plain_email(spend, ctx):
    """The email channel as plain array operations and numpy's own sampler (before any compiled
    path): the reference the channel must match draw for draw."""
    params, state, f = ctx.firm.marketing.email, ctx.state, ctx.firm_index
    contacts = np.flatnonzero(
        ((state.awareness[f] > 0) | state.on_bought_list[f] | state.ever_customer[f]) & ~state.unsubscribed[f]
    )
    if contacts.size == 0 or spend <= 0:
        return contacts[:0], 0
    sends = min(contacts.size if params.cost_per_send == 0 else int(spend // params.cost_per_send), contacts.size)
    recipients = ctx.rng.choice(contacts, size=sends, replace=False)
    unsubscribe = min(1.0, params.unsubscribe_rate + params.fatigue * sends / contacts.size)
    leaving = recipients[ctx.rng.random(sends) < unsubscribe]
    state.unsubscribed[f][leaving] = True
    return recipients, leaving.size


def _plain_readers(count, bias, ctx):
    inside, outside = ctx.in_market_idx, ctx.out_market_idx
    weight_in = bias * inside.size
    from_inside = ctx.rng.binomial(count, weight_in / (weight_in + outside.size))
    picks_in = inside[ctx.rng.integers(0, inside.size, from_inside)] if inside.size else inside[:0]
    picks_out = outside[ctx.rng.integers(0, outside.size, count - from_inside)] if outside.size else outside[:0]
    return np.concatenate([picks_in, picks_out])


@pytest.mark.parametrize("targeting", ["everyone", "community"])
def test_every_channel_reaches_whom_numpys_own_samplers_reach(small_baseline, targeting):
    """Email, blog readers, media and jingles on a model mid-run: the same consumers, the same
    unsubscribes and the same generator state as the plain rules with rng.choice and integers."""
    import copy

    from funnelsim.agents import channels

    overrides = {"firms.0.marketing.targeting": targeting, "network.kind": "sbm"} if targeting == "community" else {}
    model = MarketModel(small_baseline(consumers=3000), rng=7, consumer_agents=False, overrides=overrides)
    model.run(15)
    context = model.channel_contexts[0]
    plain = copy.deepcopy(context)  # its own state and generator, equal to the model's
    assert plain.rng.bit_generator.state == context.rng.bit_generator.state
    for spend in (0.0, 3.0, 30.0, 1e6):
        reach = channels.email(spend, context)
        recipients, leaving = _plain_email(spend, plain)
        assert np.array_equal(reach.consumers, recipients) and reach.counts.get("unsubscribes", 0) == leaving
        assert np.array_equal(context.state.unsubscribed, plain.state.unsubscribed)
        for count in (0, 1, 40, 900):
            assert np.array_equal(channels._readers(count, 3.0, context), _plain_readers(count, 3.0, plain))
        for impressions in (0.0, 50.0, 4000.0, 40_000.0):
            reached = channels.poisson_reach(impressions, context.audience, context.rng)
            count = plain.rng.binomial(plain.audience.size, -np.expm1(-impressions / plain.audience.size)) if impressions else 0
            population = plain.audience.members if plain.audience.members is not None else plain.audience.size
            expected = plain.rng.choice(population, size=count, replace=False) if impressions else reached[:0]
            assert np.array_equal(reached, expected)
        assert context.rng.bit_generator.state == plain.rng.bit_generator.state


def test_a_sample_of_a_list_of_rows_or_of_a_0_d_count_is_numpys():
    for population in ([5, 9, 11, 2, 7], np.arange(12).reshape(6, 2), np.array(8)):
        numpys, ours = np.random.default_rng(2), np.random.default_rng(2)
        assert np.array_equal(choice_without_replacement(ours, population, 3), numpys.choice(population, size=3, replace=False))
        assert ours.random() == numpys.random()
