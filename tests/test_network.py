"""Network builders: the right size and shape, symmetric, no self-loops, seeded."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from funnelsim.model.network import CompleteNetwork, SparseNetwork, build_network
from funnelsim.model.scenario import NetworkSettings


def build(kind: str, n: int = 400, seed: int = 3, **settings):
    return build_network(NetworkSettings(kind=kind, **settings), n, np.random.default_rng(seed))


@pytest.mark.parametrize("kind", ["watts_strogatz", "barabasi_albert", "erdos_renyi", "ring", "sbm"])
def test_sparse_networks_are_simple_undirected_graphs_of_the_right_size(kind):
    network = build(kind, k=10)
    matrix = network.adjacency
    assert isinstance(network, SparseNetwork)
    assert matrix.shape == (400, 400)
    assert (matrix != matrix.T).nnz == 0, "symmetric"
    assert matrix.diagonal().sum() == 0, "no self-loops"
    assert set(np.unique(matrix.data)) == {1.0}, "no parallel edges"
    # Mean degree is k for every family (Barabasi-Albert: 2m with m = k/2, less the seed's deficit).
    assert network.degree.mean() == pytest.approx(10, rel=0.1)


def test_ring_and_watts_strogatz_keep_the_lattice_degree():
    ring = build("ring", k=6)
    assert np.all(ring.degree == 6)
    rewired = build("watts_strogatz", k=6, p=0.2)
    assert rewired.edges == ring.edges  # rewiring moves edges, never adds or drops them


def test_same_seed_same_network_and_different_seed_different_network():
    first, again, other = build("watts_strogatz", seed=1), build("watts_strogatz", seed=1), build("watts_strogatz", seed=2)
    assert (first.adjacency != again.adjacency).nnz == 0
    assert (first.adjacency != other.adjacency).nnz > 0


def test_block_model_keeps_most_ties_inside_communities():
    network = build("sbm", n=800, k=10, communities=4, mixing=0.1)
    rows, cols = network.adjacency.nonzero()
    inside = np.mean(network.community_of[rows] == network.community_of[cols])
    assert inside == pytest.approx(0.9, abs=0.04)
    assert np.bincount(network.community_of).tolist() == [200, 200, 200, 200]


def test_complete_network_matches_an_explicit_complete_graph():
    implicit = CompleteNetwork(31)
    explicit = SparseNetwork(build("ring", n=31, k=30).adjacency)  # a ring with k = n-1 is complete
    weights = np.random.default_rng(0).random((31, 2))
    assert np.allclose(implicit.exposure(weights), explicit.exposure(weights))
    assert np.all(implicit.degree == explicit.degree)
    assert implicit.edges == explicit.edges == 31 * 30 // 2


@pytest.mark.parametrize("network", [build("watts_strogatz", n=200, k=8), CompleteNetwork(200)], ids=["sparse", "complete"])
def test_neighbour_pairs_are_real_edges_kept_at_the_given_chance(network):
    rng = np.random.default_rng(5)
    sources = np.array([3, 50, 199])
    owners, neighbours = network.neighbour_pairs(sources, 1.0, rng)
    graph = network.to_networkx()
    assert all(graph.has_edge(int(a), int(b)) for a, b in zip(owners, neighbours))
    if isinstance(network, SparseNetwork):
        assert len(owners) == sum(graph.degree[s] for s in sources)
    kept = sum(len(network.neighbour_pairs(sources, 0.25, rng)[0]) for _ in range(200)) / 200
    assert kept == pytest.approx(0.25 * sources.size * network.degree[0], rel=0.1)


# --- Referrals on the complete graph -----------------------------------------------------------


def _pairs_rule(network, sources, is_candidate, chance, rng):
    """The sparse networks' referral rule as refer() applies it: every tie out of the sources kept
    with ``chance``, the candidates' kept, one referrer each, the first in source order."""
    owner, neighbour = network.neighbour_pairs(sources, chance, rng)
    kept = is_candidate[neighbour]
    neighbour, first = np.unique(neighbour[kept], return_index=True)
    return owner[kept][first], neighbour


