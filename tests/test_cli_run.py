"""``funnelsim run`` (and scenarios, validate, report) end to end, in a subprocess as a user runs it.

Runs are small (300 consumers, 30 steps) and the main one is shared by several tests, so the
file takes seconds. The subprocess's output is a pipe, not a terminal: no progress bar.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from funnelsim import MarketModel, load_results, load_scenario
from funnelsim.experiments.engine import replication_stream
from funnelsim.model.metrics import COLUMNS

SMALL = ["--set", "market.consumers=300", "--steps", "30"]
REPLICATIONS = 3
STEPS = 30
FIRMS = ["Loudmouth", "Closer"]  # the baseline's firms, in order
SUMMARY_MEASURES = ["customers", "market_share", "revenue", "profit", "acquisition_cost", "marketing_return", "sales_return"]
FIGURES = ["funnel.png", "market_share.png", "revenue_profit.png", "spend.png"]


def funnelsim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "funnelsim", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def small_run(out: Path, *extra: str, seed: int = 11, workers: int = 1) -> subprocess.CompletedProcess:
    result = funnelsim(
        "run", "baseline", *SMALL, "--replications", str(REPLICATIONS), "--seed", str(seed),
        "--workers", str(workers), "--out", str(out), *extra, cwd=out.parent,
    )
    assert result.returncode == 0, result.stderr
    return result


def tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The time series and the summary, as funnelsim.load_results reads them (run time dropped)."""
    results = load_results(folder)
    return results.timeseries, results.summary.drop(columns="elapsed_seconds")


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("run") / "a"
    return out, small_run(out)


# ---------------------------------------------------------------------------------------------
# What a run writes


def test_a_small_run_writes_the_four_outputs_with_the_promised_columns(run_a):
    folder, _ = run_a
    # The one results format of runs and sweeps (a run is a sweep of one design point).
    assert sorted(path.name for path in folder.iterdir()) == ["design.parquet", "figures", "manifest.json", "runs", "timeseries"]

    timeseries, summary = tables(folder)
    assert list(timeseries.columns) == ["run_id", "point_id", "replication", "step", "firm", *COLUMNS]
    assert len(timeseries) == REPLICATIONS * (STEPS + 1) * len(FIRMS)  # step 0 is the initial state
    assert timeseries.groupby(["replication", "step", "firm"]).size().eq(1).all()
    assert sorted(timeseries["replication"].unique()) == list(range(REPLICATIONS))
    assert timeseries["step"].max() == STEPS

    assert len(summary) == REPLICATIONS * len(FIRMS)
    assert list(summary.columns[:5]) == ["run_id", "point_id", "replication", "seed", "firm"]
    assert set(SUMMARY_MEASURES) <= set(summary.columns)
    assert list(summary["firm"][:2]) == FIRMS
    last = timeseries[timeseries["step"] == STEPS].sort_values(["replication", "firm"]).reset_index(drop=True)
    by_firm = summary.sort_values(["replication", "firm"]).reset_index(drop=True)
    assert (by_firm["customers"] == last["customers"]).all()

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["market"]["consumers"] == 300
    assert manifest["scenario"]["market"]["steps"] == STEPS
    assert [firm["name"] for firm in manifest["scenario"]["firms"]] == FIRMS
    assert manifest["seed"] == 11 and manifest["replications"] == REPLICATIONS and manifest["kind"] == "run"
    assert (summary["seed"] == 11).all()
    assert "spawn_key=(r,)" in manifest["seed_rule"]
    assert manifest["command"].startswith("funnelsim run baseline") or "run baseline" in manifest["command"]
    environment = manifest["environment"]
    assert environment["funnelsim"] and environment["python"]
    assert {"mesa", "numpy", "pandas", "scipy", "networkx", "pyarrow", "matplotlib"} <= set(environment["libraries"])
    assert all(environment["libraries"][name] for name in ("mesa", "numpy", "pandas", "scipy", "networkx", "pyarrow"))
    assert "git_commit" in environment
    assert manifest["started_at"] <= manifest["finished_at"]

    import matplotlib.image

    assert sorted(path.name for path in (folder / "figures").iterdir()) == FIGURES
    for name in FIGURES:
        height, width, _ = matplotlib.image.imread(folder / "figures" / name).shape
        assert height > 300 and width > 600


