"""The market model: consumers on a network, firms' marketers and salespeople, and the ledger.

Step order (fixed; each phase reads the state its predecessors left and is synchronous within
itself, so no result depends on the order agents are stored in):

1. marketing   - each marketer spends its share of the firm's budget over the channels;
2. word of mouth - everyone hears from the state at the start of the phase;
3. decay       - awareness fades (jingle listeners more slowly);
4. cold leads  - leads that waited past their patience drop back to aware;
5. lead formation - interested in-market consumers join the most attractive firm's queue;
   (and waiting leads may move to the queue of a rival they now prefer);
6. self-serve  - waiting leads may buy on their own;
7. sales       - idle salespeople take leads by the firm's policy, those still idle prospect
                 (cold outreach), every busy one works a step and, at the end of its cycle,
                 closes or loses the lead;
8. referrals   - this step's new customers refer neighbours (firms with a referral package);
9. churn       - customers may leave;
10. accounting - pay, totals, and one row per firm collected.
"""

from __future__ import annotations

import collections
import functools
import itertools
import weakref
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from funnelsim.agents import funnel, word_of_mouth
from funnelsim.agents.channels import ChannelContext, FirmMarketingState, audience_for, decay_post_stock
from funnelsim.agents.consumer import Consumer
from funnelsim.agents.marketer import Marketer
from funnelsim.agents.population import NOBODY, ConsumerState, beta_draws
from funnelsim.agents.salesperson import Salesperson, first_waiting_leads, prospect
from funnelsim.model.ledger import Ledger
from funnelsim.model.metrics import COLUMNS, COUNT_COLUMNS, firm_row_block, summarize
from funnelsim.model.network import CompleteNetwork, build_network
from funnelsim.model.scenario import Scenario, load_scenario
from funnelsim.model.seeding import seed_customers


def _value(model: MarketModel, column: str, firm_index: int) -> float:
    """A DataCollector reporter: one firm's value of one column of the current row."""
    return float(model.current_row[column][firm_index])


def reporter_name(firm_name: str, column: str) -> str:
    """The DataCollector's name for one firm's measure, e.g. ``"Closer.customers"``."""
    return f"{firm_name}.{column}"


class _NotingDict(dict):
    """A dict that sets ``changed`` whenever an entry may have been added, replaced or removed."""

    changed = True

    def __setitem__(self, key: Any, value: Any) -> None:
        self.changed = True
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self.changed = True
        super().__delitem__(key)

    def __ior__(self, other: Any) -> Any:  # type: ignore[misc]
        self.changed = True
        return super().__ior__(other)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.changed = True
        super().update(*args, **kwargs)

    def pop(self, *args: Any) -> Any:
        self.changed = True
        return super().pop(*args)

    def popitem(self) -> Any:
        self.changed = True
        return super().popitem()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.changed = True
        return super().setdefault(key, default)

    def clear(self) -> None:
        self.changed = True
        super().clear()


class RowCollector(mesa.DataCollector):
    """Mesa's DataCollector with one scalar model reporter per firm and measure
    (``"Closer.customers"``), so ``get_model_vars_dataframe()`` and ``mesa.batch_run`` give
    labelled numbers, without calling a reporter per firm and column per step.

    Each step's row is kept as the one (columns, firms) array the model computed
    (``model.current_block``); ``model_vars`` is still Mesa's dict of one list per reporter, filled
    from the stored rows when someone reads it. Reporters added besides the model's own, and
    agent reporters, are collected Mesa's own way, copies and all.
    """

    @property
    def model_reporters(self) -> dict[str, Any]:
        """Mesa's reporters by name, in a dict that notes when it changes, so that collect checks
        whether there are reporters besides the model's own only after a change."""
        return self._model_reporters

    @model_reporters.setter
    def model_reporters(self, value: dict[str, Any]) -> None:
        self._model_reporters = value if isinstance(value, _NotingDict) else _NotingDict(value)

    def __init__(self, columns: tuple[str, ...], firm_names: list[str]):
        self._columns = tuple(columns)
        self._rows: list[np.ndarray] = []
        self._listed = 0  # rows already copied into the model_vars lists
        #: reporter name -> (column index, firm index) in a stored row
        self._own = {
            reporter_name(name, column): (c, f) for f, name in enumerate(firm_names) for c, column in enumerate(columns)
        }
        super().__init__(
            model_reporters={
                reporter_name(name, column): functools.partial(_value, column=column, firm_index=f)
                for f, name in enumerate(firm_names)
                for column in columns
            }
        )

    @property
    def model_vars(self) -> dict[str, list]:
        if self._listed < len(self._rows):
            block = np.stack(self._rows[self._listed :])  # (steps, columns, firms)
            for name, (c, f) in self._own.items():
                if name in self._model_vars:
                    self._model_vars[name].extend(block[:, c, f].tolist())
            self._listed = len(self._rows)
        return self._model_vars

    @model_vars.setter
    def model_vars(self, value: dict[str, list]) -> None:
        self._model_vars = value

    def collect(self, model: mesa.Model) -> None:
        self._rows.append(model.current_block)
        reporters = self._model_reporters
        if reporters.changed:
            reporters.changed, self._only_own = False, reporters.keys() <= self._own.keys()
        if self._only_own and not (self.agent_reporters or self.agenttype_reporters):
            return  # only the model's own reporters, already kept in the block
        others = {name: reporter for name, reporter in self.model_reporters.items() if name not in self._own}
        if others or self.agent_reporters or self.agenttype_reporters:
            self.model_reporters = others
            try:
                super().collect(model)
            finally:
                self.model_reporters = reporters

    def rows(self) -> np.ndarray:
        """Every collected row: a (rows, columns, firms) array."""
        return np.stack(self._rows) if self._rows else np.empty((0, len(self._columns), 0))


