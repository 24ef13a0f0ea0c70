"""The robustness screen: its verdicts from cases, and one small run end to end."""

from __future__ import annotations

import pandas as pd

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
