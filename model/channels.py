"""Marketing channels: what a given spend buys, whom it reaches, and how much awareness it adds.

Each channel is a function ``(spend, context) -> Reach``. Reach is drawn as index samples, not a
loop over consumers: media and jingles draw how many distinct consumers a number of impressions
touches (1 - exp(-impressions / n) of them, the Poisson reach curve) and then which ones; email
samples the firm's contact list; blogging draws readers from the stock of posts. No channel
spends more than it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from funnelsim.model.scenario import CHANNELS, Firm
from funnelsim.model.state import ConsumerState

#: Channel codes used for attribution (0 is "no marketing touch").
CHANNEL_CODE = {name: code for code, name in enumerate(CHANNELS, start=1)}


@dataclass
class FirmMarketingState:
    """What a firm's marketing accumulates over time."""

    post_stock: float = 0.0  # posts still drawing readers
    jingle_paid: float = 0.0  # paid towards the jingle's production so far


@dataclass
class Reach:
    spent: float
    consumers: np.ndarray
    lift: float
    counts: dict[str, float] = field(default_factory=dict)


@dataclass
class ChannelContext:
    """Everything a channel needs besides its spend; built once per model."""

    firm_index: int
    firm: Firm
    state: ConsumerState
    marketing: FirmMarketingState
    hub_weights: np.ndarray  # degree / total degree, for hub targeting
    in_market_idx: np.ndarray
    out_market_idx: np.ndarray
    rng: np.random.Generator


def poisson_reach(impressions: float, population: int, rng: np.random.Generator, weights: np.ndarray | None) -> np.ndarray:
    """Distinct consumers touched by ``impressions`` spread over ``population``.

    Each consumer is touched with chance 1 - exp(-impressions / population) when impressions
    land at random; with ``weights`` (hub targeting) the same number of consumers is drawn
    with chances proportional to the weights.
    """
    if impressions <= 0 or population == 0:
        return np.empty(0, dtype=np.int64)
    chance = -np.expm1(-impressions / population)
    count = rng.binomial(population, chance)
    if weights is None:
        return rng.choice(population, size=count, replace=False)
    count = min(count, int(np.count_nonzero(weights)))
    return rng.choice(population, size=count, replace=False, p=weights)


def email(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.email
    state, f = ctx.state, ctx.firm_index
    contacts = np.flatnonzero(
        (state.on_bought_list[f] | (state.awareness[f] > 0) | state.ever_customer[f]) & ~state.unsubscribed[f]
    )
    if contacts.size == 0 or spend <= 0:
        return Reach(0.0, contacts[:0], params.lift)
    affordable = contacts.size if params.cost_per_send == 0 else int(spend // params.cost_per_send)
    sends = min(affordable, contacts.size)
    recipients = ctx.rng.choice(contacts, size=sends, replace=False)
    # Sending to more of the list each step tires readers: unsubscribes grow with frequency.
    frequency = sends / contacts.size
    unsubscribe = min(1.0, params.unsubscribe_rate + params.fatigue * frequency)
    leaving = recipients[ctx.rng.random(sends) < unsubscribe]
    state.unsubscribed[f, leaving] = True
    return Reach(
        sends * params.cost_per_send,
        recipients,
        params.lift,
        {"emails_sent": sends, "unsubscribes": leaving.size},
    )


def blogging(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.blogging
    marketing = ctx.marketing
    if params.cost_per_post > 0:
        marketing.post_stock += spend / params.cost_per_post
    readers = ctx.rng.poisson(params.reach_per_post * marketing.post_stock)
    consumers = _readers(readers, params.in_market_bias, ctx)
    return Reach(spend, consumers, params.lift)


def _readers(count: int, in_market_bias: float, ctx: ChannelContext) -> np.ndarray:
    """Readers found by search: in-market consumers are ``in_market_bias`` times likelier."""
    inside, outside = ctx.in_market_idx, ctx.out_market_idx
    weight_in = in_market_bias * inside.size
    total = weight_in + outside.size
    if count == 0 or total == 0:
        return np.empty(0, dtype=np.int64)
    from_inside = ctx.rng.binomial(count, weight_in / total)
    picks_in = inside[ctx.rng.integers(0, inside.size, from_inside)] if inside.size else inside[:0]
    picks_out = outside[ctx.rng.integers(0, outside.size, count - from_inside)] if outside.size else outside[:0]
    return np.concatenate([picks_in, picks_out])


def media(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.media
    impressions = 1000.0 * spend / params.cost_per_thousand
    consumers = poisson_reach(impressions, ctx.state.size, ctx.rng, _targeting(ctx))
    return Reach(spend, consumers, params.lift, {"impressions": impressions})


def jingles(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.jingles
    marketing = ctx.marketing
    production = min(spend, max(0.0, params.production_cost - marketing.jingle_paid))
    marketing.jingle_paid += production
    airtime = spend - production
    impressions = 1000.0 * airtime / params.cost_per_thousand
    consumers = poisson_reach(impressions, ctx.state.size, ctx.rng, _targeting(ctx))
    ctx.state.memorable[ctx.firm_index, consumers] = True
    return Reach(spend, consumers, params.lift, {"impressions": impressions})


def _targeting(ctx: ChannelContext) -> np.ndarray | None:
    return ctx.hub_weights if ctx.firm.marketing.targeting == "hubs" else None


def decay_post_stock(ctx: ChannelContext) -> None:
    ctx.marketing.post_stock *= 1.0 - ctx.firm.marketing.blogging.post_decay


#: The channel functions by name, in :data:`CHANNELS` order.
CHANNEL_FUNCTIONS = {"email": email, "blogging": blogging, "media": media, "jingles": jingles}
