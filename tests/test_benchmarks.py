"""The benchmarks run and report: a tiny-size smoke run of the whole command, and the pieces'
behaviour. No timing is asserted anywhere; the targets live in the benchmark's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

REPOSITORY = Path(__file__).resolve().parent.parent
# benchmarks/ is a folder of the repository, not part of the installed package.
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from benchmarks import report  # noqa: E402
from benchmarks.reference import BareDiffusion  # noqa: E402
from benchmarks.step_cost import growth_slope  # noqa: E402


def test_quick_run_prints_and_writes_every_benchmark(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    table = (tmp_path / "latest.md").read_text()
    assert completed.stdout.strip().startswith("# funnelsim performance benchmarks")
    for heading in ("## Machine", "## Targets", "## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7.", "## 8."):
        assert heading in table
    assert "python -m benchmarks.run --quick" in table
    for row in results["step_cost"]:
        assert row["funnelsim_step"]["median"] > 0 and row["reference_step"]["median"] > 0
        assert row["ratio"] == pytest.approx(row["funnelsim_step"]["median"] / row["reference_step"]["median"])
    assert results["mesa"][0]["speedup"] > 0
    scale = results["scale"]["run"]
    assert scale["table_rows"] == (scale["steps"] + 1) * 2  # step 0 plus every step, two firms
    assert scale["peak_rss_bytes"] > 10 * 2**20
    assert results["sweep"]["two_workers"]["runs"] == results["sweep"]["one_worker"]["runs"] > 0
    assert results["machine"]["cpus"] >= 1


def test_bad_output_folder_is_one_line_and_exit_code_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--only", "step_cost", "--out", str(blocker / "results")],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "--out" in completed.stderr


def test_bare_reference_spreads_only_along_edges():
    path = sp.csr_array(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=float))
    diffusion = BareDiffusion(path, beta=1.0, seed=0, initially_informed=0.0)
    diffusion.informed[0] = 1.0
    diffusion.step()
    assert diffusion.informed.tolist() == [1.0, 1.0, 0.0, 0.0]
    diffusion.step()
    assert diffusion.informed.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert diffusion.informed_count == 3


def test_mesa_word_of_mouth_follows_funnelsims_rule():
    import networkx as nx

    from benchmarks.mesa_idiomatic import MesaWordOfMouth
    from funnelsim import MarketModel, load_scenario

    model = MarketModel(load_scenario("baseline", {"market.consumers": 50}), rng=3, consumer_agents=False)
    state = model.consumers
    state.awareness[:] = 0.0
    state.awareness[0, 0] = 1.0  # only consumer 0 knows firm 0
    state.susceptibility[:] = 1.0
    settings = model.scenario.word_of_mouth.model_copy(update={"beta": 1.0})
    graph = nx.path_graph(50)
    mesa_model = MesaWordOfMouth(graph, state, settings, seed=1)
    agents = {agent.cell.coordinate: agent for agent in mesa_model.agents}
    expected = state.talkativeness[0] * settings.aware_weight
    assert agents[1].talk_strength(0) == 0.0 and agents[0].talk_strength(0) == pytest.approx(expected)
    agents[1].step()  # beta = 1 and susceptibility 1: a talking neighbour is always heard
    assert agents[1].awareness[0] == pytest.approx(settings.lift)
    agents[2].awareness[0] = 0.0
    agents[3].step()  # no neighbour talks: nothing heard
    assert agents[3].awareness == [0.0, 0.0]


def test_growth_slope_is_one_for_linear_growth_and_two_for_quadratic():
    assert growth_slope([(10, 1.0), (100, 10.0), (1000, 100.0)]) == pytest.approx(1.0)
    assert growth_slope([(10, 1.0), (100, 100.0)]) == pytest.approx(2.0)


def _step_row(consumers: int, ratio: float) -> dict:
    timing = {"median": ratio, "min": ratio, "max": ratio, "repetitions": 3}
    reference = {"median": 1.0, "min": 1.0, "max": 1.0, "repetitions": 3}
    return {"consumers": consumers, "k": 10, "edges": 5 * consumers, "warmup_steps": 1, "funnelsim_step": timing, "reference_step": reference, "ratio": ratio}


def test_report_says_which_targets_are_met_and_which_are_not():
    results = {
        "step_cost": [_step_row(10_000, 2.9), _step_row(100_000, 3.2)],
        "sweep": {"parallel_efficiency": 0.79},
        "small": {"consumers": 10_000, "steps": 365, "year_cpu_seconds": 0.41},
        "engine": {
            "calibration": {"startup_share": 0.2, "writing_share": 0.01},
            "sweep": {"startup_share": 0.6, "writing_share": 0.01},
        },
        "ten_million": [
            {"consumers": 10_000_000, "kind": "ring", "build_seconds": 30.0, "build_cpu_seconds": 25.0, "peak_rss_bytes": 7 * 2**30},
            {"consumers": 10_000_000, "kind": "sbm", "build_seconds": 61.0, "build_cpu_seconds": 50.0, "peak_rss_bytes": 9 * 2**30},
        ],
    }
    checks = {what: met for what, _, _, met in report.target_checks(results)}
    assert checks["1. step vs bare reference, 10,000"] is True
    assert checks["1. step vs bare reference, 100,000"] is False
    assert checks["2. faster than idiomatic Mesa, 100,000"] is None  # not run: neither met nor failed
    assert checks["5. parallel efficiency, 2 workers"] is False
    assert checks["6. a baseline year, 10,000 consumers, 365 steps (CPU time, one core)"] is False
    assert checks["7. engine, calibration batch: start-up and writing shares"] is True
    assert checks["7. engine, sweep batch: start-up and writing shares"] is False
    assert checks["8. build time, 10,000,000, ring"] is True and checks["8. peak memory over 365 steps, 10,000,000, ring"] is True
    assert checks["8. build time, 10,000,000, sbm"] is False and checks["8. peak memory over 365 steps, 10,000,000, sbm"] is False


def test_memory_growth_is_the_slope_after_the_first_steps():
    from benchmarks.scale import memory_growth

    flat = {"step_rss_bytes": [100, 500, 900, 900, 900, 900]}
    rising = {"step_rss_bytes": [100, 500, 1000, 2000, 3000, 4000]}
    assert memory_growth(flat) == pytest.approx(0.0)
    assert memory_growth(rising) == pytest.approx(1000.0)


def test_merge_keeps_the_benchmarks_not_rerun_with_their_own_machine():
    from benchmarks.run import _merged

    earlier = {"machine": {"git_commit": "old"}, "sweep": {"runs": 3}, "step_cost": [1], "elapsed_seconds": 10.0}
    new = {"machine": {"git_commit": "new"}, "step_cost": [2], "elapsed_seconds": 5.0}
    merged = _merged(earlier, new, {"step_cost"})
    assert merged["step_cost"] == [2] and merged["sweep"] == {"runs": 3}
    assert merged["machines"]["sweep"]["git_commit"] == "old" and merged["machines"]["step_cost"]["git_commit"] == "new"
    assert merged["elapsed_seconds"] == 15.0


def test_merge_of_some_network_kinds_keeps_the_other_kinds_rows_and_the_commands():
    from benchmarks.run import _merged

    row = {"consumers": 10, "steps": 15}
    earlier = {
        "machine": {"git_commit": "old"}, "command": "first", "elapsed_seconds": 1.0,
        "ten_million": [{**row, "kind": "ring"}, {"consumers": 10, "kind": "complete", "error": "out of memory"}],
    }  # fmt: skip
    new = {"machine": {"git_commit": "new"}, "command": "second", "elapsed_seconds": 1.0,
           "ten_million": [{**row, "kind": "complete", "steps": 365}, {**row, "kind": "sbm"}]}  # fmt: skip
    merged = _merged(earlier, new, {"ten_million"})
    assert [(r["kind"], r.get("steps"), r["machine"]["git_commit"]) for r in merged["ten_million"]] == [
        ("ring", 15, "old"), ("complete", 365, "new"), ("sbm", 15, "new")
    ]  # fmt: skip
    assert merged["command"] == "first; then second"
