"""A sweep whose driver is killed with SIGKILL finishes on --resume with every run exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnelsim.cli import main
from funnelsim.errors import UsageError
from funnelsim.experiments.results_store import ResultsStore, read_runs, read_timeseries
from funnelsim.experiments.run_functions import RunRecord

TESTS_DIR = Path(__file__).parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # the resumed driver (this process) and its workers import sweep_fakes
N_RUNS = 80

KILL_SWEEP = f"""
scenario = "baseline"
steps = 20
seed = 77
replications = 4
run_function = "sweep_fakes:slow_draw"
[fixed]
"market.consumers" = 200
[parameters]
"firms.0.price" = {{ low = 1000.0, high = 3000.0 }}
[design]
kind = "latin_hypercube"
samples = {N_RUNS // 4}
"""


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _wait_for(condition, limit_seconds: float, what: str) -> None:
    deadline = time.monotonic() + limit_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_driver_killed_with_sigkill_then_resumed_has_every_run_exactly_once(tmp_path):
    sweep = tmp_path / "kill.toml"
    sweep.write_text(textwrap.dedent(KILL_SWEEP), encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))}
    driver = subprocess.Popen(
        [sys.executable, "-m", "funnelsim", "sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--workers", "2", "--batch-size", "7", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    workers: list[int] = []
    try:
        # Kill once some runs are committed and others are surely still in flight.
        _wait_for(lambda: len(list((out / "runs").glob("part-*.parquet"))) >= 2 or driver.poll() is not None, 120, "committed runs")
        assert driver.poll() is None, driver.stderr.read().decode()
        workers = _children_of(driver.pid)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    before = read_runs(out)
    assert 0 < len(before) < N_RUNS
    # The pool's workers notice their driver is gone and leave instead of lingering.
    try:
        _wait_for(lambda: not any(_alive(pid) for pid in workers), 30, "orphaned pool workers to exit")
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

    # Resumed in this process: where the rest runs does not change what it gives.
    code = main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--resume", "--serial", "--quiet"])
    assert code == 0
    runs = read_runs(out)
    assert runs["run_id"].tolist() == list(range(N_RUNS))  # every run, none twice
    assert (runs["status"] == "ok").all()
    # Runs finished before the kill were kept as they were, not run again.
    kept = runs.set_index("run_id").loc[before["run_id"], "elapsed_seconds"]
    np.testing.assert_array_equal(kept.to_numpy(), before["elapsed_seconds"].to_numpy())
    # And every value is the one its replication's stream gives, whichever session ran it.
    expected = [np.random.default_rng(np.random.SeedSequence(77, spawn_key=(run_id % 4,))).uniform() for run_id in range(N_RUNS)]
    np.testing.assert_array_equal(runs.loc[runs["firm"] == "Firm A", "profit"].to_numpy(), expected)


SWALLOW_SWEEP = """
scenario = "baseline"
steps = 5
seed = 5
replications = 4
run_function = "sweep_fakes:swallow_interrupt"
[parameters]
"firms.0.price" = { levels = [1000.0] }
[design]
kind = "grid"
"""


def test_a_ctrl_c_swallowed_inside_a_run_still_stops_the_sweep_and_is_not_a_failed_run(tmp_path, monkeypatch, capsys):
    # numba's compiler swallows a Ctrl-C that lands in its callback from LLVM and fails the compile
    # instead; a sweep running in this process then recorded a failed run and went on (a CI run
    # ignored Ctrl-C this way). The interrupt is remembered, so the sweep stops after that run.
    sweep = tmp_path / "swallow.toml"
    sweep.write_text(textwrap.dedent(SWALLOW_SWEEP), encoding="utf-8")
    out = tmp_path / "out"
    arguments = ["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--serial", "--quiet", "--batch-size", "1"]
    assert main(arguments) == 130
    assert "interrupted" in capsys.readouterr().err
    before = read_runs(out)
    assert before["run_id"].tolist() == [0]  # the finished run kept; run 1 not recorded as failed
    assert (before["status"] == "ok").all()

    monkeypatch.setenv("FUNNELSIM_TEST_NO_INTERRUPT", "1")
    assert main([*arguments, "--resume"]) == 0
    runs = read_runs(out)
    assert runs["run_id"].tolist() == [0, 1, 2, 3] and (runs["status"] == "ok").all()


def _record(run_id: int, with_series: bool = True) -> RunRecord:
    row = {"run_id": run_id, "point_id": run_id, "replication": 0, "seed": 1, "status": "ok",
           "error": None, "traceback": None, "elapsed_seconds": 0.0}
    series = pd.DataFrame({"run_id": [run_id] * 2, "step": [0, 1], "firm": ["A", "A"], "customers": [0, run_id]})
    return RunRecord(row=row, measures=[("A", {"y": float(run_id)})], timeseries=series if with_series else None)


def test_reopening_a_store_drops_half_written_files_and_keeps_committed_runs(tmp_path):
    out = tmp_path / "store"
    design = pd.DataFrame({"point_id": range(6), "x": np.arange(6.0)})
    with ResultsStore.create(out, {"seed": 1, "n_runs": 6}, design, "sweep text") as store:
        store.write_batch([_record(0), _record(1)])
        store.write_batch([_record(2)])
    # What a driver killed mid-batch leaves: a time series part without its runs part, and temp files.
    (out / "timeseries" / "part-000003.parquet").write_bytes((out / "timeseries" / "part-000002.parquet").read_bytes())
    (out / "runs" / "part-000003.parquet.tmp").write_bytes(b"half a file")
    (out / "timeseries" / "part-000004.parquet.tmp").write_bytes(b"half a file")

    with ResultsStore.reopen(out) as store:
        assert store.finished_mask(6).tolist() == [True, True, True, False, False, False]
        assert not list(out.rglob("*.tmp"))
        assert not (out / "timeseries" / "part-000003.parquet").exists()
        store.write_batch([_record(3), _record(4, with_series=False), _record(5)])
    assert read_runs(out)["run_id"].tolist() == [0, 1, 2, 3, 4, 5]
    series = read_timeseries(out)
    assert sorted(series["run_id"].unique()) == [0, 1, 2, 3, 5]
    assert len(series) == 10


def test_a_second_driver_cannot_write_to_a_folder_in_use(tmp_path):
    out = tmp_path / "store"
    with ResultsStore.create(out, {"seed": 1, "n_runs": 1}, pd.DataFrame({"point_id": [0]}), "text"):
        with pytest.raises(UsageError, match="another funnelsim sweep is writing to this folder"):
            ResultsStore.reopen(out)
    ResultsStore.reopen(out).close()  # free again once the first writer is done
