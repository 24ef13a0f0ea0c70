"""What the page draws of the social network: a readable sample with a fixed layout.

A force layout of thousands of nodes takes seconds to compute and is an unreadable hairball
when drawn, so the page draws a sample of at most :data:`MAX_DRAWN` consumers and says so.
The sample is a breadth-first ball capped per level (see :func:`neighbourhood`): starting from
a typical consumer, never more than :data:`PER_LEVEL` from each distance, so the picture shows
several steps of the network's reach even where a hub would otherwise fill the whole sample
with its own contacts and draw a star that says nothing. The layout of that sample is
computed once per network and kept in a small cache keyed by a digest of the network's
edges, so steps, other browser tabs and Resets that rebuild the same network reuse it.
A complete network has no structure worth drawing, and very large ones are not worth
converting for a picture: those get the aggregated view (stage counts) only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import networkx as nx
import numpy as np

#: Most consumers drawn; networkx's dense spring layout lays out 400 nodes in about 0.5 s.
MAX_DRAWN = 400

#: Most consumers taken at each distance from the starting consumer.
PER_LEVEL = 60

#: Above this many consumers the page shows the aggregated view only.
MAX_SAMPLED_POPULATION = 200_000

#: How many network layouts to keep (each is a few kilobytes).
CACHE_SIZE = 16


@dataclass(frozen=True)
class NetworkSample:
    """Consumers to draw (rows of the model), their positions, and the edges among them."""

    rows: np.ndarray  # (k,) consumer rows
    positions: np.ndarray  # (k, 2) in [-1, 1]
    edges: np.ndarray  # (m, 2) indices into ``rows``
    population: int

    @property
    def is_whole(self) -> bool:
        return len(self.rows) == self.population


_cache: OrderedDict[str, NetworkSample] = OrderedDict()
_cache_lock = threading.Lock()
#: Number of layouts computed since the process started (the tests read it).
layouts_computed = 0


def can_draw(model) -> bool:
    """False for networks the page shows only as counts (complete, or too large)."""
    network = model.scenario.network
    return network.kind != "complete" and model.scenario.market.consumers <= MAX_SAMPLED_POPULATION


def _digest(graph: nx.Graph) -> str:
    edges = np.fromiter((node for edge in graph.edges() for node in edge), dtype=np.int64)
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(np.int64(graph.number_of_nodes()).tobytes())
    hasher.update(np.sort(edges.reshape(-1, 2), axis=1).tobytes())
    return hasher.hexdigest()


def neighbourhood(graph: nx.Graph, limit: int, per_level: int = PER_LEVEL, seed: int = 1) -> list[int]:
    """Up to ``limit`` nodes: a breadth-first ball from a typical node, capped per level.

    The start is the node of median degree (ties: lowest), not the best-connected one: a hub's
    first level alone would fill the sample. Each level keeps at most ``per_level`` of the new
    nodes it reaches, drawn at random with a fixed ``seed`` (so the same network always gives
    the same picture); the next level grows from those kept (a node passed over may join a
    later level). If the ball runs out, it continues from the lowest node not drawn yet.
    """
    if graph.number_of_nodes() <= limit:
        return sorted(graph.nodes())
    rng = np.random.default_rng(seed)
    by_degree = sorted(graph.nodes(), key=lambda node: (graph.degree(node), node))
    start = by_degree[len(by_degree) // 2]
    chosen, taken, level = [start], {start}, [start]
    while len(chosen) < limit:
        reached = sorted({neighbour for node in level for neighbour in graph[node]} - taken)
        if not reached:  # the ball ran out: continue from the lowest node not drawn yet
            reached = [next(node for node in sorted(graph.nodes()) if node not in taken)]
        room = min(per_level, limit - len(chosen))
        kept = sorted(rng.choice(reached, size=room, replace=False).tolist()) if len(reached) > room else reached
        chosen.extend(kept)
        taken.update(kept)
        level = kept
    return sorted(chosen)


def _compute(graph: nx.Graph) -> NetworkSample:
    global layouts_computed
    rows = neighbourhood(graph, MAX_DRAWN)
    sub = graph.subgraph(rows)
    layout = nx.spring_layout(sub, seed=1, iterations=50)
    index = {row: i for i, row in enumerate(rows)}
    positions = np.array([layout[row] for row in rows], dtype=float).reshape(-1, 2)
    edges = np.array([(index[a], index[b]) for a, b in sub.edges()], dtype=np.int64).reshape(-1, 2)
    layouts_computed += 1
    return NetworkSample(np.array(rows, dtype=np.int64), positions, edges, graph.number_of_nodes())


def sample_for(model) -> NetworkSample:
    """The drawn sample of ``model``'s network, computed at most once per distinct network."""
    graph = model.network_graph()
    key = _digest(graph)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    sample = _compute(graph)  # outside the lock: other tabs keep drawing meanwhile
    with _cache_lock:
        _cache[key] = sample
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return sample
