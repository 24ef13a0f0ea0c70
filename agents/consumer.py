"""Consumers: one Mesa agent each, whose state is a row of the model's consumer arrays.

The agent holds only its row index. Everything it knows lives in ``model.consumers`` so the
rules that touch every consumer run as array operations; the agent is how a person inspects
one consumer, and it reads and writes its own row only.
"""

from __future__ import annotations

import mesa

from funnelsim.agents.channel_codes import TOUCH_NAMES
from funnelsim.agents.population import NOBODY, STAGE_NAMES, ConsumerState


class Consumer(mesa.Agent):
    def __init__(self, model: mesa.Model, row: int):
        super().__init__(model)
        self.row = row

    @property
    def _state(self) -> ConsumerState:
        return self.model.consumers

    @property
    def in_market(self) -> bool:
        return bool(self._state.in_market[self.row])

    @property
    def willingness_to_pay(self) -> float:
        return float(self._state.willingness_to_pay[self.row])

    @property
    def susceptibility(self) -> float:
        return float(self._state.susceptibility[self.row])

    @property
    def talkativeness(self) -> float:
        return float(self._state.talkativeness[self.row])

    @property
    def interest_threshold(self) -> float:
        return float(self._state.interest_threshold[self.row])

    def awareness(self, firm_index: int) -> float:
        return float(self._state.awareness[firm_index, self.row])

    def set_awareness(self, firm_index: int, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"awareness must be in [0, 1], got {value}")
        self._state.awareness[firm_index, self.row] = value

    def stage(self, firm_index: int) -> str:
        """'unaware', 'aware', 'lead', 'customer' or 'rival customer', relative to firm ``firm_index``."""
        state, row = self._state, self.row
        if state.customer_of[row] == firm_index:
            return "customer"
        if state.customer_of[row] != NOBODY:
            return STAGE_NAMES[4]
        if state.lead_of[row] == firm_index:
            return "lead"
        return "aware" if state.awareness[firm_index, row] >= state.recall_threshold else "unaware"

    @property
    def customer_of(self) -> int | None:
        firm_index = int(self._state.customer_of[self.row])
        return None if firm_index == NOBODY else firm_index

    def touches(self, firm_index: int) -> dict[str, object]:
        """First and last marketing touch (channel name and step) for attribution."""
        state, row = self._state, self.row
        return {
            "first_channel": TOUCH_NAMES[state.first_touch[firm_index, row]],
            "first_step": int(state.first_touch_step[firm_index, row]),
            "last_channel": TOUCH_NAMES[state.last_touch[firm_index, row]],
            "last_step": int(state.last_touch_step[firm_index, row]),
        }

    def neighbours(self) -> list[int]:
        """Rows of this consumer's network neighbours."""
        return self.model.neighbours_of(self.row)
