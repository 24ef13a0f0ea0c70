"""The placeholder studies and the ranking the robustness screen reads."""

from __future__ import annotations

import pandas as pd
import pytest

from funnelsim import load_scenario
from funnelsim.cli.sweep import built_in_studies
from funnelsim.experiments.placeholders import CONTROL, OUTCOMES, rank, read_ranking, top_placeholders
from funnelsim.experiments.robustness import _upper_bound
from funnelsim.experiments.sweep_spec import read_sweep_file
from funnelsim.model.scenario import Scenario


def _description(key: str) -> str:
    section, name = key.split(".")
    return Scenario.model_fields[section].annotation.model_fields[name].description or ""


@pytest.mark.parametrize("study", ["placeholder_screening", "placeholders"])
def test_the_studies_vary_placeholders_of_the_market_from_half_to_twice_the_baseline(study):
    # The ranking is only about placeholders (the scenario reference says which), and only about
    # the range the robustness screen then tries: half to twice the baseline's value.
    spec, _ = read_sweep_file(built_in_studies()[study])
    baseline = load_scenario("baseline").to_dict()
    assert CONTROL in spec.parameters
    for key, parameter in spec.parameters.items():
        if key == CONTROL:
            continue
        assert "placeholder" in _description(key), key
        section, name = key.split(".")
        value = baseline[section][name]
        # Doubling stops at the schema's bound (1 for a probability), as in the robustness screen.
        assert parameter.low == pytest.approx(value / 2), key
        assert parameter.high == pytest.approx(min(2 * value, _upper_bound(section, name))), key
    assert list(spec.outputs.summary) == list(OUTCOMES)


def test_the_sobol_study_takes_parameters_the_screen_takes():
    screen, _ = read_sweep_file(built_in_studies()["placeholder_screening"])
    sobol, _ = read_sweep_file(built_in_studies()["placeholders"])
    assert set(sobol.parameters) <= set(screen.parameters)
    for key in sobol.parameters:
        assert sobol.parameters[key] == screen.parameters[key]


def test_rank_takes_each_parameters_largest_index_over_the_outcomes():
    indices = pd.DataFrame(
        {
            "measure": ["A.customers", "A.customers", "A.profit", "A.profit", "A.revenue", "A.revenue"],
            "parameter": ["x", "y", "x", "y", "x", "y"],
            # y matters most for profit; revenue is not a ranked outcome, so x's 0.9 there is ignored.
            "ST": [0.3, 0.1, 0.2, 0.6, 0.9, 0.0],
            "mu_star": [30.0, 10.0, 2000.0, 6000.0, 0.0, 0.0],
        }
    )
    sobol = rank(indices, "ST")
    assert sobol["parameter"].tolist() == ["y", "x"] and sobol["rank"].tolist() == [1, 2]
    assert sobol.iloc[0]["largest_for"] == "A.profit" and sobol.iloc[1]["score"] == pytest.approx(0.3)
    # Morris mu* is in each outcome's units: normalized per outcome, x leads customers (1.0) and
    # y profit (1.0), a tie the stable sort keeps in the table's order.
    morris = rank(indices, "mu_star", normalize=True)
    assert morris["score"].tolist() == [1.0, 1.0]


def test_the_committed_ranking_names_placeholders_and_ranks_the_control_last():
    ranking = read_ranking()
    assert set(ranking["measure"].str.split(".").str[-1]) == set(OUTCOMES)
    top = top_placeholders(3)
    assert len(top) == 3 and CONTROL not in top
    for key in top:
        assert "placeholder" in _description(key)
    # With common random numbers the control changes nothing in any run, so nothing outranks it
    # from below: it is last.
    order = ranking.drop_duplicates("parameter").sort_values("rank")["parameter"].tolist()
    assert order[-1] == CONTROL
