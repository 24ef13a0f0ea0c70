"""The step's fast paths give exactly what the plain formulas give, and consumer agents made on
first look behave like agents made with the model."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from funnelsim import MarketModel
from funnelsim.agents.consumer import Consumer
from funnelsim.agents.delays import draw_delays
from funnelsim.agents.funnel import decay_awareness
from funnelsim.agents.marketer import Marketer
from funnelsim.agents.salesperson import Salesperson
from funnelsim.agents.word_of_mouth import contagion_hearers, hearers, hearing_chance
from funnelsim.model.ledger import Ledger
from funnelsim.model.network import CompleteNetwork, watts_strogatz_network
from funnelsim.model.scenario import Market, WordOfMouth


@pytest.mark.parametrize("beta", [0.01, 0.05, 0.5, 0.999999, 1.0])
@pytest.mark.parametrize("form", ["contagion", "fraction"])
@pytest.mark.parametrize("bits", [np.random.PCG64, np.random.MT19937], ids=["pcg64-in-loop", "other-generator"])
def test_hearers_are_the_plain_bernoulli_draws(beta, form, bits):
    network = watts_strogatz_network(3000, 10, 0.1, seed=4)
    rng = np.random.default_rng(8)
    exposure = rng.exponential(2.0, size=(3000, 2)) * (rng.random((3000, 2)) < 0.8)  # zeros too
    susceptibility = rng.random(3000)
    settings = WordOfMouth(form=form, beta=beta)
    ours, numpys = np.random.Generator(bits(21)), np.random.Generator(bits(21))
    consumer, firm = hearers(np.ascontiguousarray(exposure.T), network, settings, susceptibility, ours)
    plain = numpys.random(exposure.shape) < hearing_chance(exposure, network, settings, susceptibility)
    assert np.array_equal(consumer * 2 + firm, np.flatnonzero(plain))
    assert consumer.size > 0
    assert ours.random(5).tolist() == numpys.random(5).tolist()  # the stream goes on where numpy's would


@pytest.mark.parametrize("beta", [0.01, 0.05, 0.5, 0.999999])
@pytest.mark.parametrize("bits", [np.random.PCG64, np.random.MT19937], ids=["pcg64-in-loop", "other-generator"])
@pytest.mark.parametrize("firms", [1, 2, 3])
def test_hearing_from_the_ties_is_hearing_from_the_exposure(beta, bits, firms):
    # Strengths with zeros, a few large ones (the bound's largest), and consumers with no tie.
    network = watts_strogatz_network(3000, 10, 0.1, seed=4)
    adjacency = network.adjacency.tolil()
    adjacency[:7, :] = 0
    adjacency[:, :7] = 0
    network = type(network)(adjacency.tocsr())
    rng = np.random.default_rng(firms)
    strength = rng.random((3000, firms)) * 0.2 * (rng.random((3000, firms)) < 0.7)
    strength[rng.integers(0, 3000, 20)] = 0.95
    if firms > 1:  # everyone equally strong: the bound that needs no exposure is exact
        strength[:, -1] = 0.25
    susceptibility = rng.random(3000)
    customer_of = np.where(rng.random(3000) < 0.1, rng.integers(0, firms, 3000), -1).astype(np.int8)
    customers = np.flatnonzero(customer_of >= 0)
    strength[customers, customer_of[customers]] = 0.5 + 0.5 * rng.random(customers.size)  # satisfaction
    ours, numpys = np.random.Generator(bits(21)), np.random.Generator(bits(21))
    by_ties = contagion_hearers(strength.T, network.zero_one_ties(), beta, susceptibility, customer_of, ours)
    by_exposure = hearers(network.exposure_of_rows(strength.T), network, WordOfMouth(beta=beta), susceptibility, numpys)
    assert by_ties[0].size > 0
    assert all(np.array_equal(a, b) for a, b in zip(by_ties, by_exposure))
    assert ours.random(5).tolist() == numpys.random(5).tolist()


def test_exposure_of_rows_equals_the_column_product_exactly():
    network = watts_strogatz_network(2000, 10, 0.2, seed=6)
    weights = np.random.default_rng(1).random((3, 2000))
    assert np.array_equal(network.exposure_of_rows(weights), network.exposure(np.ascontiguousarray(weights.T)).T)
    complete = CompleteNetwork(50)
    small = weights[:, :50]
    assert np.array_equal(complete.exposure_of_rows(small), complete.exposure(np.ascontiguousarray(small.T)).T)


def test_decay_matches_the_array_formula_for_listeners_and_others():
    rng = np.random.default_rng(2)
    market = Market(awareness_decay=0.07, forget_below=0.05)
    memorability = np.array([0.6, 0.0, 0.3])

    class State:
        awareness = rng.random((3, 500))
        memorable = rng.random((3, 500)) < 0.2

    State.memorable[2] = False  # a firm whose jingle reached nobody
    expected = State.awareness * (1.0 - market.awareness_decay * (1.0 - memorability[:, None] * State.memorable))
    expected[expected < market.forget_below] = 0.0
    decay_awareness(State, market, memorability)
    assert np.array_equal(State.awareness, expected)


def test_ledger_views_survive_pickling():
    ledger = Ledger(2)
    ledger.add("revenue", 1, 5.0)
    ledger.close_step()
    clone = pickle.loads(pickle.dumps(ledger))
    clone.open_step()
    clone.add("revenue", 1, 2.0)
    clone.close_step()
    assert clone.total["revenue"].tolist() == [0.0, 7.0]
    assert ledger.total["revenue"].tolist() == [0.0, 5.0]


def test_consumer_agents_are_made_on_first_look_with_the_ids_they_would_have_had(small_baseline):
    model = MarketModel(small_baseline(consumers=150), rng=4)
    model.run(5)
    firm_agents = len(model.marketers) + sum(len(people) for people in model.salespeople)
    consumers = model.agents_by_type[Consumer]
    assert len(consumers) == 150 and len(model.agents) == 150 + firm_agents
    assert {Consumer, Marketer, Salesperson} <= set(model.agent_types)
    last_firm_agent = max(agent.unique_id for agent in model.agents if not isinstance(agent, Consumer))
    assert min(agent.unique_id for agent in consumers) == last_firm_agent + 1
    agent = model.consumer(42)
    assert agent.row == 42 and agent in consumers and agent.awareness(0) == model.consumers.awareness[0, 42]
    again = model.agents_by_type[Consumer]
    assert len(again) == 150  # made once


def test_without_consumer_agents_there_are_none_to_look_at(small_baseline):
    model = MarketModel(small_baseline(consumers=80), rng=4, consumer_agents=False)
    assert Consumer not in model.agents_by_type
    with pytest.raises(ValueError, match="consumer_agents=False"):
        model.consumer(0)


def test_looking_at_agents_changes_no_result(small_baseline):
    scenario = small_baseline(consumers=300, steps=12)
    looked = MarketModel(scenario, rng=9)
    _ = looked.agents  # made before the run
    assert MarketModel(scenario, rng=9).run().equals(looked.run())


def test_raising_awareness_of_distinct_consumers_needs_no_counting(small_baseline):
    model = MarketModel(small_baseline(consumers=400), rng=2, consumer_agents=False)
    state = model.consumers
    state.awareness[0] = np.random.default_rng(3).random(400)
    reached = np.random.default_rng(4).choice(400, size=120, replace=False)
    counted = state.awareness.copy()
    state.raise_awareness(0, reached, 0.3)
    by_count = state.awareness.copy()
    state.awareness[:] = counted
    state.raise_awareness(0, reached, 0.3, distinct=True)
    assert np.array_equal(state.awareness, by_count)


@pytest.mark.parametrize("firms", [1, 3])
def test_hearers_are_the_plain_draws_for_any_number_of_firms(firms):
    network = watts_strogatz_network(2000, 10, 0.1, seed=5)
    rng = np.random.default_rng(9)
    exposure = rng.exponential(3.0, size=(2000, firms)) * (rng.random((2000, firms)) < 0.7)
    susceptibility = rng.random(2000)
    settings = WordOfMouth(form="contagion", beta=0.2)
    consumer, firm = hearers(np.ascontiguousarray(exposure.T), network, settings, susceptibility, np.random.default_rng(2))
    plain = np.random.default_rng(2).random(exposure.shape) < hearing_chance(exposure, network, settings, susceptibility)
    assert np.array_equal(consumer * firms + firm, np.flatnonzero(plain))
    assert consumer.size > 0


@pytest.mark.parametrize(("mean", "cv", "minimum"), [(3.0, 0.5, 1), (10.0, 1.0, 0), (4.0, 0.3, 2)])
def test_one_delay_is_the_array_formula_draw_for_draw(mean, cv, minimum):
    """draw_delays(size=1) takes its two draws as scalars: the same numbers, the same stream."""
    fast, plain = np.random.default_rng(11), np.random.default_rng(11)
    shape = ((mean - minimum) / (cv * mean)) ** 2
    scale = (mean - minimum) / shape
    for _ in range(200):
        got = draw_delays(mean, cv, 1, fast, minimum=minimum)
        want = minimum + np.floor(plain.gamma(shape, scale, 1) + plain.random(1)).astype(np.int64)
        assert got.dtype == np.int64 and np.array_equal(got, want)
    assert fast.random() == plain.random()


def test_ledger_counts_and_item_blocks_add_what_one_add_per_event_adds():
    firms = np.random.default_rng(3).integers(0, 3, size=50)
    amounts = np.random.default_rng(4).random(50) * 100
    fast, plain = Ledger(3), Ledger(3)
    fast.add_per_firm("leads_cold", firms)
    fast.add_per_firm("cold_wait_total", firms, amounts)
    items = ("revenue", "discounts", "revenue_sales")
    fast.add_items(items, 2, np.array([1.5, 2.25, 3.0]))
    for firm in firms:
        plain.add("leads_cold", int(firm), 1.0)
    plain.step["cold_wait_total"] += np.bincount(firms, weights=amounts, minlength=3)
    for item, amount in zip(items, (1.5, 2.25, 3.0)):
        plain.add(item, 2, amount)
    assert np.array_equal(fast.step_copy()["leads_cold"], plain.step_copy()["leads_cold"])
    for item in ("cold_wait_total", *items):
        assert np.array_equal(fast.step[item], plain.step[item])


def test_stage_counts_and_leads_being_worked_match_the_plain_masks(small_baseline):
    model = MarketModel(small_baseline(consumers=2000), rng=3, consumer_agents=False)
    model.run(40)
    state = model.consumers
    counts, worked = state._stage_counts_and_worked()
    for firm in range(state.firms):
        # Stages of this firm's funnel: a rival's lead or customer is aware or unaware of this firm.
        lead, customer = state.lead_of == firm, state.customer_of == firm
        aware = (state.awareness[firm] >= state.recall_threshold) & ~lead & ~customer
        assert counts["aware"][firm] == np.count_nonzero(aware)
        assert counts["leads"][firm] == np.count_nonzero(lead)
        assert counts["customers"][firm] == np.count_nonzero(customer)
        assert counts["unaware"][firm] == state.size - np.count_nonzero(aware | lead | customer)
        assert counts["rival_customers"][firm] == np.count_nonzero((state.customer_of != -1) & ~customer)
        assert worked[firm] == np.count_nonzero((state.lead_of == firm) & state.being_worked)
    assert counts["leads"].sum() > 0 and worked.sum() > 0
    assert state.waiting_leads().tolist() == np.flatnonzero((state.lead_of != -1) & ~state.being_worked).tolist()


def test_email_contacts_are_the_plain_mask(small_baseline):
    """The email channel's contact list built in one buffer is the plain boolean formula."""
    from funnelsim.agents.channels import email

    model = MarketModel(small_baseline(consumers=1000), rng=5, consumer_agents=False)
    model.run(10)
    state, context = model.consumers, model.channel_contexts[0]
    state.unsubscribed[0, ::7] = True
    plain = np.flatnonzero(
        (state.on_bought_list[0] | (state.awareness[0] > 0) | state.ever_customer[0]) & ~state.unsubscribed[0]
    )
    params = context.firm.marketing.email
    spend = params.cost_per_send * 10_000  # more than the list: every contact is sent to
    unsubscribed_before = state.unsubscribed[0].copy()
    reach = email(spend, context)
    assert np.array_equal(np.sort(reach.consumers), plain)
    assert not (state.unsubscribed[0] & ~unsubscribed_before & ~np.isin(np.arange(1000), plain)).any()


