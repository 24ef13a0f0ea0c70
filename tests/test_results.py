"""The one results format: run and sweep folders, their reader, and the front door's rules.

Small runs (150-200 consumers, 10-20 steps) in this process where possible; subprocesses only
where the test is about processes (kill -9).
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from funnelsim import MarketModel, load_results, load_scenario
from funnelsim.cli import main

TESTS_DIR = str(Path(__file__).parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # sweep_fakes, for the sweep with failing runs

SMALL_RUN = ["--set", "market.consumers=150", "--steps", "10", "-r", "2", "--seed", "3", "--quiet"]

#: A sweep whose middle price fails every run, one run per part file: parts with only failed
#: runs (every measure null) sit beside parts with only good ones, which once gave parts with
#: different schemas.
FAILING_SWEEP = """
scenario = "baseline"
steps = 5
replications = 2
seed = 9
run_function = "sweep_fakes:fail_on_high_price"
[fixed]
"market.consumers" = 100
[parameters]
"firms.0.price" = { levels = [100.0, 200.0, 120.0] }
[design]
kind = "grid"
"""

MODEL_SWEEP = """
scenario = "baseline"
steps = 10
replications = 2
seed = 4
[fixed]
"market.consumers" = 150
[parameters]
"firms.0.price" = { levels = [1500.0, 2500.0] }
[design]
kind = "grid"
[outputs]
summary = ["profit", "customers"]
timeseries = ["customers"]
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    run = root / "run"
    assert main(["run", "baseline", *SMALL_RUN, "--workers", "1", "--out", str(run)]) == 0
    sweep_file = root / "model.toml"
    sweep_file.write_text(textwrap.dedent(MODEL_SWEEP), encoding="utf-8")
    sweep = root / "sweep"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep_file), "--out", str(sweep), "--serial", "--quiet"]) == 0
    failing_file = root / "failing.toml"
    failing_file.write_text(textwrap.dedent(FAILING_SWEEP), encoding="utf-8")
    failing = root / "failing"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(failing_file), "--out", str(failing), "--serial", "--quiet", "--batch-size", "1"]) == 1
    return {"run": run, "sweep": sweep, "failing": failing}


def test_a_run_folder_opens_with_load_results(folders):
    results = load_results(folders["run"])
    assert results.kind == "run"
    firms = ["Loudmouth", "Closer"]
    summary = results.summary
    assert len(summary) == 2 * len(firms)  # replications x firms, long layout
    assert summary["firm"].tolist() == firms * 2 and summary["replication"].tolist() == [0, 0, 1, 1]
    assert len(results.timeseries) == 2 * 11 * len(firms)  # replications x (steps + 1) x firms
    assert len(results.points) == 1 and results.failed.empty
    # The summary is the model's own: replication 1 rerun by hand from the manifest's seed rule.
    from funnelsim.experiments.engine import replication_stream

    model = MarketModel(load_scenario(results.manifest["scenario"]), rng=replication_stream(3, 1))
    model.run(10)
    expected = model.summary().set_index("firm")
    row = summary[(summary["replication"] == 1) & (summary["firm"] == "Closer")].iloc[0]
    assert row["profit"] == expected.at["Closer", "profit"] and row["customers"] == expected.at["Closer", "customers"]
    manifest = results.manifest
    assert manifest["started_at"] <= manifest["finished_at"]
    assert manifest["environment"]["libraries"]["numpy"] == np.__version__


def test_a_sweep_folder_opens_with_load_results_and_duckdb(folders):
    results = load_results(folders["sweep"])
    assert results.kind == "sweep"
    assert list(results.points["firms.0.price"]) == [1500.0, 2500.0]
    summary = results.summary
    assert len(summary) == 2 * 2 * 2  # points x replications x firms
    assert {"firm", "profit", "customers", "firms.0.price"} <= set(summary.columns)
    assert not any("." in column and column.split(".")[-1] in ("profit", "customers") for column in summary.columns)
    assert set(results.timeseries.columns) == {"run_id", "point_id", "replication", "step", "firm", "customers"}
    connection = results.connect()
    try:
        by_firm = connection.execute("SELECT firm, count(*) FROM runs GROUP BY firm ORDER BY firm").fetchall()
    finally:
        connection.close()
    assert by_firm == [("Closer", 4), ("Loudmouth", 4)]
    assert results.manifest["finished_at"] >= results.manifest["started_at"]


