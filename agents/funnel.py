"""The funnel's array rules: awareness decay, leads forming and going cold, self-serve purchases,
purchases and their bookkeeping, referrals and churn.

Each function reads the state at the start of its phase and writes the result at the end, so no
consumer sees another's change within a phase.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from funnelsim.agents import numpy_c
from funnelsim.agents.channel_codes import TOUCH_NAMES
from funnelsim.agents.delays import delay_law, draw_delays, fill_delays
from funnelsim.agents.population import NOBODY, ConsumerState, beta_draws, rows_where, waiting_rows
from funnelsim.agents.protocols import FirmLike, LedgerLike, MarketLike, NetworkLike
from funnelsim.compiled import kernel

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
    _decay(state.awareness, state.memorable, float(market.awareness_decay), np.asarray(memorability, dtype=float), market.forget_below)


@kernel
def _decay(awareness: np.ndarray, memorable: np.ndarray, decay: float, memorability: np.ndarray, forget_below: float) -> None:
    """:func:`decay_awareness` in one pass: times ``slower[f]`` for jingle listeners (when some
    jingle is memorable) or ``plain``, then zero below ``forget_below``."""
    fade = decay > 0
    plain = 1.0 - decay * 1.0
    slower = np.empty(memorability.size)  # per firm, the same arithmetic as for one firm's scalar
    jingles = False
    for f in range(memorability.size):
        slower[f] = 1.0 - decay * (1.0 - memorability[f])
        jingles |= slower[f] != plain
    firms, size = awareness.shape
    for f in range(firms):
        for c in range(size):
            value = awareness[f, c]
            if fade:
                value *= slower[f] if jingles and memorable[f, c] else plain
            awareness[f, c] = 0.0 if value < forget_below else value


def expire_cold_leads(
    state: ConsumerState, market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator | None = None
) -> None:
    """Leads that waited in the queue past their own patience drop back to aware.

    Each lead's patience is a random draw (``state.patience``, mean ``lead_patience``); the
    cooldown that follows is drawn too (:func:`end_lead`), so cohorts of leads fall out of step.
    """
    functions, values = numpy_c.functions(), ledger.step_values()
    if rng is not None and functions is not None and values is not None:
        # The same, in one compiled call, with numpy's own draws.
        _expire_cold_leads(
            state.lead_of,
            state.being_worked,
            state.lead_since,
            state.patience,
            state.referred_by,
            state.next_lead_step,
            step,
            functions,
            numpy_c.state_of(rng),
            delay_law(market.lead_cooldown, market.delay_cv),
            delay_law(market.lead_patience, market.delay_cv, 1),
            values,
            ledger.step_rows(_COLD_ITEMS),
        )
        return
    cold = _past_patience(state.lead_of, state.being_worked, state.lead_since, state.patience, step)
    if cold.size == 0:
        return
    cold_firm = state.lead_of[cold].astype(np.int64)
    ledger.add_per_firm("leads_cold", cold_firm)
    ledger.add_per_firm("cold_wait_total", cold_firm, step - state.lead_since[cold])
    if rng is None:  # callers from before drawn delays: the fixed cooldown
        release(state, cold, step + market.lead_cooldown)
    else:
        end_lead(state, cold, market, step, rng)


_COLD_ITEMS = ("leads_cold", "cold_wait_total")


@kernel
def _expire_cold_leads(
    lead_of, being_worked, lead_since, patience, referred_by, next_lead_step, step, functions, state, cooldown, new_patience, values, rows
):
    """:func:`expire_cold_leads` for a generator with numpy's C draws: the cold leads, their
    ledger entries (counts, and each firm's waits summed from 0 in row order, as numpy's bincount
    sums them, then added), and :func:`end_lead` with the cooldowns and then the patiences
    drawn as :func:`draw_delays` draws them."""
    cold = _past_patience(lead_of, being_worked, lead_since, patience, step)
    if cold.size == 0:
        return
    firms = values.shape[1]
    counts, waits = np.zeros(firms), np.zeros(firms)
    for c in cold:
        counts[lead_of[c]] += 1.0
        waits[lead_of[c]] += step - lead_since[c]
    for f in range(firms):
        values[rows[0], f] += counts[f]
        values[rows[1], f] += waits[f]
    _end_leads_drawing(lead_of, being_worked, referred_by, next_lead_step, patience, cold, step, functions, state, cooldown, new_patience)


@kernel
def _end_leads_drawing(lead_of, being_worked, referred_by, next_lead_step, patience, consumers, step, functions, state, cooldown, new_patience):
    """:func:`end_lead` with numpy's C draws: the cooldowns, then the patiences (laws from
    :func:`delay_law`), then :func:`_end_leads`."""
    cooldowns, patiences = np.empty(consumers.size, dtype=np.int64), np.empty(consumers.size, dtype=np.int64)
    fill_delays(functions, state, cooldown[0], cooldown[1], cooldown[2], 0, cooldowns)
    fill_delays(functions, state, new_patience[0], new_patience[1], new_patience[2], 1, patiences)
    _end_leads(lead_of, being_worked, referred_by, next_lead_step, patience, consumers, step, cooldowns, patiences)


@kernel
def _past_patience(
    lead_of: np.ndarray, being_worked: np.ndarray, lead_since: np.ndarray, patience: np.ndarray, step: int
) -> np.ndarray:
    """Waiting leads (in a queue, no salesperson) that have waited at least their patience, in row order."""
    waiting = waiting_rows(lead_of, being_worked)  # a branch-free pass over the narrow arrays first
    cold = np.empty(waiting.size, dtype=np.int64)
    found = 0
    for c in waiting:
        cold[found] = c
        found += step - lead_since[c] >= patience[c]
    return cold[:found]


def end_lead(state: ConsumerState, consumers: np.ndarray, market: MarketLike, step: int, rng: np.random.Generator) -> None:
    """A lead that went cold or was lost: out of every queue for a drawn cooldown, with a fresh
    patience drawn for the next lead (both gamma, :mod:`funnelsim.agents.delays`)."""
    consumers = np.atleast_1d(consumers)
    arrays = (state.lead_of, state.being_worked, state.referred_by, state.next_lead_step, state.patience)
    functions = numpy_c.functions()
    if functions is not None:  # the same, in one compiled call
        cooldown, patience = delay_law(market.lead_cooldown, market.delay_cv), delay_law(market.lead_patience, market.delay_cv, 1)
        _end_leads_drawing(*arrays, consumers, step, functions, numpy_c.state_of(rng), cooldown, patience)
        return
    cooldowns = draw_delays(market.lead_cooldown, market.delay_cv, consumers.size, rng)
    patiences = draw_delays(market.lead_patience, market.delay_cv, consumers.size, rng, minimum=1)
    _end_leads(*arrays, consumers, step, cooldowns, patiences)


@kernel
def _end_leads(lead_of, being_worked, referred_by, next_lead_step, patience, consumers, step, cooldown, new_patience):
    """:func:`release` until ``step + cooldown`` and the new patience, for each listed consumer, in one pass."""
    for i in range(consumers.size):
        c = consumers[i]
        lead_of[c] = NOBODY
        being_worked[c] = False
        referred_by[c] = NOBODY
        next_lead_step[c] = step + cooldown[i]
        patience[c] = new_patience[i]


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
    qualities, acceptances = _choice_terms(state, firms, market)
    free = _free_with_a_choice(
        state.awareness,
        state.interest_threshold,
        state.reachable,
        state.in_market,
        state.customer_of,
        state.lead_of,
        state.next_lead_step,
        step,
    )
    if free.size == 0:
        return
    eligible, attraction = _attraction(state.awareness, state.interest_threshold, state.reachable, qualities, acceptances, free)
    functions, values = numpy_c.functions(), ledger.step_values()
    if functions is not None and values is not None:
        # The taste draws, the choice and the bookkeeping in one compiled call (the log stays
        # numpy's: see funnelsim.compiled).
        best = _choose_with_taste(np.log(attraction), eligible, functions, numpy_c.state_of(rng))
        _join_queues(state.lead_of, state.lead_since, free, best, step, values, ledger.step_rows(("leads_created",)))
        return
    best = _logit_choice(attraction, eligible, rng)
    state.lead_of[free] = best
    state.lead_since[free] = step
    ledger.add_per_firm("leads_created", best)


@kernel
def _choose_with_taste(utility, eligible, functions, state):
    """:func:`_logit_choice` from the log attraction ``utility`` (changed in place), with numpy's
    Gumbel draws made in its order (firm by firm) by numpy's own C function."""
    firms, count = utility.shape
    if firms > 1:
        for f in range(firms):
            for i in range(count):
                utility[f, i] += numpy_c.gumbel(functions, state, 0.0, 1.0)
    return _best_eligible(utility, eligible)


