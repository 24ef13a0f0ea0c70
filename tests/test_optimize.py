"""``funnelsim optimize``: finds a known best split, keeps its constraints, resumes, and fails
cleanly on bad input.

The known best comes from an exhaustive grid run in the test itself, on a one-firm market built
so that neither extreme works: with no promotion nobody becomes a lead (no self-serve, no word of
mouth), and with no salespeople nobody is closed, so the best share lies inside (0, 1). Runs are
small (300 consumers, 60 steps) and serial, so the file takes about a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelsim import load_scenario
from funnelsim.errors import UsageError
from funnelsim.experiments.engine import evaluate
from funnelsim.experiments.optimization import optimize, trial_store
from funnelsim.experiments.optimization.constraints import violations
from funnelsim.experiments.optimization.selection import near_optimal, probability_best
from funnelsim.experiments.optimization.space import default_space, read_space_file

pytest.importorskip("optuna")

#: One firm, media only; 100 per step buys promotion and salespeople at 20 each (0 to 5 of them).
TWO_LEVERS = {
    "name": "two_levers",
    "market": {
        "consumers": 300, "steps": 60, "willingness_to_pay": 2400.0, "self_serve_rate": 0.0,
        "in_market_share": 0.5, "interest_threshold": 0.3,
    },
    "word_of_mouth": {"beta": 0.0},
    "network": {"kind": "ring", "k": 4},
    "firms": [
        {
            "name": "Solo", "price": 2000.0, "unit_cost": 800.0,
            "marketing": {
                "marketers": 1, "marketer_salary": 0.0,
                "mix": {"email": 0.0, "blogging": 0.0, "media": 1.0, "jingles": 0.0},
                "media": {"cost_per_thousand": 100.0, "lift": 0.2},
            },
            # No cold calls: all-sales then sells nothing, so the grid's ends are clearly worse.
            "sales": {"salary": 20.0, "cycle_steps": 4, "skill": 0.6, "prospecting": False},
            "budget": {"total_per_step": 100.0, "marketing_share": 0.9},
        }
    ],
}
#: Only the marketing share is searched: the channel mix and the tactics stay as the scenario has them.
SHARE_ONLY = 'mix = []\ndiscount = 0.0\ncommission = 0.0\nreferral_reward = 0.0\n'
SMALL_BASELINE = {"market.consumers": 300, "market.steps": 30}


@pytest.fixture(scope="module")
def share_space(tmp_path_factory):
    path = tmp_path_factory.mktemp("space") / "share.toml"
    path.write_text(SHARE_ONLY)
    return path


@pytest.fixture(scope="module")
def found(share_space):
    return optimize(
        TWO_LEVERS, firm="Solo", objective="profit", space=share_space, trials=12, replications=3,
        final_replications=6, leaders=3, seed=21,
    )


def test_finds_the_best_share_of_an_exhaustive_grid(found):
    """The winner is as good as the best of an 11-point grid over the share, on the same final
    replications (paired): the grid best is not significantly better. The grid's ends (all
    promotion, all sales) are significantly worse than the grid best, so the check has power."""
    shares = np.linspace(0.0, 1.0, 11)
    grid = evaluate(
        load_scenario(TWO_LEVERS), [{"firms.0.budget.marketing_share": float(s)} for s in shares],
        replications=6, first_replication=3, seed=21,
    ).measure("profit", firm=0)
    best = grid[np.argmax(grid.mean(axis=1))]
    trials = found.trials
    winner = int(found.leaders.iloc[0]["trial"])
    final = trials[(trials["phase"] == "final") & (trials["trial"] == winner)].sort_values("replication")
    assert list(final["replication"]) == list(range(3, 9))  # the same replications as the grid's
    winner_values = final["objective"].to_numpy()
    # near_optimal: paired 95% t interval of (winner - grid best) reaches zero.
    assert near_optimal(winner_values[None, :], best)[0], (winner_values.mean(), best.mean())
    assert not near_optimal(grid[[0, -1]], best).any()
    assert 0.0 < found.params["marketing_share"] < 1.0
    assert found.objective.lo <= found.objective.mean <= found.objective.hi


def test_constraints_hold_for_every_trial(found):
    trials = found.trials[found.trials["trial"] >= 0]
    assert trials["constraints_ok"].all()
    # Recomputed here from the recorded parameters, independently of the optimizer's own check.
    spent = trials["marketing_budget_per_step"] + trials["salespeople"] * 20.0
    assert (spent <= 100.0 + 1e-9).all()
    assert (100.0 - spent < 20.0).all()  # whole salespeople from the rest: no salary left over
    assert (trials["salespeople"] == trials["salespeople"].round()).all()
    mix = trials[["mix.email", "mix.blogging", "mix.media", "mix.jingles"]].sum(axis=1)
    np.testing.assert_allclose(mix, 1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=7, max_size=7))
def test_every_point_of_the_default_space_meets_the_constraints(unit):
    """The default space (share, four-channel mix, three tactics) holds its constraints everywhere,
    corners and all: the coordinates are drawn over their whole ranges."""
    base = load_scenario("baseline", SMALL_BASELINE)
    space = default_space(base, 1)
    bounds = space.coordinate_bounds()
    assert len(bounds) == 7  # share, 3 mix sticks, 3 tactics
    coords = {name: low + u * (high - low) for (name, (low, high, _)), u in zip(bounds.items(), unit)}
    candidate = space.candidate(coords, base)
    assert violations(space, candidate.scenario, candidate.params) == []
    assert sum(candidate.params[f"mix.{c}"] for c in ("email", "blogging", "media", "jingles")) == pytest.approx(1.0)


def test_stick_breaking_gives_a_uniform_mix():
    """Uniform coordinates give a uniform (Dirichlet(1,1,1,1)) mix: each share has mean 1/4 and
    variance (1/4)(3/4)/5 = 0.0375; with 4,000 draws the standard error of a mean is 0.003."""
    space = default_space(load_scenario("baseline", SMALL_BASELINE), 0)
    rng = np.random.default_rng(0)
    draws = np.array([list(space.mix({f"mix_stick_{k}": rng.random() for k in (1, 2, 3)}).values()) for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), 0.25, atol=4 * 0.003)
    np.testing.assert_allclose(draws.var(axis=0), 0.0375, atol=0.004)


def test_resume_skips_finished_trials_and_gives_the_same_result(tmp_path, monkeypatch, share_space):
    settings = dict(
        firm="Solo", space=share_space, trials=8, replications=2, final_replications=3, leaders=2, seed=5,
        batch_size=4,
    )
    whole = optimize(TWO_LEVERS, out=tmp_path / "whole", **settings)

    original = trial_store.TrialStore.write_batch

    def stop_after_first(self, batch, rows):
        if batch >= 1:
            raise KeyboardInterrupt
        original(self, batch, rows)

    monkeypatch.setattr(trial_store.TrialStore, "write_batch", stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        optimize(TWO_LEVERS, out=tmp_path / "cut", **settings)
    monkeypatch.setattr(trial_store.TrialStore, "write_batch", original)
    assert not (tmp_path / "cut").exists()
    assert len(list((tmp_path / "cut.partial" / "trials").glob("batch-*.parquet"))) == 1

    import funnelsim.experiments.engine as engine

    points_run = []
    real_evaluate = engine.evaluate

    def counting(scenario, points=None, **kwargs):
        points_run.append(len(points or [None]))
        return real_evaluate(scenario, points, **kwargs)

    monkeypatch.setattr(engine, "evaluate", counting)
    resumed = optimize(TWO_LEVERS, out=tmp_path / "cut", resume=True, **settings)
    # The second batch (4 candidates) and the final stage (2 leaders + the baseline) only.
    assert points_run == [4, 3]
    assert not (tmp_path / "cut.partial").exists()
    assert resumed.params == whole.params
    assert resumed.objective == whole.objective
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "cut" / "trials.parquet"), pd.read_parquet(tmp_path / "whole" / "trials.parquet")
    )


def test_optimize_is_part_of_the_package_api():
    import funnelsim

    assert funnelsim.optimize is optimize


def test_probability_best_follows_the_paired_evidence():
    """A candidate better on every paired replication is the best in every resample; two
    identical candidates split nothing (ties go to the first)."""
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 10, size=8)
    values = np.vstack([noise, noise + 5.0, noise + 5.0])
    p = probability_best(values, seed=0)
    assert p.sum() == pytest.approx(1.0)
    assert p[1] == 1.0


# ---------------------------------------------------------------------------------------------
# Bad input: one line, exit 2, nothing written


def funnelsim(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnelsim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def cli(capsys, *args: str) -> tuple[int, str]:
    """The command line in this process (bad input stops before any run, so this is quick)."""
    from funnelsim.cli import main

    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--objective", "proft"], "did you mean 'profit'"),
        (["--objective", "marketing_return"], "not a measure that can be optimized"),
        (["--firm", "Closr"], "did you mean 'Closer'"),
        (["--firm", "7"], "has firms 0..1"),
        (["--trials", "0"], "--trials 0: needs at least 1"),
        (["--sampler", "tpe2"], "did you mean 'tpe'"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, options, message):
    code, stderr = cli(capsys, "optimize", "baseline", "--out", str(tmp_path / "out"), *options)
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_bad_option_value_exits_2_as_a_user_sees_it(tmp_path):
    result = funnelsim("optimize", "baseline", "--objective", "proft", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "funnelsim optimize: error: --objective proft: not a measure that can be optimized (did you mean 'profit'?); "
        "choose one of profit, revenue, customers, market_share, penetration, new_customers, revenue_sales"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("discont = [0.0, 0.2]\n", "unknown key 'discont' (did you mean 'discount'?)"),
        ("discount = [0.3, 0.1]\n", "discount: low 0.3 is above high 0.1"),
        ("discount = [0.0, 1.5]\n", "high corner is not a valid scenario"),
        ("mix = [\"tv\"]\n", "mix: unknown channel 'tv'"),
        ("marketing_share = [0.0, 2.0]\n", "marketing_share: must lie within [0, 1]"),
        ("[settings]\n\"sales.salespeople\" = [1, 3]\n", "set by the space itself"),
        ("[settings]\nprise = [1.0, 2.0]\n", "no such setting"),
        ("budget = \"lots\"\n", "budget: expected a positive number"),
        ("discount = [0.0\n", "not valid TOML"),
    ],
)
def test_bad_space_files_give_one_line_errors(tmp_path, capsys, text, message):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as error:
        read_space_file(path, load_scenario("baseline", SMALL_BASELINE), 1)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    code, stderr = cli(capsys, "optimize", "baseline", "--space", str(path), "--out", str(tmp_path / "out"))
    assert code == 2 and message in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_cli_writes_every_output(tmp_path):
    result = funnelsim(
        "optimize", "baseline", "--firm", "Closer", "--objective", "customers", "--trials", "4",
        "--replications", "2", "--final-replications", "3", "--leaders", "2", "--seed", "3",
        "--set", "market.consumers=300", "--steps", "30", "--quiet", "--out", "out", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["best.json", "best.toml", "figures", "manifest.json", "trials.parquet"]
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["near_optimal_region.png", "objective_vs_marketing_share.png"]
    best = json.loads((out / "best.json").read_text())
    for key in ("objective", "baseline"):
        assert best[key]["lo"] <= best[key]["mean"] <= best[key]["hi"]
    assert best["params"]["salespeople"] == int(best["params"]["salespeople"])
    trials = pd.read_parquet(out / "trials.parquet")
    # baseline (2) + 4 trials x 2 search replications + (2 leaders + baseline) x 3 final replications
    assert len(trials) == 2 + 8 + 9
    scenario = load_scenario(out / "best.toml")
    closer = scenario.firms[1]
    assert closer.marketing.budget_per_step == pytest.approx(best["params"]["marketing_budget_per_step"])
    assert closer.sales.salespeople == best["params"]["salespeople"]
    assert not (tmp_path / "out.partial").exists()
    again = funnelsim("run", str(out / "best.toml"), "--replications", "1", "--seed", "1", "--out", "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_same_result_in_this_process_a_local_pool_and_on_dask(share_space):
    """Where runs execute changes no number: the batches, seeds and order are fixed by --seed and
    --batch-size, never by the executor (a Dask cluster in this process, threads for workers)."""
    from distributed import LocalCluster

    settings = dict(firm="Solo", space=share_space, trials=4, replications=2, final_replications=2, leaders=2, seed=8)
    serial = optimize(TWO_LEVERS, **settings)
    pooled = optimize(TWO_LEVERS, workers=2, **settings)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        on_dask = optimize(TWO_LEVERS, scheduler=cluster.scheduler_address, **settings)
    for other in (pooled, on_dask):
        pd.testing.assert_frame_equal(other.trials, serial.trials)
        assert other.params == serial.params


def test_a_killed_command_resumes_to_the_same_result(tmp_path, share_space):
    """As a user sees it: `kill` after the first batch keeps DIR.partial and says how to go on;
    `--resume` finishes, and best.json matches an uninterrupted run of the same settings."""
    import os
    import signal
    import time

    import tomli_w

    scenario = tmp_path / "two_levers.toml"
    scenario.write_text(tomli_w.dumps(TWO_LEVERS))
    options = [
        "optimize", str(scenario), "--firm", "Solo", "--space", str(share_space), "--trials", "12",
        "--batch-size", "2", "--replications", "2", "--final-replications", "3", "--leaders", "2",
        "--seed", "17", "--quiet", "--out", "out",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "funnelsim", *options], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    first_batch = tmp_path / "out.partial" / "trials" / "batch-000000.parquet"
    deadline = time.monotonic() + 240
    while not first_batch.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    assert not (tmp_path / "out").exists()
    saved = len(list((tmp_path / "out.partial" / "trials").glob("batch-*.parquet")))
    assert 1 <= saved < 6

    resumed = funnelsim(*options, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    whole = optimize(
        TWO_LEVERS, firm="Solo", space=share_space, trials=12, batch_size=2, replications=2,
        final_replications=3, leaders=2, seed=17,
    )
    best = json.loads((tmp_path / "out" / "best.json").read_text())
    assert best["params"] == pytest.approx(whole.params)
    assert best["objective"]["mean"] == pytest.approx(whole.objective.mean)
    assert not (tmp_path / "out.partial").exists()


def test_an_unreachable_scheduler_writes_nothing(tmp_path, capsys):
    code, stderr = cli(
        capsys, "optimize", "baseline", "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "out"),
    )
    assert code == 2 and "cannot reach a Dask scheduler" in stderr
    assert list(tmp_path.iterdir()) == []


def test_resume_with_other_settings_is_refused(tmp_path, capsys, share_space):
    scenario = tmp_path / "two_levers.toml"
    import tomli_w

    scenario.write_text(tomli_w.dumps(TWO_LEVERS))
    partial = tmp_path / "out.partial"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"seed": 1, "objective": "customers"}))
    code, stderr = cli(
        capsys, "optimize", str(scenario), "--space", str(share_space), "--objective", "profit",
        "--resume", "--out", str(tmp_path / "out"),
    )
    assert code == 2 and "was started with a different" in stderr
    assert len(stderr.strip().splitlines()) == 1
