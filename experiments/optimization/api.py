"""``funnelsim.optimize``: search a firm's budget split, re-run the leaders, name a winner with
its uncertainty, and (given ``out``) write the results folder. The command line calls this."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.errors import UsageError
from funnelsim.experiments.engine import MAX_SEED
from funnelsim.experiments.optimization import selection
from funnelsim.experiments.optimization.objectives import OBJECTIVES, check_objective, resolve_firm
from funnelsim.experiments.optimization.search import COORD_PREFIX, SAMPLERS, candidate_rows, run_search
from funnelsim.experiments.optimization.space import Candidate, SearchSpace, default_space, read_space_file
from funnelsim.experiments.optimization.trial_store import BASELINE, FINAL, TrialStore, partial_directory
from funnelsim.model.scenario import CHANNELS, Scenario, load_scenario
from funnelsim.suggest import did_you_mean

BASELINE_TRIAL = -1


@dataclass
class OptimizationResult:
    """What :func:`optimize` found.

    Attributes
    ----------
    params, overrides
        The winner's readable parameters and the dotted scenario overrides that make it.
    objective, baseline
        Mean and 95% t interval of the objective on the final replications, for the winner and for
        the scenario as given (same replications, so they are paired).
    improvement
        The winner minus the scenario as given, paired: mean, lo, hi, p_value.
    probability_best
        The winner's bootstrap probability of being the best of the leaders.
    leaders
        One row per leading candidate: its parameters, final mean and interval, paired difference
        against the winner, whether that is distinguishable, and its probability of being best.
    trials
        Every evaluation: one row per (trial, phase, replication); trial -1 is the scenario as given.
    candidates
        One row per searched trial: its parameters, search score, and whether it is in the
        near-optimal region.
    scenario
        The winner as a validated scenario (``best.toml``).
    """

    measure: str
    firm: dict[str, Any]
    params: dict[str, Any]
    overrides: dict[str, Any]
    objective: selection.Interval
    baseline: selection.Interval
    improvement: dict[str, float]
    probability_best: float
    leaders: pd.DataFrame
    trials: pd.DataFrame
    candidates: pd.DataFrame
    scenario: Scenario = field(repr=False)
    baseline_params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    space: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The contents of ``best.json``."""
        near = self.candidates[self.candidates["near_optimal"]]
        return _plain({
            "measure": self.measure,
            "measure_meaning": OBJECTIVES[self.measure],
            "firm": self.firm,
            "params": _plain(self.params),
            "overrides": _plain(self.overrides),
            "objective": {**self.objective.as_dict(), "replications": self.settings["final_replications"], "confidence": selection.CONFIDENCE},
            "baseline": {**self.baseline.as_dict(), "params": _plain(self.baseline_params)},
            "improvement": self.improvement,
            "probability_best": self.probability_best,
            "probability_method": "bootstrap over paired final replications "
            f"({selection.BOOTSTRAP_RESAMPLES} resamples; the same resample for every leader)",
            "leaders": _plain(self.leaders.to_dict(orient="records")),
            "near_optimal": {
                "trials": int(len(near)),
                "of": int(len(self.candidates)),
                "rule": "paired 95% t interval of (trial - winner) on the search replications reaches 0",
                "ranges": {
                    name: [float(near[name].min()), float(near[name].max())]
                    for name in _searched_param_names(self.space)
                    if name in near
                },
            },
            "settings": self.settings,
            "space": self.space,
        })


