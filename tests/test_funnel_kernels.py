"""The funnel's compiled loops give exactly what the numpy rules they replaced gave.

Each test builds a random state with a fixed seed (leads, customers, cooldowns, zero and
threshold-level awareness mixed in, so every branch is taken), computes the rule's result the
plain numpy way, as the rules did before they were compiled, and asks for equality, not
closeness: a seed's results may only change when the changelog says so.
"""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim.agents import funnel, word_of_mouth
from funnelsim.agents.population import NOBODY, waiting_rows
from funnelsim.model.network import watts_strogatz_network

SIZE, FIRMS, STEP = 4000, 3, 50


@pytest.fixture
def state_arrays():
    rng = np.random.default_rng(31)
    awareness = rng.random((FIRMS, SIZE)) * (rng.random((FIRMS, SIZE)) < 0.7)
    threshold = rng.random(SIZE) * 0.5
    awareness[0, :50] = threshold[:50]  # exactly at the threshold
    return {
        "awareness": awareness,
        "threshold": threshold,
        "reachable": rng.random((FIRMS, SIZE)) < 0.9,
        "in_market": rng.random(SIZE) < 0.4,
        "customer_of": np.where(rng.random(SIZE) < 0.1, rng.integers(0, FIRMS, SIZE), NOBODY).astype(np.int8),
        "lead_of": np.where(rng.random(SIZE) < 0.2, rng.integers(0, FIRMS, SIZE), NOBODY).astype(np.int8),
        "being_worked": rng.random(SIZE) < 0.3,
        "next_lead_step": rng.integers(0, 2 * STEP, SIZE).astype(np.int32),
        "lead_since": rng.integers(0, STEP, SIZE).astype(np.int32),
        "patience": rng.integers(1, 40, SIZE),
        "acceptances": rng.random((FIRMS, SIZE)),
        "qualities": np.array([0.7, 1e-9, 0.4]),
        "satisfaction": rng.random(SIZE),
        "talkativeness": rng.random(SIZE),
    }


def test_waiting_leads_and_those_past_their_patience(state_arrays):
    s = state_arrays
    waiting = np.flatnonzero((s["lead_of"] != NOBODY) & ~s["being_worked"])
    assert np.array_equal(waiting_rows(s["lead_of"], s["being_worked"]), waiting)
    cold = waiting[STEP - s["lead_since"][waiting] >= s["patience"][waiting]]
    got = funnel._past_patience(s["lead_of"], s["being_worked"], s["lead_since"], s["patience"], STEP)
    assert np.array_equal(got, cold) and 0 < cold.size < waiting.size


def test_self_serve_chances_are_the_rate_times_the_leads_acceptance(state_arrays):
    s = state_arrays
    waiting, chance = funnel._waiting_with_chance(s["lead_of"], s["being_worked"], s["acceptances"], 0.003)
    expected = np.flatnonzero((s["lead_of"] != NOBODY) & ~s["being_worked"])
    assert np.array_equal(waiting, expected)
    assert np.array_equal(chance, 0.003 * s["acceptances"][s["lead_of"][expected], expected])


def test_lead_candidates_attraction_and_choice_match_the_array_rule(state_arrays):
    s = state_arrays
    awareness, threshold = s["awareness"], s["threshold"]
    eligible_all = s["reachable"] & (awareness > 0) & (awareness >= threshold)
    free = np.flatnonzero(
        s["in_market"]
        & (s["customer_of"] == NOBODY)
        & (s["lead_of"] == NOBODY)
        & (s["next_lead_step"] <= STEP)
        & eligible_all.any(axis=0)
    )
    got = funnel._free_with_a_choice(
        awareness, threshold, s["reachable"], s["in_market"], s["customer_of"], s["lead_of"], s["next_lead_step"], STEP
    )
    assert np.array_equal(got, free) and free.size > 0
    eligible, attraction = funnel._attraction(awareness, threshold, s["reachable"], s["qualities"], s["acceptances"], free)
    assert np.array_equal(eligible, eligible_all[:, free])
    plain = np.stack([awareness[f, free] * s["qualities"][f] * s["acceptances"][f, free] + 1e-300 for f in range(FIRMS)])
    assert np.array_equal(attraction, plain)
    utility = np.log(attraction) + np.random.default_rng(3).gumbel(size=attraction.shape)
    masked = np.where(eligible, utility, -np.inf)
    assert np.array_equal(funnel._best_eligible(utility, eligible), masked.argmax(axis=0))
    ties = np.zeros((FIRMS, 5))  # equal utilities: the first eligible firm, as argmax picks
    ties_eligible = np.array(
        [[True, False, False, True, False], [True, True, False, True, True], [True, True, True, False, True]]
    )
    assert funnel._best_eligible(ties, ties_eligible).tolist() == [0, 1, 2, 0, 1]


