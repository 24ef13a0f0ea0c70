"""Readable names and units for scenario keys and measures, for figures and the page.

Sweeps, analyses and the page name settings by their dotted keys (``firms.0.price``) and
measures by ``<firm>.<measure>`` (``Acme.customers``). A reader wants "Acme: price ($)". This
mapping lives beside the schema (:mod:`funnelsim.model.scenario`) so that a new setting gets
its label where it is defined; a key without an entry still gets a readable name made from
its parts, never the raw dotted key.

Units come from the scenario: ``market.currency`` for money and ``market.step_unit`` for time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

#: Kinds of unit a label can carry; :func:`unit_text` turns them into text.
MONEY = "money"
MONEY_PER_STEP = "money per step"
SHARE = "share"
COUNT = "count"
STEPS = "steps"
PER_STEP = "per step"
RATIO = "ratio"

#: Dotted scenario keys (a firm's index written as ``*``) -> (label, unit kind or None).
PARAMETER_LABELS: dict[str, tuple[str, str | None]] = {
    "market.consumers": ("consumers", COUNT),
    "market.steps": ("run length", STEPS),
    "market.in_market_share": ("share of consumers who need the product", SHARE),
    "market.willingness_to_pay": ("median willingness to pay", MONEY),
    "market.willingness_to_pay_spread": ("spread of willingness to pay", None),
    "market.price_elasticity": ("price elasticity", None),
    "market.susceptibility": ("susceptibility to word of mouth", None),
    "market.talkativeness": ("talkativeness", None),
    "market.interest_threshold": ("interest threshold (awareness a lead needs)", None),
    "market.heterogeneity": ("how alike consumers are", None),
    "market.awareness_decay": ("awareness lost", PER_STEP),
    "market.initial_awareness": ("share aware at the start", SHARE),
    "market.self_serve_rate": ("self-serve purchase chance", PER_STEP),
    "market.lead_patience": ("lead patience", STEPS),
    "market.lead_half_life": ("lead half-life", STEPS),
    "market.lead_freshness_floor": ("lead freshness floor (close chance kept by a cold lead)", None),
    "market.lead_cooldown": ("lead cooldown", STEPS),
    "market.churn_rate": ("churn chance", PER_STEP),
    "market.referral_share": ("referral chance per neighbour", None),
    "market.price_scale": ("spread of price acceptance", None),
    "market.forget_below": ("awareness forgotten below", None),
    "market.recall_threshold": ("awareness from which a consumer counts as aware", None),
    "market.delay_cv": ("variation of patience and cooldowns (CV)", None),
    "market.switch_rate": ("chance a waiting lead weighs the firms again", PER_STEP),
    "market.step_unit": ("time step", None),
    "market.currency": ("currency", None),
    "network.path": ("network file", None),
    "network.format": ("network file format", None),
    "word_of_mouth.form": ("word-of-mouth form", None),
    "bass.p": ("Bass innovation (p)", PER_STEP),
    "bass.q": ("Bass imitation (q)", PER_STEP),
    "seeding.share": ("share seeded as customers", SHARE),
    "seeding.by": ("whom seeding picks", None),
    "seeding.firm": ("seeded firm", None),
    "name": ("scenario name", None),
    "description": ("scenario description", None),
    "network.kind": ("network", None),
    "network.k": ("mean number of ties", None),
    "network.p": ("rewiring chance", None),
    "network.communities": ("communities", COUNT),
    "network.mixing": ("share of ties across communities", SHARE),
    "word_of_mouth.beta": ("word-of-mouth strength (beta)", None),
    "word_of_mouth.aware_weight": ("how much aware consumers talk", None),
    "word_of_mouth.lift": ("awareness lift of hearing", None),
    "firms.*.name": ("name", None),
    "firms.*.price": ("price", MONEY),
    "firms.*.unit_cost": ("unit cost", MONEY),
    "firms.*.quality": ("product quality", None),
    "firms.*.coverage": ("distribution coverage", SHARE),
    "firms.*.marketing.budget_per_step": ("marketing budget", MONEY_PER_STEP),
    "firms.*.marketing.marketers": ("marketers", COUNT),
    "firms.*.marketing.marketer_salary": ("marketer pay", MONEY_PER_STEP),
    "firms.*.marketing.mix.email": ("email share of the budget", SHARE),
    "firms.*.marketing.mix.blogging": ("blogging share of the budget", SHARE),
    "firms.*.marketing.mix.media": ("media share of the budget", SHARE),
    "firms.*.marketing.mix.jingles": ("jingles share of the budget", SHARE),
    "firms.*.marketing.targeting": ("media targeting", None),
    "firms.*.marketing.target_community": ("community targeted", None),
    "firms.*.marketing.email.cost_per_send": ("cost per email", MONEY),
    "firms.*.marketing.email.lift": ("email awareness lift", None),
    "firms.*.marketing.email.bought_list_share": ("share on a bought email list", SHARE),
    "firms.*.marketing.email.unsubscribe_rate": ("unsubscribe chance per email", None),
    "firms.*.marketing.email.fatigue": ("email fatigue (extra unsubscribes per email per member)", None),
    "firms.*.marketing.blogging.cost_per_post": ("cost per blog post", MONEY),
    "firms.*.marketing.blogging.reach_per_post": ("readers per post", PER_STEP),
    "firms.*.marketing.blogging.lift": ("blog awareness lift", None),
    "firms.*.marketing.blogging.post_decay": ("share of posts that stop drawing readers", PER_STEP),
    "firms.*.marketing.blogging.in_market_bias": ("how much likelier in-market readers are", None),
    "firms.*.marketing.media.cost_per_thousand": ("media cost per thousand", MONEY),
    "firms.*.marketing.media.lift": ("media awareness lift", None),
    "firms.*.marketing.jingles.production_cost": ("jingle production cost", MONEY),
    "firms.*.marketing.jingles.cost_per_thousand": ("airtime cost per thousand", MONEY),
    "firms.*.marketing.jingles.lift": ("jingle awareness lift", None),
    "firms.*.marketing.jingles.memorability": ("jingle memorability", None),
    "firms.*.sales.salespeople": ("salespeople", COUNT),
    "firms.*.sales.salary": ("salesperson pay", MONEY_PER_STEP),
    "firms.*.sales.skill": ("salespeople's skill", None),
    "firms.*.sales.cycle_steps": ("sales cycle", STEPS),
    "firms.*.sales.cycle_cv": ("variation of the sales cycle (CV)", None),
    "firms.*.sales.policy": ("lead policy", None),
    "firms.*.sales.discount": ("discount", SHARE),
    "firms.*.sales.commission": ("commission", SHARE),
    "firms.*.sales.commission_effort": ("close-chance gain per unit of commission", None),
    "firms.*.sales.commission_speedup": ("sales cycle shortened by a 10% commission", SHARE),
    "firms.*.sales.prospecting": ("idle salespeople prospect", None),
    "firms.*.sales.prospect_contacts": ("prospecting contacts per salesperson", PER_STEP),
    "firms.*.sales.prospect_response": ("chance a prospect agrees to a meeting", None),
    "firms.*.sales.referral_reward": ("referral reward", MONEY),
    "firms.*.budget.total_per_step": ("total budget", MONEY_PER_STEP),
    "firms.*.budget.marketing_share": ("share of the budget for marketing", SHARE),
}

#: End-of-run measures of :func:`funnelsim.model.metrics.summarize` -> (label, unit kind or None).
MEASURE_LABELS: dict[str, tuple[str, str | None]] = {
    "steps": ("steps run", STEPS),
    "customers": ("customers at the end", COUNT),
    "market_share": ("market share at the end", SHARE),
    "penetration": ("penetration at the end", SHARE),
    "revenue": ("revenue, whole run", MONEY),
    "profit": ("profit, whole run", MONEY),
    "marketing_cost": ("marketing cost, whole run", MONEY),
    "sales_cost": ("sales cost, whole run", MONEY),
    "new_customers": ("new customers, whole run", COUNT),
    "revenue_sales": ("revenue won by salespeople", MONEY),
    "acquisition_cost": ("cost per new customer", MONEY),
    "marketing_return": ("gross margin per unit of marketing spend", RATIO),
    "share_per_1k_marketing": ("market-share points per 1,000 of marketing spend", None),
    "sales_return": ("sales revenue per unit of sales cost", RATIO),
    "win_rate": ("salespeople's win rate", SHARE),
    "lead_conversion": ("leads that became customers", SHARE),
    "leads_cold": ("leads gone cold", COUNT),
    "utilization": ("mean salesperson utilization", SHARE),
    "mean_queue_length": ("mean leads waiting", COUNT),
    "mean_lead_wait": ("mean wait of a lead", STEPS),
    "mean_wait_self_serve": ("mean wait of a lead that bought on its own", STEPS),
    "mean_wait_cold": ("mean wait of a lead that went cold", STEPS),
    "mean_queue_wait": ("mean time in the lead queue", STEPS),
    "lead_arrival_rate": ("leads joining the queue", PER_STEP),
}

_FIRM_KEY = re.compile(r"^firms\.(\d+)\.(.+)$")


def unit_text(kind: str | None, currency: str = "$", step_unit: str = "day") -> str:
    """The unit as shown in brackets after a label ("" for none)."""
    return {
        MONEY: currency,
        MONEY_PER_STEP: f"{currency} per {step_unit}",
        SHARE: "share, 0-1",
        COUNT: "",
        STEPS: f"{step_unit}s",
        PER_STEP: f"per {step_unit}",
        RATIO: "ratio",
        None: "",
    }.get(kind, "")


def with_unit(label: str, kind: str | None, currency: str = "$", step_unit: str = "day") -> str:
    unit = unit_text(kind, currency, step_unit)
    return f"{label} ({unit})" if unit else label


def _readable(dotted: str) -> str:
    """A readable name for a key without an entry: its parts, underscores as spaces."""
    parts = [part.replace("_", " ") for part in dotted.split(".")]
    return parts[-1] if len(parts) == 1 else f"{parts[-1]} ({', '.join(parts[:-1])})"


def scenario_units(scenario: Any) -> tuple[str, str]:
    """(currency, step unit) of a Scenario or scenario dict, with the schema's defaults."""
    if scenario is None:
        return "$", "day"
    if isinstance(scenario, Mapping):
        market = scenario.get("market", {}) or {}
        return str(market.get("currency", "$")), str(market.get("step_unit", "day"))
    return scenario.market.currency, scenario.market.step_unit


