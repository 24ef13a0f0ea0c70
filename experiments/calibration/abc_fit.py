"""The agent-based fit: scenario keys (and the market potential m) by ABC-SMC with pyabc.

The model has no likelihood one can write down, so the fit is simulation-based: pyabc's ABC-SMC
(Klinger, Rickert & Hasenauer 2018) draws settings from the prior, runs the scenario, keeps the
draws whose simulated series fall within a shrinking distance of the observed one, and moves on
in generations until the simulation budget is spent. Why pyabc and not sbi is measured and
explained in the README's calibration section: in short, pyabc is CPU-only, imports in seconds,
needs no neural network training, and runs its simulations through any ``concurrent.futures``
executor, hence through the same local pool or Dask cluster as every other many-run command.

Every simulation is one :func:`funnelsim.experiments.engine.run_task` (the engine's run, with
the engine's seed rule ``SeedSequence(seed, spawn_key=(r,))``); only the replication number r
is drawn at random per simulation, because ABC needs fresh noise in every run. With one worker
the whole fit is reproducible from ``seed``; in parallel the order in which runs finish (and so
which are accepted) depends on timing, as with any parallel ABC.

The simulated population maps onto the data's units through m: a run with N consumers and
``k`` new customers in a period stands for ``k m / N`` in the data's units, so m is the
simulated population expressed in those units (the market potential in the ``bass`` scenario,
where everyone eventually adopts).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.errors import UsageError
from funnelsim.experiments.calibration.bass_keys import scenario_overrides
from funnelsim.experiments.calibration.data import ObservedData, series_target
from funnelsim.experiments.engine import EngineTask, run_task
from funnelsim.model.scenario import Scenario, ScenarioError, get_dotted, load_scenario

LEVEL = 0.90
DEFAULT_BUDGET = 600
#: Forecast runs draw replications from here up, clear of nothing in particular but easy to spot.
FORECAST_REPLICATION_BASE = 1_000_000
MARKET_POTENTIAL = "m"


def require_pyabc():
    """Import pyabc, or say in one line which extra brings it."""
    try:
        import pyabc
    except ImportError:
        raise UsageError(
            "the agent-based fit needs pyabc, which is not installed; install the extra: pip install 'funnelsim[calibrate]'"
        ) from None
    return pyabc


class SimulatedSeries:
    """pyabc's model: settings in, the simulated series in the data's units out (picklable)."""

    def __init__(self, scenario: Scenario, keys: list[str], columns: list[str], steps: int, seed: int):
        self.scenario = scenario
        self.keys = keys  # dotted keys, in the order of the names x0, x1, ...
        self.columns = columns
        self.steps = steps
        self.seed = seed

    def settings(self, parameters: Mapping[str, float]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for index, key in enumerate(self.keys):
            value = float(parameters[f"x{index}"])
            current = _setting(self.scenario, key)
            values[key] = round(value) if isinstance(current, int) and not isinstance(current, bool) else value
        return values

    def run(self, parameters: Mapping[str, float], replication: int, steps: int | None = None) -> dict[str, np.ndarray]:
        values = self.settings(parameters)
        scenario = load_scenario(self.scenario, scenario_overrides(self.scenario, values)) if values else self.scenario
        targets = sorted({series_target(column)[0] for column in self.columns})
        result = run_task(EngineTask(0, int(replication), self.seed, scenario, steps or self.steps, tuple(targets)))
        table = result.timeseries
        assert table is not None, "run_task keeps the per-step table whenever the task names columns"
        table = table[table["step"] >= 1]
        scale = float(parameters[MARKET_POTENTIAL]) / scenario.market.consumers
        out = {}
        for column in self.columns:
            target, firm = series_target(column)
            rows = table if firm is None else table[table["firm"] == firm]
            out[column] = rows.groupby("step")[target].sum().to_numpy(dtype=float) * scale
        return out

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, np.ndarray]:
        # pyabc seeds numpy's global generator in each worker; the replication number is the
        # only randomness drawn here, and the engine's stream does the rest.
        return self.run(parameters, int(np.random.randint(0, 2**31 - 1)))


@dataclass
class AbcFit:
    """What the agent-based fit hands back."""

    keys: list[str]  # the fitted dotted keys, then "m"
    posterior: pd.DataFrame  # one row per particle: keys..., m, weight
    medians: dict[str, float]
    intervals: dict[str, list[float]]
    simulations: int
    generations: int
    epsilons: list[float]
    priors: dict[str, list[float]]
    population_size: int
    paths: dict[str, np.ndarray] = field(default_factory=dict)  # column -> (draws, periods) simulated band runs

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"method": "ABC-SMC (pyabc), simulations through funnelsim's engine"}
        out.update(self.medians)
        out["intervals"] = self.intervals
        out["interval_method"] = f"{LEVEL:.0%} weighted quantiles of the last ABC-SMC population"
        out["priors"] = {key: {"uniform": bounds} for key, bounds in self.priors.items()}
        out["simulations"] = self.simulations
        out["generations"] = self.generations
        out["population_size"] = self.population_size
        out["epsilons"] = self.epsilons
        return out


_MISSING = object()


def _setting(scenario: Scenario, key: str) -> Any:
    """A dotted key's value (``firms.0.price``) in a validated scenario, or ``_MISSING``."""
    return get_dotted(scenario.model_dump(), key, _MISSING)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, quantiles: list[float]) -> np.ndarray:
    order = np.argsort(values)
    values, weights = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(quantiles, cumulative, values)


