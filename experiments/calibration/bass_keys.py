"""Fitted values -> scenario overrides, with the Bass settings' companions filled in.

A scenario with a ``[bass]`` table is checked against the settings that make the model the Bass
model (:func:`funnelsim.model.scenario.bass_limit_requirements`): word-of-mouth strength equal
to ``bass.q`` and a media budget whose reach per step is ``bass.p``. So a fit that moves
``bass.p`` or ``bass.q`` must move those companions with them, or the scenario is refused. This
is the one place that happens: the companions are derived from the same requirements the loader
checks, at the point's own population and media price, so the overrides pass validation whether
or not the loader derives them itself. (A loader that derives them fills in only settings a
scenario leaves unset; a validated scenario passed back to it has them all set, so they must be
moved here in either case.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from funnelsim.model.scenario import Scenario

BASS_KEYS = ("bass.p", "bass.q")


def scenario_overrides(scenario: Scenario, values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides for ``values`` on ``scenario``, Bass companions included.

    Parameters
    ----------
    scenario
        The validated base scenario.
    values
        Dotted keys and their values (``{"bass.q": 0.4, "market.self_serve_rate": 0.1}``).

    Returns
    -------
    dict
        ``values`` plus, when ``bass.p`` or ``bass.q`` is among them (or the market size or media
        price changes in a scenario with a ``[bass]`` table), ``word_of_mouth.beta`` and
        ``firms.0.marketing.budget_per_step`` as the Bass limit requires them.
    """
    overrides = dict(values)
    if scenario.bass is None:
        return overrides
    touched = {"bass.p", "bass.q", "market.consumers", "firms.0.marketing.media.cost_per_thousand"}
    if not touched & set(overrides):
        return overrides
    p = float(overrides.get("bass.p", scenario.bass.p))
    q = float(overrides.get("bass.q", scenario.bass.q))
    consumers = int(overrides.get("market.consumers", scenario.market.consumers))
    cost_per_thousand = float(
        overrides.get("firms.0.marketing.media.cost_per_thousand", scenario.firms[0].marketing.media.cost_per_thousand)
    )
    for key, value in _companions(p, q, consumers, cost_per_thousand).items():
        overrides.setdefault(key, value)
    return overrides


def _companions(p: float, q: float, consumers: int, cost_per_thousand: float) -> dict[str, float]:
    """Word-of-mouth strength and media budget for (p, q), by the scenario loader's own rule."""
    from funnelsim.model.scenario import bass_derived_settings

    derived = bass_derived_settings(p, q, consumers, cost_per_thousand)
    return {key: derived[key] for key in ("word_of_mouth.beta", "firms.0.marketing.budget_per_step")}