def test_common_random_numbers_replication_r_of_every_point_shares_its_stream(tmp_path):
    """Two points that differ only in a label (the step unit's name) are the same market: with
    replication r drawing the same stream at every point, they give identical runs, while the
    replications of one point differ."""
    sweep_file = tmp_path / "label.toml"
    sweep_file.write_text(
        textwrap.dedent(
            """
            scenario = "baseline"
            steps = 8
            replications = 2
            seed = 21
            [fixed]
            "market.consumers" = 120
            [parameters]
            "market.step_unit" = { levels = ["day", "week"] }
            [design]
            kind = "grid"
            [outputs]
            summary = ["profit", "customers", "revenue"]
            """
        ),
        encoding="utf-8",
    )
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep_file), "--out", str(tmp_path / "out"), "--serial", "--quiet"]) == 0
    summary = load_results(tmp_path / "out").summary
    by_point = [part.set_index(["replication", "firm"])[["profit", "customers", "revenue"]] for _, part in summary.groupby("point_id")]
    pd.testing.assert_frame_equal(by_point[0], by_point[1])
    first = by_point[0].xs(0, level="replication")
    second = by_point[0].xs(1, level="replication")
    assert not first.equals(second)


def test_polars_pandas_duckdb_and_pyarrow_read_a_sweep_folder_directly(folders):
    import duckdb
    import polars as pl
    import pyarrow.dataset as ds

    runs = folders["failing"] / "runs"
    assert len(list(runs.glob("part-*.parquet"))) == 6  # one run per part, failed and ok apart
    with_polars = pl.read_parquet(str(runs / "*.parquet"))
    with_pandas = pd.read_parquet(runs)
    with_duckdb = duckdb.sql(f"SELECT * FROM read_parquet('{runs}/*.parquet')").df()
    with_arrow = ds.dataset(runs, format="parquet").to_table()
    for table in (with_polars, with_pandas, with_duckdb, with_arrow):
        assert len(table) == 6
        assert list(table.columns if not isinstance(table, pa.Table) else table.column_names)[-2:] == ["firm", "profit"]
    assert with_arrow.schema.field("error").type == pa.string()
    assert with_arrow.schema.field("traceback").type == pa.string()
    assert with_arrow.schema.field("profit").type == pa.float64()
    assert with_polars.filter(pl.col("status") == "failed").height == 2
    failed = load_results(folders["failing"]).failed
    assert failed["point_id"].tolist() == [1, 1] and failed["error"].str.contains("too high").all()


def test_a_file_network_is_read_once_and_travels_with_the_scenario(tmp_path, monkeypatch):
    from funnelsim.experiments.engine import evaluate
    from funnelsim.model import network

    edges = tmp_path / "ring.edges"
    edges.write_text("".join(f"{i} {(i + 1) % 60}\n{i} {(i + 7) % 60}\n" for i in range(60)), encoding="utf-8")
    (tmp_path / "ring.toml").write_text(
        'name = "ring"\n[network]\nkind = "file"\npath = "ring.edges"\n[[firms]]\nname = "Solo"\n', encoding="utf-8"
    )
    reads = []
    original = network.read_network_file
    monkeypatch.setattr(network, "read_network_file", lambda *args, **kw: reads.append(args) or original(*args, **kw))

    scenario = load_scenario(tmp_path / "ring.toml")
    assert len(reads) == 1 and scenario.market.consumers == 60
    first = MarketModel(scenario, rng=1).run(5)
    evaluate(scenario, [{}, {"firms.0.price": 90.0}], replications=2, seed=1, steps=5)
    assert len(reads) == 1  # not per model, per point or per replication
    # What a remote worker gets: the scenario, pickled, with the graph and no need for the file.
    shipped = pickle.loads(pickle.dumps(scenario))
    edges.unlink()
    pd.testing.assert_frame_equal(MarketModel(shipped, rng=1).run(5), first)
    assert len(shipped.network._loaded.sha256) == 64