def check_ranges(scenario: Scenario, ranges: Mapping[str, tuple[float, float]]) -> None:
    """Every fitted key must exist and both ends of its range must make a valid scenario."""
    for key, (low, high) in ranges.items():
        if key == MARKET_POTENTIAL:
            if not 0 < low < high:
                raise UsageError(f"--fit m={low:g}:{high:g}: the market potential needs 0 < LO < HI")
            continue
        if not low < high:
            raise UsageError(f"--fit {key}={low:g}:{high:g}: LO must be below HI")
        for value in (low, high):
            current = _setting(scenario, key)
            if current is _MISSING:
                raise UsageError(f"--fit {key}: no such setting in scenario '{scenario.name}'")
            if not isinstance(current, int | float) or isinstance(current, bool):
                raise UsageError(f"--fit {key}: not a number in scenario '{scenario.name}' (it is {current!r})")
            try:
                load_scenario(scenario, scenario_overrides(scenario, {key: value}))
            except ScenarioError as error:
                raise UsageError(f"--fit {key}={low:g}:{high:g}: {value:g} is not allowed ({error})") from None


def fit_abc(
    scenario: Scenario,
    data: ObservedData,
    ranges: Mapping[str, tuple[float, float]],
    *,
    budget: int = DEFAULT_BUDGET,
    seed: int = 0,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> AbcFit:
    """Fit ``ranges`` (uniform priors; ``m`` must be among them) to ``data`` by ABC-SMC.

    Parameters
    ----------
    scenario
        The validated scenario; one step is one period of the data.
    data
        The periods to fit (a hold-out fit passes the head of the data).
    ranges
        Dotted key (or ``"m"``) -> (low, high) of a uniform prior.
    budget
        Simulations to spend. pyabc stops starting generations once the budget is reached, so
        the last generation can go over it by at most its own size (reported in ``simulations``).
    seed, workers, scheduler, progress
        As for :func:`funnelsim.experiments.engine.evaluate`.
    """
    pyabc = require_pyabc()
    if MARKET_POTENTIAL not in ranges:
        raise ValueError("ranges must include the market potential 'm'")
    keys = [key for key in ranges if key != MARKET_POTENTIAL]
    check_ranges(scenario, ranges)
    model = SimulatedSeries(scenario, keys, data.series, len(data.table), seed)
    names = {f"x{i}": key for i, key in enumerate(keys)}
    names[MARKET_POTENTIAL] = MARKET_POTENTIAL
    prior = pyabc.Distribution(
        **{name: pyabc.RV("uniform", ranges[key][0], ranges[key][1] - ranges[key][0]) for name, key in names.items()}
    )
    observed = {column: data.table[column].to_numpy(dtype=float) for column in data.series}
    population_size = int(np.clip(budget // 8, 20, 200))
    logging.getLogger("ABC").setLevel(logging.INFO if progress else logging.WARNING)
    for name in ("Sampler", "Epsilon", "Distance", "Acceptor", "History"):
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="funnelsim-abc-") as folder:
        database = "sqlite:///" + os.path.join(folder, "abc.db")
        if scheduler is None and (workers or 1) <= 1:
            np.random.seed(seed % 2**32)
            history = _run(pyabc, model, prior, population_size, pyabc.sampler.SingleCoreSampler(), database, observed, budget)
        else:
            from funnelsim.experiments.executors import open_executor

            with open_executor(workers=workers, scheduler=scheduler) as handle:
                sampler = pyabc.sampler.ConcurrentFutureSampler(cfuture_executor=handle.executor, client_max_jobs=handle.capacity())
                history = _run(pyabc, model, prior, population_size, sampler, database, observed, budget)
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        populations = history.get_all_populations()
        simulations = int(history.total_nr_simulations)
        generations = int(history.max_t) + 1
    posterior = pd.DataFrame({names[name]: frame[name].to_numpy() for name in names})
    posterior["weight"] = weights / weights.sum()
    tail = (1.0 - LEVEL) / 2.0
    medians, intervals = {}, {}
    for key in [*keys, MARKET_POTENTIAL]:
        low, median, high = weighted_quantile(posterior[key].to_numpy(), posterior["weight"].to_numpy(), [tail, 0.5, 1 - tail])
        medians[key], intervals[key] = float(median), [float(low), float(high)]
    epsilons = [float(e) for e in populations["epsilon"].to_numpy() if np.isfinite(e)]
    return AbcFit(
        [*keys, MARKET_POTENTIAL], posterior, medians, intervals, simulations, generations, epsilons,
        {key: [float(lo), float(hi)] for key, (lo, hi) in ranges.items()}, population_size,
    )


def _run(pyabc, model, prior, population_size, sampler, database, observed, budget):
    abc = pyabc.ABCSMC(
        model,
        prior,
        # Each period's distance is scaled by its spread across simulations (re-estimated every
        # generation), so early small counts weigh as much as the peak and several series can mix.
        pyabc.AdaptivePNormDistance(p=2),
        population_size=population_size,
        sampler=sampler,
    )
    abc.new(database, observed)
    return abc.run(minimum_epsilon=0.0, max_total_nr_simulations=budget, max_nr_populations=50)


def simulate_band(
    model: SimulatedSeries,
    fit: AbcFit,
    steps: int,
    *,
    draws: int = 100,
    seed: int = 0,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Runs at ``draws`` posterior draws (one fresh replication each) for ``steps`` periods.

    The spread of these runs carries both the posterior's uncertainty and the model's own noise,
    which is what a forecast band must carry.
    """
    import sys
    from concurrent.futures import as_completed

    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(fit.posterior), size=draws, p=fit.posterior["weight"].to_numpy())
    names = {key: f"x{i}" for i, key in enumerate(model.keys)}
    names[MARKET_POTENTIAL] = MARKET_POTENTIAL
    parameter_sets = [{names[key]: float(fit.posterior[key].iloc[row]) for key in names} for row in rows]
    results: dict[int, dict[str, np.ndarray]] = {}  # draw index -> series, in whatever order they finish
    bar = tqdm(total=draws, desc="forecast runs", unit="run", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    if scheduler is None and (workers or 1) <= 1:
        for index, parameters in enumerate(parameter_sets):
            results[index] = model.run(parameters, FORECAST_REPLICATION_BASE + index, steps)
            bar.update(1)
    else:
        from funnelsim.experiments.executors import open_executor

        with open_executor(workers=workers, scheduler=scheduler) as handle:
            futures = {
                handle.executor.submit(model.run, parameters, FORECAST_REPLICATION_BASE + index, steps): index
                for index, parameters in enumerate(parameter_sets)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    bar.close()
    return {column: np.stack([results[index][column] for index in range(draws)]) for column in model.columns}
