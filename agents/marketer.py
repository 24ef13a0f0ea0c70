"""Marketers spend their share of a firm's promotion budget over the channels, one-to-many."""

from __future__ import annotations

import mesa

from funnelsim.agents import marketing_call
from funnelsim.agents.channel_codes import CHANNEL_CODE, CHANNELS
from funnelsim.agents.channels import CHANNEL_FUNCTIONS, ChannelContext

#: The ledger item of each channel's spend.
_SPEND_ITEM = {channel: f"spend_{channel}" for channel in CHANNELS}


class Marketer(mesa.Agent):
    def __init__(self, model: mesa.Model, firm_index: int, context: ChannelContext, budget_share: float):
        super().__init__(model)
        self.firm_index = firm_index
        self.context = context
        self.budget_share = budget_share  # this marketer's part of the firm's budget

    def step(self) -> None:
        """Spend this step's budget by the firm's mix, raising awareness of whoever is reached."""
        context = self.context
        marketing = context.firm.marketing
        budget = marketing.budget_per_step * self.budget_share
        state, ledger, f, step = context.state, self.model.ledger, self.firm_index, self.model.steps
        if marketing_call.spend(context, budget, ledger, step):  # the same, in one compiled call
            return
        for channel, share in zip(CHANNELS, marketing.mix.shares()):
            if share <= 0:
                continue
            reach = CHANNEL_FUNCTIONS[channel](budget * share, context)
            ledger.add(_SPEND_ITEM[channel], f, reach.spent)
            ledger.add("consumers_reached", f, reach.consumers.size)
            for item, amount in reach.counts.items():
                ledger.add(item, f, amount)
            state.reach(f, reach.consumers, reach.lift, reach.distinct, CHANNEL_CODE[channel], step)
