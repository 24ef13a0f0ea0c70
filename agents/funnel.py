"""The funnel's array rules: awareness decay, leads forming and going cold, self-serve purchases,
purchases and their bookkeeping, referrals and churn.

Each function reads the state at the start of its phase and writes the result at the end, so no
consumer sees another's change within a phase.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from funnelsim.agents.channel_codes import TOUCH_NAMES
from funnelsim.agents.delays import draw_delays
from funnelsim.agents.population import NOBODY, ConsumerState, beta_draws
from funnelsim.agents.protocols import FirmLike, LedgerLike, MarketLike, NetworkLike

#: The ledger items of revenue by first and by last touch, in channel-code order.
_FIRST_TOUCH_ITEMS = tuple(f"revenue_first_touch_{name}" for name in TOUCH_NAMES)
_LAST_TOUCH_ITEMS = tuple(f"revenue_last_touch_{name}" for name in TOUCH_NAMES)

#: Awareness a referred neighbour starts with: a friend's word makes a warm lead.
REFERRED_AWARENESS = 0.9


def paid_price(firm: FirmLike) -> float:
    return firm.price * (1.0 - firm.sales.discount)


def decay_awareness(state: ConsumerState, market: MarketLike, memorability: np.ndarray) -> None:
    """Awareness fades; jingle listeners forget more slowly; faint awareness is reset to zero.

    Each consumer's factor is one of two numbers per firm (jingle listener or not): one scalar
    for everyone when no firm's jingle is memorable, else one (firms, n) choice between the two.
    """
    decay = market.awareness_decay
    awareness = state.awareness
    if decay > 0:
        plain = 1.0 - decay * 1.0
        # Per firm, the same arithmetic as for one firm's scalar; every firm in one operation.
        slower = 1.0 - decay * (1.0 - np.asarray(memorability, dtype=float))
        if (slower != plain).any():
            awareness *= np.where(state.memorable, slower[:, None], plain)
        else:
            awareness *= plain
    np.copyto(awareness, 0.0, where=awareness < market.forget_below)


def expire_cold_leads(
    state: ConsumerState, market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator | None = None
) -> None:
    """Leads that waited in the queue past their own patience drop back to aware.

    Each lead's patience is a random draw (``state.patience``, mean ``lead_patience``); the
    cooldown that follows is drawn too (:func:`end_lead`), so cohorts of leads fall out of step.
    """
    waiting = state.waiting_leads()
    cold = waiting[step - state.lead_since[waiting] >= state.patience[waiting]]
    if cold.size == 0:
        return
    cold_firm = state.lead_of[cold].astype(np.int64)
    ledger.add_per_firm("leads_cold", cold_firm)
    ledger.add_per_firm("cold_wait_total", cold_firm, step - state.lead_since[cold])
    if rng is None:  # callers from before drawn delays: the fixed cooldown
        release(state, cold, step + market.lead_cooldown)
    else:
        end_lead(state, cold, market, step, rng)


def end_lead(state: ConsumerState, consumers: np.ndarray, market: MarketLike, step: int, rng: np.random.Generator) -> None:
    """A lead that went cold or was lost: out of every queue for a drawn cooldown, with a fresh
    patience drawn for the next lead (both gamma, :mod:`funnelsim.agents.delays`)."""
    consumers = np.atleast_1d(consumers)
    cooldown = draw_delays(market.lead_cooldown, market.delay_cv, consumers.size, rng)
    release(state, consumers, step + cooldown)
    state.patience[consumers] = draw_delays(market.lead_patience, market.delay_cv, consumers.size, rng, minimum=1)


def release(state: ConsumerState, consumers: np.ndarray, next_lead_step: int | np.ndarray) -> None:
    """Take consumers out of every lead queue until ``next_lead_step`` (one step for all, or one each)."""
    state.lead_of[consumers] = NOBODY
    state.being_worked[consumers] = False
    state.referred_by[consumers] = NOBODY
    state.next_lead_step[consumers] = next_lead_step


def form_leads(
    state: ConsumerState, firms: Sequence[FirmLike], market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator
) -> None:
    """In-market consumers whose awareness of a firm passes their threshold become a lead of
    the most attractive such firm they can buy from.

    Attractiveness is awareness x quality x price acceptance times a random taste factor
    (Gumbel noise on its logarithm), so each eligible firm is chosen with chance proportional
    to its attractiveness (a logit choice) rather than the loudest firm taking everyone.
    """
    # Only consumers whose awareness of some firm reaches their threshold can become leads: find
    # those first (few), then check the rest of the conditions on them alone.
    keen = state.awareness[0] >= state.interest_threshold
    for row in state.awareness[1:]:
        keen |= row >= state.interest_threshold
    keen &= state.in_market
    passing = keen.nonzero()[0]
    free = passing[
        (state.customer_of[passing] == NOBODY) & (state.lead_of[passing] == NOBODY) & (state.next_lead_step[passing] <= step)
    ]
    if free.size == 0:
        return
    awareness = state.awareness[:, free]
    eligible = state.reachable[:, free] & (awareness > 0) & (awareness >= state.interest_threshold[free])
    candidates = np.flatnonzero(eligible.any(axis=0))
    if candidates.size == 0:
        return
    free, awareness, eligible = free[candidates], awareness[:, candidates], eligible[:, candidates]
    utility = np.stack(
        [
            np.log(
                awareness[f] * max(firm.quality, 1e-9) * state.price_acceptance(f, paid_price(firm), market.price_scale)[free]
                + 1e-300
            )
            for f, firm in enumerate(firms)
        ]
    )
    if len(firms) > 1:
        utility += rng.gumbel(size=utility.shape)
    utility[~eligible] = -np.inf
    best = utility.argmax(axis=0)
    state.lead_of[free] = best
    state.lead_since[free] = step
    ledger.add_per_firm("leads_created", best.astype(np.int64))


def self_serve(
    state: ConsumerState, firms: Sequence[FirmLike], market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator
) -> None:
    """Waiting leads may buy on their own, at the paid price, without a salesperson."""
    if market.self_serve_rate == 0:
        return
    waiting = state.waiting_leads()
    if waiting.size == 0:
        return
    chance = np.empty(waiting.size)
    lead_firm = state.lead_of[waiting]
    for f, firm in enumerate(firms):
        mine = lead_firm == f
        chance[mine] = market.self_serve_rate * state.price_acceptance(f, paid_price(firm), market.price_scale)[waiting[mine]]
    buyers = waiting[rng.random(waiting.size) < chance]
    for f, firm in enumerate(firms):
        mine = buyers[state.lead_of[buyers] == f]
        if mine.size:
            ledger.add("self_serve_wait_total", f, float((step - state.lead_since[mine]).sum()))
            revenue = purchase(state, ledger, f, firm, mine, step, rng, market.heterogeneity)
            ledger.add("new_customers_self_serve", f, mine.size)
            ledger.add("revenue_self_serve", f, revenue)


def purchase(
    state: ConsumerState,
    ledger: LedgerLike,
    f: int,
    firm: FirmLike,
    buyers: np.ndarray,
    step: int,
    rng: np.random.Generator,
    concentration: float,
) -> float:
    """Turn leads of firm ``f`` into its customers and book the sale; returns the revenue."""
    price = paid_price(firm)
    count = buyers.size
    revenue = price * count
    ledger.add("revenue", f, revenue)
    ledger.add("cost_of_goods", f, firm.unit_cost * count)
    ledger.add("discounts", f, (firm.price - price) * count)
    ledger.add("new_customers", f, count)
    for items, touches in ((_FIRST_TOUCH_ITEMS, state.first_touch[f][buyers]), (_LAST_TOUCH_ITEMS, state.last_touch[f][buyers])):
        by_channel = np.bincount(touches, minlength=len(TOUCH_NAMES)) * price
        ledger.add_items(items, f, by_channel)
    referred = int(np.count_nonzero(state.referred_by[buyers] != NOBODY))
    if referred:
        ledger.add("new_customers_referred", f, referred)
        ledger.add("referral_rewards", f, firm.sales.referral_reward * referred)
    state.customer_of[buyers] = f
    state.customer_since[buyers] = step
    state.ever_customer[f][buyers] = True
    state.lead_of[buyers] = NOBODY
    state.being_worked[buyers] = False
    state.referred_by[buyers] = NOBODY
    # A customer's satisfaction varies around the product's quality (exactly it at 0 or 1).
    state.satisfaction[buyers] = beta_draws(firm.quality, concentration, count, rng)
    return revenue


def refer(
    state: ConsumerState,
    network: NetworkLike,
    firms: Sequence[FirmLike],
    market: MarketLike,
    ledger: LedgerLike,
    step: int,
    rng: np.random.Generator,
) -> None:
    """This step's new customers of a firm with a referral package refer neighbours, who join
    its queue as warm leads."""
    if all(firm.sales.referral_reward <= 0 for firm in firms):
        return
    new_customers = (state.customer_since == step).nonzero()[0]
    new_customers = new_customers[state.customer_of[new_customers] != NOBODY]
    # A network that can pick the referred among all open consumers (the complete graph's
    # `referrals`) is asked that way; the others give their sources' ties and refer() filters them.
    among_open = getattr(network, "referrals", None)

    def open_to_it(f: int, rows: np.ndarray | slice) -> np.ndarray:
        """Which of ``rows`` could become firm f's lead now (a slice: every consumer)."""
        return (
            state.in_market[rows]
            & state.reachable[f][rows]
            & (state.customer_of[rows] == NOBODY)
            & (state.lead_of[rows] == NOBODY)
            & (state.next_lead_step[rows] <= step)
        )

    for f, firm in enumerate(firms):
        if firm.sales.referral_reward <= 0:
            continue
        sources = new_customers[state.customer_of[new_customers] == f]
        if sources.size == 0:
            continue
        if among_open is not None:
            # The complete graph: every open consumer is a neighbour of every source, so it draws
            # from them directly (one draw each) rather than through millions of pairs.
            referrer, neighbour = among_open(sources, np.flatnonzero(open_to_it(f, slice(None))), market.referral_share, rng)
        else:
            referrer, neighbour = network.neighbour_pairs(sources, market.referral_share, rng)
            kept = open_to_it(f, neighbour)
            referrer, neighbour = referrer[kept], neighbour[kept]
            neighbour, first = np.unique(neighbour, return_index=True)  # one referrer each
            referrer = referrer[first]
        state.lead_of[neighbour] = f
        state.lead_since[neighbour] = step
        state.referred_by[neighbour] = referrer
        state.awareness[f][neighbour] = np.maximum(state.awareness[f][neighbour], REFERRED_AWARENESS)
        ledger.add("leads_created", f, neighbour.size)
        ledger.add("leads_referred", f, neighbour.size)


