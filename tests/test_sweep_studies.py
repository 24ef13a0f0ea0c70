"""The example sweeps that ship with funnelsim are valid and as large as their comments say."""

from __future__ import annotations

import pytest

from funnelsim.experiments.sweep_command import built_in_studies, resolve_sweep_path
from funnelsim.experiments.sweep_plan import make_plan
from funnelsim.experiments.sweep_spec import read_sweep_file

EXPECTED_RUNS = {
    "budget_split": 198,
    "sensitivity": 768,
    "screening": 90,
    "marketing_or_sales": 15,
    "sales_bottleneck": 24,
    "population_scale": 6,
    "channels": 12,
    "sales_tactics": 20,
    "topology_seeding": 24,
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