def test_complete_graph_referrals_have_the_chances_of_ties_kept_one_by_one():
    # Each candidate's tie to each of the S sources is kept with chance p, independently, and the
    # first kept one in source order names the referrer: source k refers it with chance
    # p (1 - p)^k, and it is referred at all with chance 1 - (1 - p)^S. Over R draws of C
    # candidates the count at each position is binomial(R C, p (1 - p)^k); both the implicit rule
    # and the pairs rule on an explicit complete graph (a ring with k = n - 1) must land within
    # 4 standard deviations of it.
    n, chance, repetitions = 61, 0.3, 2000
    sources = np.array([4, 17, 40])
    is_candidate = np.ones(n, dtype=bool)
    is_candidate[sources] = False
    is_candidate[::5] = False  # some consumers are not open to a referral
    candidates = np.flatnonzero(is_candidate)
    implicit, explicit = CompleteNetwork(n), SparseNetwork(build("ring", n=n, k=n - 1).adjacency)
    assert explicit.edges == n * (n - 1) // 2
    trials = repetitions * candidates.size
    expected = chance * (1 - chance) ** np.arange(sources.size) * trials
    sd = np.sqrt(expected * (1 - expected / trials))
    for rule in (
        lambda rng: implicit.referrals(sources, candidates, chance, rng),
        lambda rng: _pairs_rule(explicit, sources, is_candidate, chance, rng),
    ):
        rng = np.random.default_rng(17)
        by_position = np.zeros(sources.size)
        for _ in range(repetitions):
            referrer, referred = rule(rng)
            assert is_candidate[referred].all() and np.unique(referred).size == referred.size
            by_position += np.bincount(np.searchsorted(sources, referrer), minlength=sources.size)
            assert np.isin(referrer, sources).all()
        assert np.all(np.abs(by_position - expected) < 4 * sd), (by_position, expected)
        total, chance_referred = by_position.sum(), 1 - (1 - chance) ** sources.size
        assert abs(total - chance_referred * trials) < 4 * np.sqrt(trials * chance_referred * (1 - chance_referred))


def test_complete_graph_referrals_edge_cases():
    network, rng = CompleteNetwork(10), np.random.default_rng(0)
    sources, candidates = np.array([2, 7]), np.array([0, 1, 3, 9])
    referrer, referred = network.referrals(sources, candidates, 1.0, rng)  # every tie kept: all by the first source
    assert referred.tolist() == candidates.tolist() and referrer.tolist() == [2, 2, 2, 2]
    for nobody in (network.referrals(sources, candidates, 0.0, rng), network.referrals(sources[:0], candidates, 0.5, rng)):
        assert nobody[0].size == nobody[1].size == 0


def test_complete_graph_referrals_take_memory_in_proportion_to_the_candidates():
    # 2,000 sources at 1,000,000 consumers: the pairs of neighbour_pairs would be about
    # 2,000 x 10^6 x 0.1 = 2 x 10^8 pairs (3 GB); one draw per candidate is a few arrays of n.
    n, sources = 1_000_000, np.arange(0, 4000, 2)
    candidates = np.setdiff1d(np.arange(n), sources)
    rng = np.random.default_rng(3)
    tracemalloc.start()
    try:
        referrer, referred = CompleteNetwork(n).referrals(sources, candidates, 0.1, rng)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * candidates.size  # int64 draws, a mask and two int64 results: 25 bytes each
    # 1 - 0.9^2000 is 1 but for 10^-91: everyone is referred.
    assert referred.tolist() == candidates.tolist() and np.isin(referrer, sources).all()