def optimize(
    scenario: Scenario | str | dict[str, Any],
    *,
    firm: int | str = 0,
    objective: str = "profit",
    trials: int = 40,
    replications: int = 4,
    final_replications: int = 20,
    leaders: int = 5,
    space: SearchSpace | str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    steps: int | None = None,
    seed: int = 0,
    batch_size: int = 4,
    sampler: str = "tpe",
    workers: int | None = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    figures: bool = True,
) -> OptimizationResult:
    """Find the split of a fixed budget that maximizes a firm's ``objective``.

    Parameters
    ----------
    scenario
        A scenario, a built-in name, a file or a dict; ``overrides`` (dotted keys) and ``steps``
        go on top.
    firm
        The firm whose budget is split: its index or its name.
    objective
        A per-firm summary measure: one of :data:`~funnelsim.experiments.optimization.objectives.OBJECTIVES`.
    trials, replications, batch_size, sampler
        ``trials`` candidates, proposed ``batch_size`` at a time by ``sampler`` (``"tpe"`` or
        ``"random"``), each run on replications ``0 .. replications-1`` (common random numbers).
    leaders, final_replications
        The ``leaders`` best candidates and the scenario as given are run again on
        ``final_replications`` new replications, which alone name the winner and its interval.
    space
        ``None`` for the default space, a space file, or a :class:`SearchSpace`.
    seed
        Seeds the replications, the sampler and the bootstrap; the same seed gives the same result
        on any number of workers.
    workers, scheduler
        Where runs execute: this process, a local pool, or a Dask cluster.
    out, resume, overwrite
        With ``out``, every finished batch is saved in ``out.partial`` and the results folder is
        written at the end (``resume`` finishes an interrupted one).
    progress, figures
        Show a progress bar on stderr; draw the figures in ``out/figures`` (tables only without).

    Returns
    -------
    OptimizationResult
    """
    _check_extra()
    check_objective(objective)
    _check_counts(trials, replications, final_replications, leaders, batch_size, workers, steps, seed)
    if sampler not in SAMPLERS:
        raise UsageError(f"--sampler {sampler}: unknown sampler{did_you_mean(sampler, SAMPLERS)}; choose one of {', '.join(SAMPLERS)}")
    settings_overrides = dict(overrides or {})
    if steps is not None:
        settings_overrides["market.steps"] = steps
    base = load_scenario(scenario, settings_overrides)
    firm_index = resolve_firm(base, firm)
    if space is None:
        search_space = default_space(base, firm_index)
    elif isinstance(space, SearchSpace):
        search_space = space
    else:
        search_space = read_space_file(space, base, firm_index)
    if search_space.firm != firm_index:
        raise UsageError(f"space: built for firm {search_space.firm}, not firm {firm_index}")

    settings = {
        "scenario": base.name,
        "firm": firm_index,
        "objective": objective,
        "trials": trials,
        "replications": replications,
        "final_replications": final_replications,
        "leaders": leaders,
        "batch_size": batch_size,
        "sampler": sampler,
        "seed": int(seed),
        "overrides": settings_overrides,
        "workers": workers,
        "scheduler": scheduler,
    }
    manifest = {**settings, "space": search_space.describe(), "scenario_settings": base.to_dict()}
    # Every check (the folder, a resume's settings) before a pool starts or a Dask scheduler is
    # reached; the working folder is made only once runs can start, so bad input writes nothing.
    store, directory = _open_store(out, resume, overwrite, manifest)

    with _executor(workers, scheduler) as handle:
        if store is None:
            store = TrialStore.create(directory, manifest)

        def evaluate_points(points: list[dict[str, Any]], first: int, count: int, bar: bool = False):
            from funnelsim.experiments.engine import evaluate

            return evaluate(
                base, points, replications=count, seed=int(seed), first_replication=first,
                workers=1 if handle is None else None, handle=handle, progress=bar, description="leaders",
            )

        baseline_candidate = Candidate({}, baseline_params(base, search_space), {}, base)
        baseline_rows = store.read(BASELINE)
        if baseline_rows is None:
            evaluation = evaluate_points([{}], 0, replications)
            baseline_rows = candidate_rows(
                search_space, [baseline_candidate], [BASELINE_TRIAL], evaluation, objective, "search", -1, check=False
            )
            store.write(BASELINE, baseline_rows)
        search_rows = run_search(
            search_space, base, objective, trials=trials, replications=replications, seed=int(seed),
            batch_size=batch_size, sampler=sampler, evaluate_points=evaluate_points, store=store, progress=progress,
        )
        search_rows = search_rows[search_rows["trial"] < trials]  # a resume may ask for fewer trials

        scores = search_rows.groupby("trial")["objective"].mean()
        coord_columns = [c for c in search_rows.columns if c.startswith(COORD_PREFIX)]
        firsts = search_rows.groupby("trial").first()
        keys = pd.Series([tuple(row) for row in firsts[coord_columns].to_numpy()], index=firsts.index)
        leader_numbers = selection.leader_trials(scores, keys, leaders)
        leader_candidates = [
            search_space.candidate({c.removeprefix(COORD_PREFIX): _coord(firsts.loc[n, c]) for c in coord_columns}, base)
            for n in leader_numbers
        ]
        final_rows = store.read(FINAL)
        if final_rows is None or sorted(set(final_rows["trial"])) != sorted([*leader_numbers, BASELINE_TRIAL]):
            if progress:
                import sys

                print(f"re-running {len(leader_numbers)} leaders and the baseline on {final_replications} new replications", file=sys.stderr)
            evaluation = evaluate_points([c.overrides for c in leader_candidates] + [{}], replications, final_replications, progress)
            final_rows = pd.concat(
                [
                    candidate_rows(search_space, leader_candidates, leader_numbers, _subset(evaluation, range(len(leader_numbers))), objective, "final", -1),
                    candidate_rows(
                        search_space, [baseline_candidate], [BASELINE_TRIAL], _subset(evaluation, [len(leader_numbers)]), objective, "final", -1, check=False
                    ),
                ],
                ignore_index=True,
            )
            store.write(FINAL, final_rows)

    result = _select(
        objective, base, firm_index, search_space, settings, baseline_rows, search_rows, final_rows, leader_numbers, leader_candidates
    )
    if out is not None and directory is not None:
        from funnelsim.experiments.optimization.outputs import write_results

        write_results(result, Path(out), overwrite, figures=figures)
        shutil.rmtree(directory, ignore_errors=True)
    return result


