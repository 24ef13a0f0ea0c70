"""The search loop: an Optuna sampler proposes candidates in batches, the engine scores them on
common random numbers, and each finished batch is saved before the next is asked for.

Every candidate of every batch is run on the same replications ``0 .. R-1`` (streams
``SeedSequence(seed, spawn_key=(r,))``, see :func:`funnelsim.experiments.engine.evaluate`), so the
differences between candidates are differences of settings, not of luck, and the sampler compares
like with like. A candidate's score is the mean of the objective over those replications.

Reproducible and resumable: batch ``b`` is proposed by a fresh sampler seeded from
``SeedSequence(seed, spawn_key=(SAMPLER_KEY, b))``, after the study has been told every earlier
trial in order, and the batch size does not depend on the number of workers. So the same seed
gives the same trials on any executor, and a resumed search, which replays the saved trials into
a new study, proposes exactly what the uninterrupted one would have.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from funnelsim.experiments.optimization.constraints import violations
from funnelsim.experiments.optimization.space import Candidate, SearchSpace
from funnelsim.experiments.optimization.trial_store import TrialStore
from funnelsim.model.scenario import Scenario

#: The samplers offered; see the README's optimization section for the measurement behind the default.
SAMPLERS = ("tpe", "random")
#: First element of the sampler's spawn key, keeping its stream apart from the replications' (r,).
SAMPLER_KEY = 0x5A4D504C
COORD_PREFIX = "x."

#: ``evaluate_points(points, first_replication, replications)`` -> the engine's Evaluation.
Evaluator = Callable[[list[dict[str, Any]], int, int], Any]


def make_sampler(name: str, seed: int):
    """A seeded Optuna sampler. ``tpe`` is multivariate (it models how the coordinates act
    together, which matters for a budget split where mix and share interact) with the constant
    liar, so a batch asked before any of it is scored does not propose one point several times."""
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def batch_seed(seed: int, batch: int) -> int:
    return int(np.random.SeedSequence(int(seed), spawn_key=(SAMPLER_KEY, int(batch))).generate_state(1)[0])


def candidate_rows(
    space: SearchSpace, candidates: list[Candidate], numbers: list[int], evaluation, objective: str, phase: str, batch: int,
    check: bool = True,
) -> pd.DataFrame:
    """One row per (candidate, replication): the trial, its coordinates and parameters, the
    constraint check, the objective and every summary measure of the firm."""
    summary = evaluation.summary
    summary = summary[summary["firm_index"] == space.firm].drop(columns=["firm_index", "firm", "steps"])
    frames = []
    for point_id, (candidate, number) in enumerate(zip(candidates, numbers, strict=True)):
        runs = summary[summary["point_id"] == point_id].drop(columns=["point_id"]).sort_values("replication")
        head = {"trial": number, "batch": batch, "phase": phase}
        head.update({COORD_PREFIX + name: value for name, value in candidate.coords.items()})
        head.update(candidate.params)
        # The scenario as given (check=False) is no candidate of the space: nothing to check.
        head["constraints_ok"] = not violations(space, candidate.scenario, candidate.params) if check else None
        block = pd.DataFrame({key: [value] * len(runs) for key, value in head.items()}, index=runs.index)
        block.insert(3, "replication", runs["replication"].to_numpy())
        block.insert(4, "objective", runs[objective].to_numpy(dtype=float))
        frames.append(pd.concat([block, runs.drop(columns=["replication"])], axis=1))
    return pd.concat(frames, ignore_index=True)


def run_search(
    space: SearchSpace,
    base: Scenario,
    objective: str,
    *,
    trials: int,
    replications: int,
    seed: int,
    batch_size: int,
    sampler: str,
    evaluate_points: Evaluator,
    store: TrialStore,
    progress: bool,
) -> pd.DataFrame:
    """Run the search until ``trials`` trials are saved; returns every search row (old and new)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = space.distributions()
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler, seed))
    saved = store.trials()
    frames = [saved] if saved is not None else []
    if saved is not None:
        _replay(study, saved, distributions)
    batch = int(saved["batch"].max()) + 1 if saved is not None else 0
    done = len(study.trials)
    bar = tqdm(
        total=trials, initial=min(done, trials), unit="trial", desc="optimize", file=sys.stderr,
        disable=not progress, dynamic_ncols=True,
    )
    try:
        while done < trials:
            count = min(batch_size, trials - done)
            study.sampler = make_sampler(sampler, batch_seed(seed, batch))
            asked = [study.ask(distributions) for _ in range(count)]
            candidates = [_candidate(space, trial.params, base) for trial in asked]
            evaluation = evaluate_points([c.overrides for c in candidates], 0, replications)
            rows = candidate_rows(space, candidates, [t.number for t in asked], evaluation, objective, "search", batch)
            scores = rows.groupby("trial", sort=False)["objective"].mean()
            for trial in asked:
                study.tell(trial, float(scores[trial.number]))
            store.write_batch(batch, rows)
            frames.append(rows)
            batch += 1
            done += count
            bar.update(count)
            bar.set_postfix_str(f"best mean {objective} {study.best_value:,.4g}", refresh=False)
    finally:
        bar.close()
    return pd.concat(frames, ignore_index=True)


def _candidate(space: SearchSpace, coords: dict[str, Any], base: Scenario) -> Candidate:
    """The candidate, with its constraints checked: a broken one is a bug, never a score."""
    candidate = space.candidate(coords, base)
    problems = violations(space, candidate.scenario, candidate.params)
    if problems:
        raise RuntimeError(f"candidate {coords} breaks a constraint: {'; '.join(problems)}")
    return candidate


def _replay(study, saved: pd.DataFrame, distributions: dict[str, Any]) -> None:
    """Tell a new study every saved trial, in trial order, with the score it had."""
    import optuna

    columns = [COORD_PREFIX + name for name in distributions]
    missing = [column for column in columns if column not in saved.columns]
    if missing:
        raise RuntimeError(f"saved trials lack coordinates {missing}")
    for _trial, rows in saved.groupby("trial", sort=True):
        first = rows.iloc[0]
        params = {}
        for name, distribution in distributions.items():
            value = first[COORD_PREFIX + name]
            params[name] = int(value) if isinstance(distribution, optuna.distributions.IntDistribution) else float(value)
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=distributions, value=float(rows["objective"].mean()))
        )