def test_refer_on_the_complete_graph_credits_new_customers_of_the_firm_and_stays_linear_in_memory():
    from funnelsim import MarketModel
    from funnelsim.agents import funnel
    from funnelsim.agents.population import NOBODY

    n, step, share = 200_000, 5, 0.01
    overrides = {"market.consumers": n, "network.kind": "complete", "market.referral_share": share,
                 "firms.0.sales.referral_reward": 50.0}  # fmt: skip
    model = MarketModel("baseline", rng=4, overrides=overrides, consumer_agents=False)
    state, rng = model.consumers, np.random.default_rng(8)
    # New customers of each firm this step (the referrers to be), and older customers who must not refer.
    rows = rng.permutation(n)
    new = {0: np.sort(rows[:20]), 1: np.sort(rows[20:3020])}
    for f, chosen in new.items():
        state.customer_of[chosen], state.customer_since[chosen] = f, step
    old = rows[3020:5000]
    state.customer_of[old], state.customer_since[old] = 0, step - 1
    was_open = [
        state.in_market
        & state.reachable[f]
        & (state.customer_of == NOBODY)
        & (state.lead_of == NOBODY)
        & (state.next_lead_step <= step)
        for f in range(2)
    ]
    lead_before = state.lead_of.copy()
    tracemalloc.start()
    try:
        funnel.refer(state, model.network, model.scenario.firms, model.scenario.market, model.ledger, step, rng)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Firm 1's ties alone, drawn as pairs, would be 3,000 x 200,000 x 0.01 = 6 x 10^6 pairs (96 MB
    # of int64, growing with n^2 at a fixed share of new customers); the rule in use keeps a few
    # arrays of n at once (about 50 bytes per consumer).
    assert peak < 100 * n
    changed = state.lead_of != lead_before
    for f in range(2):
        mine = np.flatnonzero(changed & (state.lead_of == f))
        assert was_open[f][mine].all()
        assert np.isin(state.referred_by[mine], new[f]).all()  # this step's customers of f, no one else
    # Each open consumer is referred with chance 1 - (1 - share)^S for S new customers of the firm:
    # 0.182 for firm 0's 20, which refers first; firm 1's 3,000 then refer all but 10^-13 of
    # those still open.
    assert np.array_equal(changed & (state.lead_of == 1), was_open[1] & ~(changed & (state.lead_of == 0)))
    chance = 1 - (1 - share) ** new[0].size
    count = was_open[0].sum()
    referred = np.count_nonzero(changed & (state.lead_of == 0))
    assert abs(referred - chance * count) < 4 * np.sqrt(count * chance * (1 - chance)), (referred, chance * count)


def test_complete_graph_too_large_for_networkx_is_refused_with_its_size():
    # 5,000 consumers: 12,497,500 ties, about 1.7 GB as a networkx graph; 10,000,000 would be 7 x 10^13.
    with pytest.raises(ValueError, match="5,000 consumers has 12,497,500 ties"):
        CompleteNetwork(5000).to_networkx()
    assert CompleteNetwork(40).to_networkx().number_of_edges() == 40 * 39 // 2


# --- Barabasi-Albert from arrays -------------------------------------------------------------


def _ba(n: int, m: int, seed: int, sequential_nodes: int = 1000):
    from funnelsim.model.network import barabasi_albert_network

    return barabasi_albert_network(n, m, seed, progress=False, sequential_nodes=sequential_nodes)


@pytest.mark.parametrize("sequential_nodes", [1000, 0], ids=["default", "all-at-once"])
@pytest.mark.parametrize("m", [1, 3, 5, 10])  # 10: repeats found by sorting rows, not comparing columns
def test_barabasi_albert_has_networkx_size_and_mean_degree(m, sequential_nodes):
    n = 3000
    network = _ba(n, m, seed=11, sequential_nodes=sequential_nodes)
    matrix = network.adjacency
    # networkx's graph: a star of m + 1 nodes, then m distinct new ties per node: exactly this many.
    assert network.edges == m + (n - m - 1) * m
    assert (matrix != matrix.T).nnz == 0 and matrix.diagonal().sum() == 0
    assert network.degree.min() >= 1
    assert network.degree.mean() == pytest.approx(2 * m, rel=0.01)