@kernel
def _join_queues(lead_of, lead_since, consumers, firm_of, step, values, rows):
    """Each listed consumer joins the queue of its firm this step; ``rows[0]`` of the ledger counts them."""
    for i in range(consumers.size):
        lead_of[consumers[i]] = firm_of[i]
        lead_since[consumers[i]] = step
        values[rows[0], firm_of[i]] += 1.0


def _choice_terms(state: ConsumerState, firms: Sequence[FirmLike], market: MarketLike) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's quality (at least 1e-9, so a log exists) and every consumer's acceptance of its paid price."""
    qualities = np.array([max(firm.quality, 1e-9) for firm in firms])
    return qualities, state.price_acceptances([paid_price(firm) for firm in firms], market.price_scale)


def _logit_choice(attraction: np.ndarray, eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each column's chosen firm: the eligible firm of highest log attraction plus Gumbel noise
    (drawn for every firm and column, firm by firm, when there is more than one firm)."""
    utility = np.log(attraction)
    if utility.shape[0] > 1:
        utility += rng.gumbel(size=utility.shape)
    return _best_eligible(utility, eligible)


@kernel
def _free_with_a_choice(
    awareness: np.ndarray,
    threshold: np.ndarray,
    reachable: np.ndarray,
    in_market: np.ndarray,
    customer_of: np.ndarray,
    lead_of: np.ndarray,
    next_lead_step: np.ndarray,
    step: int,
) -> np.ndarray:
    """In-market consumers, nobody's lead or customer and not cooling down, with at least one
    firm they could become a lead of (reachable, awareness above 0 and at their threshold)."""
    # First the conditions on narrow arrays, for everyone, without a branch (who passes is a
    # random pattern: mispredicted branches cost more than the comparisons); then the awareness
    # rows, for those few only.
    size = threshold.size
    flags = np.empty(size, dtype=np.uint8)
    for c in range(size):
        flags[c] = in_market[c] & (customer_of[c] == NOBODY) & (lead_of[c] == NOBODY) & (next_lead_step[c] <= step)
    open_now = rows_where(flags)
    found = open_now.size
    free = np.empty(found, dtype=np.int64)
    kept = 0
    for i in range(found):
        c = open_now[i]
        for f in range(awareness.shape[0]):
            level = awareness[f, c]
            if reachable[f, c] and level > 0 and level >= threshold[c]:
                free[kept] = c
                kept += 1
                break
    return free[:kept]


