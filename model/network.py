"""Social networks: builders as plain functions of their parameters and a seed.

The hot path needs only three things from a network: the weighted exposure of every consumer to
its neighbours (one sparse product), every consumer's degree, and the neighbours of a few
consumers (for referrals). :class:`SparseNetwork` holds a CSR adjacency matrix for that;
:class:`CompleteNetwork` answers the same questions for the complete graph without storing its
n(n-1) edges, so the Bass limit runs at any population size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp

from funnelsim.model.scenario import NetworkSettings

if TYPE_CHECKING:
    from tqdm import tqdm


class NetworkFileError(ValueError):
    """A network file that is missing or cannot be read as a graph."""


class SparseNetwork:
    """An undirected network stored once as a symmetric CSR matrix of 0/1 weights."""

    def __init__(self, adjacency: sp.csr_array, community_of: np.ndarray | None = None):
        self.adjacency = adjacency
        self.size = adjacency.shape[0]
        self.degree = np.diff(adjacency.indptr).astype(np.float64)
        # Each consumer's community (all 0 but in a stochastic block model): what community targeting aims at.
        self.community_of = community_of if community_of is not None else np.zeros(self.size, dtype=np.int16)

    @property
    def edges(self) -> int:
        return int(self.adjacency.nnz // 2)

    def exposure(self, weights: np.ndarray) -> np.ndarray:
        """Sum of the neighbours' weights for every consumer; ``weights`` is (n,) or (n, k)."""
        return self.adjacency @ weights

    def exposure_of_rows(self, weights: np.ndarray) -> np.ndarray:
        """:meth:`exposure` for (k, n) weights, one row per quantity, giving (k, n).

        One sparse product per row: scipy's single-vector kernel is much faster than its
        multi-vector one (about 1.7 x here for two rows), and the sums are the same, term for term.
        """
        result = np.empty(weights.shape)
        for row, values in zip(result, weights):
            row[:] = self.adjacency @ values
        return result

    def neighbour_pairs(self, sources: np.ndarray, chance: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each edge out of ``sources`` kept with ``chance``: returns (source, neighbour) arrays."""
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        starts, ends = indptr[sources], indptr[sources + 1]
        counts = ends - starts
        if counts.sum() == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        owner = np.repeat(sources, counts)
        # Positions of each source's neighbours inside `indices`, without a Python loop.
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        neighbours = indices[np.repeat(starts, counts) + offsets]
        keep = rng.random(neighbours.size) < chance
        return owner[keep], neighbours[keep].astype(np.int64)

    def to_networkx(self) -> nx.Graph:
        return nx.from_scipy_sparse_array(self.adjacency)


class CompleteNetwork:
    """Everyone knows everyone; exposure is the total minus one's own weight."""

    def __init__(self, size: int):
        self.size = size
        self.degree = np.full(size, max(size - 1, 0), dtype=np.float64)
        self.community_of = np.zeros(size, dtype=np.int16)

    @property
    def edges(self) -> int:
        return self.size * (self.size - 1) // 2

    def exposure(self, weights: np.ndarray) -> np.ndarray:
        return weights.sum(axis=0, keepdims=True) - weights

    def exposure_of_rows(self, weights: np.ndarray) -> np.ndarray:
        """:meth:`exposure` for (k, n) weights, one row per quantity, giving (k, n)."""
        return self.exposure(np.ascontiguousarray(weights.T)).T

    def neighbour_pairs(self, sources: np.ndarray, chance: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.binomial(self.size - 1, chance, size=sources.size)
        owner = np.repeat(sources, counts)
        # Draw among the n-1 others: shift draws at or above the source's own index by one.
        others = rng.integers(0, self.size - 1, size=owner.size)
        others += others >= owner
        return owner, others

    def to_networkx(self) -> nx.Graph:
        return nx.complete_graph(self.size)


Network = SparseNetwork | CompleteNetwork


def build_network(spec: NetworkSettings, consumers: int, rng: np.random.Generator) -> Network:
    """Build the network a scenario asks for, with nodes labelled 0..consumers-1."""
    seed = int(rng.integers(2**31 - 1))
    if spec.kind == "complete":
        return CompleteNetwork(consumers)
    if spec.kind == "file":
        assert spec.path is not None  # kind = "file" without a path is refused by NetworkSettings
        loaded = spec._loaded if spec._loaded is not None else load_network_file(spec.path, spec.format)
        return SparseNetwork(_csr_from_edges(loaded.edges[:, 0], loaded.edges[:, 1], loaded.nodes))
    if spec.kind == "barabasi_albert":
        return barabasi_albert_network(consumers, max(1, spec.k // 2), seed)  # shows its own stages
    # The other builders are a few array passes each: a bar that shows the build is under way
    # (and how long it took) for large populations.
    with _progress(None, spec.kind.replace("_", "-"), consumers) as bar:
        if spec.kind == "sbm":
            network = stochastic_block_network(consumers, spec.k, spec.communities, spec.mixing, seed)
        elif spec.kind in ("watts_strogatz", "ring"):
            rewiring = spec.p if spec.kind == "watts_strogatz" else 0.0
            network = watts_strogatz_network(consumers, _even_k(spec.k, consumers), rewiring, seed)
        else:
            network = erdos_renyi_network(consumers, spec.k, seed)
        bar.update(1)
    return network


def watts_strogatz_network(consumers: int, k: int, p: float, seed: int) -> SparseNetwork:
    """Watts-Strogatz small world, built with array operations (no Python loop over edges).

    The same model as ``networkx.watts_strogatz_graph``: a ring lattice where every consumer is
    tied to its ``k`` nearest neighbours (``k/2`` on each side, ``k`` even), then each lattice edge
    (u, u+j) is rewired with chance ``p`` to (u, w), ``w`` drawn uniformly among the consumers that
    are neither u nor already tied to u; when u is tied to everyone the edge stays. A rewired
    edge never lands on a lattice position (networkx forbids the edges still present when it
    rewires, which are nearly all of them). The realisation for a given seed differs from
    networkx's; the distribution is the same. At 1,000,000 consumers and k = 10 this takes
    seconds and a few hundred MB instead of minutes and gigabytes through a networkx graph.
    """
    half = k // 2
    if consumers < 2 or half == 0:
        return SparseNetwork(_csr_from_edges(np.empty(0, np.int64), np.empty(0, np.int64), consumers))
    rng = np.random.default_rng(seed)
    source = np.tile(np.arange(consumers, dtype=np.int64), half)
    offset = np.repeat(np.arange(1, half + 1, dtype=np.int64), consumers)
    target = (source + offset) % consumers
    del offset
    if p > 0.0:
        lattice = np.sort(_pair_key(source, target, consumers))
        pending = np.flatnonzero(rng.random(source.size) < p)
        taken: list[np.ndarray] = []
        for _ in range(_MAX_REWIRING_ROUNDS):
            if pending.size == 0:
                break
            owner = source[pending]
            candidate = rng.integers(0, consumers, size=pending.size)
            key = _pair_key(owner, candidate, consumers)
            clash = (candidate == owner) | _in_sorted(lattice, key) | _first_occurrence(key, invert=True)
            if taken:
                clash |= np.isin(key, np.concatenate(taken))
            target[pending[~clash]] = candidate[~clash]
            taken.append(key[~clash])
            pending = pending[clash]
        # Whatever still clashes after many rounds belongs to a consumer tied to (nearly)
        # everyone: its lattice edge stays, as in networkx.
    return SparseNetwork(_csr_from_edges(source, target, consumers))


_MAX_REWIRING_ROUNDS = 200


def barabasi_albert_network(
    consumers: int, m: int, seed: int, progress: bool | None = None, sequential_nodes: int = 1000
) -> SparseNetwork:
    """Barabasi-Albert preferential attachment, built from arrays (no networkx graph).

    The same model as ``networkx.barabasi_albert_graph(consumers, m)``: a star of ``m + 1`` nodes
    (node 0 tied to nodes 1..m), then every new node ties to ``m`` distinct earlier nodes, each
    drawn with chance proportional to its degree. networkx draws from its "repeated nodes" list,
    where each node appears once per edge end; here that list is the edge list itself read as a
    sequence of ends (edge ``e`` has its source at end ``2e`` and its target at end ``2e + 1``),
    as in Batagelj and Brandes (2005), "Efficient generation of large random networks", Phys.
    Rev. E 71, 036113. A new node's edges draw uniform ends among those of every edge made before
    its own. An end holding a source is a node at once; one holding a later node's target points
    at that node's draw, so all draws are resolved together by following the pointers (each hop
    lands on a source with chance about 1/2: a few dozen vectorised rounds). A node whose ``m``
    draws are not distinct draws the repeats again, as networkx does, and any draw that had read
    a redrawn end follows it to its new node.

    The first ``sequential_nodes`` nodes, where repeats are common (few nodes to choose from),
    are drawn one by one exactly as networkx does; the rest all at once. The realisation for a
    given seed differs from networkx's; the degree distribution is the same (the tests compare
    them). At 10,000,000 consumers and m = 5 it takes tens of seconds instead of hours.
    """
    m = max(1, min(m, consumers - 1))
    if consumers < 2:
        return SparseNetwork(_csr_from_edges(np.empty(0, np.int64), np.empty(0, np.int64), consumers))
    rng = np.random.default_rng(seed)
    edges = m + (consumers - m - 1) * m
    # Nodes and ends fit in int32 up to a billion edges: half the memory and the bytes each pass reads.
    dtype = np.int32 if 2 * edges < 2**31 else np.int64
    source = np.empty(edges, dtype=dtype)
    source[:m] = 0
    source[m:] = np.repeat(np.arange(m + 1, consumers, dtype=dtype), m)
    target = np.empty(edges, dtype=dtype)
    target[:m] = np.arange(1, m + 1)  # the star
    with _progress(progress, "Barabasi-Albert", consumers) as bar:
        # The first nodes one by one, exactly as networkx builds them.
        first = min(consumers, max(sequential_nodes, m + 1))
        ends = [0] * m + list(range(1, m + 1))  # networkx's repeated_nodes
        for node in range(m + 1, first):
            chosen: set[int] = set()
            while len(chosen) < m:
                chosen.add(ends[int(rng.integers(len(ends)))])
            picks = sorted(chosen)
            start = m + (node - m - 1) * m
            target[start : start + m] = picks
            ends.extend(picks)
            ends.extend([node] * m)
        known = m + (first - m - 1) * m  # edges whose targets are final
        bar.update(1)
        if known < edges:
            _attach_at_once(source, target, known, m, rng, bar)
        bar.set_postfix_str("matrix")
        network = SparseNetwork(_csr_from_edges(source, target, consumers))
        bar.update(1)
    return network


def _attach_at_once(source: np.ndarray, target: np.ndarray, known: int, m: int, rng: np.random.Generator, bar: tqdm) -> None:
    """Targets of every edge from ``known`` on, drawn at once (see :func:`barabasi_albert_network`)."""
    edges = source.size
    fresh = np.arange(known, edges, dtype=np.int64)
    position = np.zeros(edges, dtype=source.dtype)  # the end each edge's target was drawn at
    position[known:] = _draw_ends(fresh, m, rng)
    _resolve_ends(position, source, target, fresh, known)
    del fresh
    bar.update(1)
    check = None  # every node drawn at once
    while True:
        changed_all = []
        while True:
            redraw = _repeated_draws(target, known, m, check)
            if redraw.size == 0:
                break
            position[redraw] = _draw_ends(redraw, m, rng)
            _resolve_ends(position, source, target, redraw, known)
            changed_all.append(redraw)
            check = np.unique(redraw // m)
            bar.set_postfix(repeats=int(redraw.size))
            bar.update(1)
        if not changed_all:
            return
        # Draws that had read a redrawn end follow it to its new node, down every chain; their
        # nodes may now hold a repeat, so they are checked again.
        followers = _followers(position, target, np.unique(np.concatenate(changed_all)), known)
        if followers.size == 0:
            return
        check = np.unique(followers // m)


def _repeated_draws(target: np.ndarray, known: int, m: int, nodes: np.ndarray | None) -> np.ndarray:
    """Edges (from ``known`` on) that repeat an earlier target of the same node; block b of m
    edges starts at edge ``b * m`` (the star is block 0). ``nodes``: the blocks to check, or all."""
    first_block = known // m
    if nodes is None:
        blocks = target[first_block * m :].reshape(-1, m)
        offset = first_block
    else:
        nodes = nodes[nodes >= first_block]
        blocks = target[nodes[:, None] * m + np.arange(m)]
    if m == 1 or blocks.size == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(blocks, axis=1, kind="stable")
    ranked = np.take_along_axis(blocks, order, axis=1)
    repeat = np.zeros(blocks.shape, dtype=bool)
    np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
    rows, cols = np.nonzero(repeat)
    block_of = rows + offset if nodes is None else nodes[rows]
    return block_of * m + cols


def _draw_ends(edges: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """A uniform end among those of every edge made before each listed edge's block of m."""
    available = 2 * m * (edges // m)
    return (rng.random(edges.size) * available).astype(np.int64)


def _resolve_ends(position: np.ndarray, source: np.ndarray, target: np.ndarray, edges: np.ndarray, known: int) -> None:
    """Set ``target[e]`` of the listed edges to the node at end ``position[e]``.

    End ``2f`` is edge f's source. End ``2f + 1`` is edge f's target: final if f < ``known``,
    otherwise whatever edge f's own draw resolves to, an earlier end. The pointers are followed
    for every listed edge at once until each reaches a known node.
    """
    pending = edges
    pointer = position[edges]
    while pending.size:
        edge_of = pointer >> 1
        is_source = (pointer & 1) == 0
        done = is_source | (edge_of < known)
        finished = edge_of[done]
        target[pending[done]] = np.where(is_source[done], source[finished], target[finished])
        keep = ~done
        pending, pointer = pending[keep], position[edge_of[keep]]


def _followers(position: np.ndarray, target: np.ndarray, changed: np.ndarray, known: int) -> np.ndarray:
    """After ``changed`` edges got new targets, give every edge whose draw read one of their
    target ends (directly or down a chain) the new node; returns those edges."""
    copied_end = np.zeros(2 * position.size, dtype=bool)
    found = []
    while changed.size:
        copied_end[2 * changed + 1] = True
        followers = known + np.flatnonzero(copied_end[position[known:]])
        copied_end[2 * changed + 1] = False
        target[followers] = target[position[followers] >> 1]
        found.append(followers)
        changed = followers
    return np.concatenate(found)


class _progress:
    """A tqdm bar on stderr for building a large network (one tick per stage); silent otherwise."""

    def __init__(self, show: bool | None, what: str, consumers: int) -> None:
        import sys

        from tqdm import tqdm

        if show is None:
            show = consumers >= PROGRESS_FROM
        self.bar = tqdm(desc=f"building {what} network", unit="stage", file=sys.stderr, disable=not show, leave=False)

    def __enter__(self) -> tqdm:
        return self.bar

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


#: Networks of at least this many consumers show a progress bar while they are built.
PROGRESS_FROM = 1_000_000


def erdos_renyi_network(consumers: int, mean_degree: float, seed: int) -> SparseNetwork:
    """G(n, p) with p = mean_degree / (n - 1): every pair tied independently with chance p.

    Drawn as a Binomial number of edges, then that many distinct pairs uniformly at random,
    which is the same distribution as flipping a coin per pair but costs time and memory in
    proportion to the edges, not to n^2.
    """
    rng = np.random.default_rng(seed)
    pairs = consumers * (consumers - 1) // 2
    p = min(1.0, mean_degree / max(consumers - 1, 1))
    count = int(rng.binomial(pairs, p)) if pairs else 0
    source, target = _distinct_pairs(consumers, count, rng)
    return SparseNetwork(_csr_from_edges(source, target, consumers))


def _distinct_pairs(consumers: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct unordered pairs of different consumers, uniformly among all such sets."""
    return _sample_pairs(consumers, consumers, count, rng, within=True)


def _sample_pairs(
    rows: int, cols: int, count: int, rng: np.random.Generator, within: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct pairs, uniformly among all sets of that many.

    ``within``: unordered pairs (i, j), i < j, of ``rows`` items; otherwise every (i, j) with
    i < ``rows`` and j < ``cols``. Few possible pairs: chosen among all of them directly; many:
    drawn at random until ``count`` distinct ones are found, then a uniform subset of those
    (every set of distinct pairs is equally likely either way).
    """
    total = rows * (rows - 1) // 2 if within else rows * cols
    if count == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if total <= _DENSE_PAIR_LIMIT:
        chosen = rng.choice(total, size=count, replace=False)
        if within:
            upper_rows, upper_cols = np.triu_indices(rows, k=1)
            return upper_rows[chosen].astype(np.int64), upper_cols[chosen].astype(np.int64)
        return chosen // cols, chosen % cols
    width = rows if within else cols
    keys = np.empty(0, np.int64)
    while keys.size < count:
        draws = int((count - keys.size) * 1.05) + 16
        first = rng.integers(0, rows, size=draws)
        if within:
            second = rng.integers(0, rows - 1, size=draws)
            second += second >= first  # a different item, uniformly
            new = _pair_key(first, second, rows)
        else:
            new = first * cols + rng.integers(0, cols, size=draws)
        keys = _sorted_unique(np.concatenate([keys, new]))
    keys = rng.choice(keys, size=count, replace=False) if keys.size > count else keys
    return keys // width, keys % width


_DENSE_PAIR_LIMIT = 2_000_000


def _pair_key(a: np.ndarray, b: np.ndarray, consumers: int) -> np.ndarray:
    """One int64 per unordered pair: min * n + max."""
    return np.minimum(a, b) * consumers + np.maximum(a, b)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """The distinct keys in order (np.unique without its hashing path, slow on millions of int64)."""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def _in_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    position = np.searchsorted(sorted_keys, keys)
    position[position == sorted_keys.size] = 0
    return sorted_keys[position] == keys if sorted_keys.size else np.zeros(keys.size, dtype=bool)


def _first_occurrence(keys: np.ndarray, invert: bool = False) -> np.ndarray:
    """True where a key appears for the first time (or, inverted, where it repeats an earlier one)."""
    first = np.zeros(keys.size, dtype=bool)
    first[np.unique(keys, return_index=True)[1]] = True
    return ~first if invert else first


def stochastic_block_network(consumers: int, mean_degree: int, communities: int, mixing: float, seed: int) -> SparseNetwork:
    """Equal communities; a share ``mixing`` of each consumer's expected ties leave its community.

    The stochastic block model, whose blocks are the communities (each pair tied independently
    with its communities' chance), drawn pair-set by pair-set as in :func:`erdos_renyi_network`, in time proportional to the edges.
    """
    communities = min(communities, consumers)
    sizes = [consumers // communities + (1 if b < consumers % communities else 0) for b in range(communities)]
    inside = [(1 - mixing) * mean_degree / max(size - 1, 1) for size in sizes]
    outside_nodes = max(consumers - consumers / communities, 1)
    across = mixing * mean_degree / outside_nodes
    probabilities = [[min(1.0, inside[a] if a == b else across) for b in range(communities)] for a in range(communities)]
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    sources, targets = [], []
    for a in range(communities):
        for b in range(a, communities):
            # Each pair of the two communities tied with its chance: a Binomial count of distinct pairs.
            within = a == b
            pairs = sizes[a] * (sizes[a] - 1) // 2 if within else sizes[a] * sizes[b]
            count = int(rng.binomial(pairs, probabilities[a][b])) if pairs else 0
            first, second = _sample_pairs(sizes[a], sizes[b], count, rng, within)
            sources.append(first + starts[a])
            targets.append(second + starts[b])
    community_of = np.repeat(np.arange(communities, dtype=np.int16), sizes)
    return SparseNetwork(_csr_from_edges(np.concatenate(sources), np.concatenate(targets), consumers), community_of)


def _even_k(k: int, consumers: int) -> int:
    """Watts-Strogatz needs an even neighbour count below the population size."""
    k = min(k, consumers - 1)
    return max(0, k - (k % 2))


def _to_csr(graph: nx.Graph, consumers: int) -> sp.csr_array:
    """Symmetric 0/1 CSR matrix of a networkx graph (self-loops and parallel edges dropped)."""
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    return _csr_from_edges(edges[:, 0], edges[:, 1], consumers)


def _csr_from_edges(source: np.ndarray, target: np.ndarray, consumers: int) -> sp.csr_array:
    """Symmetric 0/1 CSR matrix of an undirected edge list, columns sorted within each row.

    Values are float64, the dtype scipy's product kernels are fastest for; indices are int32
    whenever they fit, which halves the index memory and the bytes each product reads.
    """
    index_dtype = np.int32 if 2 * source.size < 2**31 and consumers < 2**31 else np.int64
    rows = np.concatenate([source, target]).astype(index_dtype)
    cols = np.concatenate([target, source]).astype(index_dtype)
    matrix = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(consumers, consumers)).tocsr()
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # parallel edges count once
    return matrix


def read_network_file(path: str | Path, file_format: str = "auto") -> nx.Graph:
    """Read an edge list (two whitespace- or comma-separated columns) or a GraphML file.

    Nodes are relabelled 0..n-1 in sorted order of their original labels, so the same file always
    gives the same numbering.
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkFileError(f"file not found: {path}")
    kind = file_format
    if kind == "auto":
        kind = "graphml" if path.suffix.lower() in {".graphml", ".xml"} else "edgelist"
    try:
        if kind == "graphml":
            graph = nx.Graph(nx.read_graphml(path))
        else:
            graph = _read_edge_list(path)
    except NetworkFileError:
        raise
    except Exception as error:  # networkx and the XML parser raise many types for bad files
        raise NetworkFileError(f"cannot read {path} as {kind}: {error}") from None
    if graph.number_of_nodes() == 0:
        raise NetworkFileError(f"{path} has no nodes")
    ordered = sorted(graph.nodes(), key=lambda node: (str(type(node)), node))
    return nx.relabel_nodes(graph, {node: index for index, node in enumerate(ordered)})


def _read_edge_list(path: Path) -> nx.Graph:
    graph = nx.Graph()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            fields = text.replace(",", " ").split()
            if len(fields) < 2:
                raise NetworkFileError(f"{path}, line {number}: expected two node labels, got '{text}'")
            graph.add_edge(*(int(f) if f.lstrip("-").isdigit() else f for f in fields[:2]))
    return graph


@dataclass(frozen=True)
class NetworkFile:
    """A network file as read once: its edges between rows 0..nodes-1 and a hash of its bytes.

    This, not the path, is what a scenario carries to workers, so a run on another machine needs
    no copy of the file; ``sha256`` says which file it was.
    """

    nodes: int
    edges: np.ndarray  # int64, shape (m, 2), self-loops dropped
    sha256: str


def load_network_file(path: str | Path, file_format: str = "auto") -> NetworkFile:
    """Read and check a network file once: its node count, edges and content hash."""
    graph = read_network_file(path, file_format)
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return NetworkFile(graph.number_of_nodes(), edges, digest)


def count_file_nodes(path: str | Path, file_format: str = "auto") -> int:
    """Nodes in a network file; reads and checks the whole file."""
    return read_network_file(path, file_format).number_of_nodes()