def test_decay_without_memorable_jingles_is_one_factor_for_everyone():
    rng = np.random.default_rng(5)
    market = Market(awareness_decay=0.05, forget_below=0.02)

    class State:
        awareness = rng.random((2, 300))
        memorable = rng.random((2, 300)) < 0.5  # listeners, but no firm's jingle is memorable

    expected = State.awareness * (1.0 - market.awareness_decay)
    expected[expected < market.forget_below] = 0.0
    decay_awareness(State, market, np.zeros(2))
    assert np.array_equal(State.awareness, expected)


def test_raising_awareness_of_repeated_consumers_compounds_as_the_plain_formula(small_baseline):
    model = MarketModel(small_baseline(consumers=300), rng=2, consumer_agents=False)
    state = model.consumers
    state.awareness[1] = np.random.default_rng(6).random(300)
    for reached in (np.random.default_rng(7).integers(0, 300, 500), np.array([5, 9, 5, 5, 200])):
        hit, times = np.unique(reached, return_counts=True)
        expected = state.awareness[1].copy()
        expected[hit] = 1.0 - (1.0 - expected[hit]) * (1.0 - 0.2) ** times
        state.raise_awareness(1, reached, 0.2)
        assert np.array_equal(state.awareness[1], expected)


def test_a_finished_model_is_freed_and_agent_ids_still_count_per_model(small_baseline):
    """Mesa 3.3 kept every model alive through Agent._ids (Mesa issue #3179): thousands of runs
    in one process grew without bound. Models are freed now, and ids still start at 1 per model."""
    import gc
    import weakref

    scenario = small_baseline(consumers=200, steps=3)
    first = MarketModel(scenario, rng=1)
    ids = sorted(agent.unique_id for agent in first.agents)
    second = MarketModel(scenario, rng=1)
    assert sorted(agent.unique_id for agent in second.agents) == ids and ids[0] == 1
    second.run()
    gone = weakref.ref(second)
    del second
    gc.collect()
    assert gone() is None