@kernel
def _attraction(
    awareness: np.ndarray,
    threshold: np.ndarray,
    reachable: np.ndarray,
    qualities: np.ndarray,
    acceptances: np.ndarray,
    consumers: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each firm and listed consumer: whether the consumer could become its lead, and the
    firm's attractiveness ``awareness x quality x price acceptance + 1e-300`` (the tiny term keeps
    its log finite), multiplied in that order as numpy did."""
    firms = awareness.shape[0]
    eligible = np.empty((firms, consumers.size), dtype=np.bool_)
    attraction = np.empty((firms, consumers.size))
    for i in range(consumers.size):
        c = consumers[i]
        for f in range(firms):
            level = awareness[f, c]
            eligible[f, i] = reachable[f, c] and level > 0 and level >= threshold[c]
            attraction[f, i] = level * qualities[f] * acceptances[f, c] + 1e-300
    return eligible, attraction


@kernel
def _best_eligible(utility: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Each column's first eligible row of highest utility (numpy's argmax with the ineligible at -inf)."""
    firms, count = utility.shape
    best = np.empty(count, dtype=np.int64)
    for i in range(count):
        chosen, top = 0, -np.inf if not eligible[0, i] else utility[0, i]
        for f in range(1, firms):
            value = utility[f, i] if eligible[f, i] else -np.inf
            if value > top:
                chosen, top = f, value
        best[i] = chosen
    return best