class MarketModel(mesa.Model):
    """One market. ``MarketModel(scenario, rng=seed)``; ``run()`` returns the tidy table.

    ``scenario`` is anything :func:`funnelsim.load_scenario` takes (a Scenario, a path, a
    built-in name or a dict); ``overrides`` are dotted keys applied on top. A validated
    Scenario without overrides is used as it is, not validated again. ``rng`` is an int,
    a numpy SeedSequence or Generator: it drives every random draw, so the same scenario and
    seed give the same table.
    """

    def __init__(
        self,
        scenario: Scenario | str | dict[str, Any] = "baseline",
        rng: int | np.random.SeedSequence | np.random.Generator | None = None,
        *,
        seed: int | None = None,
        overrides: dict[str, Any] | None = None,
        consumer_agents: bool = True,
    ):
        if seed is not None and rng is not None:
            raise ValueError("pass either rng or seed, not both")
        rng = seed if rng is None else rng
        super().__init__(rng=rng)
        self.scenario = load_scenario(scenario, overrides)
        sc = self.scenario
        self.firm_names = [firm.name for firm in sc.firms]
        self.network = build_network(sc.network, sc.market.consumers, self.rng)
        self.consumers = ConsumerState(sc, self.network.community_of, self.rng)
        self.ledger = Ledger(len(sc.firms))
        self._memorability = np.array([firm.marketing.jingles.memorability for firm in sc.firms])
        self._create_firm_agents()
        self.seeded = seed_customers(self.consumers, self.network, sc, self.rng)  # [seeding]: customers at step 0
        # One Mesa agent per consumer, for inspection; their rules run on the arrays, so the
        # agents are made the first time anyone looks at the model's agents (see
        # _make_consumer_agents): a run that never looks never pays for a million of them.
        self._consumer_agents_pending = consumer_agents
        self._consumer_agents: list[Consumer] = []
        self.datacollector = RowCollector(COLUMNS, self.firm_names)
        self._row()
        self.datacollector.collect(self)

    # ----------------------------------------------------------------------------------------
    def _create_firm_agents(self) -> None:
        sc, state = self.scenario, self.consumers
        in_market_idx = np.flatnonzero(state.in_market)
        out_market_idx = np.flatnonzero(~state.in_market)
        self.channel_contexts: list[ChannelContext] = []
        self.salespeople: list[list[Salesperson]] = []
        marketers: list[Marketer] = []
        for f, firm in enumerate(sc.firms):
            audience = audience_for(firm, self.network.degree, state.community)
            context = ChannelContext(f, firm, state, FirmMarketingState(), audience, in_market_idx, out_market_idx, self.rng)
            self.channel_contexts.append(context)
            for _ in range(firm.marketing.marketers):
                marketers.append(Marketer(self, f, context, 1.0 / firm.marketing.marketers))
            skills = beta_draws(firm.sales.skill, sc.market.heterogeneity, firm.sales.salespeople, self.rng)
            self.salespeople.append([Salesperson(self, f, float(skill)) for skill in skills])
            bought = self.rng.random(state.size) < firm.marketing.email.bought_list_share
            state.on_bought_list[f] = bought
        self._marketers = mesa.agent.AgentSet(marketers, random=self.random)

    @property
    def marketers(self) -> mesa.agent.AgentSet:
        """The marketers of every firm, in the order they were made (firm by firm)."""
        return self._marketers

    # ----------------------------------------------------------------------------------------
    # Consumer agents, made on first look. Mesa's agent registry is reached through these
    # properties, so model.agents, model.agents_by_type[Consumer] and model.agent_types always
    # include the consumers when consumer_agents is on; they are simply made late.
    @property
    def agents(self) -> mesa.agent.AgentSet:
        self._make_consumer_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        self._make_consumer_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._make_consumer_agents()
        return super().agent_types

    def consumer(self, row: int) -> Consumer:
        """The Mesa agent of consumer ``row`` (needs ``consumer_agents=True``, the default)."""
        self._make_consumer_agents()
        if not self._consumer_agents:
            raise ValueError("this model was built with consumer_agents=False: it has no consumer agents")
        return self._consumer_agents[row]

    def _make_consumer_agents(self) -> None:
        """Make one Consumer agent per row, once. They take the ids after the firms' agents,
        as they would if they had been made with the model."""
        if getattr(self, "_consumer_agents_pending", False):
            self._consumer_agents_pending = False
            self._consumer_agents = [Consumer(self, row) for row in range(self.consumers.size)]

    # ----------------------------------------------------------------------------------------
    def step(self) -> None:
        sc, state, ledger, step = self.scenario, self.consumers, self.ledger, self.steps
        ledger.open_step()
        # 1. marketing: marketers in id order; saturating lifts commute, so order does not matter.
        self.marketers.do("step")
        for context in self.channel_contexts:
            decay_post_stock(context)
        # 2. word of mouth
        word_of_mouth.spread(state, self.network, sc.word_of_mouth, self.rng)
        # 3. decay
        funnel.decay_awareness(state, sc.market, self._memorability)
        # 4-6. leads and self-serve
        funnel.expire_cold_leads(state, sc.market, ledger, step, self.rng)
        funnel.form_leads(state, sc.firms, sc.market, ledger, step, self.rng)
        funnel.switch_leads(state, sc.firms, sc.market, ledger, step, self.rng)
        funnel.self_serve(state, sc.firms, sc.market, ledger, step, self.rng)
        # 7. sales
        self._sell(step)
        # 8-9. referrals and churn
        funnel.refer(state, self.network, sc.firms, sc.market, ledger, step, self.rng)
        funnel.churn(state, sc.market, ledger, step, self.rng)
        # 10. accounting
        for f, firm in enumerate(sc.firms):
            ledger.add("marketer_pay", f, firm.marketing.marketers * firm.marketing.marketer_salary)
            ledger.add("salesperson_pay", f, firm.sales.salespeople * firm.sales.salary)
        ledger.close_step()
        self._row()
        self.datacollector.collect(self)

    def _sell(self, step: int) -> None:
        """Idle salespeople take the next leads by the firm's policy; then everyone busy works."""
        state, ledger = self.consumers, self.ledger
        for f, people in enumerate(self.salespeople):
            idle = [person for person in people if person.lead == NOBODY]
            if idle:
                # The firm's queue now: earlier firms' salespeople only took, found or resolved
                # their own firm's leads, so it is the queue as it was when the phase began.
                firm = self.scenario.firms[f]
                chosen = first_waiting_leads(state, f, firm, self.scenario.market, len(idle))
                if len(chosen):
                    waited = 0
                    for person, lead in zip(idle, chosen):
                        person.take(lead)
                        waited += person.lead_wait
                    # Whole numbers: the same totals as adding 1 and each wait lead by lead.
                    ledger.add("leads_taken", f, len(chosen))
                    ledger.add("lead_wait_total", f, waited)
                if len(idle) > len(chosen) and firm.sales.prospecting:
                    self._prospect(f, idle[len(chosen) :], step)
            busy = sum(1 for person in people if person.lead != NOBODY)
            if busy:
                ledger.add("salesperson_busy", f, busy)  # the same whole number as adding 1 per person
            for person in people:
                person.step()

    def _prospect(self, f: int, idle: list[Salesperson], step: int) -> None:
        """Outbound prospecting by a firm's idle salespeople (:func:`funnelsim.agents.salesperson.prospect`)."""
        prospect(idle, self.consumers, f, self.scenario.firms[f], self.scenario.market, self.ledger, step, self.rng)

    def _row(self) -> None:
        """This step's row, kept as one (columns, firms) block (``current_block``) for the collector;
        ``current_row`` hands it out as a dict of per-firm arrays when someone asks."""
        counts = np.array([len(people) for people in self.salespeople], dtype=float)
        busy = self.ledger.step["salesperson_busy"]
        self.current_block = firm_row_block(self.consumers, self.ledger, counts, busy)
        self._current_row: dict[str, np.ndarray] | None = None

    @property
    def current_row(self) -> dict[str, np.ndarray]:
        """The last step's row: column name -> per-firm array (views of ``current_block``'s rows).

        Made on first look after each step: a run that never looks never pays for the dict."""
        if self._current_row is None:
            self._current_row = dict(zip(COLUMNS, self.current_block))
        return self._current_row

    # ----------------------------------------------------------------------------------------
    def run(self, steps: int | None = None) -> pd.DataFrame:
        """Run ``steps`` more steps (default: the scenario's ``market.steps``) and return the table."""
        for _ in range(self.scenario.market.steps if steps is None else steps):
            self.step()
        return self.table()

    def history(self, column: str) -> np.ndarray:
        """One column collected so far, as a (steps + 1, firms) float array."""
        return self.datacollector.rows()[:, COLUMNS.index(column), :].astype(float)

    def table(self) -> pd.DataFrame:
        """The tidy table so far: one row per (step, firm), step 0 being the initial state."""
        rows = self.datacollector.rows()  # (steps, columns, firms)
        steps, firms = rows.shape[0], len(self.firm_names)
        values = rows.transpose(0, 2, 1).reshape(steps * firms, len(COLUMNS))
        # Built from whole columns at once: setting them on a frame one by one cost more than a
        # short run of a small model.
        columns = {"step": np.repeat(np.arange(steps), firms), "firm": np.tile(np.array(self.firm_names, dtype=object), steps)}
        for index, name in enumerate(COLUMNS):
            column = values[:, index]
            columns[name] = column.round().astype(np.int64) if name in _COUNTS else column
        return pd.DataFrame(columns)

    def summary(self) -> pd.DataFrame:
        """End-of-run measures per firm (see :func:`funnelsim.model.metrics.summarize`)."""
        return summarize(self.table())

    # ----------------------------------------------------------------------------------------
    def stage_of(self, firm_index: int) -> np.ndarray:
        """Stage code of every consumer relative to firm ``firm_index``: 0 unaware, 1 aware, 2 lead,
        3 customer of this firm, 4 customer of a rival."""
        return self.consumers.stage_of(firm_index)

    def neighbours_of(self, row: int) -> list[int]:
        if isinstance(self.network, CompleteNetwork):
            return [other for other in range(self.network.size) if other != row]
        adjacency = self.network.adjacency
        return adjacency.indices[adjacency.indptr[row] : adjacency.indptr[row + 1]].tolist()

    def network_graph(self) -> nx.Graph:
        """The network as a networkx graph (for drawing); nodes are consumer rows."""
        return self.network.to_networkx()