def churn(state: ConsumerState, market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator) -> None:
    if market.churn_rate == 0:
        return
    customers = np.flatnonzero(state.customer_of != NOBODY)
    leaving = customers[rng.random(customers.size) < market.churn_rate]
    if leaving.size == 0:
        return
    ledger.add_per_firm("churned", state.customer_of[leaving].astype(np.int64))
    state.customer_of[leaving] = NOBODY
    state.satisfaction[leaving] = 0.0
    state.next_lead_step[leaving] = step + draw_delays(market.lead_cooldown, market.delay_cv, leaving.size, rng)
    state.patience[leaving] = draw_delays(market.lead_patience, market.delay_cv, leaving.size, rng, minimum=1)


def switch_leads(
    state: ConsumerState, firms: Sequence[FirmLike], market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator
) -> None:
    """Competition at the point of purchase: a waiting lead may move to a rival's queue.

    Each waiting lead (in a queue, not yet with a salesperson) weighs the firms again with chance
    ``switch_rate`` per step, by the same logit choice as at lead formation: attractiveness
    awareness x quality x price acceptance times a Gumbel taste factor, over the firm it waits
    for and every rival it could become a lead of (reachable, awareness at or above its
    threshold). If a rival wins, the lead leaves its queue and joins the rival's, waiting from
    this step. A lead already with a salesperson is not poached: the sale is under way.
    """
    if len(firms) < 2 or market.switch_rate == 0:
        return
    waiting = state.waiting_leads()
    if waiting.size == 0:
        return
    again = waiting[rng.random(waiting.size) < market.switch_rate]
    if again.size == 0:
        return
    current = state.lead_of[again].astype(np.int64)
    awareness = state.awareness[:, again]
    eligible = state.reachable[:, again] & (awareness > 0) & (awareness >= state.interest_threshold[again])
    eligible[current, np.arange(again.size)] = True
    utility = np.stack(
        [
            np.log(
                awareness[f] * max(firm.quality, 1e-9) * state.price_acceptance(f, paid_price(firm), market.price_scale)[again]
                + 1e-300
            )
            for f, firm in enumerate(firms)
        ]
    )
    utility += rng.gumbel(size=utility.shape)
    utility[~eligible] = -np.inf
    best = utility.argmax(axis=0)
    moved = best != current
    if not moved.any():
        return
    movers = again[moved]
    ledger.add_per_firm("leads_lost_to_rival", current[moved])
    ledger.add_per_firm("switch_wait_total", current[moved], step - state.lead_since[movers])
    ledger.add_per_firm("leads_won_from_rival", best[moved].astype(np.int64))
    state.lead_of[movers] = best[moved]
    state.lead_since[movers] = step
    state.referred_by[movers] = NOBODY
