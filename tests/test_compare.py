"""Paired comparisons (`funnelsim compare`, `funnelsim.compare`).

Sizes are small (1,000 consumers, 60-120 days) so each comparison takes a few seconds; the
statistical expectations are stated where they are used.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import funnelsim
from funnelsim.cli import main
from funnelsim.experiments.compare import (
    HEADLINE_MEASURES,
    Precision,
    compare,
    paired_statistics,
    parse_precision,
    replications_needed,
)
from funnelsim.experiments.engine import replication_stream

SMALL = {"market.consumers": 1000, "market.steps": 60}
SMALL_SET = ["--set", "market.consumers=1000", "--set", "market.steps=60"]


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    result = compare("baseline", "baseline", overrides=SMALL, replications=3, seed=5)
    table = result.table
    assert set(table["measure"]) == set(HEADLINE_MEASURES)
    defined = table[np.isfinite(table["diff"])]
    assert len(defined) >= 2 * 5  # returns may be undefined, the counts and money never are
    assert (defined["diff"] == 0).all() and (defined["lo"] == 0).all() and (defined["hi"] == 0).all()
    assert not table["significant"].any()
    # Nothing can tell a zero difference from zero.
    assert table["replications_needed"].isna().all()


def test_replication_r_of_each_side_runs_on_the_engine_stream_r():
    from funnelsim import MarketModel

    result = compare("baseline", "baseline", overrides=SMALL, overrides_b={"firms.0.price": 2500.0}, replications=2, seed=9)
    pairs = result.pairs
    for side, extra in (("A", {}), ("B", {"firms.0.price": 2500.0})):
        model = MarketModel("baseline", rng=replication_stream(9, 1), overrides={**SMALL, **extra}, consumer_agents=False)
        model.run()
        alone = model.summary().set_index("firm")["profit"]
        mine = pairs[(pairs["side"] == side) & (pairs["replication"] == 1)].set_index("firm")["profit"]
        pd.testing.assert_series_equal(mine.sort_index(), alone.sort_index(), check_names=False)


def test_more_salespeople_when_sales_is_the_bottleneck_is_a_significant_gain():
    # Without self-serve every sale goes through Loudmouth's 2 salespeople, who are busy all the
    # time (utilization ~0.99): 8 salespeople can close about four times as many deals, and the
    # difference (measured 41.5 customers, sd 7.6 over 6 replications) is far outside its interval.
    result = compare(
        "baseline", "baseline",
        # Leads that cool over two weeks rather than hours, so that waiting for a salesperson
        # costs little and the salesforce's size is what binds.
        overrides={"market.consumers": 1000, "market.steps": 120, "market.self_serve_rate": 0.0, "market.lead_half_life": 14.0},
        overrides_b={"firms.0.sales.salespeople": 8},
        replications=6, seed=11, measures=["customers", "revenue"],
    )
    row = result.table.set_index(["firm", "measure"]).loc[("Loudmouth", "customers")]
    assert row["significant"] and row["lo"] > 0
    assert row["diff"] == pytest.approx(row["b_mean"] - row["a_mean"])
    assert row["replications_needed"] <= 6  # it is resolved, so no more are needed to tell its sign


def test_auto_adds_rounds_without_rerunning_and_stops_at_the_cap():
    rounds = []
    result = compare(
        "baseline", "baseline", overrides=SMALL, overrides_b={"firms.0.marketing.budget_per_step": 0.0},
        replications="auto", precision="0.1%", max_replications=12, seed=3, measures=["profit"],
        on_round=lambda comparison: rounds.append(comparison.replications),
    )
    assert result.rounds == rounds == [5, 10, 12]  # at most doubling per round, then the cap
    assert result.replications == 12 and result.converged is False
    for side in ("A", "B"):
        mine = result.pairs[result.pairs["side"] == side]
        assert sorted(set(mine["replication"])) == list(range(12))
        assert len(mine) == 12 * 2  # each replication once per firm: no round repeated a run


def test_auto_stops_once_every_interval_reaches_the_precision():
    result = compare(
        "baseline", "baseline", overrides=SMALL, overrides_b={"firms.0.marketing.budget_per_step": 0.0},
        replications="auto", precision="60%", max_replications=40, seed=3, measures=["customers"],
    )
    assert result.converged is True
    assert (result.table["replications_needed"] <= result.replications).all()
    # The half-width reached is within the precision of each level.
    table = result.table
    half = (table["hi"] - table["lo"]) / 2
    level = np.maximum(table["a_mean"].abs(), table["b_mean"].abs())
    assert (half <= 0.6 * level + 1e-9).all()


def test_paired_statistics_match_scipys_paired_t_test():
    rng = np.random.default_rng(1)
    a = rng.normal(10, 3, 12)
    b = a + rng.normal(1, 0.5, 12)
    result = paired_statistics(a, b)
    test = stats.ttest_rel(b, a)
    lo, hi = test.confidence_interval(0.95)
    assert result["diff"] == pytest.approx(np.mean(b - a))
    assert (result["lo"], result["hi"]) == pytest.approx((lo, hi))
    assert result["p_value"] == pytest.approx(test.pvalue)


def test_paired_statistics_leave_out_undefined_replications():
    result = paired_statistics(np.array([1.0, np.nan, 3.0, 4.0]), np.array([2.0, 5.0, np.nan, 6.0]))
    assert result["replications"] == 2 and result["diff"] == pytest.approx(1.5)


@pytest.mark.parametrize("sd, half_width", [(1.0, 0.1), (1.0, 1.0), (17853.0, 68217.0), (3.0, 0.01)])
def test_replications_needed_is_the_first_count_whose_interval_is_narrow_enough(sd, half_width):
    n = int(replications_needed(sd, half_width))

    def half(count):
        return stats.t.ppf(0.975, count - 1) * sd / math.sqrt(count)

    assert half(n) <= half_width
    assert n == 2 or half(n - 1) > half_width


def test_precision_is_relative_with_a_percent_sign_and_absolute_without():
    assert parse_precision("5%") == Precision(0.05, True)
    assert parse_precision("5000") == Precision(5000.0, False)
    assert Precision(0.05, True).half_width(-200.0, 100.0) == pytest.approx(10.0)


@pytest.mark.parametrize(
    "options, message",
    [
        (["-r", "1"], "--replications 1: needs at least 2"),
        (["-r", "many"], "--replications many: expected a whole number or 'auto'"),
        (["-r", "auto"], "--replications auto: needs --precision"),
        (["--precision", "5000"], "--precision 5000: a number alone is in no one unit"),
        (["--precision=-3%"], "must be a positive number"),
        (["--precision", "profits=3"], "'profits' is not a compared measure"),
        (["--measures", "profits"], "measure 'profits': not a summary measure"),
        (["--set-b", "firms.0.price=-3"], "B: built-in scenario 'baseline': firms.0.price"),
        (["--set-a", "market.nope=1"], "A: built-in scenario 'baseline'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, options, message):
    out = tmp_path / "cmp"
    code = main(["compare", "baseline", "baseline", *SMALL_SET, "--out", str(out), "--quiet", *options])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert message in error and "\n" not in error
    assert not out.exists()


def test_scenarios_with_different_firms_are_refused(capsys):
    code = main(["compare", "baseline", "bass", "--quiet"])
    assert code == 2
    assert "firms are compared by position" in capsys.readouterr().err


def test_cli_writes_the_comparison_table_pairs_figure_and_manifest(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main([
        "compare", "baseline", "baseline", *SMALL_SET, "--set-b", "firms.1.sales.salespeople=10",
        "-r", "3", "--seed", "4", "--workers", "1", "--out", str(out), "--precision", "profit=5000", "--quiet",
    ])
    printed = capsys.readouterr().out
    assert code == 0
    assert "B: baseline [firms.1.sales.salespeople=10]" in printed and "Closer" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns[:8]) == ["firm", "measure", "a_mean", "b_mean", "diff", "lo", "hi", "significant"]
    for column in ("firm", "measure", "a_mean", "b_mean", "diff", "lo", "hi", "significant", "replications_needed"):
        assert column in table.columns
    assert len(table) == 2 * len(HEADLINE_MEASURES)
    profit = table[table["measure"] == "profit"]
    assert (profit["precision"] == "5000").all()
    pairs = pd.read_csv(out / "pairs.csv")
    assert len(pairs) == 2 * 3 * 2  # sides x replications x firms
    assert (out / "comparison.png").stat().st_size > 10_000
    assert (out / "manifest.json").is_file()
    assert not list(tmp_path.glob(".cmp*"))  # no temporary folder left behind


def test_compare_is_importable_from_the_package():
    assert funnelsim.compare is compare


def test_a_process_pool_gives_the_same_comparison_as_this_process():
    settings = {"overrides": {"market.consumers": 400, "market.steps": 30}, "overrides_b": {"firms.0.price": 2500.0}, "replications": 2, "seed": 8}
    here = compare("baseline", "baseline", workers=1, **settings)
    pool = compare("baseline", "baseline", workers=2, **settings)
    pd.testing.assert_frame_equal(here.table, pool.table)