def self_serve(
    state: ConsumerState, firms: Sequence[FirmLike], market: MarketLike, ledger: LedgerLike, step: int, rng: np.random.Generator
) -> None:
    """Waiting leads may buy on their own, at the paid price, without a salesperson."""
    if market.self_serve_rate == 0:
        return
    _, acceptances = _choice_terms(state, firms, market)
    functions, values = numpy_c.functions(), ledger.step_values()
    if functions is not None and values is not None:  # the same, in one compiled call
        _self_serve(
            _buyer_state(state),
            acceptances,
            market.self_serve_rate,
            purchase_terms(firms),
            market.heterogeneity,
            step,
            functions,
            numpy_c.state_of(rng),
            values,
            ledger.step_rows(PURCHASE_ITEMS),
        )
        return
    waiting, chance = _waiting_with_chance(state.lead_of, state.being_worked, acceptances, market.self_serve_rate)
    if waiting.size == 0:
        return
    buyers = waiting[rng.random(waiting.size) < chance]
    for f, firm in enumerate(firms):
        mine = buyers[state.lead_of[buyers] == f]
        if mine.size:
            ledger.add("self_serve_wait_total", f, float((step - state.lead_since[mine]).sum()))
            revenue = purchase(state, ledger, f, firm, mine, step, rng, market.heterogeneity)
            ledger.add("new_customers_self_serve", f, mine.size)
            ledger.add("revenue_self_serve", f, revenue)


