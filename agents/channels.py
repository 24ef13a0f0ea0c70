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

from funnelsim.agents.population import ConsumerState
from funnelsim.agents.protocols import FirmLike
from funnelsim.agents.sampling import choice_without_replacement, uniform_picks
from funnelsim.compiled import kernel


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
    distinct: bool = False  # no consumer listed twice (drawn without replacement)


@dataclass
class Audience:
    """Whom broadcast channels can reach: everyone, everyone weighted, or a list of members."""

    size: int
    weights: np.ndarray | None = None
    members: np.ndarray | None = None


@dataclass
class ChannelContext:
    """Everything a channel needs besides its spend; built once per model."""

    firm_index: int
    firm: FirmLike
    state: ConsumerState
    marketing: FirmMarketingState
    audience: Audience  # whom media buys and jingles reach, by the firm's targeting
    in_market_idx: np.ndarray
    out_market_idx: np.ndarray
    rng: np.random.Generator


def poisson_reach(impressions: float, audience: Audience, rng: np.random.Generator) -> np.ndarray:
    """Distinct consumers touched by ``impressions`` spread over an audience.

    Impressions land on the audience's ``size`` members at random, so each is touched with
    chance 1 - exp(-impressions / size) (the Poisson reach curve); with ``weights`` (hub
    targeting) the same number of consumers is drawn with chances proportional to the weights.
    """
    if impressions <= 0 or audience.size == 0:
        return np.empty(0, dtype=np.int64)
    count = rng.binomial(audience.size, -np.expm1(-impressions / audience.size))
    if audience.members is not None:
        return choice_without_replacement(rng, audience.members, count)
    if audience.weights is None:
        return choice_without_replacement(rng, audience.size, count)
    count = min(count, int(np.count_nonzero(audience.weights)))
    return rng.choice(audience.size, size=count, replace=False, p=audience.weights)


def email(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.email
    state, f = ctx.state, ctx.firm_index
    # On the bought list, aware or a customer ever, and not unsubscribed (m > u is m & ~u for
    # booleans): built in one buffer, a few passes over the consumers instead of one array each.
    # (A compiled pass is no faster: writing the ~n indices out is most of the cost.)
    unsubscribed = state.unsubscribed[f]
    listed = state.awareness[f] > 0
    listed |= state.on_bought_list[f]
    listed |= state.ever_customer[f]
    contacts = np.greater(listed, unsubscribed, out=listed).nonzero()[0]
    if contacts.size == 0 or spend <= 0:
        return Reach(0.0, contacts[:0], params.lift)
    affordable = contacts.size if params.cost_per_send == 0 else int(spend // params.cost_per_send)
    sends = min(affordable, contacts.size)
    recipients = choice_without_replacement(ctx.rng, contacts, sends)
    # Sending to more of the list each step tires readers: unsubscribes grow with frequency.
    frequency = sends / contacts.size
    unsubscribe = min(1.0, params.unsubscribe_rate + params.fatigue * frequency)
    leaving = _unsubscribe(recipients, ctx.rng.random(sends), unsubscribe, unsubscribed)
    return Reach(
        sends * params.cost_per_send,
        recipients,
        params.lift,
        {"emails_sent": sends, "unsubscribes": leaving},
        distinct=True,
    )


@kernel
def _unsubscribe(recipients, draws, chance, unsubscribed):
    """Unsubscribe each recipient whose uniform draw is below ``chance``; returns how many left."""
    leaving = 0
    for i in range(recipients.size):
        if draws[i] < chance:
            unsubscribed[recipients[i]] = True
            leaving += 1
    return leaving


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
    from_inside = int(ctx.rng.binomial(count, weight_in / total))
    # inside[integers(0, inside.size, from_inside)], then outside[...] for the rest: one batch of draws.
    return uniform_picks(ctx.rng, inside, from_inside, outside, count - from_inside)


def media(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.media
    impressions = 1000.0 * spend / params.cost_per_thousand
    consumers = poisson_reach(impressions, ctx.audience, ctx.rng)
    return Reach(spend, consumers, params.lift, {"impressions": impressions}, distinct=True)


def jingles(spend: float, ctx: ChannelContext) -> Reach:
    params = ctx.firm.marketing.jingles
    marketing = ctx.marketing
    production = min(spend, max(0.0, params.production_cost - marketing.jingle_paid))
    marketing.jingle_paid += production
    airtime = spend - production
    impressions = 1000.0 * airtime / params.cost_per_thousand
    consumers = poisson_reach(impressions, ctx.audience, ctx.rng)
    ctx.state.memorable[ctx.firm_index][consumers] = True
    return Reach(spend, consumers, params.lift, {"impressions": impressions}, distinct=True)


def audience_for(firm: FirmLike, degree: np.ndarray, community: np.ndarray) -> Audience:
    """The audience a firm's targeting setting picks on this network."""
    targeting = firm.marketing.targeting
    if targeting == "hubs" and degree.sum() > 0:
        return Audience(degree.size, weights=degree / degree.sum())
    if targeting == "community":
        members = np.flatnonzero(community == firm.marketing.target_community)
        return Audience(members.size, members=members)
    return Audience(degree.size)


def decay_post_stock(ctx: ChannelContext) -> None:
    ctx.marketing.post_stock *= 1.0 - ctx.firm.marketing.blogging.post_decay


#: The channel functions by name, in :data:`funnelsim.agents.channel_codes.CHANNELS` order.
CHANNEL_FUNCTIONS = {"email": email, "blogging": blogging, "media": media, "jingles": jingles}
