"""Defaults from evidence: every default says where it comes from, and the shipped baseline says
why it differs from the schema wherever it does."""

from __future__ import annotations

import math
import re
import tomllib
from importlib import resources

import pytest
from pydantic import BaseModel

from funnelsim.experiments.scenario_docs import _section_of
from funnelsim.model.scenario import Market, Scenario

#: What a description must contain to say where its default comes from.
ORIGIN = re.compile(r"placeholder|off by default|structural|a choice|\b(19|20)\d\d\b", re.IGNORECASE)

#: Settings that are names, switches of the model's form or required inputs: no figure to source.
NOT_FIGURES = {"name", "description", "network.path", "network.format", "firms.N.name", "bass.p", "bass.q",
               "seeding.by", "seeding.firm", "firms.N.budget.total_per_step", "firms.N.budget.marketing_share",
               "firms.N.marketing.targeting"}


def leaves(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, field in model.model_fields.items():
        section, is_list = _section_of(field.annotation)
        dotted = f"{prefix}{name}"
        if section is None:
            found.append((dotted, field))
        else:
            found += leaves(section, f"{dotted}.N." if is_list else f"{dotted}.")
    return found


@pytest.mark.parametrize(("key", "field"), [leaf for leaf in leaves() if leaf[0] not in NOT_FIGURES], ids=lambda v: v if isinstance(v, str) else "")
def test_every_default_is_sourced_or_marked(key, field):
    assert ORIGIN.search(field.description or ""), f"{key}: say where the default comes from (a citation, 'placeholder', 'off by default' or 'a choice')"


def baseline_differences(model: type[BaseModel], data: dict, prefix: str = "") -> list[str]:
    different = []
    for name, value in data.items():
        field = model.model_fields[name]
        section, is_list = _section_of(field.annotation)
        if section is None:
            if field.default != value and name not in ("name", "description"):
                different.append(f"{prefix}{name}")
        elif is_list:
            for index, item in enumerate(value):
                different += baseline_differences(section, item, f"{prefix}{name}.{index}.")
        else:
            different += baseline_differences(section, value, f"{prefix}{name}.")
    return different


def test_the_baseline_says_why_each_setting_differs_from_the_schema():
    text = (resources.files("funnelsim.model") / "scenarios" / "baseline.toml").read_text(encoding="utf-8")
    comments = " ".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    said = set(re.findall(r"[a-z_]+", comments))
    for key in baseline_differences(Scenario, tomllib.loads(text)):
        parts = [part for part in key.split(".") if not part.isdigit()]
        assert parts[-1] in said or parts[-2] in said, f"baseline.toml: {key} differs from the schema default; say why in a comment"


def test_self_serve_rate_agrees_between_schema_and_baseline():
    from funnelsim import load_scenario

    assert load_scenario("baseline").market.self_serve_rate == Market().self_serve_rate


def test_lead_cooling_matches_its_citation():
    # Oldroyd, McElheran & Elkington (2011): contacted within the hour, a lead is over 60 times
    # likelier to qualify than after a day. With daily steps a day of waiting multiplies the close
    # chance by 0.5 ** (1 / half_life).
    one_day = 0.5 ** (1.0 / Market().lead_half_life)
    assert 1 / 80 < one_day < 1 / 50
    # And no lower after a day: "24 hours or longer" is still about 1/60 of the first hour, so the
    # cooling stops at a floor of that size, reached by the half-life after about a day.
    floor = Market().lead_freshness_floor
    assert 1 / 80 < floor < 1 / 50
    assert 0.5 <= Market().lead_half_life * math.log2(1 / floor) <= 1.5
