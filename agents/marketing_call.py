"""A marketer's step in one compiled call: every channel's draws, reach and bookkeeping.

:mod:`funnelsim.agents.channels` says what each channel does with its spend, one function per
channel, and :class:`funnelsim.agents.marketer.Marketer` books and applies what they return.
That is a dozen numpy calls, a reach and four ledger entries per channel, and with three
marketers it is about a third of a step at ten thousand consumers. :func:`spend` does the same
in one call: Python works out each channel's numbers that take no draw (spend, impressions,
the reach curve's chance, the blog's mean readership, the post stock and the jingle's
production), and the kernel draws and applies the rest, channel by channel in the same order:
the email list and its sample, the blog's readers, the broadcast samples, the jingle's
listeners, the awareness and touches, and the ledger's amounts, added one by one as
:meth:`Marketer.step` adds them. The draws are numpy's own (:mod:`funnelsim.agents.pcg64`,
:mod:`funnelsim.agents.distributions`, :mod:`funnelsim.agents.sampling`), so the result is the
channel functions' result, bit for bit; ``tests/test_marketing_call.py`` compares the two.

It declines, and the channel functions run instead, when it cannot give their numbers: a bit
generator other than PCG64, an audience targeted by weights (hub targeting draws with numpy's
weighted choice), or a draw numpy would refuse (its error is then numpy's).
"""

from __future__ import annotations

import math

import numpy as np

from funnelsim.agents.channel_codes import CHANNEL_CODE, CHANNELS
from funnelsim.agents.channels import ChannelContext
from funnelsim.agents.distributions import POISSON_LAM_MAX, binomial, poisson
from funnelsim.agents.pcg64 import generator_state, next_double
from funnelsim.agents.population import NO_POWERS, raise_and_touch, rows_where
from funnelsim.agents.protocols import LedgerLike
from funnelsim.agents.sampling import sample_positions, uniform_picks_into
from funnelsim.compiled import kernel

EMAIL, BLOGGING, MEDIA, JINGLES = (CHANNELS.index(name) for name in ("email", "blogging", "media", "jingles"))

# Columns of a channel's row in the plan (:func:`_plan`); the ones after LIFT depend on the channel.
ACTIVE, SPEND, LIFT = 0, 1, 2
AFFORDABLE, COST_PER_SEND, UNSUBSCRIBE_RATE, FATIGUE = 3, 4, 5, 6  # email; AFFORDABLE -1: no limit
READERS_MEAN, INSIDE_CHANCE = 3, 4  # blogging; INSIDE_CHANCE -1: no reader can be found
IMPRESSIONS, REACH_CHANCE = 3, 4  # media and jingles; REACH_CHANCE -1: nobody is reached
_PLAN_COLUMNS = 7

#: The ledger items the kernel adds to: the four channels' spend (in channel order), then the rest.
LEDGER_ITEMS = (*(f"spend_{channel}" for channel in CHANNELS), "consumers_reached", "emails_sent", "unsubscribes", "impressions")
_REACHED, _SENT, _UNSUBSCRIBED, _IMPRESSIONS = 4, 5, 6, 7

#: Largest int64 an email budget's sends are clipped to (the list is shorter in any case).
_MANY = 2**62
_UINT32_RANGE = 2**32