def test_the_run_prints_a_summary_table_and_no_progress_bar_when_not_on_a_terminal(run_a):
    folder, result = run_a
    assert result.stderr == ""
    for word in (*FIRMS, "customers", "market share", "revenue", "profit", "acquisition cost", "marketing return",
                 "sales return", "±", str(folder)):
        assert word in result.stdout


def test_replications_differ_and_each_replays_from_the_seed_and_its_index(run_a):
    folder, _ = run_a
    timeseries, _ = tables(folder)
    customers = [part["customers"].to_numpy() for _, part in timeseries.groupby("replication")]
    assert any((customers[0] != other).any() for other in customers[1:])

    manifest = json.loads((folder / "manifest.json").read_text())
    replication = timeseries[timeseries["replication"] == 1]
    model = MarketModel(load_scenario(manifest["scenario"]), rng=replication_stream(manifest["seed"], 1))
    again = model.run(STEPS)
    pd.testing.assert_frame_equal(
        replication.drop(columns=["run_id", "point_id", "replication"]).reset_index(drop=True), again, check_dtype=False
    )


def test_the_same_seed_repeats_exactly_and_two_workers_give_the_same_tables(run_a, tmp_path):
    folder, _ = run_a
    serial_again = small_run(tmp_path / "again")
    parallel = small_run(tmp_path / "parallel", workers=2)
    expected_timeseries, expected_summary = tables(folder)
    for other in (tmp_path / "again", tmp_path / "parallel"):
        timeseries, summary = tables(other)
        pd.testing.assert_frame_equal(timeseries, expected_timeseries)
        pd.testing.assert_frame_equal(summary, expected_summary)
    assert serial_again.stdout.splitlines()[2:10] == parallel.stdout.splitlines()[2:10]


