"""Network builders: the right size and shape, symmetric, no self-loops, seeded."""

from __future__ import annotations

import numpy as np
import pytest

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


# --- Barabasi-Albert from arrays -------------------------------------------------------------


def _ba(n: int, m: int, seed: int, sequential_nodes: int = 1000):
    from funnelsim.model.network import barabasi_albert_network

    return barabasi_albert_network(n, m, seed, progress=False, sequential_nodes=sequential_nodes)


@pytest.mark.parametrize("sequential_nodes", [1000, 0], ids=["default", "all-at-once"])
@pytest.mark.parametrize("m", [1, 3, 5])
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
