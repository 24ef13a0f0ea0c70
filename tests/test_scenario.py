"""Scenario loading and the one-line errors for bad input."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from funnelsim import MarketModel, ScenarioError, load_scenario
from funnelsim.model.scenario import ScenarioDeprecationWarning, builtin_names


def write(tmp_path, text: str, name: str = "scenario.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


MINIMAL = """
    [market]
    consumers = 50
    steps = 5

    [[firms]]
    name = "Acme"
"""


def test_builtins_load_and_describe_themselves():
    assert {"baseline", "bass"} <= set(builtin_names())
    baseline = load_scenario("baseline")
    assert [firm.name for firm in baseline.firms] == ["Loudmouth", "Closer"]
    assert baseline.network.kind == "watts_strogatz"
    assert baseline.description


def test_file_dict_and_scenario_sources_agree(tmp_path):
    from_file = load_scenario(write(tmp_path, MINIMAL))
    from_dict = load_scenario({"market": {"consumers": 50, "steps": 5}, "firms": [{"name": "Acme"}]})
    assert from_file.name == "scenario"  # named after the file
    assert from_file.model_dump(exclude={"name"}) == from_dict.model_dump(exclude={"name"})
    assert load_scenario(from_dict) == from_dict


def test_overrides_by_dotted_key_are_validated_like_file_values():
    scenario = load_scenario("baseline", {"firms.0.price": 90.0, "market.consumers": 500, "network.kind": "ring"})
    assert scenario.firms[0].price == 90.0
    assert scenario.market.consumers == 500
    assert scenario.network.kind == "ring"
    with pytest.raises(ScenarioError, match="firms.0.price"):
        load_scenario("baseline", {"firms.0.price": -1.0})


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("[market]\nconsumers = 50\nbogus = 1\n[[firms]]\nname = 'A'\n", "market.bogus", "unknown setting"),
        ("[market]\nconsumers = 'many'\n[[firms]]\nname = 'A'\n", "market.consumers", "integer"),
        ("[market]\nin_market_share = 1.5\n[[firms]]\nname = 'A'\n", "market.in_market_share", "less than or equal to 1"),
        ("[[firms]]\nname = 'A'\nmarketing = { budget_per_step = -5.0 }\n", "firms.0.marketing.budget_per_step", "greater than or equal to 0"),
        ("[[firms]]\nname = 'A'\nsales = { salespeople = -1 }\n", "firms.0.sales.salespeople", "greater than or equal to 0"),
        (
            "[[firms]]\nname = 'A'\n[firms.marketing]\nmix = { email = 0.5, blogging = 0.1, media = 0.1, jingles = 0.1 }\n",
            "marketing.mix",
            "sum to 0.8, not 1",
        ),
        ("[network]\nkind = 'lattice'\n[[firms]]\nname = 'A'\n", "network.kind", "watts_strogatz"),
        ("[market]\nconsumers = 10\n", "firms", "required setting is missing"),
        ("[[firms]]\nname = 'A'\n[[firms]]\nname = 'A'\n", "firms.1.name", "used by another firm"),
    ],
)
def test_bad_scenario_files_name_the_field_and_the_file(tmp_path, text, field, problem):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert "\n" not in message
    assert str(path) in message
    assert field in message
    assert problem in message


def test_not_toml_and_missing_file(tmp_path):
    broken = write(tmp_path, "[market\nconsumers = 3")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nowhere.toml")
    with pytest.raises(ScenarioError, match="no such built-in scenario"):
        load_scenario("no_such_scenario")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("market.bogus", "no such setting 'market.bogus'"),
        ("firms.5.price", "firms.5 is not an index of a list of 2"),
        ("firms.0.marketing.mix.radio", "no such setting 'firms.0.marketing.mix.radio'"),
        ("nothing", "no such setting 'nothing'"),
    ],
)
def test_overrides_of_settings_that_do_not_exist(key, problem):
    with pytest.raises(ScenarioError, match=problem.replace(".", r"\.")):
        load_scenario("baseline", {key: 1})


def test_renamed_settings_still_load_with_a_warning_naming_the_new_name(tmp_path):
    """Scenario files written before the renames (network.blocks, marketing.target_segment,
    targeting = "segment") load as the same scenario as with the new names, and say what to write."""
    old = write(tmp_path, textwrap.dedent("""
        [network]
        kind = "sbm"
        blocks = 3
        [[firms]]
        name = "A"
        marketing = { targeting = "segment", target_segment = 2 }
    """))
    new = write(tmp_path, textwrap.dedent("""
        [network]
        kind = "sbm"
        communities = 3
        [[firms]]
        name = "A"
        marketing = { targeting = "community", target_community = 2 }
    """), "new.toml")
    with pytest.warns(ScenarioDeprecationWarning) as caught:
        from_old = load_scenario(old)
    said = " ".join(str(warning.message) for warning in caught)
    for spelling in ("network.communities", "marketing.target_community", 'targeting = "community"', str(old)):
        assert spelling in said
    assert from_old.model_dump(exclude={"name"}) == load_scenario(new).model_dump(exclude={"name"})
    with pytest.warns(ScenarioDeprecationWarning, match="write network.communities"):
        assert load_scenario(new, {"network.blocks": 5}).network.communities == 5  # an old key as an override
    with pytest.raises(ScenarioError, match="network.blocks: renamed communities, which is also given"):
        load_scenario({"network": {"blocks": 3, "communities": 3}, "firms": [{"name": "A"}]})


def test_network_files(tmp_path):
    edges = write(tmp_path, "# a triangle and a tail\na b\nb c\nc a\nc d\n", "edges.txt")
    scenario = load_scenario(write(tmp_path, f"[network]\nkind = 'file'\npath = '{edges.name}'\n[[firms]]\nname = 'A'\n"))
    assert scenario.market.consumers == 4  # taken from the file when not given
    model = MarketModel(scenario, rng=1)
    assert model.network.edges == 4
    assert sorted(model.network.degree) == [1, 2, 2, 3]

    missing = write(tmp_path, "[network]\nkind = 'file'\npath = 'absent.txt'\n[[firms]]\nname = 'A'\n", "missing.toml")
    with pytest.raises(ScenarioError, match=r"network\.path: file not found"):
        load_scenario(missing)

    malformed = write(tmp_path, "1 2\n3\n", "bad_edges.txt")
    bad = write(tmp_path, f"[network]\nkind = 'file'\npath = '{malformed.name}'\n[[firms]]\nname = 'A'\n", "bad.toml")
    with pytest.raises(ScenarioError, match="line 2: expected two node labels"):
        load_scenario(bad)

    not_graphml = write(tmp_path, "<graphml><oops", "net.graphml")
    bad_xml = write(tmp_path, f"[network]\nkind = 'file'\npath = '{not_graphml.name}'\n[[firms]]\nname = 'A'\n", "x.toml")
    with pytest.raises(ScenarioError, match="cannot read .* as graphml"):
        load_scenario(bad_xml)

    wrong_size = write(
        tmp_path, f"[market]\nconsumers = 9\n[network]\nkind = 'file'\npath = '{edges.name}'\n[[firms]]\nname = 'A'\n", "w.toml"
    )
    with pytest.raises(ScenarioError, match="market.consumers is 9 but the network file has 4 nodes"):
        load_scenario(wrong_size)


def test_graphml_network(tmp_path):
    import networkx as nx

    graph = nx.path_graph(["x", "y", "z"])
    nx.write_graphml(graph, tmp_path / "path.graphml")
    scenario = load_scenario({"network": {"kind": "file", "path": str(tmp_path / "path.graphml")}, "firms": [{"name": "A"}]})
    model = MarketModel(scenario, rng=0)
    assert model.network.size == 3 and model.network.edges == 2


def test_bass_section_is_checked_against_the_frictionless_settings():
    bass = load_scenario("bass")
    assert bass.bass.p == pytest.approx(0.0025) and bass.bass.q == pytest.approx(0.0317)
    with pytest.raises(ScenarioError, match="market.awareness_decay: the Bass limit needs 0.0"):
        load_scenario("bass", {"market.awareness_decay": 0.1})
    # p and q alone drive the limit: the loader derives beta and the media budget from them ...
    driven = load_scenario("bass", {"bass.q": 0.05, "bass.p": 0.01})
    assert driven.word_of_mouth.beta == 0.05
    assert driven.firms[0].marketing.budget_per_step == pytest.approx(-np.log(0.99) * 100_000 * 10.0 / 1000)
    # ... and a setting given another value is refused, not silently replaced.
    with pytest.raises(ScenarioError, match="word_of_mouth.beta: the Bass limit needs 0.05"):
        load_scenario("bass", {"bass.q": 0.05, "word_of_mouth.beta": 0.2})
    # The same on a scenario already loaded: its derived settings follow new p and q ...
    again = load_scenario(bass, {"bass.q": 0.4})
    assert again.word_of_mouth.beta == 0.4 and again.market.in_market_share == 1.0
    # ... and leaving the limit (bass = None) keeps them as they were.
    left = load_scenario(bass, {"bass": None, "firms.0.price": 60.0})
    assert left.bass is None and left.word_of_mouth.beta == bass.word_of_mouth.beta and left.market.in_market_share == 1.0
    # Any network: the network Bass model.
    assert load_scenario("bass", {"network.kind": "ring", "network.k": 2}).network.kind == "ring"


def test_a_bad_scenario_builds_nothing():
    with pytest.raises(ScenarioError):
        MarketModel("baseline", rng=1, overrides={"market.consumers": 0})


def test_marketing_budget_needs_a_marketer():
    with pytest.raises(ScenarioError, match="firms.0.marketing.marketers: a marketing budget needs at least one marketer"):
        load_scenario("baseline", {"firms.0.marketing.marketers": 0})


def test_a_budget_split_decides_marketing_budget_and_salespeople():
    def split(share):
        scenario = load_scenario(
            "baseline", {"firms.1.budget": {"total_per_step": 1000.0, "marketing_share": share}, "firms.1.sales.salary": 100.0}
        )
        firm = scenario.firms[1]
        return firm.marketing.budget_per_step, firm.sales.salespeople

    assert split(0.0) == (0.0, 10)
    assert split(0.25) == (250.0, 7)  # 750 buys 7 salespeople at 100; 50 stays unspent
    assert split(1.0) == (1000.0, 0)
    resolved = load_scenario("baseline", {"firms.1.budget.total_per_step": 500.0, "firms.1.budget.marketing_share": 0.3})
    assert load_scenario(resolved.to_dict()) == resolved  # the resolved scenario reloads unchanged
    with pytest.raises(ScenarioError, match="firms.1.budget.marketing_share"):
        load_scenario("baseline", {"firms.1.budget": {"total_per_step": 100.0, "marketing_share": 2.0}})