def spend(context: ChannelContext, budget: float, ledger: LedgerLike, step: int) -> bool:
    """Spend ``budget`` by the firm's mix, as :meth:`Marketer.step` does, in one compiled call;
    False, having changed nothing, where the channel functions must do it."""
    state = context.state
    generator = generator_state(context.rng.bit_generator)
    values = ledger.step_values()
    if generator is None or values is None or state.size >= _UINT32_RANGE:
        return False
    plan = _plan(context, budget)
    if plan is None:
        return False
    marketing = context.marketing
    params = context.firm.marketing
    if plan[BLOGGING, ACTIVE] and params.blogging.cost_per_post > 0:
        marketing.post_stock += plan[BLOGGING, SPEND] / params.blogging.cost_per_post
    if plan[JINGLES, ACTIVE]:
        marketing.jingle_paid += _jingle_production(context, plan[JINGLES, SPEND])
    audience = context.audience
    members = audience.members if audience.members is not None else _EVERYONE
    f = context.firm_index
    # Blog readers may repeat: the reach needs (1 - lift) ** k from numpy (see ConsumerState.lift_powers).
    powers = state.lift_powers(float(plan[BLOGGING, LIFT]), 2) if plan[BLOGGING, LIFT] > 0 else NO_POWERS
    first = 0
    while first < len(CHANNELS):
        stopped, pending = _spend(
            generator[0],
            generator[1],
            plan,
            first,
            f,
            step,
            members,
            audience.size,
            context.in_market_idx,
            context.out_market_idx,
            (state.awareness, state.first_touch, state.first_touch_step, state.last_touch, state.last_touch_step),
            (state.on_bought_list, state.unsubscribed, state.ever_customer, state.memorable),
            powers,
            state.listing_counts(),
            state.sample_marks(),
            values,
            ledger.step_rows(LEDGER_ITEMS),
        )
        if stopped < 0:
            break
        # A reader listed more often than the table of powers covers: the reach makes a longer one.
        state.reach(f, pending, plan[stopped, LIFT], False, CHANNEL_CODE[CHANNELS[stopped]], step)
        first = stopped + 1
    return True


_EVERYONE = np.empty(0, dtype=np.int64)  # the audience's members when it is everyone


def _jingle_production(context: ChannelContext, spent: float) -> float:
    """What of ``spent`` goes to the jingle's production until it is paid for (the rest buys airtime)."""
    return min(spent, max(0.0, context.firm.marketing.jingles.production_cost - context.marketing.jingle_paid))


