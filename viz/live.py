"""The model the page runs: firm levers take effect while it runs, and it times its own steps.

A firm's levers (price, quality, budget, mix, salespeople, tactics) change the running model at
the start of its next step, so a user can watch what a price cut does to a market already under
way, as in NetLogo or AnyLogic. Each change is recorded with the step it took effect at, and
the charts draw a mark there. Market-wide levers (population, network, seed) define the model
itself and take effect on Reset.

Changes are queued and applied inside :meth:`LiveMarketModel.step`, because Mesa's controller
steps the model in a worker thread: applying them there means a step never sees half a change.
Nothing here imports Solara, so the tests drive it directly.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from funnelsim.agents.marketer import Marketer
from funnelsim.agents.population import NOBODY, beta_draws
from funnelsim.agents.salesperson import Salesperson
from funnelsim.model.market import MarketModel
from funnelsim.model.scenario import Firm, Scenario
from funnelsim.viz import levers

#: Window over which the steps-per-second readout is measured.
SPEED_WINDOW_SECONDS = 5.0


class LiveMarketModel(MarketModel):
    """A MarketModel that keeps the keywords it was built with and takes firm levers live.

    Mesa's controller rebuilds the model on Reset as ``type(model)(**parameters)``; keeping
    them lets the page tell whether the levers still match the running model.
    """

    def __init__(self, **parameters: Any):
        scenario = parameters.get("scenario")
        if isinstance(scenario, Scenario):
            # Live levers change this model's own scenario in place; a validated Scenario is
            # shared as it is (it is not validated again), so this model gets its own copy and
            # the scenario other tabs start from stays untouched.
            parameters = {**parameters, "scenario": scenario.model_copy(deep=True)}
        super().__init__(**parameters)
        self.parameters = parameters
        # The browser session this model belongs to. Mesa's controller keeps calling step() while
        # "playing", and never learns that the tab closed; a model that sees its session closed
        # stops itself (running = False ends the controller's loop), so no model steps forever
        # on the server for a tab nobody has open.
        self._session_closed = _current_session_closed_event()
        #: (step, what changed): the step after which each live change took effect.
        self.lever_marks: list[tuple[int, str]] = []
        self._pending: deque[tuple[int, Firm]] = deque()
        self._pending_lock = threading.Lock()
        self._step_times: deque[float] = deque(maxlen=500)

    # ----------------------------------------------------------------------------------------
    def change_firm(self, firm_index: int, settings: Firm) -> None:
        """Queue a firm's new lever settings (a validated Firm); they apply at the next step."""
        with self._pending_lock:
            self._pending.append((firm_index, settings))

    @property
    def has_pending_changes(self) -> bool:
        return bool(self._pending)

    def apply_pending(self, after_step: int | None = None) -> list[str]:
        """Apply queued lever changes now; what changed, as text (also kept in ``lever_marks``
        at ``after_step``, the last row of the run table made with the old settings)."""
        with self._pending_lock:
            pending = list(self._pending)
            self._pending.clear()
        changed: list[str] = []
        for firm_index, settings in pending:
            changed += apply_firm_settings(self, firm_index, settings)
        if changed:
            self.lever_marks.append((int(self.steps if after_step is None else after_step), "; ".join(changed)))
        return changed

    def step(self) -> None:
        if self._session_closed is not None and self._session_closed.is_set():
            self.running = False
            return
        # Mesa counts the step before running it: rows 0..steps-1 were made with the old levers.
        self.apply_pending(after_step=self.steps - 1)
        super().step()
        self._step_times.append(time.perf_counter())

    def steps_per_second(self, now: float | None = None) -> float:
        """Steps per second over the last few seconds; 0 when no step came in that window."""
        now = time.perf_counter() if now is None else now
        recent = [moment for moment in self._step_times if now - moment <= SPEED_WINDOW_SECONDS]
        if len(recent) < 2:
            return 0.0
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0


def _current_session_closed_event() -> threading.Event | None:
    """The event Solara sets when the current browser session ends; None outside a session."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context().closed_event
    except Exception:  # no Solara, or not inside a page (tests, scripts): nothing to watch
        return None


def _set(section: Any, dotted: str, value: Any) -> None:
    """Set a validated value without re-running the whole firm's checks on a half-changed firm."""
    *path, last = dotted.split(".")
    for part in path:
        section = getattr(section, part)
    object.__setattr__(section, last, value)


def apply_firm_settings(model: MarketModel, firm_index: int, target: Firm) -> list[str]:
    """Make the running model's firm match ``target`` in every lever; what changed, as text.

    ``target`` comes from a scenario validated with the levers' overrides, so its values are
    known to be valid together. Salespeople are added (skills drawn as at the start) or removed
    (idle ones first; a busy one hands its lead back to the queue), and a firm given a budget
    without a marketer gets one.
    """
    current = model.scenario.firms[firm_index]
    name = current.name
    lever_of = {lever.name: lever for lever in levers.firm_levers(model.scenario)}
    changed: list[str] = []
    before = levers.firm_values(model.scenario, firm_index)
    wanted = {key: levers.firm_setting(target, field) for key, field in levers.FIRM_FIELDS.items()}
    mix_changed = False
    for key, field in levers.FIRM_FIELDS.items():
        old, new = levers.firm_setting(current, field), wanted[key]
        if old == new:
            continue
        if key.startswith("mix_"):
            mix_changed = True
            continue
        if key == "salespeople":
            _resize_salesforce(model, firm_index, int(new))
        _set(current, field, new)
        lever = lever_of[key]
        changed.append(f"{name}: {lever.label.lower()} {lever.format(before[key])} → {lever.format(new)}")
    if mix_changed:
        object.__setattr__(current.marketing, "mix", target.marketing.mix.model_copy())
        shares = ", ".join(f"{channel} {100 * share:.0f}%" for channel, share in zip(levers.CHANNELS, current.marketing.mix.shares()))
        changed.append(f"{name}: mix {shares}")
    if current.marketing.budget_per_step > 0 and current.marketing.marketers == 0:
        object.__setattr__(current.marketing, "marketers", 1)
        model.marketers.add(Marketer(model, firm_index, model.channel_contexts[firm_index], 1.0))
    return changed


def _resize_salesforce(model: MarketModel, firm_index: int, count: int) -> None:
    people = model.salespeople[firm_index]
    firm = model.scenario.firms[firm_index]
    if count > len(people):
        skills = beta_draws(firm.sales.skill, model.scenario.market.heterogeneity, count - len(people), model.rng)
        people.extend(Salesperson(model, firm_index, float(skill)) for skill in skills)
        return
    # Let go of idle salespeople first, then the most recently hired busy ones.
    order = sorted(range(len(people)), key=lambda i: (not people[i].idle, -i))
    leaving = set(order[: len(people) - count])
    for index in leaving:
        person = people[index]
        if not person.idle:
            model.consumers.being_worked[person.lead] = False  # back in the queue, still a lead
            person.lead = NOBODY
        person.remove()
    model.salespeople[firm_index] = [person for i, person in enumerate(people) if i not in leaving]


def validated_firm(scenario: Scenario, overrides: dict[str, Any], firm_index: int) -> Firm:
    """The firm as the levers' overrides make it, checked like any scenario value."""
    from funnelsim import load_scenario

    return load_scenario(scenario, overrides).firms[firm_index]
