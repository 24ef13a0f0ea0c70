"""funnelsim's word-of-mouth rule written the way Mesa's own examples write such rules.

One agent per consumer on ``mesa.discrete_space.Network`` (as in Mesa's virus_on_network
example), each agent looking at its neighbours' agents and updating itself, the schedule being
``model.agents.shuffle_do("step")``. The rule is funnelsim's contagion form: a neighbour talks
about firm f with strength talkativeness x (satisfaction if it is f's customer, else
aware_weight x awareness of f); a consumer hears with chance
susceptibility x (1 - (1 - beta) ** exposure) and then gains lift x (1 - awareness).

This is word of mouth only: no marketing, decay, leads, sales or data collection, so comparing
funnelsim's full step against it understates funnelsim's advantage.
"""

from __future__ import annotations

import mesa
import networkx as nx
from mesa.discrete_space import FixedAgent, Network


class TalkingConsumer(FixedAgent):
    def __init__(self, model, cell, awareness, talkativeness, susceptibility, customer_of, satisfaction):
        super().__init__(model)
        self.cell = cell
        self.awareness = list(awareness)
        self.talkativeness = talkativeness
        self.susceptibility = susceptibility
        self.customer_of = customer_of
        self.satisfaction = satisfaction

    def talk_strength(self, firm: int) -> float:
        if self.customer_of == firm:
            return self.talkativeness * self.satisfaction
        return self.talkativeness * self.model.aware_weight * self.awareness[firm]

    def step(self) -> None:
        model = self.model
        neighbours = self.cell.neighborhood.agents
        for firm in range(model.firms):
            exposure = sum(neighbour.talk_strength(firm) for neighbour in neighbours)
            chance = self.susceptibility * (1.0 - (1.0 - model.beta) ** exposure)
            if self.random.random() < chance:
                self.awareness[firm] += model.lift * (1.0 - self.awareness[firm])


class MesaWordOfMouth(mesa.Model):
    """Built from a funnelsim model's network and consumer state, so both do the same work."""

    def __init__(self, graph: nx.Graph, state, word_of_mouth, seed: int = 0):
        super().__init__(seed=seed)
        self.firms = state.firms
        self.beta = word_of_mouth.beta
        self.aware_weight = word_of_mouth.aware_weight
        self.lift = word_of_mouth.lift
        self.grid = Network(graph, capacity=1, random=self.random)
        for cell in self.grid.all_cells:
            node = cell.coordinate  # the consumer's row in funnelsim's arrays
            TalkingConsumer(
                self,
                cell,
                awareness=state.awareness[:, node].tolist(),
                talkativeness=float(state.talkativeness[node]),
                susceptibility=float(state.susceptibility[node]),
                customer_of=int(state.customer_of[node]),
                satisfaction=float(state.satisfaction[node]),
            )

    def step(self) -> None:
        self.agents.shuffle_do("step")