_COUNTS = frozenset(COUNT_COLUMNS)


class _WeakIdCounters(weakref.WeakKeyDictionary):
    """Mesa's model -> agent id counter map, holding the models weakly (see below)."""

    def __getitem__(self, model):
        counter = self.get(model)
        if counter is None:
            counter = itertools.count(1)  # Mesa's default: a model's first agent gets id 1
            self[model] = counter
        return counter


def _hold_mesa_agent_ids_weakly() -> None:
    """Let finished models be freed: Mesa 3.3 keeps every model that ever made an agent alive.

    ``mesa.Agent._ids`` is a class-level ``defaultdict`` from model to its id counter, so every
    model, with all its arrays, stays referenced for the life of the process (Mesa issue #3179,
    fixed upstream by pull request #3180). A calibration or sweep that runs thousands of models in
    one process then grows without bound: about 10 MB per ``bass`` run of 100,000 consumers, so
    2,000 of them asked for 21 GB. This swaps the dict for one that holds the models weakly and
    counts from 1 as Mesa does, so ids are unchanged while a model lives. A Mesa without the
    class-level dict is left alone.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, collections.defaultdict):
        weak = _WeakIdCounters()
        weak.update(ids)
        mesa.Agent._ids = weak


_hold_mesa_agent_ids_weakly()