def test_barabasi_albert_is_the_same_for_a_seed_and_differs_between_seeds():
    first, again, other = _ba(5000, 5, seed=1), _ba(5000, 5, seed=1), _ba(5000, 5, seed=2)
    assert (first.adjacency != again.adjacency).nnz == 0
    assert (first.adjacency != other.adjacency).nnz > 0


@pytest.mark.parametrize("sequential_nodes", [1000, 0], ids=["default", "all-at-once"])
def test_barabasi_albert_degree_distribution_matches_networkx(sequential_nodes):
    """Degree counts pooled over a few seeds, ours against networkx's barabasi_albert_graph.

    The chi-square statistic over degree bins (the tail pooled so every bin expects at least 20
    nodes per seed) is compared with its 99.9% point for that many degrees of freedom: with a
    correct builder it fails one time in a thousand; a builder that attached uniformly instead
    (an Erdos-Renyi-like tail) or drew duplicate ties gives a statistic hundreds of times larger.
    The maximum degree, the hub, is also compared: its median over seeds within a factor 1.5.
    """
    import networkx as nx
    from scipy import stats

    n, m, seeds = 5000, 5, range(6)
    ours = np.concatenate([_ba(n, m, seed, sequential_nodes=sequential_nodes).degree for seed in seeds]).astype(int)
    theirs = np.concatenate(
        [np.array([d for _, d in nx.barabasi_albert_graph(n, m, seed=100 + seed).degree()]) for seed in seeds]
    )
    edges = [m, m + 1, m + 2, m + 3, m + 4, m + 6, m + 9, m + 14, m + 24, m + 50, 10**9]
    observed = np.array([np.histogram(ours, edges)[0], np.histogram(theirs, edges)[0]])
    assert observed.min() >= 20 * len(seeds)
    statistic, _, dof, _ = stats.chi2_contingency(observed)
    assert statistic < stats.chi2.ppf(0.999, dof)
    hubs_ours = np.median([_ba(n, m, seed, sequential_nodes=sequential_nodes).degree.max() for seed in seeds])
    hubs_theirs = np.median([max(d for _, d in nx.barabasi_albert_graph(n, m, seed=100 + s).degree()) for s in seeds])
    assert 1 / 1.5 < hubs_ours / hubs_theirs < 1.5


def _networkx_graph_chances(n: int, m: int) -> dict[tuple, float]:
    """The exact chance of every graph networkx's barabasi_albert_graph(n, m) can build.

    networkx starts from a star (node 0 tied to 1..m), then each new node draws from its list of
    edge ends (each node once per tie) until it holds m distinct nodes: an ordered run of distinct
    picks x1, x2, ... has chance prod p(x_i) / (1 - p(x_1) - ... - p(x_{i-1})), with p a node's share
    of the ends, and a set of targets the sum over its orders. A graph is keyed by each new node's
    targets in order of the nodes.
    """
    from itertools import combinations, permutations

    chances: dict[tuple, float] = {}

    def grow(node: int, degree: list[int], key: tuple, chance: float) -> None:
        if node == n:
            chances[key] = chances.get(key, 0.0) + chance
            return
        share = np.array(degree, dtype=float) / sum(degree)
        for targets in combinations(range(node), m):
            pick = 0.0
            for order in permutations(targets):
                taken, term = 0.0, 1.0
                for x in order:
                    term *= share[x] / (1 - taken)
                    taken += share[x]
                pick += term
            grown = degree + [m]
            for x in targets:
                grown[x] += 1
            grow(node + 1, grown, key + (targets,), chance * pick)

    grow(m + 1, [m] + [1] * m, (), 1.0)
    return chances