def test_a_builtin_name_is_not_shadowed_by_a_same_named_file_or_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").mkdir()  # a results folder someone called baseline
    (tmp_path / "bass").write_text('name = "not the built-in"\n[[firms]]\nname = "Solo"\n', encoding="utf-8")
    assert main(["validate", "baseline"]) == 0
    assert main(["validate", "bass"]) == 0
    printed = capsys.readouterr().out
    assert "built-in scenario 'baseline'" in printed and "built-in scenario 'bass'" in printed
    assert "not the built-in" not in printed
    # A path that looks like one is the file, and the output says so.
    (tmp_path / "mine.toml").write_text('name = "mine"\n[[firms]]\nname = "Solo"\n', encoding="utf-8")
    assert main(["validate", "./mine.toml"]) == 0
    assert "scenario file ./mine.toml" in capsys.readouterr().out
    # A bare name that is only a file here: an error that says how to name the file.
    (tmp_path / "mine").write_text('name = "mine"\n[[firms]]\nname = "Solo"\n', encoding="utf-8")
    assert main(["validate", "mine"]) == 2
    assert "for the file, write ./mine" in capsys.readouterr().err


def test_did_you_mean_for_a_misspelt_setting_and_command(tmp_path, capsys):
    assert main(["validate", "baseline", "--set", "market.consumer=300"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "did you mean 'market.consumers'?" in error
    assert main(["validate", "baselin"]) == 2
    assert "did you mean 'baseline'?" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["rnu", "baseline"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "did you mean 'run'?" in error
    # In a scenario file too: an unknown key names the closest setting of its table.
    (tmp_path / "typo.toml").write_text('[[firms]]\nname = "Solo"\nprise = 3\n', encoding="utf-8")
    assert main(["validate", str(tmp_path / "typo.toml")]) == 2
    assert "firms.0.prise: unknown setting (did you mean 'price'?)" in capsys.readouterr().err


def test_verbose_logs_through_the_logging_module(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "baseline", *SMALL_RUN[:-1], "--no-figures", "-v", "--out", str(out)]) == 0
    assert "funnelsim: baseline: 2 replications on " in capsys.readouterr().err
    assert not (out / "figures").exists()


def test_scheduler_without_dask_names_the_extra(monkeypatch):
    from funnelsim.errors import UsageError
    from funnelsim.experiments.executors import open_executor

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(UsageError, match=r"pip install 'funnelsim\[dask\]'"):
        with open_executor(scheduler="tcp://127.0.0.1:1"):
            pass


def _session_processes(session: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find leftover processes")
def test_kill_9_of_a_run_with_two_workers_leaves_no_worker_behind(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "funnelsim", "run", "baseline", "--set", "market.consumers=2000", "--steps", "100000",
         "-r", "2", "--workers", "2", "--out", "out"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        def started() -> bool:  # driver + 2 workers, and the run's hidden temporary folder
            return len(_session_processes(process.pid)) >= 3 and any(tmp_path.glob(f".out.{process.pid}-*.tmp"))

        while not started() and time.monotonic() < deadline:
            assert process.poll() is None
            time.sleep(0.1)
        assert started(), "the workers never started"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 30  # the workers' watchdog looks once a second
        while _session_processes(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _session_processes(process.pid) == []
    finally:
        for pid in _session_processes(process.pid):
            os.kill(pid, signal.SIGKILL)
    # Its hidden temporary folder is left (nothing runs at kill -9); the next run into the same
    # folder removes it once it is older than a few minutes (aged here) and its process is gone.
    from funnelsim.experiments.results_folder import STALE_AFTER_SECONDS

    (leftover,) = tmp_path.glob(f".out.{process.pid}-*.tmp")
    old = time.time() - STALE_AFTER_SECONDS - 1
    os.utime(leftover, (old, old))
    assert main(["run", "baseline", *SMALL_RUN, "--workers", "1", "--out", str(tmp_path / "next")]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["next"]


def test_a_long_run_reports_its_steps_as_it_goes_so_the_bar_moves():
    from funnelsim.experiments import progress
    from funnelsim.experiments.run_functions import PROGRESS_REPORTS, run_market_model
    from funnelsim.experiments.sweep_plan import make_run_plan

    scenario = load_scenario("baseline", {"market.consumers": 100})
    plan = make_run_plan(scenario, replications=1, seed=1, steps=100, timeseries=())
    reports: list[tuple[int, int]] = []
    previous = progress.set_reporter(lambda run_id, steps: reports.append((run_id, steps)))
    try:
        run_market_model(plan.task(0))
    finally:
        progress.set_reporter(previous)
    assert len(reports) == PROGRESS_REPORTS and sum(steps for _, steps in reports) == 100
    assert {run_id for run_id, _ in reports} == {0}
