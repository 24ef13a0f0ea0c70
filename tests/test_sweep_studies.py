"""The example sweeps that ship with funnelsim are valid and as large as their comments say."""

from __future__ import annotations

import pytest

from funnelsim.cli.sweep import built_in_studies, resolve_sweep_path
from funnelsim.experiments.sweep_plan import make_plan
from funnelsim.experiments.sweep_spec import read_sweep_file

EXPECTED_RUNS = {
    "budget_split": 198,
    "sensitivity": 768,
    "screening": 90,
    "marketing_or_sales": 15,
    "sales_bottleneck": 24,
    "population_scale": 9,
    "channels": 12,
    "sales_tactics": 20,
    "topology_seeding": 24,
    "two_returns": 15,
    "placeholder_screening": 200,
    "placeholders": 448,
}


def test_the_built_in_studies_are_the_documented_ones():
    assert set(built_in_studies()) == set(EXPECTED_RUNS)


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNS))
def test_a_built_in_study_plans_without_errors(name):
    path = resolve_sweep_path(name)
    spec, text = read_sweep_file(path)
    plan = make_plan(spec, path, spec.seed)
    assert plan.n_runs == EXPECTED_RUNS[name]
    assert f"{EXPECTED_RUNS[name]} runs" in text


def test_the_budget_split_spends_the_same_budget_at_every_point():
    path = resolve_sweep_path("budget_split")
    spec, _ = read_sweep_file(path)
    table = make_plan(spec, path, spec.seed).point_table()
    spend = table["firms.0.marketing.budget_per_step"] + 80 * table["firms.0.sales.salespeople"]
    assert (spend == 800).all()
    assert table["firms.0.sales.salespeople"].tolist()[:: 6] == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]


def test_one_channel_at_a_time_spends_the_whole_mix_on_it():
    path = resolve_sweep_path("channels")
    spec, _ = read_sweep_file(path)
    table = make_plan(spec, path, spec.seed).point_table()
    mix = table[[f"firms.0.marketing.mix.{c}" for c in ("email", "blogging", "media", "jingles")]]
    assert (mix.sum(axis=1) == 1.0).all() and (mix.max(axis=1) == 1.0).all()


def test_population_scale_holds_the_salesforce_in_one_arm_and_scales_it_in_the_other():
    path = resolve_sweep_path("population_scale")
    spec, _ = read_sweep_file(path)
    table = make_plan(spec, path, spec.seed).point_table().set_index("arm")
    consumers = table["market.consumers"]
    assert consumers.tolist() == [10_000, 100_000, 100_000]
    # Marketing per head is the same in every arm.
    assert (table["firms.0.marketing.budget_per_step"] / consumers == 0.02).all()
    assert (table["firms.1.marketing.budget_per_step"] / consumers).round(6).eq(0.012).all()
    # Salespeople: held at 2 and 6 in arm 1, ten times that (per head as in the baseline) in arm 2.
    assert table.loc[1, ["firms.0.sales.salespeople", "firms.1.sales.salespeople"]].tolist() == [2, 6]
    assert table.loc[2, ["firms.0.sales.salespeople", "firms.1.sales.salespeople"]].tolist() == [20, 60]


def test_two_returns_uses_unequal_prices_and_churn_so_share_and_revenue_can_disagree():
    spec, _ = read_sweep_file(resolve_sweep_path("two_returns"))
    assert spec.fixed["firms.0.price"] != spec.fixed["firms.1.price"]
    assert spec.fixed["market.churn_rate"] > 0