def _plan(context: ChannelContext, budget: float) -> np.ndarray | None:
    """Each channel's numbers that take no draw, computed as the channel functions compute them,
    before anything is changed; None where the kernel cannot draw as they would."""
    params = context.firm.marketing
    audience = context.audience
    plan = [[0.0] * _PLAN_COLUMNS for _ in CHANNELS]
    for channel, share in enumerate(params.mix.shares()):
        if share <= 0:
            continue
        spent = budget * share
        row = plan[channel]
        row[ACTIVE], row[SPEND] = 1.0, spent
        if channel == EMAIL:
            email = params.email
            row[LIFT] = email.lift
            if email.cost_per_send < 0 or (spent > 0 and email.cost_per_send > 0 and not math.isfinite(spent // email.cost_per_send)):
                return None  # the channel function's error
            row[AFFORDABLE] = -1 if email.cost_per_send == 0 or spent <= 0 else min(int(spent // email.cost_per_send), _MANY)
            row[COST_PER_SEND], row[UNSUBSCRIBE_RATE], row[FATIGUE] = email.cost_per_send, email.unsubscribe_rate, email.fatigue
        elif channel == BLOGGING:
            blogging = params.blogging
            stock = context.marketing.post_stock
            if blogging.cost_per_post > 0:
                stock += spent / blogging.cost_per_post
            mean = blogging.reach_per_post * stock
            if not 0 <= mean <= POISSON_LAM_MAX:
                return None  # numpy's error (or a NaN), from the channel function
            inside, outside = context.in_market_idx.size, context.out_market_idx.size
            weight_in = blogging.in_market_bias * inside
            total = weight_in + outside
            chance = weight_in / total if total != 0 else -1.0
            if total != 0 and not 0 <= chance <= 1:
                return None
            row[LIFT], row[READERS_MEAN], row[INSIDE_CHANCE] = blogging.lift, mean, chance
        else:
            settings = params.media if channel == MEDIA else params.jingles
            airtime = spent if channel == MEDIA else spent - _jingle_production(context, spent)
            impressions = 1000.0 * airtime / settings.cost_per_thousand
            reached = impressions > 0 and audience.size > 0
            if reached and audience.weights is not None:
                return None  # hub targeting: numpy's weighted choice
            chance = float(-np.expm1(-impressions / audience.size)) if reached else -1.0
            if reached and not 0 <= chance <= 1:
                return None
            row[LIFT], row[IMPRESSIONS], row[REACH_CHANCE] = settings.lift, impressions, chance
    return np.array(plan)


@kernel
def _spend(words, kept, plan, first, f, step, members, audience_size, inside, outside, touches, lists, powers, listings, marks, values, rows):
    """The channels from ``first`` on, as the channel functions and :meth:`Marketer.step` do them;
    returns (-1, nothing) when done, or (a channel, its readers) when the readers need a longer
    table of powers than ``powers`` for their reach (applied by the caller, which goes on after it)."""
    awareness, first_touch, first_touch_step, last_touch, last_touch_step = touches
    on_bought_list, unsubscribed, ever_customer, memorable = lists
    for channel in range(first, plan.shape[0]):
        row = plan[channel]
        if row[ACTIVE] == 0.0:
            continue
        spent, sends, leaving = row[SPEND], -1, 0
        if channel == EMAIL:
            reached, spent, sends, leaving = _email(words, kept, row, f, awareness, on_bought_list, unsubscribed, ever_customer, marks)
        elif channel == BLOGGING:
            reached = _blog_readers(words, kept, row, inside, outside)
        else:
            reached = _broadcast(words, kept, row, members, audience_size, marks)
            if channel == JINGLES:
                for c in reached:
                    memorable[f, c] = True
        # The ledger's amounts, one by one in Marketer.step's order (sums of floats depend on it).
        values[rows[channel], f] += spent
        values[rows[_REACHED], f] += reached.size
        if sends >= 0:
            values[rows[_SENT], f] += sends
            values[rows[_UNSUBSCRIBED], f] += leaving
        elif channel >= MEDIA:
            values[rows[_IMPRESSIONS], f] += row[IMPRESSIONS]
        lift = row[LIFT] if row[LIFT] > 0.0 else 0.0
        # Blog readers are drawn with replacement; everyone else at most once.
        most = raise_and_touch(
            awareness,
            first_touch,
            first_touch_step,
            last_touch,
            last_touch_step,
            f,
            reached,
            lift,
            channel != BLOGGING,
            powers,
            listings,
            True,
            channel + 1,
            step,
        )
        if most > 0:
            return channel, reached
    return -1, np.empty(0, dtype=np.int64)


@kernel
def _email(words, kept, row, f, awareness, on_bought_list, unsubscribed, ever_customer, marks):
    """The email channel: (recipients, spent, emails sent, unsubscribes), sent -1 when nothing
    could be sent (an empty list or no money), which books no counts."""
    size = awareness.shape[1]
    listed = np.empty(size, dtype=np.uint8)
    for c in range(size):  # on the list (aware, bought or a customer ever) and not unsubscribed
        listed[c] = ((awareness[f, c] > 0) | on_bought_list[f, c] | ever_customer[f, c]) & (not unsubscribed[f, c])
    contacts = rows_where(listed)
    count = contacts.size
    if count == 0 or row[SPEND] <= 0:
        return np.empty(0, dtype=np.int64), 0.0, -1, 0
    sends = count if row[AFFORDABLE] < 0 else min(np.int64(row[AFFORDABLE]), count)
    recipients = contacts[sample_positions(words, kept, count, sends, marks)]
    # Sending to more of the list each step tires readers: unsubscribes grow with frequency.
    unsubscribe = min(1.0, row[UNSUBSCRIBE_RATE] + row[FATIGUE] * (sends / count))
    leaving = 0
    for c in recipients:
        if next_double(words) < unsubscribe:
            unsubscribed[f, c] = True
            leaving += 1
    return recipients, sends * row[COST_PER_SEND], sends, leaving


@kernel
def _blog_readers(words, kept, row, inside, outside):
    """The blog's readers, with replacement: in-market consumers by the bias, then the rest."""
    count = poisson(words, row[READERS_MEAN])
    if count == 0 or row[INSIDE_CHANCE] < 0:
        return np.empty(0, dtype=np.int64)
    from_inside = binomial(words, count, row[INSIDE_CHANCE])
    readers = np.empty(count, dtype=np.int64)
    uniform_picks_into(words, kept, inside, from_inside, outside, readers)
    return readers


@kernel
def _broadcast(words, kept, row, members, audience_size, marks):
    """Media's or the jingle's listeners: how many the impressions reach, then which, distinct."""
    if row[REACH_CHANCE] < 0:
        return np.empty(0, dtype=np.int64)
    count = binomial(words, np.int64(audience_size), row[REACH_CHANCE])
    taken = sample_positions(words, kept, audience_size, count, marks)
    return taken if members.size == 0 else members[taken]
