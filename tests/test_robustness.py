"""The robustness screen: its verdicts from cases, and one small run end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnelsim.experiments.robustness import FINDINGS, Finding, classify, robustness


def _cases(own: list[bool], varied: list[bool]) -> pd.DataFrame:
    rows = [{"setting": "study's own", "value": "", "seed": i, "holds": h} for i, h in enumerate(own)]
    rows += [{"setting": "market.x", "value": str(i), "seed": 0, "holds": h} for i, h in enumerate(varied)]
    return pd.DataFrame(rows)


def test_classify_names_what_fails():
    assert classify(_cases([True] * 3, [True] * 4)) == "holds"
    assert classify(_cases([False, False, True], [True] * 4)) == "does not hold"
    verdict = classify(_cases([True] * 3, [True, False, True, True]))
    assert verdict.startswith("holds only when") and "market.x = 1" in verdict
    assert "1 of 3 seeds" in classify(_cases([True, True, False], [True] * 4))


def test_a_finding_that_cannot_be_true_does_not_hold_and_a_sure_one_holds():
    # Customers are never negative: "fewest customers below zero" is false at every seed, and
    # "email brings no more customers than the other channels together" is true at any setting.
    small = dict(placeholders=("market.lead_patience",), seeds=(1, 2), consumers=200, replications=1)
    never = Finding("channels", "impossible", lambda m: bool(m("customers", 0).min() < 0))
    verdict, table = robustness(never, **small)
    assert verdict == "does not hold" and len(table) == 2 + 2
    always = Finding("channels", "sure", lambda m: bool(m("customers", 0)[0] <= m("customers", 0)[1:].sum()))
    assert robustness(always, **small)[0] == "holds"


def test_every_finding_names_a_study_file():
    from funnelsim.experiments.robustness import STUDIES

    for study in FINDINGS:
        assert (STUDIES / f"{study}.toml").exists()


def _fake_means(names, unit, outputs):
    """A Means over a design whose outputs are given functions of the unit sample."""
    from funnelsim.experiments.robustness import Means

    class Evaluation:
        def measure(self, name, firm=0):
            return outputs[(name, firm)](unit)[:, None]

    return Means(Evaluation(), names, unit)


@pytest.mark.parametrize("kind", ["sobol", "morris"])
def test_top_index_names_the_parameter_an_output_depends_on(kind):
    # The sensitivity and screening findings are "parameter X matters most": an output that
    # depends on one parameter only must have it on top, whichever parameter it is.
    from funnelsim.experiments.designs import build_design
    from funnelsim.experiments.robustness import _top_index
    from funnelsim.experiments.sweep_spec import DesignSpec, ParameterSpec

    names = ["a", "b", "c"]
    parameters = {name: ParameterSpec(low=0.0, high=1.0) for name in names}
    design = build_design(parameters, DesignSpec(kind=kind, samples=16, levels=4, second_order=False), seed=3)
    unit = design.unit_sample
    outputs = {("revenue", 0): lambda u: 10 * u[:, 1] + 0.1 * u[:, 0], ("profit", 0): lambda u: u[:, 2] ** 2}
    m = _fake_means(names, unit, outputs)
    assert _top_index(m, "revenue", 0, kind) == "b"
    assert _top_index(m, "profit", 0, kind) == "c"


def test_population_scale_finding_reads_the_three_arms():
    from funnelsim.experiments.robustness import _scale_keeps_closer_nearer

    def means(small, held, scaled):
        return lambda measure, firm: np.array([small, held, scaled])

    assert _scale_keeps_closer_nearer(means(0.022, 0.010, 0.019))
    assert not _scale_keeps_closer_nearer(means(0.022, 0.010, 0.005))  # scaling made it worse
    assert not _scale_keeps_closer_nearer(means(0.022, 0.025, 0.022))  # holding did not lower it


def test_a_placeholder_the_study_varies_itself_is_not_halved():
    # screening varies market.interest_threshold over its own range: halving the baseline's value
    # would be overwritten by the design, so the screen leaves it out (one case per seed only).
    small = dict(placeholders=("market.interest_threshold",), seeds=(1,), consumers=100, replications=1)
    tiny = Finding("screening", "anything", lambda m: True, samples=1, steps=10)
    verdict, table = robustness(tiny, **small)
    assert verdict == "holds" and table["setting"].tolist() == ["study's own"]


def test_doubling_stops_at_the_schemas_bound_only_for_bounded_settings():
    from funnelsim.experiments.robustness import _upper_bound

    assert _upper_bound("market", "self_serve_rate") == 1.0
    assert _upper_bound("market", "willingness_to_pay") == float("inf")


def test_the_new_findings_run_end_to_end_at_a_tiny_size():
    from dataclasses import replace

    small = dict(placeholders=("market.self_serve_rate",), seeds=(1,), consumers=100, replications=1)
    verdict, table = robustness(replace(FINDINGS["sensitivity"], samples=1, steps=30), **small)
    assert table["setting"].tolist() == ["study's own", "market.self_serve_rate", "market.self_serve_rate"]
    assert table["value"].tolist()[1:] == ["0.0015 (halved)", "0.006 (doubled)"]
    assert verdict in ("holds", "does not hold") or verdict.startswith("holds only when")
