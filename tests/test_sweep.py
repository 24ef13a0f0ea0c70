"""Sweeps on one machine: the local process pool, serial runs, failures, resume and bad input."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnelsim import MarketModel, load_scenario
from funnelsim.cli import main
from funnelsim.experiments.analysis import wide_runs
from funnelsim.experiments.results_store import read_runs, read_timeseries

TESTS_DIR = str(Path(__file__).parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # spawned pool workers inherit sys.path and import sweep_fakes

#: A tiny sweep of the real model: 2 prices x 2 budgets x 2 replications = 8 runs.
GRID_SWEEP = """
description = "tiny grid of the real model"
scenario = "baseline"
steps = 20
replications = 2
seed = 2024

[fixed]
"market.consumers" = 200

[parameters]
"firms.0.price" = { levels = [1500.0, 2500.0] }
"firms.0.marketing.budget_per_step" = { low = 100.0, high = 600.0, num = 2 }

[design]
kind = "grid"

[outputs]
summary = ["profit", "customers", "market_share"]
timeseries = ["customers", "leads"]
"""

# Columns that legitimately differ between executions of the same run.
TIMING = ["elapsed_seconds"]


def runs_of(out: Path) -> pd.DataFrame:
    """One row per run with "<firm>.<measure>" columns, from the long layout on disk."""
    return wide_runs(read_runs(out))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def grid_on_pool(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    sweep = write(folder, "grid.toml", GRID_SWEEP)
    out = folder / "pool"
    code = main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--workers", "2", "--quiet"])
    return sweep, out, code


def test_local_pool_runs_every_run_once_with_its_parameters_and_seed(grid_on_pool):
    _, out, code = grid_on_pool
    assert code == 0
    runs = runs_of(out)
    assert runs["run_id"].tolist() == list(range(8))
    assert (runs["status"] == "ok").all()
    assert runs["point_id"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert runs["replication"].tolist() == [0, 1] * 4
    assert (runs["seed"] == 2024).all()
    assert sorted(runs["firms.0.price"].unique()) == [1500.0, 2500.0]
    assert {"Loudmouth.profit", "Closer.profit", "Loudmouth.customers", "Closer.market_share"} <= set(runs.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_runs"] == 8 and manifest["seed"] == 2024
    # Replications of one point differ: each run has its own stream.
    first_point = runs[runs["point_id"] == 0]
    assert first_point["Loudmouth.profit"].nunique() == 2


def test_a_run_record_is_the_model_run_with_the_stream_of_its_replication(grid_on_pool):
    _, out, _ = grid_on_pool
    runs = runs_of(out).set_index("run_id")
    run_id = 5
    record = runs.loc[run_id]
    scenario = load_scenario(
        "baseline",
        overrides={
            "market.consumers": 200,
            "firms.0.price": record["firms.0.price"],
            "firms.0.marketing.budget_per_step": record["firms.0.marketing.budget_per_step"],
        },
    )
    # Replication r of every point uses SeedSequence(seed, spawn_key=(r,)): common random numbers.
    model = MarketModel(scenario, rng=np.random.SeedSequence(2024, spawn_key=(int(record["replication"]),)))
    model.run(20)
    summary = model.summary().set_index("firm")
    assert record["Loudmouth.profit"] == summary.at["Loudmouth", "profit"]
    assert record["Closer.customers"] == summary.at["Closer", "customers"]


def test_time_series_are_kept_only_for_the_columns_asked_for(grid_on_pool):
    _, out, _ = grid_on_pool
    series = read_timeseries(out)
    assert list(series.columns) == ["run_id", "point_id", "replication", "step", "firm", "customers", "leads"]
    assert len(series) == 8 * 21 * 2  # runs x (steps + initial state) x firms
    final = series[series["step"] == 20].set_index(["run_id", "firm"])["customers"]
    runs = runs_of(out).set_index("run_id")
    assert final.loc[(3, "Loudmouth")] == runs.at[3, "Loudmouth.customers"]


def test_serial_run_gives_identical_results_to_the_pool(grid_on_pool, tmp_path):
    sweep, pool_out, _ = grid_on_pool
    serial_out = tmp_path / "serial"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(serial_out), "--serial", "--quiet"]) == 0
    pd.testing.assert_frame_equal(
        runs_of(serial_out).drop(columns=TIMING), runs_of(pool_out).drop(columns=TIMING)
    )
    pd.testing.assert_frame_equal(read_timeseries(serial_out), read_timeseries(pool_out))


def test_resume_of_a_finished_sweep_runs_nothing_again(grid_on_pool, tmp_path, capsys):
    sweep, out, _ = grid_on_pool
    before = runs_of(out)
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--resume", "--serial", "--quiet"]) == 0
    pd.testing.assert_frame_equal(runs_of(out), before)
    assert "8 runs were already done" in capsys.readouterr().err


def test_analyze_writes_point_table_and_figures(grid_on_pool, capsys):
    _, out, _ = grid_on_pool
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "output: Loudmouth.profit" in printed
    table = pd.read_csv(out / "analysis" / "points.csv")
    assert len(table) == 4
    assert (table["runs_ok"] == 2).all()
    runs = runs_of(out)
    expected = runs.groupby("point_id")["Loudmouth.profit"].mean().to_numpy()
    np.testing.assert_allclose(table["Loudmouth.profit mean"], expected)
    for figure in ("main_effects_Loudmouth.profit.png", "heatmap_Loudmouth.profit.png"):
        assert (out / "analysis" / figure).stat().st_size > 1000


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    sweep = write(
        tmp_path,
        "failing.toml",
        """
        scenario = "baseline"
        steps = 20
        replications = 3
        seed = 9
        run_function = "sweep_fakes:fail_on_high_price"
        [fixed]
        "market.consumers" = 200
        [parameters]
        "firms.0.price" = { levels = [100.0, 200.0, 120.0] }
        [design]
        kind = "grid"
        """,
    )
    out = tmp_path / "out"
    code = main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--serial", "--quiet"])
    assert code == 1  # finished, but not every run succeeded
    assert "9 runs, 6 ok, 3 failed" in capsys.readouterr().err
    runs = runs_of(out)
    assert runs["run_id"].tolist() == list(range(9))
    failed = runs[runs["status"] == "failed"]
    assert failed["point_id"].tolist() == [1, 1, 1]
    assert failed["error"].str.startswith("ValueError: price 200.0 is too high").all()
    assert failed["traceback"].str.contains("fail_on_high_price").all()
    assert runs.loc[runs["status"] == "ok", "Firm A.profit"].notna().all()
    assert main(["analyze", str(out), "--no-figures"]) == 0
    table = pd.read_csv(out / "analysis" / "points.csv")
    assert table["runs_failed"].tolist() == [0, 3, 0]


def test_derived_settings_split_a_fixed_budget(tmp_path):
    sweep = write(
        tmp_path,
        "split.toml",
        """
        scenario = "baseline"
        steps = 20
        seed = 1
        run_function = "sweep_fakes:slow_draw"
        [fixed]
        "market.consumers" = 200
        [parameters]
        marketing_share = { low = 0.0, high = 1.0, num = 5 }
        [derived]
        "firms.0.marketing.budget_per_step" = "1000 * marketing_share"
        "firms.0.sales.salespeople" = "floor((1 - marketing_share) * 1000 / 80)"
        [design]
        kind = "grid"
        """,
    )
    out = tmp_path / "out"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--serial", "--quiet"]) == 0
    design = pd.read_parquet(out / "design.parquet")
    assert design["firms.0.marketing.budget_per_step"].tolist() == [0.0, 250.0, 500.0, 750.0, 1000.0]
    assert design["firms.0.sales.salespeople"].tolist() == [12, 9, 6, 3, 0]
    runs = runs_of(out)
    assert runs["firms.0.sales.salespeople"].dtype.kind == "i"


BAD_SWEEPS = {
    "unknown key": (
        '"firms.0.pricey" = { levels = [1.0, 2.0] }\n[design]\nkind = "grid"',
        'parameters."firms.0.pricey": no such setting',
    ),
    "low above high": (
        '"firms.0.price" = { low = 3.0, high = 1.0, num = 3 }\n[design]\nkind = "grid"',
        "low (3) is above high (1)",
    ),
    "empty design": ('\n[design]\nkind = "grid"', "no parameters to vary"),
    "empty levels": ('"firms.0.price" = { levels = [] }\n[design]\nkind = "grid"', "levels is empty"),
    "sobol size": (
        '"firms.0.price" = { low = 1.0, high = 3.0 }\n[design]\nkind = "sobol"\nsamples = 6',
        "sobol sampler rejects samples = 6",
    ),
    "value out of bounds": (
        '"market.in_market_share" = { levels = [0.5, 1.5] }\n[design]\nkind = "grid"',
        "market.in_market_share: input should be less than or equal to 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SWEEPS))
def test_bad_sweep_files_exit_2_with_one_line_and_start_nothing(case, tmp_path, capsys):
    body, expected = BAD_SWEEPS[case]
    sweep = write(tmp_path, "bad.toml", f'scenario = "baseline"\n[parameters]\n{body}\n')
    out = tmp_path / "out"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--serial"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and expected in error, error
    assert not out.exists()


def test_unreachable_scheduler_exits_2_and_starts_nothing(tmp_path, capsys):
    sweep = write(tmp_path, "grid.toml", GRID_SWEEP)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    code = main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "1"])
    assert code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot reach a Dask scheduler" in error
    assert not out.exists()


def test_an_existing_sweep_folder_needs_resume_and_the_same_sweep_file(grid_on_pool, tmp_path, capsys):
    sweep, out, _ = grid_on_pool
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--serial"]) == 2
    assert "add --resume" in capsys.readouterr().err
    changed = write(tmp_path, "changed.toml", GRID_SWEEP.replace("replications = 2", "replications = 3"))
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(changed), "--out", str(out), "--resume", "--serial"]) == 2
    assert "different sweep file" in capsys.readouterr().err