def test_overwrite_replaces_an_earlier_results_folder(run_a, tmp_path):
    earlier, _ = run_a
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    (out / "figures").mkdir(exist_ok=True)
    (out / "figures" / "stale.png").write_text("from before")
    result = funnelsim("run", "baseline", "--set", "market.consumers=100", "--steps", "5", "-r", "1", "--seed", "1",
                       "--out", "out", "--overwrite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (out / "figures" / "stale.png").exists()
    assert load_results(out).timeseries["step"].max() == 5
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no temporary folders left


def test_without_out_a_new_folder_appears_under_results(tmp_path):
    result = funnelsim("run", "baseline", "--set", "market.consumers=100", "--steps", "2", "-r", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (made,) = (tmp_path / "results").iterdir()
    assert made.name.startswith("baseline-") and (made / "manifest.json").is_file()
    assert json.loads((made / "manifest.json").read_text())["seed"] >= 0  # a fresh seed, recorded


# ---------------------------------------------------------------------------------------------
# Bad input: exit code 2, one line naming the problem, nothing written


BAD_SCENARIO = """
name = "broken"
[market]
in_market_share = 1.5
[[firms]]
name = "Solo"
"""


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["run", "missing.toml"], "missing.toml"),
        (["run", "nosuchscenario"], "nosuchscenario"),
        (["run", "broken.toml"], "market.in_market_share"),
        (["run", "baseline", "--set", "market.colour=3"], "market.colour"),
        (["run", "baseline", "--set", "market.consumers=many"], "market.consumers"),
        (["run", "baseline", "--set", "market.consumers"], "KEY=VALUE"),
        (["run", "baseline", "--out", "existing"], "existing"),
    ],
    ids=["missing-file", "unknown-builtin", "bad-scenario", "unknown-key", "wrong-type", "set-without-value",
         "existing-out"],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, arguments, named):
    (tmp_path / "broken.toml").write_text(BAD_SCENARIO)
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "keep.txt").write_text("mine")
    if "--out" not in arguments:
        arguments = [*arguments, "--out", "new"]
    before = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))

    result = funnelsim(*arguments, "--steps", "2", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("funnelsim run: error: ") and named in lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")) == before
    assert (tmp_path / "existing" / "keep.txt").read_text() == "mine"


# ---------------------------------------------------------------------------------------------
# Ctrl-C


def _session_processes(session: int) -> list[int]:
    """Live (not zombie) processes of a session, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find leftover processes")
@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_the_run_and_its_workers_and_leaves_no_results_folder(tmp_path, workers):
    process = subprocess.Popen(
        [sys.executable, "-m", "funnelsim", "run", "baseline", "--set", "market.consumers=2000", "--steps", "100000",
         "-r", "2", "--workers", workers, "--out", "out"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, which a terminal's Ctrl-C signals as a whole
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.*.tmp")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        assert list(tmp_path.glob(".out.*.tmp")), "the run never started writing"
        time.sleep(3)  # let the workers get into their replications (pacing only)
        assert process.poll() is None
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 30
    while _session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session_processes(process.pid) == []


# ---------------------------------------------------------------------------------------------
# scenarios, validate, report


def test_scenarios_lists_the_built_ins_with_a_line_each(tmp_path):
    result = funnelsim("scenarios", cwd=tmp_path)
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert {"baseline", "bass"} <= set(lines)
    assert "Loudmouth" in lines["baseline"] and "Bass" in lines["bass"]


def test_validate_says_a_good_file_is_fine_and_names_the_problem_in_a_bad_one(tmp_path):
    (tmp_path / "good.toml").write_text('name = "solo"\n[market]\nconsumers = 50\n[[firms]]\nname = "Solo"\n')
    (tmp_path / "broken.toml").write_text(BAD_SCENARIO)
    good = funnelsim("validate", "good.toml", cwd=tmp_path)
    assert good.returncode == 0 and "good.toml: ok" in good.stdout and "50 consumers" in good.stdout
    bad = funnelsim("validate", "broken.toml", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "broken.toml" in bad.stderr and "market.in_market_share" in bad.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.toml", "good.toml"]


def test_report_redraws_the_figures_of_a_results_folder(run_a, tmp_path):
    folder, _ = run_a
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "figures")
    result = funnelsim("report", str(copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (copy / "figures").iterdir()) == FIGURES
    assert "Loudmouth" in result.stdout
    assert sorted(path.name for path in copy.iterdir()) == sorted(path.name for path in folder.iterdir())


def test_report_on_a_folder_that_is_not_a_run_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = funnelsim("report", "empty", cwd=tmp_path)
    assert result.returncode == 2 and "manifest.json" in result.stderr and "Traceback" not in result.stderr
    assert list((tmp_path / "empty").iterdir()) == []


# ---------------------------------------------------------------------------------------------
# The pieces, in this process


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("0.5", 0.5), ("true", True), ('"two words"', "two words"), ("[1, 2]", [1, 2]), ("hubs", "hubs")],
)
def test_set_values_are_read_as_toml_and_a_bare_word_as_text(text, value):
    from funnelsim.cli.run import parse_set_options

    assert parse_set_options([f"a.b={text}"]) == {"a.b": value}


def test_an_interrupted_atomic_folder_leaves_nothing_and_a_finished_one_appears_whole(tmp_path):
    from funnelsim.experiments.results_folder import atomic_directory

    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(tmp_path / "out") as temporary:
            (temporary / "half.txt").write_text("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(tmp_path / "out") as temporary:
        (temporary / "whole.txt").write_text("whole")
        assert not (tmp_path / "out").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["out"]
    assert (tmp_path / "out" / "whole.txt").read_text() == "whole"


def test_replication_streams_are_distinct_and_depend_only_on_the_seed_and_the_index():
    states = [tuple(replication_stream(5, r).generate_state(2)) for r in range(100)]
    assert len(set(states)) == 100
    assert tuple(replication_stream(5, 2).generate_state(2)) == states[2]
    assert tuple(replication_stream(6, 2).generate_state(2)) != states[2]
