"""Consumer state as arrays: one row per consumer (and one plane per firm where it is per firm).

Rules that touch every consumer are array operations over these rows; a consumer agent reads
and writes its own row. Funnel stages are not stored: a consumer is a customer of the firm in
``customer_of``, a lead of the firm in ``lead_of``, aware of a firm whose awareness (their chance
of recognising it when prompted) is at least ``market.recall_threshold``, and unaware otherwise.
Storing who-is-what once makes "exactly one stage per firm" and "a customer of at most one firm"
true by construction instead of by bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from funnelsim.agents.delays import draw_delays
from funnelsim.agents.protocols import MarketLike, ScenarioLike
from funnelsim.agents.sampling import marks_for
from funnelsim.compiled import kernel

NOBODY = -1

#: Stage codes returned by :meth:`ConsumerState.stage_of`.
UNAWARE, AWARE, LEAD, CUSTOMER, RIVAL_CUSTOMER = range(5)
STAGE_NAMES = ("unaware", "aware", "lead", "customer", "rival customer")


def beta_draws(mean: float, concentration: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Values in [0, 1] with the given mean; a mean of exactly 0 or 1 gives constants."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, float(mean))
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size)


def acceptance(price: float, willingness_to_pay: np.ndarray, scale: float) -> np.ndarray:
    """Chance a consumer accepts a price: 1 / (1 + exp((price / wtp - 1) / scale)).

    A logistic in the price relative to the consumer's willingness to pay, so a price change
    moves every consumer's chance (a consumer's own price elasticity is
    -(price / wtp) (1 - acceptance) / scale), strongest around price = wtp. ``scale = 0`` is the
    sharp cut-off: 1 up to the willingness to pay, 0 above it. A free product is always accepted.
    """
    if price <= 0:
        return np.ones_like(willingness_to_pay)
    relative = price / willingness_to_pay - 1.0
    if scale <= 0:
        return (relative <= 0).astype(float)
    # exp overflows to inf far above the willingness to pay, which gives the right limit, 0.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(relative / scale))


class ConsumerState:
    """Structure of arrays for ``n`` consumers and ``firms`` firms."""

    def __init__(self, scenario: ScenarioLike, community: np.ndarray, rng: np.random.Generator):
        market: MarketLike = scenario.market
        n, firms = market.consumers, len(scenario.firms)
        self.size, self.firms = n, firms
        # Aware (the funnel stage) means awareness at or above the recall threshold; a threshold of
        # 0 still needs some awareness, so "aware" never includes those who never heard of the firm.
        self.recall_threshold = max(market.recall_threshold, float(np.nextafter(0.0, 1.0)))

        # Heterogeneous, fixed attributes.
        self.in_market = rng.random(n) < market.in_market_share
        self.willingness_to_pay = market.willingness_to_pay * np.exp(market.willingness_to_pay_spread * rng.standard_normal(n))
        self.susceptibility = beta_draws(market.susceptibility, market.heterogeneity, n, rng)
        self.talkativeness = beta_draws(market.talkativeness, market.heterogeneity, n, rng)
        self.interest_threshold = beta_draws(market.interest_threshold, market.heterogeneity, n, rng)
        self.community = community  # each consumer's community in the network (all 0 but in an sbm)
        # Place: which consumers can buy from each firm at all.
        coverage = np.array([firm.coverage for firm in scenario.firms])
        self.reachable = rng.random((firms, n)) < coverage[:, None]

        # Awareness per firm, and what marketing did to it.
        self.awareness = np.zeros((firms, n))
        if market.initial_awareness > 0:
            known = rng.random((firms, n)) < market.initial_awareness
            self.awareness[known] = 0.5
        self.memorable = np.zeros((firms, n), dtype=bool)  # heard the firm's jingle
        self.first_touch = np.zeros((firms, n), dtype=np.int8)  # 0 none, else channel code
        self.first_touch_step = np.full((firms, n), NOBODY, dtype=np.int32)
        self.last_touch = np.zeros((firms, n), dtype=np.int8)
        self.last_touch_step = np.full((firms, n), NOBODY, dtype=np.int32)
        self.on_bought_list = np.zeros((firms, n), dtype=bool)
        self.unsubscribed = np.zeros((firms, n), dtype=bool)
        self.ever_customer = np.zeros((firms, n), dtype=bool)

        # The funnel: whose lead or customer each consumer is.
        self.customer_of = np.full(n, NOBODY, dtype=np.int8)
        self.lead_of = np.full(n, NOBODY, dtype=np.int8)
        self.lead_since = np.zeros(n, dtype=np.int32)
        self.being_worked = np.zeros(n, dtype=bool)
        self.next_lead_step = np.zeros(n, dtype=np.int32)
        self.customer_since = np.full(n, NOBODY, dtype=np.int32)
        self.satisfaction = np.zeros(n)
        self.referred_by = np.full(n, NOBODY, dtype=np.int64)
        # The patience of each consumer's next (or current) lead, in steps: drawn now and again
        # whenever a lead ends (funnel.end_lead), so every lead waits a fresh random time.
        self.patience = draw_delays(market.lead_patience, market.delay_cv, n, rng, minimum=1)
        self.willingness_to_pay.flags.writeable = False  # fixed: price_acceptance keeps what it computes from it
        self._acceptance = np.empty((firms, n))  # row f: every consumer's acceptance of firm f's price
        self._acceptance_of: list[tuple[float, float] | None] = [None] * firms  # the (price, scale) of each row

    def price_acceptance(self, firm_index: int, price: float, scale: float) -> np.ndarray:
        """Every consumer's chance to accept ``price`` from firm ``firm_index`` (:func:`acceptance`).

        Willingness to pay is fixed, so the chances are computed once per price and scale and
        kept: the rules that need them index them instead of taking an exponential for every lead
        on every step. A price changed mid-run (the live page's levers) is seen at once.
        """
        key = (float(price), float(scale))
        if self._acceptance_of[firm_index] != key:
            self._acceptance[firm_index] = acceptance(price, self.willingness_to_pay, scale)
            self._acceptance_of[firm_index] = key
        return self._acceptance[firm_index]

    def price_acceptances(self, prices: Sequence[float], scale: float) -> np.ndarray:
        """(firms, n) :meth:`price_acceptance` of every firm, ``prices[f]`` being firm f's price."""
        for firm_index, price in enumerate(prices):
            self.price_acceptance(firm_index, price, scale)
        return self._acceptance

    # ----------------------------------------------------------------------------------------
    def raise_awareness(self, firm_index: int, consumers: np.ndarray, lift: float, distinct: bool = False) -> None:
        """a <- a + lift (1 - a) for each listed consumer, once per listing.

        Repeated listings compound, (1 - a) shrinking by (1 - lift) each time, which is what the
        same consumer reached twice in a step should get. The order of listings does not matter.
        ``distinct`` says no consumer is listed twice, which saves counting them.
        """
        self.reach(firm_index, consumers, lift, distinct)

    def touch(self, firm_index: int, consumers: np.ndarray, channel_code: int, step: int) -> None:
        """Record a marketing touch for attribution: the first one sticks, the last one is replaced."""
        self.reach(firm_index, consumers, 0.0, channel_code=channel_code, step=step)

    def reach(
        self,
        firm_index: int,
        consumers: np.ndarray,
        lift: float,
        distinct: bool = False,
        channel_code: int | None = None,
        step: int = 0,
    ) -> None:
        """:meth:`raise_awareness` by ``lift`` and, given a ``channel_code``, :meth:`touch` at ``step``.

        A marketing channel does both to everyone it reaches: one compiled pass over the listed
        consumers instead of a dozen array operations, with the same numbers.
        """
        if consumers.size == 0:
            return
        consumers = np.asarray(consumers, dtype=np.intp)
        # Plain Python scalars, so that the kernel is compiled for one signature only.
        lift, distinct, step = float(lift) if lift > 0.0 else 0.0, bool(distinct), int(step)
        powers = self.lift_powers(lift, 2) if lift and not distinct else NO_POWERS
        touching, code = channel_code is not None, int(channel_code or 0)
        # The (firms, n) arrays and the firm, not row views: a view costs more than the row's work.
        args = (
            self.awareness,
            self.first_touch,
            self.first_touch_step,
            self.last_touch,
            self.last_touch_step,
            firm_index,
            consumers,
            lift,
            distinct,
        )
        listings = self.listing_counts()
        most = raise_and_touch(*args, powers, listings, touching, code, step)
        if most < 0:
            raise IndexError(
                f"firm {firm_index} or a consumer in {consumers.tolist()[:10]} out of range: {self.firms} firms, {self.size} consumers"
            )
        if most:  # a consumer listed more often than the table of powers covers: nothing was changed
            raise_and_touch(*args, self.lift_powers(lift, most + 1), listings, touching, code, step)

    def lift_powers(self, lift: float, length: int) -> np.ndarray:
        """(1 - lift) ** k for k = 0, 1, ...: at least ``length`` of them, kept per lift.

        numpy's power is not the C library's pow on every processor (it uses SVML's on AVX-512),
        so the powers come from numpy, exactly as ``(1.0 - lift) ** times`` gave them before: the
        same value for the same exponent, wherever it stands in the array.
        """
        kept = self.__dict__.setdefault("_powers", {})
        table = kept.get(lift)
        if table is None or table.size < length:
            table = kept[lift] = (1.0 - lift) ** np.arange(max(length, 16), dtype=np.int64)
        return table

    def listing_counts(self) -> np.ndarray:
        """A zeroed int32 counter per consumer, lent to :func:`raise_and_touch` (which leaves it zeroed)."""
        listings = self.__dict__.get("_listing_counts")
        if listings is None:
            listings = self._listing_counts = np.zeros(self.size, dtype=np.int32)
        return listings

    def sample_marks(self) -> np.ndarray:
        """Zeroed marks for samples without replacement from up to every consumer, lent to
        :func:`funnelsim.agents.sampling.sample_positions` (which leaves them zeroed)."""
        marks = self.__dict__.get("_sample_marks")
        if marks is None:
            marks = self._sample_marks = marks_for(self.size)
        return marks

    def waiting_leads(self) -> np.ndarray:
        """Consumers in a lead queue and not yet with a salesperson."""
        return waiting_rows(self.lead_of, self.being_worked)

    def stage_of(self, firm_index: int) -> np.ndarray:
        """Stage code of every consumer relative to firm ``firm_index`` (see :data:`STAGE_NAMES`)."""
        stage = np.where(self.awareness[firm_index] >= self.recall_threshold, AWARE, UNAWARE).astype(np.int8)
        stage[self.lead_of == firm_index] = LEAD
        stage[(self.customer_of != NOBODY) & (self.customer_of != firm_index)] = RIVAL_CUSTOMER
        stage[self.customer_of == firm_index] = CUSTOMER
        return stage

    def stage_counts(self) -> dict[str, np.ndarray]:
        """Per firm: unaware, aware, leads, customers (summing to n), and customers of rivals.

        Aware means awareness at or above the recall threshold (see :attr:`recall_threshold`);
        a lead or customer of the firm is counted in that stage, not in aware. One compiled pass
        over each firm's row (:meth:`stage_count_block`).
        """
        return self._stage_counts_and_worked()[0]

    def _stage_counts_and_worked(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """:meth:`stage_counts`, and per firm how many of its leads a salesperson is working
        (the row's ``leads_in_progress``), from the same pass over the leads."""
        block = self.stage_count_block()
        counts = dict(zip(("unaware", "aware", "leads", "customers", "rival_customers"), block[:5]))
        return counts, block[STAGE_BLOCK_ROWS.index("leads_in_progress")]

    def stage_count_block(self) -> np.ndarray:
        """Every firm's stage counts as one fresh (7, firms) int64 array, rows in
        :data:`STAGE_BLOCK_ROWS` order: the five of :meth:`stage_counts`, then the waiting leads
        (``queue_length``) and the leads a salesperson is working (``leads_in_progress``).

        One compiled call (:func:`_count_stages`) instead of a dozen array operations: the run
        table needs these counts every step."""
        block = np.empty((len(STAGE_BLOCK_ROWS), self.firms), dtype=np.int64)
        _count_stages(self.awareness, self.recall_threshold, self.lead_of, self.customer_of, self.being_worked, block)
        return block


#: Rows of :meth:`ConsumerState.stage_count_block`.
STAGE_BLOCK_ROWS = ("unaware", "aware", "leads", "customers", "rival_customers", "queue_length", "leads_in_progress")


@kernel
def _count_stages(
    awareness: np.ndarray,
    recall_threshold: float,
    lead_of: np.ndarray,
    customer_of: np.ndarray,
    being_worked: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (rows of :data:`STAGE_BLOCK_ROWS`, one column per firm) with the stage counts.

    The definitions, in numpy terms: with ``aware_f = awareness[f] >= recall_threshold``,
    ``lead_f = lead_of == f`` and ``customer_f = customer_of == f``, a firm's aware count is
    ``count(aware_f & ~lead_f & ~customer_f)`` (a lead or customer sits in that stage, not in
    aware), leads ``count(lead_f)``, customers ``count(customer_f)``, unaware the rest of ``n``,
    rival customers ``count(customer_of != NOBODY) - customers``, leads in progress
    ``count(lead_f & being_worked)`` and the queue the other leads. Counted as whole numbers, so
    the order of counting cannot change them.

    One pass per firm with no branch on the consumer (``&``, not ``and``): leads and customers
    are scattered through the rows, and a branch on each would be mispredicted often enough to
    cost more than the counting.
    """
    firms, n = awareness.shape
    customers_of_anyone = 0
    for i in range(n):
        customers_of_anyone += customer_of[i] != NOBODY
    for f in range(firms):
        row = awareness[f]
        aware = leads = customers = worked = 0
        for i in range(n):
            lead = lead_of[i] == f
            customer = customer_of[i] == f
            aware += (row[i] >= recall_threshold) & (not lead) & (not customer)
            leads += lead
            customers += customer
            worked += lead & being_worked[i]
        out[0, f] = n - aware - leads - customers
        out[1, f] = aware
        out[2, f] = leads
        out[3, f] = customers
        out[4, f] = customers_of_anyone - customers
        out[5, f] = leads - worked
        out[6, f] = worked


@kernel
def waiting_rows(lead_of: np.ndarray, being_worked: np.ndarray) -> np.ndarray:
    """Rows in a lead queue and not being worked, in order."""
    flags = np.empty(lead_of.size, dtype=np.uint8)
    for c in range(lead_of.size):
        flags[c] = (lead_of[c] != NOBODY) & ~being_worked[c]
    return rows_where(flags)


@kernel
def rows_where(flags: np.ndarray) -> np.ndarray:
    """The rows whose flag (0 or 1) is 1, in order.

    The rules' lists of consumers are made in two passes: the flags, a pass the compiler
    vectorises, then this one. Each row is written and the count moves on only for a flagged one,
    so no branch is mispredicted on the random pattern of who is flagged; the two passes cost
    about 60% of one pass doing both.
    """
    rows = np.empty(flags.size, dtype=np.int64)
    found = 0
    for c in range(flags.size):
        rows[found] = c
        found += int(flags[c])  # (a Python int when run as plain Python: no uint8 overflow)
    return rows[:found]


NO_POWERS = np.ones(1)  # the table passed when no consumer's listings are counted


@kernel
def raise_and_touch(
    awareness,
    first_touch,
    first_touch_step,
    last_touch,
    last_touch_step,
    f,
    consumers,
    lift,
    distinct,
    powers,
    listings,
    touching,
    code,
    step,
):
    """Raise the listed consumers' awareness of firm ``f`` and record the touch, in one pass: the
    numpy rule's numbers.

    Awareness: a <- 1 - (1 - a) * r, in that order, for each distinct listed consumer, where r is
    1 - lift when nobody is listed twice (``distinct``, or no repeat found) and otherwise
    ``powers[k]`` = (1 - lift) ** k for a consumer listed k times (numpy's powers; see
    ``ConsumerState.lift_powers``), exactly as the array rule applied them. ``lift`` 0 changes no
    awareness. ``listings`` is a zeroed counter per consumer, zeroed again on return. Returns 0;
    or, changing nothing, -1 when the firm or a consumer is out of range, or the largest count when
    ``powers`` is too short for it.

    Touch (when ``touching``): first touch ``code`` and its step where there was none, last touch
    and its step for everyone listed; a consumer listed twice gets the same values twice.
    """
    n = consumers.size
    if f < 0 or f >= awareness.shape[0]:
        return -1
    for i in range(n):
        if consumers[i] < 0 or consumers[i] >= awareness.shape[1]:
            return -1
    if lift > 0.0:
        single = 1.0 - lift
        if distinct:
            for i in range(n):
                c = consumers[i]
                awareness[f, c] = 1.0 - (1.0 - awareness[f, c]) * single
        else:
            most = 0
            for i in range(n):
                c = consumers[i]
                listings[c] += 1
                most = max(most, listings[c])
            if most >= powers.size:
                for i in range(n):
                    listings[consumers[i]] = 0
                return most
            for i in range(n):
                c = consumers[i]
                times = listings[c]
                if times:
                    listings[c] = 0
                    remaining = single if most == 1 else powers[times]
                    awareness[f, c] = 1.0 - (1.0 - awareness[f, c]) * remaining
    if touching:
        for i in range(n):
            c = consumers[i]
            if first_touch[f, c] == 0:
                first_touch[f, c] = code
                first_touch_step[f, c] = step
            last_touch[f, c] = code
            last_touch_step[f, c] = step
    return 0