@kernel
def _waiting_with_chance(
    lead_of: np.ndarray, being_worked: np.ndarray, acceptances: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Waiting leads in row order, and each one's chance ``rate x acceptance of its firm's price``."""
    waiting = waiting_rows(lead_of, being_worked)
    chance = np.empty(waiting.size)
    for i in range(waiting.size):
        chance[i] = rate * acceptances[lead_of[waiting[i]], waiting[i]]
    return waiting, chance


#: The ledger items of a purchase, then self-serve's own, as :data:`PURCHASE_ITEMS` lists them.
PURCHASE_ITEMS = (
    "revenue",
    "cost_of_goods",
    "discounts",
    "new_customers",
    *_FIRST_TOUCH_ITEMS,
    *_LAST_TOUCH_ITEMS,
    "new_customers_referred",
    "referral_rewards",
    "self_serve_wait_total",
    "new_customers_self_serve",
    "revenue_self_serve",
)
_FIRST_TOUCH_ROW = 4
_LAST_TOUCH_ROW = _FIRST_TOUCH_ROW + len(TOUCH_NAMES)
_REFERRED_ROW = _LAST_TOUCH_ROW + len(TOUCH_NAMES)
_SELF_SERVE_ROW = _REFERRED_ROW + 2

#: Columns of :func:`purchase_terms`.
_PAID, _LIST_PRICE, _UNIT_COST, _REFERRAL_REWARD, _QUALITY = range(5)


def purchase_terms(firms: Sequence[FirmLike]) -> np.ndarray:
    """Per firm: the paid price, the list price, the unit cost, the referral reward and the quality."""
    return np.array([[paid_price(firm), firm.price, firm.unit_cost, firm.sales.referral_reward, firm.quality] for firm in firms])


def _buyer_state(state: ConsumerState) -> tuple:
    """The consumer arrays a purchase changes or reads, for :func:`_purchase`."""
    return (
        state.customer_of,
        state.customer_since,
        state.ever_customer,
        state.lead_of,
        state.being_worked,
        state.referred_by,
        state.first_touch,
        state.last_touch,
        state.satisfaction,
        state.lead_since,
    )


@kernel
def _self_serve(buyer_state, acceptances, rate, terms, concentration, step, functions, state, values, rows):
    """:func:`self_serve` with numpy's own C draws: a uniform per waiting lead in row order, then
    firm by firm its buyers' purchases (:func:`_purchase`) and self-serve's ledger entries."""
    lead_of, lead_since = buyer_state[3], buyer_state[9]
    waiting, chance = _waiting_with_chance(lead_of, buyer_state[4], acceptances, rate)
    buyers = np.empty(waiting.size, dtype=np.int64)
    found = 0
    for i in range(waiting.size):
        buyers[found] = waiting[i]
        found += numpy_c.uniform(functions, state) < chance[i]
    buyers = buyers[:found]
    firm_of = lead_of[buyers]  # before any purchase takes a buyer out of its queue
    for f in range(terms.shape[0]):
        mine = buyers[firm_of == f]
        if mine.size == 0:
            continue
        waited = 0
        for c in mine:
            waited += step - lead_since[c]
        values[rows[_SELF_SERVE_ROW], f] += float(waited)
        revenue = _purchase(buyer_state, f, mine, step, terms[f], concentration, functions, state, values, rows)
        values[rows[_SELF_SERVE_ROW + 1], f] += mine.size
        values[rows[_SELF_SERVE_ROW + 2], f] += revenue


@kernel
def _purchase(buyer_state, f, buyers, step, terms, concentration, functions, state, values, rows):
    """:func:`purchase` with numpy's own beta draws: the same ledger amounts, in the same order."""
    customer_of, customer_since, ever_customer, lead_of, being_worked, referred_by, first_touch, last_touch, satisfaction, _ = buyer_state
    price, count = terms[_PAID], buyers.size
    revenue = price * count
    values[rows[0], f] += revenue
    values[rows[1], f] += terms[_UNIT_COST] * count
    values[rows[2], f] += (terms[_LIST_PRICE] - price) * count
    values[rows[3], f] += count
    touches = _LAST_TOUCH_ROW - _FIRST_TOUCH_ROW
    first, last = np.zeros(touches, dtype=np.int64), np.zeros(touches, dtype=np.int64)
    referred = _become_customers(
        customer_of, customer_since, ever_customer, lead_of, being_worked, referred_by, first_touch, last_touch, f, buyers, step, first, last
    )
    for k in range(touches):
        values[rows[_FIRST_TOUCH_ROW + k], f] += first[k] * price
    for k in range(touches):
        values[rows[_LAST_TOUCH_ROW + k], f] += last[k] * price
    if referred:
        values[rows[_REFERRED_ROW], f] += referred
        values[rows[_REFERRED_ROW + 1], f] += terms[_REFERRAL_REWARD] * referred
    mean = terms[_QUALITY]
    if mean <= 0.0 or mean >= 1.0:  # exactly the product's quality (beta_draws' constant)
        for c in buyers:
            satisfaction[c] = mean
    else:
        a, b = mean * concentration, (1.0 - mean) * concentration
        for c in buyers:
            satisfaction[c] = numpy_c.beta(functions, state, a, b)
    return revenue


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
    functions, values = numpy_c.functions(), ledger.step_values()
    if functions is not None and values is not None:  # the same, in one compiled call
        terms = purchase_terms([firm])[0]
        args = (_buyer_state(state), f, np.asarray(buyers, dtype=np.int64), step, terms, concentration)
        return float(_purchase(*args, functions, numpy_c.state_of(rng), values, ledger.step_rows(PURCHASE_ITEMS)))
    price = paid_price(firm)
    count = buyers.size
    revenue = price * count
    ledger.add("revenue", f, revenue)
    ledger.add("cost_of_goods", f, firm.unit_cost * count)
    ledger.add("discounts", f, (firm.price - price) * count)
    ledger.add("new_customers", f, count)
    first, last = np.zeros(len(TOUCH_NAMES), dtype=np.int64), np.zeros(len(TOUCH_NAMES), dtype=np.int64)
    referred = _become_customers(
        state.customer_of,
        state.customer_since,
        state.ever_customer,
        state.lead_of,
        state.being_worked,
        state.referred_by,
        state.first_touch,
        state.last_touch,
        f,
        buyers,
        step,
        first,
        last,
    )
    ledger.add_items(_FIRST_TOUCH_ITEMS, f, first * price)
    ledger.add_items(_LAST_TOUCH_ITEMS, f, last * price)
    if referred:
        ledger.add("new_customers_referred", f, referred)
        ledger.add("referral_rewards", f, firm.sales.referral_reward * referred)
    # A customer's satisfaction varies around the product's quality (exactly it at 0 or 1).
    state.satisfaction[buyers] = beta_draws(firm.quality, concentration, count, rng)
    return revenue


@kernel
def _become_customers(
    customer_of,
    customer_since,
    ever_customer,
    lead_of,
    being_worked,
    referred_by,
    first_touch,
    last_touch,
    f,
    buyers,
    step,
    first,
    last,
):
    """Make the buyers firm ``f``'s customers, out of its queue, in one pass; count their first and
    last touches by channel code into ``first`` and ``last``; returns how many had been referred."""
    referred = 0
    for i in range(buyers.size):
        c = buyers[i]
        first[first_touch[f, c]] += 1
        last[last_touch[f, c]] += 1
        referred += referred_by[c] != NOBODY
        customer_of[c] = f
        customer_since[c] = step
        ever_customer[f, c] = True
        lead_of[c] = NOBODY
        being_worked[c] = False
        referred_by[c] = NOBODY
    return referred


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

    functions, values, adjacency = numpy_c.functions(), ledger.step_values(), getattr(network, "adjacency", None)
    if among_open is None and adjacency is not None and functions is not None and values is not None:
        # The same, in one compiled call with numpy's own uniform draws.
        _refer_neighbours(
            new_customers,
            adjacency.indptr,
            adjacency.indices,
            np.array([firm.sales.referral_reward > 0 for firm in firms]),
            market.referral_share,
            (state.in_market, state.reachable, state.customer_of, state.lead_of, state.next_lead_step),
            (state.lead_since, state.referred_by, state.awareness),
            state.listing_counts(),
            step,
            functions,
            numpy_c.state_of(rng),
            values,
            ledger.step_rows(("leads_created", "leads_referred")),
        )
        return
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
    functions, values = numpy_c.functions(), ledger.step_values()
    compiled = functions is not None and values is not None
    if compiled:  # the draws with numpy's own C function, in the pass that lists the waiting
        again = _reconsidering(state.lead_of, state.being_worked, market.switch_rate, functions, numpy_c.state_of(rng))
    else:
        waiting = state.waiting_leads()
        if waiting.size == 0:
            return
        again = waiting[rng.random(waiting.size) < market.switch_rate]
    if again.size == 0:
        return
    current = state.lead_of[again].astype(np.int64)
    qualities, acceptances = _choice_terms(state, firms, market)
    eligible, attraction = _attraction(state.awareness, state.interest_threshold, state.reachable, qualities, acceptances, again)
    eligible[current, np.arange(again.size)] = True
    if compiled:
        best = _choose_with_taste(np.log(attraction), eligible, functions, numpy_c.state_of(rng))
        _move_to_rivals(
            again, current, best, state.lead_of, state.lead_since, state.referred_by, step, values, ledger.step_rows(_SWITCH_ITEMS)
        )
        return
    best = _logit_choice(attraction, eligible, rng)
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


_SWITCH_ITEMS = ("leads_lost_to_rival", "switch_wait_total", "leads_won_from_rival")


@kernel
def _reconsidering(lead_of, being_worked, rate, functions, state):
    """The waiting leads, in row order, whose uniform draw (one each, in that order) is below ``rate``."""
    waiting = waiting_rows(lead_of, being_worked)
    again = np.empty(waiting.size, dtype=np.int64)
    found = 0
    for c in waiting:
        again[found] = c
        found += numpy_c.uniform(functions, state) < rate
    return again[:found]


@kernel
def _move_to_rivals(again, current, best, lead_of, lead_since, referred_by, step, values, rows):
    """The end of :func:`switch_leads`: the ledger's three items (each firm's counts, and waits
    summed from 0 in order, as numpy's bincount sums them, then added) and the moves."""
    firms = values.shape[1]
    lost, waits, won = np.zeros(firms), np.zeros(firms), np.zeros(firms)
    for i in range(again.size):
        if best[i] != current[i]:
            lost[current[i]] += 1.0
            waits[current[i]] += step - lead_since[again[i]]
            won[best[i]] += 1.0
    for f in range(firms):
        values[rows[0], f] += lost[f]
    for f in range(firms):
        values[rows[1], f] += waits[f]
    for f in range(firms):
        values[rows[2], f] += won[f]
    for i in range(again.size):
        if best[i] != current[i]:
            lead_of[again[i]] = best[i]
            lead_since[again[i]] = step
            referred_by[again[i]] = NOBODY


@kernel
def _refer_neighbours(new_customers, indptr, indices, rewarding, chance, openness, joining, marks, step, functions, state, values, rows):
    """:func:`refer` on a sparse network, firm by firm: a uniform draw for each tie out of the
    firm's new customers (source by source, ties in row order, as the network's
    ``neighbour_pairs`` draws them); a neighbour the draw keeps who is open to the firm joins its
    queue, referred by its first such tie. ``marks`` is a zeroed int32 per consumer (left zeroed)."""
    in_market, reachable, customer_of, lead_of, next_lead_step = openness
    lead_since, referred_by, awareness = joining
    for f in range(rewarding.size):
        if not rewarding[f]:
            continue
        sources = new_customers[customer_of[new_customers] == f]
        if sources.size == 0:
            continue
        joined, referrer = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        count = 0
        for source in sources:
            for j in range(indptr[source], indptr[source + 1]):
                c = np.int64(indices[j])
                kept = numpy_c.uniform(functions, state) < chance
                # Open now, as before this firm's referrals: whoever joins is marked, not tested again.
                if kept and marks[c] == 0 and in_market[c] and reachable[f, c]:
                    if customer_of[c] == NOBODY and lead_of[c] == NOBODY and next_lead_step[c] <= step:
                        if count == joined.size:
                            joined, referrer = _grown(joined, count), _grown(referrer, count)
                        marks[c] = 1
                        joined[count], referrer[count] = c, source
                        count += 1
        for k in range(count):
            c = joined[k]
            marks[c] = 0
            lead_of[c] = f
            lead_since[c] = step
            referred_by[c] = referrer[k]
            awareness[f, c] = max(awareness[f, c], REFERRED_AWARENESS)
        values[rows[0], f] += count
        values[rows[1], f] += count


@kernel
def _grown(values, used):
    """``values`` with room for twice as many (at least 16), the first ``used`` kept."""
    bigger = np.empty(max(16, 2 * values.size), dtype=values.dtype)
    bigger[:used] = values[:used]
    return bigger
