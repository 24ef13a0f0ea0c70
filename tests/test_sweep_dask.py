"""The same sweep on a real Dask cluster: a scheduler and a worker started as separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from funnelsim.cli import main
from funnelsim.experiments.results_store import read_runs, read_timeseries

TESTS_DIR = Path(__file__).parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # the driver loads sweep_fakes too

SWEEP = """
scenario = "baseline"
steps = 20
replications = 2
seed = 31
{run_function}
[fixed]
"market.consumers" = 200
[parameters]
"firms.0.price" = {{ levels = [1500.0, 2500.0] }}
"firms.1.sales.salespeople" = {{ low = 2, high = 8, num = 2 }}
[design]
kind = "grid"
[outputs]
summary = ["profit", "customers"]
timeseries = ["customers"]
"""


def _stop(process: subprocess.Popen) -> None:
    """Stop a process we started, by its id: politely first."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and ``dask worker`` on 127.0.0.1, as a user would start them."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")])),
        "FUNNELSIM_TEST_MARKER_DIR": str(folder),
    }
    logs = open(folder / "dask.log", "wb")
    started = []
    try:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
            env=env, stdout=logs, stderr=logs,
        )
        started.append(scheduler)
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert scheduler.poll() is None, (folder / "dask.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1", "--nworkers", "1",
             "--nthreads", "2", "--no-dashboard", "--local-directory", str(folder / "worker")],
            env=env, stdout=logs, stderr=logs,
        )
        started.append(worker)
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=90)
        yield address, folder
    finally:
        for process in reversed(started):
            _stop(process)
        logs.close()


def _sweep_file(folder: Path, run_function: str = "") -> Path:
    path = folder / "sweep.toml"
    line = f'run_function = "{run_function}"' if run_function else ""
    path.write_text(textwrap.dedent(SWEEP.format(run_function=line)), encoding="utf-8")
    return path


def test_the_same_sweep_on_dask_and_serially_gives_identical_runs(cluster, tmp_path):
    address, _ = cluster
    sweep = _sweep_file(tmp_path)
    on_dask, serial = tmp_path / "dask", tmp_path / "serial"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(on_dask), "--scheduler", address, "--quiet"]) == 0
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(serial), "--serial", "--quiet"]) == 0
    dask_runs = read_runs(on_dask)
    assert dask_runs["run_id"].drop_duplicates().tolist() == list(range(8))  # long layout: a row per firm
    assert (dask_runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(
        dask_runs.drop(columns="elapsed_seconds"), read_runs(serial).drop(columns="elapsed_seconds")
    )
    pd.testing.assert_frame_equal(read_timeseries(on_dask), read_timeseries(serial))


def test_runs_of_a_dask_worker_that_dies_are_retried(cluster, tmp_path):
    address, marker_folder = cluster
    sweep = _sweep_file(tmp_path, run_function="sweep_fakes:die_once")
    out = tmp_path / "out"
    assert main(["sweep", "--allow-run-function", "sweep_fakes", str(sweep), "--out", str(out), "--scheduler", address, "--quiet"]) == 0
    assert (marker_folder / "died-3").exists()  # the worker really was killed mid-sweep
    runs = read_runs(out)
    assert runs["run_id"].tolist() == list(range(8))
    assert (runs["status"] == "ok").all()


def test_funnelsim_run_on_dask_gives_the_same_results_as_in_this_process(cluster, tmp_path):
    """run is a one-point sweep, so it runs on the same executors, with the same results."""
    from funnelsim import load_results

    address, _ = cluster
    small = ["--set", "market.consumers=150", "--steps", "10", "-r", "2", "--seed", "3", "--quiet", "--no-figures"]
    assert main(["run", "baseline", *small, "--scheduler", address, "--out", str(tmp_path / "dask")]) == 0
    assert main(["run", "baseline", *small, "--workers", "1", "--out", str(tmp_path / "here")]) == 0
    on_dask, here = load_results(tmp_path / "dask"), load_results(tmp_path / "here")
    pd.testing.assert_frame_equal(on_dask.summary.drop(columns="elapsed_seconds"), here.summary.drop(columns="elapsed_seconds"))
    pd.testing.assert_frame_equal(on_dask.timeseries, here.timeseries)
    assert on_dask.manifest["scheduler"] == address
