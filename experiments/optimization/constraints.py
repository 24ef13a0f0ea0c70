"""The constraints every candidate must meet, checked on the scenario that actually runs.

The space is built so that they hold by construction; this check is the proof, made on every
trial: a candidate that broke one would be a bug, so it stops the optimization rather than being
scored. Tests run it over every trial too.
"""

from __future__ import annotations

import math
from typing import Any

from funnelsim.experiments.optimization.space import SearchSpace
from funnelsim.model.scenario import CHANNELS, Scenario

#: Rounding allowed in money and shares (floating point, not policy).
TOLERANCE = 1e-9


def violations(space: SearchSpace, scenario: Scenario, params: dict[str, Any]) -> list[str]:
    """What ``scenario`` (a candidate of ``space``) breaks; empty when every constraint holds."""
    problems = []
    firm = space.firm
    settings = scenario.firms[firm]
    total = space.total_per_step
    promotion = settings.marketing.budget_per_step
    people = settings.sales.salespeople
    salary = settings.sales.salary
    if settings.budget is None or not math.isclose(settings.budget.total_per_step, total, rel_tol=TOLERANCE):
        problems.append(f"firms.{firm}.budget.total_per_step is not the fixed total {total:g}")
    spent = promotion + people * salary
    if spent > total * (1 + TOLERANCE) + TOLERANCE:
        problems.append(f"spends {spent:g} per step, over the budget of {total:g}")
    if not isinstance(people, int) or people < 0:
        problems.append(f"salespeople is {people!r}, not a whole number")
    elif salary > 0 and total - spent >= salary * (1 + TOLERANCE):
        problems.append(f"leaves {total - spent:g} unspent, enough for another salesperson at {salary:g}")
    shares = settings.marketing.mix.shares()
    if min(shares) < 0:
        problems.append("a channel has a negative share")
    if promotion > 0 and abs(sum(shares) - 1.0) > 1e-6:
        problems.append(f"the channel mix sums to {sum(shares):.12g}, not 1")
    if space.channels:
        for channel, share in zip(CHANNELS, shares, strict=True):
            if channel not in space.channels and share != 0:
                problems.append(f"channel {channel} is outside the searched mix but has share {share:g}")
    low, high = space.marketing_share
    if not low - TOLERANCE <= params["marketing_share"] <= high + TOLERANCE:
        problems.append(f"marketing_share {params['marketing_share']:g} is outside [{low:g}, {high:g}]")
    for item in space.ranges:
        value = params[item.name]
        if not item.low - TOLERANCE <= value <= item.high + TOLERANCE:
            problems.append(f"{item.name} {value:g} is outside [{item.low:g}, {item.high:g}]")
        if item.integer and not isinstance(value, int):
            problems.append(f"{item.name} {value!r} is not a whole number")
    return problems