def baseline_params(base: Scenario, space: SearchSpace) -> dict[str, Any]:
    """The searched parameters as the scenario has them, for comparison with the winner."""
    firm = base.firms[space.firm]
    total = firm.budget.total_per_step if firm.budget is not None else firm.marketing.budget_per_step + firm.sales.salespeople * firm.sales.salary
    params: dict[str, Any] = {
        "marketing_share": firm.marketing.budget_per_step / total if total > 0 else 0.0,
        "marketing_budget_per_step": firm.marketing.budget_per_step,
        "salespeople": firm.sales.salespeople,
    }
    for channel in CHANNELS:
        params[f"mix.{channel}"] = getattr(firm.marketing.mix, channel)
    for item in space.ranges:
        params[item.name] = attrgetter(item.setting)(firm)
    return params


def _select(objective, base, firm_index, space, settings, baseline_rows, search_rows, final_rows, leader_numbers, leader_candidates):
    final = final_rows.pivot(index="trial", columns="replication", values="objective")
    order = [*leader_numbers, BASELINE_TRIAL]
    values = final.loc[order].to_numpy(dtype=float)
    leader_values = values[:-1]
    best = int(np.argmax(leader_values.mean(axis=1)))
    differences = selection.paired_differences(leader_values, best)
    probabilities = selection.probability_best(leader_values, settings["seed"])
    table = []
    for index, (number, candidate) in enumerate(zip(leader_numbers, leader_candidates, strict=True)):
        interval = selection.mean_interval(leader_values[index])
        row = {"trial": number, **candidate.params, "search_mean": float(search_rows[search_rows["trial"] == number]["objective"].mean())}
        row.update({"mean": interval.mean, "lo": interval.lo, "hi": interval.hi})
        row.update(differences.iloc[index].to_dict())
        row["probability_best"] = float(probabilities[index])
        table.append(row)
    leaders_table = pd.DataFrame(table).sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)

    improvement_rows = selection.paired_differences(values[[best, -1]], 1).iloc[0]
    improvement = {
        "mean": float(improvement_rows["difference"]),
        "lo": float(improvement_rows["difference_lo"]),
        "hi": float(improvement_rows["difference_hi"]),
        "p_value": float(improvement_rows["p_value"]),
    }

    search = search_rows.pivot(index="trial", columns="replication", values="objective").sort_index()
    winner_number = leader_numbers[best]
    near = selection.near_optimal(search.to_numpy(dtype=float), search.loc[winner_number].to_numpy(dtype=float))
    param_columns = ["marketing_share", "marketing_budget_per_step", "salespeople", *(f"mix.{c}" for c in CHANNELS), *(r.name for r in space.ranges)]
    candidates = search_rows.groupby("trial")[param_columns].first()
    candidates.insert(0, "score", search.mean(axis=1))
    candidates["near_optimal"] = near
    candidates["leader"] = candidates.index.isin(leader_numbers)
    candidates["winner"] = candidates.index == winner_number
    candidates = candidates.reset_index()

    baseline_search = baseline_rows["objective"].to_numpy(dtype=float)
    winner = leader_candidates[best]
    trials_table = pd.concat([baseline_rows, search_rows, final_rows], ignore_index=True)
    settings = {**settings, "baseline_search_mean": float(baseline_search.mean())}
    return OptimizationResult(
        measure=objective,
        firm={"index": firm_index, "name": base.firms[firm_index].name},
        params=winner.params,
        overrides=winner.overrides,
        objective=selection.mean_interval(leader_values[best]),
        baseline=selection.mean_interval(values[-1]),
        improvement=improvement,
        probability_best=float(probabilities[best]),
        leaders=leaders_table,
        trials=trials_table,
        candidates=candidates,
        scenario=winner.scenario,
        baseline_params=baseline_params(base, space),
        settings=settings,
        space=space.describe(),
    )


