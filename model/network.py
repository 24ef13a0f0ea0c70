"""Social networks: builders as plain functions of their parameters and a seed.

The hot path needs only three things from a network: the weighted exposure of every consumer to
its neighbours (one sparse product), every consumer's degree, and the neighbours of a few
consumers (for referrals). :class:`SparseNetwork` holds a CSR adjacency matrix for that;
:class:`CompleteNetwork` answers the same questions for the complete graph without storing its
n(n-1) edges, so the Bass limit runs at any population size.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

from funnelsim.model.scenario import Network as NetworkSpec


class NetworkFileError(ValueError):
    """A network file that is missing or cannot be read as a graph."""


class SparseNetwork:
    """An undirected network stored once as a symmetric CSR matrix of 0/1 weights."""

    def __init__(self, adjacency: sp.csr_array, block_of: np.ndarray | None = None):
        self.adjacency = adjacency
        self.size = adjacency.shape[0]
        self.degree = np.diff(adjacency.indptr).astype(np.float64)
        self.block_of = block_of if block_of is not None else np.zeros(self.size, dtype=np.int16)

    @property
    def edges(self) -> int:
        return int(self.adjacency.nnz // 2)

    def exposure(self, weights: np.ndarray) -> np.ndarray:
        """Sum of the neighbours' weights for every consumer; ``weights`` is (n,) or (n, k)."""
        return self.adjacency @ weights

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
        self.block_of = np.zeros(size, dtype=np.int16)

    @property
    def edges(self) -> int:
        return self.size * (self.size - 1) // 2

    def exposure(self, weights: np.ndarray) -> np.ndarray:
        return weights.sum(axis=0, keepdims=True) - weights

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


def build_network(spec: NetworkSpec, consumers: int, rng: np.random.Generator) -> Network:
    """Build the network a scenario asks for, with nodes labelled 0..consumers-1."""
    seed = int(rng.integers(2**31 - 1))
    if spec.kind == "complete":
        return CompleteNetwork(consumers)
    if spec.kind == "file":
        graph = read_network_file(spec.path, spec.format)
        return SparseNetwork(_to_csr(graph, graph.number_of_nodes()))
    if spec.kind == "sbm":
        return stochastic_block_network(consumers, spec.k, spec.blocks, spec.mixing, seed)
    builders = {
        "watts_strogatz": lambda: nx.watts_strogatz_graph(consumers, _even_k(spec.k, consumers), spec.p, seed=seed),
        "ring": lambda: nx.watts_strogatz_graph(consumers, _even_k(spec.k, consumers), 0.0, seed=seed),
        "barabasi_albert": lambda: nx.barabasi_albert_graph(consumers, max(1, min(spec.k // 2, consumers - 1)), seed=seed),
        "erdos_renyi": lambda: nx.fast_gnp_random_graph(consumers, min(1.0, spec.k / max(consumers - 1, 1)), seed=seed),
    }
    graph = builders[spec.kind]()
    return SparseNetwork(_to_csr(graph, consumers))


def stochastic_block_network(consumers: int, mean_degree: int, blocks: int, mixing: float, seed: int) -> SparseNetwork:
    """Equal communities; a share ``mixing`` of each consumer's expected ties leave its community."""
    blocks = min(blocks, consumers)
    sizes = [consumers // blocks + (1 if b < consumers % blocks else 0) for b in range(blocks)]
    inside = [(1 - mixing) * mean_degree / max(size - 1, 1) for size in sizes]
    outside_nodes = max(consumers - consumers / blocks, 1)
    across = mixing * mean_degree / outside_nodes
    probabilities = [[min(1.0, inside[a] if a == b else across) for b in range(blocks)] for a in range(blocks)]
    graph = nx.stochastic_block_model(sizes, probabilities, seed=seed, sparse=True)
    block_of = np.repeat(np.arange(blocks, dtype=np.int16), sizes)
    return SparseNetwork(_to_csr(graph, consumers), block_of)


def _even_k(k: int, consumers: int) -> int:
    """Watts-Strogatz needs an even neighbour count below the population size."""
    k = min(k, consumers - 1)
    return max(0, k - (k % 2))


def _to_csr(graph: nx.Graph, consumers: int) -> sp.csr_array:
    """Symmetric 0/1 CSR matrix in float64, the dtype scipy's product kernels are fastest for."""
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    edges = edges[edges[:, 0] != edges[:, 1]]
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
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


def count_file_nodes(path: str | Path, file_format: str = "auto") -> int:
    """Nodes in a network file; reads and checks the whole file."""
    return read_network_file(path, file_format).number_of_nodes()
