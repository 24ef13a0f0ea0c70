"""Seeding: a share of consumers are a firm's customers at step 0, chosen at random or by degree.

This is the seeding experiment of Hinz, Skiera, Barrot & Becker (2011) and Goldenberg, Han,
Lehmann & Hong (2009): who the first adopters are, not who sees the ads (``targeting = "hubs"``
is that other lever). Seeded customers are customers from step 0, so they talk about the firm from
the first step (word of mouth weighs customers by satisfaction); they are not sales, so they add
no revenue, no new customers and no cost.
"""

from __future__ import annotations

import numpy as np

from funnelsim.agents.population import ConsumerState, beta_draws
from funnelsim.model.network import Network
from funnelsim.model.scenario import Scenario


def seeded_consumers(count: int, by: str, degree: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows of the ``count`` seeds: drawn at random, or the ``count`` highest degrees with ties
    broken by a random key (so equal-degree consumers are not chosen by row order)."""
    size = degree.size
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    if by == "random":
        return np.sort(rng.choice(size, size=count, replace=False))
    tie_break = rng.random(size)
    return np.sort(np.lexsort((tie_break, -degree))[:count])


def seed_customers(state: ConsumerState, network: Network, scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Make ``round(share x consumers)`` consumers customers of the seeded firm; returns their rows.

    A seeded customer is fully aware of the firm, a customer since step 0, and satisfied as a
    buyer would be (a Beta draw around the product's quality). Draws nothing when share is 0.
    """
    spec = scenario.seeding
    count = round(spec.share * state.size)
    if count == 0:
        return np.empty(0, dtype=np.int64)
    f = scenario.seeded_firm_index()
    firm = scenario.firms[f]
    chosen = seeded_consumers(count, spec.by, network.degree, rng)
    state.customer_of[chosen] = f
    state.customer_since[chosen] = 0
    state.ever_customer[f, chosen] = True
    state.awareness[f, chosen] = 1.0
    state.satisfaction[chosen] = beta_draws(firm.quality, scenario.market.heterogeneity, count, rng)
    return chosen