def _subset(evaluation, point_ids):
    """The engine's result for some of its points, renumbered 0.. in the order given."""
    from funnelsim.experiments.engine import Evaluation

    point_ids = list(point_ids)
    summary = evaluation.summary[evaluation.summary["point_id"].isin(point_ids)].copy()
    summary["point_id"] = summary["point_id"].map({old: new for new, old in enumerate(point_ids)})
    return Evaluation([evaluation.points[i] for i in point_ids], evaluation.replications, evaluation.seed, summary, None)


def _coord(value: Any) -> Any:
    return int(value) if isinstance(value, np.integer) else float(value)


def _check_extra() -> None:
    """Optuna and tomli-w come with the ``optimize`` extra; say so instead of a traceback."""
    import importlib.util

    missing = [name for name in ("optuna", "tomli_w") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"optimize needs {' and '.join(missing)}, which this installation lacks: pip install 'funnelsim[optimize]'"
        )


def _check_counts(trials, replications, final_replications, leaders, batch_size, workers, steps, seed) -> None:
    checks = (
        ("--trials", trials, 1),
        ("--replications", replications, 2),
        ("--final-replications", final_replications, 2),
        ("--leaders", leaders, 1),
        ("--batch-size", batch_size, 1),
    )
    for option, value, least in checks:
        if not isinstance(value, int) or value < least:
            raise UsageError(f"{option} {value}: needs at least {least}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: needs at least 1")
    if steps is not None and steps < 1:
        raise UsageError(f"--steps {steps}: needs at least 1")
    if not 0 <= int(seed) <= MAX_SEED:
        raise UsageError(f"--seed {seed}: must be between 0 and 2**63 - 1")
    from funnelsim.experiments.limits import check_run_count

    # Every run the search and the final re-run can start, before any of them does.
    check_run_count(
        trials * replications + (leaders + 1) * final_replications,
        f"--trials {trials} x --replications {replications} + {leaders + 1} x --final-replications {final_replications}",
    )


def _open_store(out, resume: bool, overwrite: bool, manifest: dict[str, Any]) -> tuple[TrialStore | None, Path | None]:
    """The store to resume, or ``None`` with the folder a new one will be made in, once checked."""
    if out is None:
        if resume:
            raise UsageError("--resume needs --out: the folder of the interrupted optimization")
        return TrialStore(None), None
    from funnelsim.experiments.results_folder import check_output_directory

    check_output_directory(Path(out), overwrite, kind="funnelsim optimize")
    directory = partial_directory(out)
    if resume:
        if not directory.is_dir():
            raise UsageError(f"--resume: no interrupted optimization at {directory}")
        return TrialStore.reopen(directory, manifest), directory
    if directory.exists():
        raise UsageError(f"{directory}: an interrupted optimization is there; pass --resume to finish it or remove it")
    return None, directory


@contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    if scheduler is None and (workers or 1) <= 1:
        with nullcontext(None) as nothing:
            yield nothing
        return
    from funnelsim.experiments.executors import open_executor

    with open_executor(workers=workers, scheduler=scheduler) as handle:
        yield handle


def _searched_param_names(space: dict[str, Any]) -> list[str]:
    names = ["marketing_share", "marketing_budget_per_step", "salespeople"]
    names += [f"mix.{c}" for c in space.get("mix_channels", [])]
    names += [item["name"] for item in space.get("ranges", [])]
    return names


def _plain(value: Any) -> Any:
    """JSON-able: numpy numbers to Python numbers, NaN to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    return value
