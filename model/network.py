"""Social networks: builders as plain functions of their parameters and a seed.

The hot path needs only three things from a network: the weighted exposure of every consumer to
its neighbours (one sparse product), every consumer's degree, and the neighbours of a few
consumers (for referrals). :class:`SparseNetwork` holds a CSR adjacency matrix for that;
:class:`CompleteNetwork` answers the same questions for the complete graph without storing its
n(n-1) edges, so the Bass limit runs at any population size.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp

from funnelsim.compiled import kernel
from funnelsim.model.scenario import NetworkSettings

if TYPE_CHECKING:
    from tqdm import tqdm


class NetworkFileError(ValueError):
    """A network file that is missing or cannot be read as a graph."""


class SparseNetwork:
    """An undirected network stored once as a symmetric CSR matrix of 0/1 weights."""

    def __init__(self, adjacency: sp.csr_array, community_of: np.ndarray | None = None, symmetric: bool | None = None):
        self.adjacency = adjacency
        self._symmetric = symmetric  # every tie listed from both ends; None: not known yet
        self.size = adjacency.shape[0]
        self.degree = np.diff(adjacency.indptr).astype(np.float64)
        # 0/1 weights (every builder's): the compiled product can add the neighbours' weights as they are.
        self._zero_one = bool((adjacency.data == 1.0).all())
        # Each consumer's community (all 0 but in a stochastic block model): what community targeting aims at.
        self.community_of = community_of if community_of is not None else np.zeros(self.size, dtype=np.int16)

    @property
    def edges(self) -> int:
        return int(self.adjacency.nnz // 2)

    @classmethod
    def from_edges(cls, source: np.ndarray, target: np.ndarray, nodes: int, community_of: np.ndarray | None = None) -> SparseNetwork:
        """The network of an undirected edge list (symmetric by construction)."""
        return cls(_csr_from_edges(source, target, nodes), community_of, symmetric=True)

    def zero_one_ties(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(indptr, indices)`` of the CSR adjacency when every tie weighs 1 and is listed from both
        ends (every builder's network), for compiled rules that walk the ties; None otherwise (a
        matrix made by hand is checked once)."""
        if getattr(self, "_symmetric", None) is None:  # (a network pickled before this was kept: checked too)
            self._symmetric = bool((self.adjacency != self.adjacency.T).nnz == 0)
        return (self.adjacency.indptr, self.adjacency.indices) if self._zero_one and self._symmetric else None

    def exposure(self, weights: np.ndarray) -> np.ndarray:
        """Sum of the neighbours' weights for every consumer; ``weights`` is (n,) or (n, k)."""
        return self.adjacency @ weights

    def exposure_of_rows(self, weights: np.ndarray) -> np.ndarray:
        """:meth:`exposure` for (k, n) weights, one row per quantity, giving (k, n).

        Rows two at a time through one compiled pass over the adjacency
        (:func:`_columns_times_adjacency`), equal bit for bit to scipy's product of each row; it reads
        the weights consumer by consumer, so weights given as the transpose of an (n, k) array (as
        :func:`funnelsim.agents.word_of_mouth.talk_strength` gives them) are used without a copy.
        A matrix with weights other than 0 and 1 (built by hand) goes through scipy.
        """
        weights = np.asarray(weights, dtype=np.float64)
        result = np.empty(weights.shape)
        if not self._zero_one:
            for row, values in zip(result, weights):
                row[:] = self.adjacency @ values
            return result
        columns = weights.T if weights.T.flags.c_contiguous else np.ascontiguousarray(weights.T)
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        rows = weights.shape[0]
        for first in range(0, rows, 2):
            second = min(first + 1, rows - 1)  # the odd row out is paired with itself
            _columns_times_adjacency(indptr, indices, columns, first, second, result[first], result[second])
        return result

    def neighbour_pairs(self, sources: np.ndarray, chance: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each edge out of ``sources`` kept with ``chance``: returns (source, neighbour) arrays."""
        owner, neighbours = _edges_out_of(self.adjacency.indptr, self.adjacency.indices, sources)
        keep = rng.random(neighbours.size) < chance
        return owner[keep], neighbours[keep]

    def to_networkx(self) -> nx.Graph:
        return nx.from_scipy_sparse_array(self.adjacency)


@kernel
def _columns_times_adjacency(
    indptr: np.ndarray,
    indices: np.ndarray,
    columns: np.ndarray,
    first: int,
    second: int,
    out_first: np.ndarray,
    out_second: np.ndarray,
) -> None:
    """A @ columns[:, first] and A @ columns[:, second] for a 0/1 CSR matrix A, into ``out_first``
    and ``out_second``; ``columns`` is (n, k), one consumer's weights side by side.

    Each sum starts at 0 and adds the neighbours' weights in the order of the row's entries, as
    scipy's csr_matvec does (times a weight of exactly 1.0), so every value equals scipy's product
    bit for bit. A product's cost is its chain of dependent additions and its reads of the
    neighbours' weights at random places: two columns and two rows at a time give four independent
    chains, and a neighbour's weights for both columns come in one cache line. At 100,000 and
    1,000,000 consumers two firms' exposure costs about 1.1 to 1.3 scipy products, not two.
    """
    size = indptr.size - 1
    paired = size - size % 2
    for i in range(0, paired, 2):
        a0 = 0.0
        b0 = 0.0
        a1 = 0.0
        b1 = 0.0
        start0, start1, end1 = indptr[i], indptr[i + 1], indptr[i + 2]
        common = min(start1 - start0, end1 - start1)
        for m in range(common):
            c0 = indices[start0 + m]
            c1 = indices[start1 + m]
            a0 += columns[c0, first]
            b0 += columns[c0, second]
            a1 += columns[c1, first]
            b1 += columns[c1, second]
        for j in range(start0 + common, start1):
            a0 += columns[indices[j], first]
            b0 += columns[indices[j], second]
        for j in range(start1 + common, end1):
            a1 += columns[indices[j], first]
            b1 += columns[indices[j], second]
        out_first[i], out_second[i], out_first[i + 1], out_second[i + 1] = a0, b0, a1, b1
    for i in range(paired, size):
        a0 = 0.0
        b0 = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            a0 += columns[indices[j], first]
            b0 += columns[indices[j], second]
        out_first[i], out_second[i] = a0, b0


@kernel
def _edges_out_of(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (source, neighbour) pair of the listed sources, source by source, each source's
    neighbours in the order of its CSR row."""
    count = 0
    for source in sources:
        count += indptr[source + 1] - indptr[source]
    owner = np.empty(count, dtype=sources.dtype)
    neighbours = np.empty(count, dtype=np.int64)
    at = 0
    for source in sources:
        for j in range(indptr[source], indptr[source + 1]):
            owner[at] = source
            neighbours[at] = indices[j]
            at += 1
    return owner, neighbours


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

    def zero_one_ties(self) -> None:
        """No list of ties: everyone is tied to everyone (see :meth:`SparseNetwork.zero_one_ties`)."""
        return None

    def neighbour_pairs(self, sources: np.ndarray, chance: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """About ``chance`` x (n - 1) pairs per source (a binomial count of uniform draws among the others).

        The pairs alone take memory in proportion to sources x n x chance, gigabytes at millions
        of consumers; referrals use :meth:`referrals`, which draws once per open consumer instead.
        """
        counts = rng.binomial(self.size - 1, chance, size=sources.size)
        owner = np.repeat(sources, counts)
        # Draw among the n-1 others: shift draws at or above the source's own index by one.
        others = rng.integers(0, self.size - 1, size=owner.size)
        others += others >= owner
        return owner, others

    def referrals(
        self, sources: np.ndarray, candidates: np.ndarray, chance: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which ``candidates`` the ``sources`` refer, and the referrer of each: (referrer, referred).

        The sparse networks' rule, every tie out of a source kept with ``chance`` and each referred
        consumer credited to the first source in ``sources``' order that kept its tie, drawn
        without the pairs. A candidate's ties to the S sources are independent trials, so the
        position of its first kept tie is geometric: it is referred when that position is within
        the sources (chance 1 - (1 - chance)^S), by the source there. One geometric draw per
        candidate, so memory and time grow with the candidates, whatever S x n x ``chance`` (the
        pairs :meth:`neighbour_pairs` would draw: hundreds of millions a step at 10,000,000
        consumers). ``candidates`` (sorted, as ``flatnonzero`` gives them) must exclude the
        sources, as the consumers open to a referral do, since no one is their own neighbour; the
        referred come out in the candidates' order.
        """
        if sources.size == 0 or candidates.size == 0 or chance <= 0.0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        first = rng.geometric(chance, size=candidates.size)  # trials up to the first kept tie: 1, 2, ...
        referred = first <= sources.size
        position = first[referred]
        del first  # a few arrays of the candidates' length alive at once, no more
        position -= 1
        return sources[position], candidates[referred]

    def to_networkx(self) -> nx.Graph:
        """The explicit graph, for drawing and checks on small populations.

        Refused past :data:`MAX_EXPLICIT_EDGES` ties: networkx keeps about 140 bytes per tie, so
        the complete graph on 10,000 consumers already takes about 7 GB, and on 10,000,000 it
        could never be built.
        """
        if self.edges > MAX_EXPLICIT_EDGES:
            raise ValueError(
                f"the complete graph on {self.size:,} consumers has {self.edges:,} ties, too many for an explicit "
                f"networkx graph (at most {MAX_EXPLICIT_EDGES:,}); it is kept implicit"
            )
        return nx.complete_graph(self.size)


#: The most ties :meth:`CompleteNetwork.to_networkx` builds (the complete graph on about 4,500 consumers: about 1.4 GB).
MAX_EXPLICIT_EDGES = 10_000_000

Network = SparseNetwork | CompleteNetwork


def build_network(spec: NetworkSettings, consumers: int, rng: np.random.Generator) -> Network:
    """Build the network a scenario asks for, with nodes labelled 0..consumers-1."""
    seed = int(rng.integers(2**31 - 1))
    if spec.kind == "complete":
        return CompleteNetwork(consumers)
    if spec.kind == "file":
        assert spec.path is not None  # kind = "file" without a path is refused by NetworkSettings
        loaded = spec._loaded if spec._loaded is not None else load_network_file(spec.path, spec.format)
        return SparseNetwork.from_edges(loaded.edges[:, 0], loaded.edges[:, 1], loaded.nodes)
    if spec.kind == "barabasi_albert":
        return barabasi_albert_network(consumers, max(1, spec.k // 2), seed)  # shows its own stages
    # The other builders are a few array passes each: a bar ticked at each stage (named beside
    # it) shows the build under way, and how long it took, for large populations.
    with _progress(None, spec.kind.replace("_", "-"), consumers) as bar:
        if spec.kind == "sbm":
            network = stochastic_block_network(consumers, spec.k, spec.communities, spec.mixing, seed, bar=bar)
        elif spec.kind in ("watts_strogatz", "ring"):
            rewiring = spec.p if spec.kind == "watts_strogatz" else 0.0
            network = watts_strogatz_network(consumers, _even_k(spec.k, consumers), rewiring, seed, bar=bar)
        else:
            network = erdos_renyi_network(consumers, spec.k, seed, bar=bar)
        bar.update(1)
    return network


def watts_strogatz_network(consumers: int, k: int, p: float, seed: int, bar: tqdm | None = None) -> SparseNetwork:
    """Watts-Strogatz small world, built with array operations (no Python loop over edges).

    The same model as ``networkx.watts_strogatz_graph``: a ring lattice where every consumer is
    tied to its ``k`` nearest neighbours (``k/2`` on each side, ``k`` even), then each lattice edge
    (u, u+j) is rewired with chance ``p`` to (u, w), ``w`` drawn uniformly among the consumers that
    are neither u nor already tied to u; when u is tied to everyone the edge stays. A rewired
    edge never lands on a lattice position (networkx forbids the edges still present when it
    rewires, which are nearly all of them). The realisation for a given seed differs from
    networkx's; the distribution is the same. At 1,000,000 consumers and k = 10 this takes
    seconds and a few hundred MB instead of minutes and gigabytes through a networkx graph.
    ``bar``: a progress bar to tick at each stage (rewiring, matrix), if any.
    """
    half = k // 2
    if consumers < 2 or half == 0:
        return SparseNetwork.from_edges(np.empty(0, np.int64), np.empty(0, np.int64), consumers)
    rng = np.random.default_rng(seed)
    # Row j - 1 of the (half, n) views is every consumer's tie to the consumer j places on.
    ring = np.arange(consumers, dtype=np.int64)
    source = np.empty(half * consumers, dtype=np.int64)
    source.reshape(half, consumers)[:] = ring
    target = np.empty(half * consumers, dtype=np.int64)
    for j, row in enumerate(target.reshape(half, consumers), start=1):
        np.add(ring, j % consumers, out=row)
        row[row >= consumers] -= consumers
    del ring
    _stage(bar, "rewiring")
    if p > 0.0:
        pending = np.flatnonzero(rng.random(source.size) < p)
        taken = np.empty(0, dtype=np.int64)  # pairs made by rewiring so far, sorted
        for _ in range(_MAX_REWIRING_ROUNDS):
            if pending.size == 0:
                break
            owner = source[pending]
            candidate = rng.integers(0, consumers, size=pending.size)
            key = _pair_key(owner, candidate, consumers)
            # The lattice holds every pair at most `half` places apart round the ring: an
            # arithmetic test instead of a search in its 5 n sorted keys.
            apart = np.abs(candidate - owner)
            np.minimum(apart, consumers - apart, out=apart)
            clash = (candidate == owner) | (apart <= half) | _repeats_earlier(key) | _in_sorted(taken, key)
            del apart
            made = key[~clash]
            target[pending[~clash]] = candidate[~clash]
            taken = np.sort(np.concatenate([taken, made]))
            pending = pending[clash]
        # Whatever still clashes after many rounds belongs to a consumer tied to (nearly)
        # everyone: its lattice edge stays, as in networkx.
    _stage(bar, "matrix")
    return SparseNetwork.from_edges(source, target, consumers)


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
    its own. An end holding a source is a node at once (edge f's source follows from f); one
    holding a later node's target points at that node's draw. A node whose ``m`` draws are not
    distinct draws the repeats again, as networkx does, but only once every end its draws read is
    final, so it decides on the same values networkx's node would see.

    The first ``sequential_nodes`` nodes, where repeats are common (few nodes to choose from),
    are drawn one by one exactly as networkx does; the rest in chunks of consecutive nodes, each
    about an eighth as many ties as all before it, so that every draw landing before its chunk
    reads a final node in one gather and only the few landing inside it follow pointers (see
    :func:`_attach_chunk`). The realisation for a given seed differs from networkx's; the graphs
    have the same chances (the tests compare them exactly on small graphs, and the degree
    distribution on larger ones). At 10,000,000 consumers and m = 5 it took 6 to 12 s of CPU on
    a loaded 2-core machine (the previous array builder: 26 to 30 s), about half of it the CSR matrix.
    """
    m = max(1, min(m, consumers - 1))
    if consumers < 2:
        return SparseNetwork.from_edges(np.empty(0, np.int64), np.empty(0, np.int64), consumers)
    rng = np.random.default_rng(seed)
    edges = m + (consumers - m - 1) * m
    # Nodes and ends fit in int32 up to a billion edges: half the memory and the bytes each pass reads.
    dtype = np.int32 if 2 * edges < 2**31 else np.int64
    source = np.empty(edges, dtype=dtype)
    source[:m] = 0
    source[m:].reshape(-1, m)[:] = np.arange(m + 1, consumers, dtype=dtype)[:, None]  # m ties per new node
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
            _attach_at_once(target, known, m, rng, bar)
        bar.set_postfix_str("matrix")
        network = SparseNetwork.from_edges(source, target, consumers)
        bar.update(1)
    return network


def _attach_at_once(target: np.ndarray, known: int, m: int, rng: np.random.Generator, bar: tqdm) -> None:
    """Targets of every edge from ``known`` on (see :func:`barabasi_albert_network`).

    The edges go in consecutive chunks of whole blocks, each about an eighth as long as all the
    edges before it, so that everything before a chunk is final when it starts: a draw that lands
    on an end before the chunk reads its node at once (one gather; a source end's node follows
    from the edge's index), and only the draws that land on a target end inside the chunk (about
    one in thirty) follow pointers. One pass over the edges in order, no rescans of all of them.
    """
    edges = target.size
    start = known
    while start < edges:
        first_block = start // m
        stop = min(edges, (first_block + max(1, first_block // _CHUNK_GROWTH)) * m)
        _attach_chunk(target, start, stop, m, rng)
        bar.set_postfix_str(f"{stop / edges:.0%} of the ties")
        bar.update(1)
        start = stop


#: A chunk of edges is about 1/_CHUNK_GROWTH as long as all the edges before it (see :func:`_attach_at_once`).
_CHUNK_GROWTH = 8


def _attach_chunk(target: np.ndarray, start: int, stop: int, m: int, rng: np.random.Generator) -> None:
    """Targets of edges ``start`` to ``stop`` (whole blocks of m), every earlier edge final.

    A block's draws are checked for repeats only once every end they read is final: each draw
    that reads a target end inside the chunk reads one of a block already settled. That holds at
    once for most blocks, and always for the earliest unsettled one, so a few rounds settle the
    chunk. A block with repeats draws them again (uniform ends, as networkx does) and waits for
    the next round; it settles when its m targets are distinct. So every block decides on final
    values, exactly as networkx, which builds node after node.
    """
    local = target[start:stop]  # a view: writing it writes target
    blocks = (stop - start) // m
    # Draw e of the chunk (edge start + e): a uniform end among the 2 m b ends before its block b.
    available = np.arange(start // m, stop // m, dtype=np.float64) * (2 * m)
    draws = rng.random(stop - start).reshape(blocks, m)
    draws *= available[:, None]
    position = draws.ravel().astype(target.dtype)
    del draws, available
    linked = _inside(position, start)
    _resolve_all(position, local, target, start, m, linked)
    settled = np.zeros(blocks, dtype=bool)
    pending = np.arange(blocks)  # blocks not settled, in order
    within = np.arange(m)
    hops = np.flatnonzero(linked)  # the draws that read a target end inside the chunk
    while pending.size:
        waiting = hops[~settled[((position[hops] >> 1) - start) // m]] // m
        ready = np.ones(pending.size, dtype=bool)
        ready[np.searchsorted(pending, waiting)] = False
        redraw = _repeated_in_chunk(local, m, pending[ready])
        settled[pending[ready]] = True
        if redraw.size:
            settled[redraw // m] = False
            position[redraw] = _draw_ends(redraw + start, m, rng, position.dtype)
            linked[redraw] = _inside(position[redraw], start)
        pending = pending[~settled[pending]]
        if pending.size:
            # What an unsettled block's draws read may have changed: resolve them again.
            edges = (pending[:, None] * m + within).ravel()
            _resolve_chunk(position, edges, local, target, start, m, linked[edges])
            hops = edges[linked[edges]]


def _inside(position: np.ndarray, start: int) -> np.ndarray:
    """True where a drawn end is the target end of an edge from ``start`` on."""
    return ((position & 1) == 1) & ((position >> 1) >= start)


def _resolve_all(position: np.ndarray, local: np.ndarray, target: np.ndarray, start: int, m: int, linked: np.ndarray) -> None:
    """:func:`_resolve_chunk` for every edge of the chunk, in fewer and cheaper passes."""
    edge_of = position >> 1
    np.floor_divide(edge_of, m, out=local)
    local += m  # the source of edge f >= m is node f // m + m
    local[edge_of < m] = 0  # the star's sources
    odd = np.flatnonzero(position & 1)
    local[odd] = target[edge_of[odd]]  # garbage where linked, resolved next
    del edge_of, odd
    pending = np.flatnonzero(linked)
    _resolve_chunk(position, pending, local, target, start, m, np.ones(pending.size, dtype=bool))


def _resolve_chunk(
    position: np.ndarray, edges: np.ndarray, local: np.ndarray, target: np.ndarray, start: int, m: int,
    linked: np.ndarray,
) -> None:  # fmt: skip
    """Set ``local[e]`` (the target of edge ``start + e``) to the node at end ``position[e]``.

    End ``2f`` is edge f's source: node 0 for the star's edges (f < m), node f // m + m after.
    End ``2f + 1`` is edge f's target: final if f < ``start``, otherwise whatever edge f's own
    draw resolves to, an earlier end; those pointers (``linked``, one per listed edge) are
    followed for every listed edge at once.
    """
    pending, pointer = edges, position[edges]
    inside = linked
    while pending.size:
        done = ~inside
        end = pointer[done]
        edge_of = end >> 1
        node = np.where(edge_of < m, 0, edge_of // m + m)
        from_target = (end & 1) == 1
        node[from_target] = target[edge_of[from_target]]
        local[pending[done]] = node
        pending = pending[inside]
        pointer = position[(pointer[inside] >> 1) - start]
        inside = _inside(pointer, start)


def _repeated_in_chunk(local: np.ndarray, m: int, blocks: np.ndarray) -> np.ndarray:
    """Edges of the listed blocks (indices relative to the chunk) that repeat an earlier target of
    the same block."""
    if m == 1 or blocks.size == 0:
        return np.empty(0, dtype=np.int64)
    rows = local.reshape(-1, m)[blocks]
    if m <= 8:
        # A few column comparisons are much cheaper than sorting millions of short rows.
        repeat = np.zeros(rows.shape, dtype=bool)
        for later in range(1, m):
            for earlier in range(later):
                repeat[:, later] |= rows[:, later] == rows[:, earlier]
    else:
        order = np.argsort(rows, axis=1, kind="stable")
        ranked = np.take_along_axis(rows, order, axis=1)
        repeat = np.zeros(rows.shape, dtype=bool)
        np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
    row, col = np.nonzero(repeat)
    return blocks[row] * m + col


def _draw_ends(edges: np.ndarray, m: int, rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """A uniform end among those of every edge made before each listed edge's block of m."""
    available = 2 * m * (edges // m)
    return (rng.random(edges.size) * available).astype(dtype)


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


def _stage(bar: tqdm | None, name: str) -> None:
    """Tick ``bar`` (if any) as a build starts its next stage, named beside the bar."""
    if bar is not None:
        bar.set_postfix_str(name)
        bar.update(1)


#: Networks of at least this many consumers show a progress bar while they are built.
PROGRESS_FROM = 1_000_000


def erdos_renyi_network(consumers: int, mean_degree: float, seed: int, bar: tqdm | None = None) -> SparseNetwork:
    """G(n, p) with p = mean_degree / (n - 1): every pair tied independently with chance p.

    Drawn as a Binomial number of edges, then that many distinct pairs uniformly at random,
    which is the same distribution as flipping a coin per pair but costs time and memory in
    proportion to the edges, not to n^2.
    """
    rng = np.random.default_rng(seed)
    pairs = consumers * (consumers - 1) // 2
    p = min(1.0, mean_degree / max(consumers - 1, 1))
    count = int(rng.binomial(pairs, p)) if pairs else 0
    _stage(bar, "pairs")
    source, target = _distinct_pairs(consumers, count, rng)
    _stage(bar, "matrix")
    return SparseNetwork.from_edges(source, target, consumers)


def _distinct_pairs(consumers: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct unordered pairs of different consumers, uniformly among all such sets."""
    return _sample_pairs(consumers, consumers, count, rng, within=True)


def _sample_pairs(rows: int, cols: int, count: int, rng: np.random.Generator, within: bool) -> tuple[np.ndarray, np.ndarray]:
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


def _repeats_earlier(keys: np.ndarray) -> np.ndarray:
    """True where a key repeats one earlier in ``keys``.

    Repeats are rare here (random pairs among n^2), so a plain sort finds the repeated values and
    only the keys holding one of them are ranked; np.unique's stable argsort of them all (or its
    hash table, several seconds for millions of int64) is what this avoids.
    """
    repeats = np.zeros(keys.size, dtype=bool)
    ordered = np.sort(keys)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if twice.size:
        holders = np.flatnonzero(_in_sorted(np.unique(twice), keys))
        first = np.unique(keys[holders], return_index=True)[1]
        repeats[holders] = True
        repeats[holders[first]] = False
    return repeats


def stochastic_block_network(
    consumers: int, mean_degree: int, communities: int, mixing: float, seed: int, bar: tqdm | None = None
) -> SparseNetwork:
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
            _stage(bar, f"communities {a} and {b}")
            within = a == b
            pairs = sizes[a] * (sizes[a] - 1) // 2 if within else sizes[a] * sizes[b]
            count = int(rng.binomial(pairs, probabilities[a][b])) if pairs else 0
            first, second = _sample_pairs(sizes[a], sizes[b], count, rng, within)
            sources.append(first + starts[a])
            targets.append(second + starts[b])
    community_of = np.repeat(np.arange(communities, dtype=np.int16), sizes)
    _stage(bar, "matrix")
    return SparseNetwork.from_edges(np.concatenate(sources), np.concatenate(targets), consumers, community_of)


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

    Each entry (row, column) becomes one int64 key, row in the high 32 bits and column in the low
    ones; the keys are sorted (numpy's vectorised sort: about a second for 100,000,000 of them)
    and repeats dropped (parallel edges count once). The columns are then the low halves, the row
    lengths a count of the high halves, and the keys' own memory becomes the values. For
    50,000,000 ties that took 4 to 6 s of CPU on a loaded machine against 11 s for scipy's
    COO-to-CSR conversion (a scatter of every entry to a random place, then a sort of each row),
    and it touches less fresh memory, which is slow to map on a virtual machine.
    """
    if 2 * source.size >= 2**31 or consumers >= 2**31 or sys.byteorder != "little":
        return _csr_from_edges_scipy(source, target, consumers)
    half = source.size
    keys = np.empty(2 * half, dtype=np.int64)
    for part, (row, col) in enumerate(((source, target), (target, source))):
        block = keys[part * half : (part + 1) * half]
        np.left_shift(row, 32, out=block, dtype=np.int64)
        block |= col
    keys.sort()
    if _has_repeats(keys):
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    # Little-endian: each key is (column, row) as two int32 words. Chunk by chunk, so that every
    # temporary stays small and in cache.
    words = keys.view(np.int32).reshape(-1, 2)
    indices = np.empty(keys.size, dtype=np.int32)
    counts = np.zeros(consumers, dtype=np.int64)
    for start in range(0, keys.size, _CHUNK):
        chunk = words[start : start + _CHUNK]
        indices[start : start + _CHUNK] = chunk[:, 0]
        first = int(chunk[0, 1])  # rows are sorted: the chunk's rows run from first to its last
        in_chunk = np.bincount(chunk[:, 1] - first)
        counts[first : first + in_chunk.size] += in_chunk
    indptr = np.zeros(consumers + 1, dtype=np.int32)
    np.cumsum(counts, out=indptr[1:])
    del words, counts
    data = keys.view(np.float64)
    data.fill(1.0)
    matrix = sp.csr_array((data, indices, indptr), shape=(consumers, consumers))
    matrix.has_sorted_indices = True
    matrix.has_canonical_format = True
    return matrix


def _has_repeats(keys: np.ndarray) -> bool:
    """Whether sorted ``keys`` hold a value twice, compared chunk by chunk."""
    last = keys.size - 1
    return any(
        (keys[start + 1 : min(start + _CHUNK, last) + 1] == keys[start : min(start + _CHUNK, last)]).any()
        for start in range(0, last, _CHUNK)
    )


#: Entries per chunk in :func:`_csr_from_edges`' passes over its keys.
_CHUNK = 1 << 20


def _csr_from_edges_scipy(source: np.ndarray, target: np.ndarray, consumers: int) -> sp.csr_array:
    """:func:`_csr_from_edges` for more than 2**31 entries or consumers, through scipy's COO format."""
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