def test_talk_strength_is_awareness_or_satisfaction_times_talkativeness(state_arrays):
    s = state_arrays
    plain = s["awareness"] * 0.2
    customers = np.flatnonzero(s["customer_of"] != NOBODY)
    plain[s["customer_of"][customers], customers] = s["satisfaction"][customers]
    plain *= s["talkativeness"]
    got = word_of_mouth._talk_strength(s["awareness"], 0.2, s["customer_of"], s["satisfaction"], s["talkativeness"]).T
    assert np.array_equal(got, plain)


def test_referral_pairs_are_each_sources_row_in_order():
    network = watts_strogatz_network(3000, 10, 0.2, seed=2)
    sources = np.array([5, 17, 5, 2999, 0])  # a repeated source lists its ties twice
    indptr, indices = network.adjacency.indptr, network.adjacency.indices
    owner, neighbours = network.neighbour_pairs(sources, 1.0, np.random.default_rng(1))
    expected = [(source, int(other)) for source in sources for other in indices[indptr[source] : indptr[source + 1]]]
    assert list(zip(owner.tolist(), neighbours.tolist())) == expected
    kept_owner, kept = network.neighbour_pairs(sources, 0.4, np.random.default_rng(7))
    keep = np.random.default_rng(7).random(len(expected)) < 0.4
    assert np.array_equal(kept, neighbours[keep]) and np.array_equal(kept_owner, owner[keep])


def test_becoming_a_customer_and_ending_a_lead_write_what_the_array_rules_wrote(state_arrays):
    s = state_arrays
    rng = np.random.default_rng(5)
    first_touch = rng.integers(0, 5, (FIRMS, SIZE)).astype(np.int8)
    last_touch = rng.integers(0, 5, (FIRMS, SIZE)).astype(np.int8)
    referred_by = np.where(rng.random(SIZE) < 0.3, rng.integers(0, SIZE, SIZE), NOBODY)
    customer_since = np.full(SIZE, NOBODY, dtype=np.int32)
    ever = np.zeros((FIRMS, SIZE), dtype=bool)
    customer_of, lead_of, worked = s["customer_of"].copy(), s["lead_of"].copy(), s["being_worked"].copy()
    buyers = rng.choice(SIZE, 300, replace=False)
    f = 1
    first, last = np.zeros(5, dtype=np.int64), np.zeros(5, dtype=np.int64)
    referred = funnel._become_customers(
        customer_of,
        customer_since,
        ever,
        lead_of,
        worked,
        referred_by.copy(),
        first_touch,
        last_touch,
        f,
        buyers,
        STEP,
        first,
        last,
    )
    assert referred == np.count_nonzero(referred_by[buyers] != NOBODY)
    assert np.array_equal(first, np.bincount(first_touch[f][buyers], minlength=5))
    assert np.array_equal(last, np.bincount(last_touch[f][buyers], minlength=5))
    assert (customer_of[buyers] == f).all() and (customer_since[buyers] == STEP).all() and ever[f][buyers].all()
    assert (lead_of[buyers] == NOBODY).all() and not worked[buyers].any()
    untouched = np.setdiff1d(np.arange(SIZE), buyers)
    assert np.array_equal(customer_of[untouched], s["customer_of"][untouched]) and not ever[:, untouched].any()

    patience, next_step = s["patience"].copy(), s["next_lead_step"].copy()
    cooldown, fresh = rng.integers(0, 30, buyers.size), rng.integers(1, 40, buyers.size)
    referred_after = referred_by.copy()
    funnel._end_leads(lead_of, worked, referred_after, next_step, patience, buyers, STEP, cooldown, fresh)
    assert np.array_equal(next_step[buyers], STEP + cooldown) and np.array_equal(patience[buyers], fresh)
    assert (referred_after[buyers] == NOBODY).all() and (lead_of[buyers] == NOBODY).all()
    assert np.array_equal(patience[untouched], s["patience"][untouched])


def test_with_numba_switched_off_a_run_is_the_same_and_quiet(tmp_path):
    # NUMBA_DISABLE_JIT=1 (the README's way to step through the loops in a debugger) runs every
    # kernel as plain Python: the same table, and no warning from the generator's wrapping arithmetic.
    import os
    import subprocess
    import sys

    import pandas as pd

    from funnelsim import MarketModel

    script = (
        "import sys; from funnelsim import MarketModel; "
        "MarketModel('baseline', rng=3, overrides={'market.consumers': 300}).run(15).to_pickle(sys.argv[1])"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    plain = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", script, str(tmp_path / "plain.pkl")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert plain.returncode == 0, plain.stderr
    compiled = MarketModel("baseline", rng=3, overrides={"market.consumers": 300}).run(15)
    pd.testing.assert_frame_equal(pd.read_pickle(tmp_path / "plain.pkl"), compiled)
