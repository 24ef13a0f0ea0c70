"""Sensitivity analysis on designs whose answer is known."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from funnelsim.cli import main

TESTS_DIR = str(Path(__file__).parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # for sweep_fakes

# profit = 4 quality + 2 in_market_share + small noise; coverage is never read.
FAKE_PARAMETERS = """
"firms.0.quality" = { low = 0.0, high = 1.0 }
"market.in_market_share" = { low = 0.0, high = 1.0 }
"firms.0.coverage" = { low = 0.2, high = 1.0 }
"""


def _run(folder: Path, text: str) -> tuple[Path, pd.DataFrame]:
    sweep = folder / "sweep.toml"
    sweep.write_text(textwrap.dedent(text), encoding="utf-8")
    out = folder / "out"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--serial", "--quiet"]) == 0
    assert main(["analyze", str(out)]) == 0
    kind = "sobol" if "sobol" in text else "morris"
    return out, pd.read_csv(out / "analysis" / f"{kind}_indices.csv").set_index("parameter")


def test_sobol_indices_of_a_known_linear_response(tmp_path):
    out, indices = _run(
        tmp_path,
        f"""
        scenario = "baseline"
        seed = 3
        run_function = "sweep_fakes:linear_response"
        [parameters]
        {FAKE_PARAMETERS}
        [design]
        kind = "sobol"
        samples = 256
        """,
    )
    # Variances 16/12 and 4/12: first-order indices 0.8 and 0.2, no interactions, coverage 0.
    for name, expected in [("firms.0.quality", 0.8), ("market.in_market_share", 0.2), ("firms.0.coverage", 0.0)]:
        row = indices.loc[name]
        assert abs(row["S1"] - expected) < max(row["S1_conf"], 0.02), (name, row)
        assert abs(row["ST"] - expected) < max(row["ST_conf"], 0.02), (name, row)
    assert indices.loc["firms.0.coverage", "ST"] < 0.001
    (figure,) = (out / "analysis").glob("sobol_indices_*.png")  # the file name names the measure
    assert figure.stat().st_size > 1000


def test_morris_mu_star_of_a_known_linear_response(tmp_path):
    out, indices = _run(
        tmp_path,
        f"""
        scenario = "baseline"
        seed = 4
        run_function = "sweep_fakes:linear_response"
        [parameters]
        {FAKE_PARAMETERS}
        [design]
        kind = "morris"
        samples = 20
        levels = 4
        """,
    )
    # Elementary effects over each parameter's full range: 4, 2 and 0.
    assert indices.loc["firms.0.quality", "mu_star"] == pytest.approx(4.0, abs=0.1)
    assert indices.loc["market.in_market_share", "mu_star"] == pytest.approx(2.0, abs=0.1)
    assert indices.loc["firms.0.coverage", "mu_star"] < 0.1
    (figure,) = (out / "analysis").glob("morris_indices_*.png")  # the file name names the measure
    assert figure.stat().st_size > 1000


def test_a_scenario_key_that_cannot_matter_gets_a_sobol_index_near_zero(tmp_path):
    # Closer airs no jingles in the baseline (its jingle share is 0), so the lift of its
    # jingles cannot change anything; Loudmouth's marketing cost is set by its budget.
    _, indices = _run(
        tmp_path,
        """
        scenario = "baseline"
        steps = 20
        seed = 5
        [fixed]
        "market.consumers" = 200
        [parameters]
        "firms.0.marketing.budget_per_step" = { low = 100.0, high = 1000.0 }
        "firms.0.price" = { low = 1000.0, high = 3000.0 }
        "firms.1.marketing.jingles.lift" = { low = 0.0, high = 1.0 }
        [design]
        kind = "sobol"
        samples = 8
        second_order = false
        [outputs]
        summary = ["marketing_cost"]
        """,
    )
    cost = indices[indices["measure"] == "Loudmouth.marketing_cost"]
    dead = cost.loc["firms.1.marketing.jingles.lift"]
    assert abs(dead["S1"]) < 0.02 and abs(dead["ST"]) < 0.02
    assert cost.loc["firms.0.marketing.budget_per_step", "ST"] > 0.3