@pytest.mark.parametrize("growth", [1, 8], ids=["chunks-of-several-nodes", "default-chunks"])
def test_barabasi_albert_small_graphs_have_networkx_chances(monkeypatch, growth):
    """Every graph on 6 nodes with m = 2 (180 of them) comes up as often as networkx's model makes
    it, all nodes drawn at once. With chunks one node long at this size (default) and with chunks
    of several nodes (``_CHUNK_GROWTH = 1``: nodes 4 and 5 in one chunk, so node 5 can read node
    4's ties before they settle), which exercises the rule that a node's repeats are checked only
    on final values. Chi-square goodness of fit against the exact chances (the rarest graphs pooled
    into one bin expecting about 20 counts), at its 99.9% point: a correct builder fails one time in
    a thousand; a graph networkx cannot build (a repeated tie, say) fails at once.
    """
    from scipy import stats

    from funnelsim.model import network

    monkeypatch.setattr(network, "_CHUNK_GROWTH", growth)
    n, m, runs = 6, 2, 3000
    chances = _networkx_graph_chances(n, m)
    assert sum(chances.values()) == pytest.approx(1.0)
    counts = dict.fromkeys(chances, 0)
    for seed in range(runs):
        matrix = _ba(n, m, seed, sequential_nodes=0).adjacency
        ties = [matrix.indices[matrix.indptr[v] : matrix.indptr[v + 1]] for v in range(n)]
        key = tuple(tuple(int(x) for x in ties[v] if x < v) for v in range(m + 1, n))
        counts[key] += 1  # a graph networkx cannot build would be a KeyError
    keys = sorted(chances, key=chances.get)
    expected = np.array([chances[k] * runs for k in keys])
    observed = np.array([counts[k] for k in keys])
    small = np.cumsum(expected) < 5 * 4  # pool the rarest graphs until the pool expects 20
    expected = np.concatenate([[expected[small].sum()], expected[~small]])
    observed = np.concatenate([[observed[small].sum()], observed[~small]])
    assert expected.min() >= 5
    statistic = ((observed - expected) ** 2 / expected).sum()
    assert statistic < stats.chi2.ppf(0.999, expected.size - 1)


def test_edge_list_matrix_counts_repeated_ties_once_and_matches_scipy():
    """The CSR assembly by sorted keys against scipy's own COO-to-CSR conversion: repeated ties
    (as in a network file listing a tie twice, or both ways) count once, a self-tie is kept once,
    and the columns of each row are sorted, for int64 and int32 input alike."""
    import scipy.sparse as sp

    from funnelsim.model.network import _csr_from_edges

    rng = np.random.default_rng(8)
    n = 300
    source, target = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    source[:50], target[:50] = target[50:100], source[50:100]  # the same ties the other way round
    for dtype in (np.int64, np.int32):
        ours = _csr_from_edges(source.astype(dtype), target.astype(dtype), n)
        rows, cols = np.concatenate([source, target]), np.concatenate([target, source])
        theirs = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(n, n)).tocsr()
        theirs.sum_duplicates()
        theirs.data[:] = 1.0
        assert ours.indices.dtype == np.int32
        assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
        assert np.array_equal(ours.data, theirs.data) and (ours.data == 1.0).all()
        assert all((np.diff(ours.indices[a:b]) > 0).all() for a, b in zip(ours.indptr[:-1], ours.indptr[1:]))


def test_compiled_rules_walk_the_ties_only_of_symmetric_zero_one_networks():
    built = build("watts_strogatz", n=50, k=4)
    assert built.zero_one_ties() is not None  # a builder's network: symmetric by construction
    one_way = sp.csr_array(([1.0, 1.0], ([0, 1], [1, 2])), shape=(3, 3))  # made by hand, directed
    assert SparseNetwork(one_way).zero_one_ties() is None
    assert SparseNetwork(one_way + one_way.T).zero_one_ties() is not None
    assert SparseNetwork(2.0 * (one_way + one_way.T)).zero_one_ties() is None  # weights other than 1
    assert CompleteNetwork(5).zero_one_ties() is None