def firm_names_of(scenario: Any) -> list[str]:
    if scenario is None:
        return []
    if isinstance(scenario, Mapping):
        return [str(firm.get("name", f"firm {index}")) for index, firm in enumerate(scenario.get("firms", []))]
    return [firm.name for firm in scenario.firms]


def parameter_label(key: str, scenario: Any = None, *, unit: bool = True) -> str:
    """``firms.0.price`` -> ``Acme: price ($)``; ``scenario`` (a Scenario or dict) gives names and units."""
    currency, step_unit = scenario_units(scenario)
    firm_prefix = ""
    generic = key
    match = _FIRM_KEY.match(key)
    if match:
        index, rest = int(match.group(1)), match.group(2)
        names: Sequence[str] = firm_names_of(scenario)
        firm_prefix = f"{names[index]}: " if index < len(names) else f"firm {index + 1}: "
        generic = f"firms.*.{rest}"
    if generic in PARAMETER_LABELS:
        label, kind = PARAMETER_LABELS[generic]
    else:
        label, kind = _readable(generic.removeprefix("firms.*.")), None
    text = with_unit(label, kind, currency, step_unit) if unit else label
    return firm_prefix + text


def measure_label(name: str, scenario: Any = None, *, unit: bool = True) -> str:
    """``Acme.customers`` -> ``Acme: customers at the end``; a bare measure has no firm prefix."""
    currency, step_unit = scenario_units(scenario)
    firm_name, _, measure = name.rpartition(".")
    if measure in MEASURE_LABELS:
        label, kind = MEASURE_LABELS[measure]
    elif measure.startswith("revenue_") and "_touch_" in measure:
        which, channel = measure.removeprefix("revenue_").split("_touch_", 1)
        label, kind = f"revenue by {which}-touch channel: {channel.replace('_', ' ')}", MONEY
    else:
        label, kind = measure.replace("_", " "), None
    text = with_unit(label, kind, currency, step_unit) if unit else label
    return f"{firm_name}: {text}" if firm_name else text


def measure_unit(name: str, scenario: Any = None) -> str:
    """Only the unit of a measure ("" for a plain count or number)."""
    currency, step_unit = scenario_units(scenario)
    measure = name.rpartition(".")[2]
    kind = MEASURE_LABELS.get(measure, (None, MONEY if "_touch_" in measure else None))[1]
    return unit_text(kind, currency, step_unit)
