"""``calibrate(...)``: data in, fits, bands and forecasts out, as objects (and files with ``out``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim import __version__
from funnelsim.errors import UsageError
from funnelsim.experiments.calibration import abc_fit, forecast
from funnelsim.experiments.calibration.bass_keys import scenario_overrides
from funnelsim.experiments.calibration.bass_nls import BassFit, fit_bass
from funnelsim.experiments.calibration.data import ObservedData, load_observed
from funnelsim.model.scenario import Scenario, load_scenario

#: Posterior draws run for the band (each one replication with fresh noise).
DEFAULT_DRAWS = 100


@dataclass
class CalibrationResult:
    """What :func:`calibrate` hands back.

    ``bass`` is always there (the least-squares Bass fit); ``abc`` and ``calibrated`` only for an
    agent-based fit. ``table`` has one row per period (fitted, held out, beyond the data) with the
    observed adoptions and the band; ``forecast`` is its held-out and beyond-the-data rows.
    """

    data: ObservedData
    holdout: int
    horizon: int
    bass: BassFit
    abc: abc_fit.AbcFit | None
    calibrated: Scenario | None
    table: pd.DataFrame
    forecast: pd.DataFrame
    seed: int

    def fit_summary(self) -> dict[str, Any]:
        """The contents of ``fit.json``."""
        summary: dict[str, Any] = self.abc.to_dict() if self.abc is not None else self.bass.to_dict()
        if self.abc is not None:
            summary["scenario"] = self.calibrated.name if self.calibrated is not None else None
            summary["goodness_of_fit"] = goodness_of_fit(self.table[self.table["part"] == "fit"])
            summary["goodness_of_fit"]["of"] = "median of the simulated band against the fitted periods"
            summary["bass"] = self.bass.to_dict()
        summary["data"] = self.data.origin
        summary["fit_periods"] = [int(self.data.periods[0]), int(self.data.periods[-1 - self.holdout])]
        summary["holdout"] = self.holdout
        summary["horizon"] = self.horizon
        summary["holdout_coverage"] = forecast.holdout_coverage(self.table)
        summary["level"] = forecast.LEVEL
        summary["seed"] = self.seed
        return summary


def parse_ranges(items: list[str] | Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """``["bass.q=0.1:0.9", "m=1e4:5e4"]`` (or a dict of pairs) -> ``{"bass.q": (0.1, 0.9), ...}``."""
    if isinstance(items, Mapping):
        pairs = {str(k): v for k, v in items.items()}
        return {key: (float(value[0]), float(value[1])) for key, value in pairs.items()}
    ranges: dict[str, tuple[float, float]] = {}
    for item in items:
        key, equals, text = item.partition("=")
        low, colon, high = text.partition(":")
        try:
            if not equals or not colon or not key.strip():
                raise ValueError
            ranges[key.strip()] = (float(low), float(high))
        except ValueError:
            raise UsageError(f"--fit {item}: expected KEY=LO:HI, e.g. --fit bass.q=0.1:0.9") from None
    return ranges


def calibrate(
    data: str | Path | pd.DataFrame,
    scenario: str | Path | Scenario | dict | None = None,
    fit: list[str] | Mapping[str, Any] | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    holdout: int = 0,
    horizon: int = 0,
    budget: int = abc_fit.DEFAULT_BUDGET,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    workers: int | None = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    figures: bool = True,
) -> CalibrationResult:
    """Fit the Bass model (and, with ``scenario`` and ``fit``, the scenario) to observed adoptions.

    Parameters
    ----------
    data
        A CSV or Parquet file, or a DataFrame, with ``period`` and ``adopters`` (see
        :func:`funnelsim.experiments.calibration.data.check_observed`).
    settings
        Dotted-key overrides applied to ``scenario`` before fitting (``--set``); Bass companions
        are filled in (:func:`~funnelsim.experiments.calibration.bass_keys.scenario_overrides`).
    scenario, fit
        For the agent-based fit: a scenario and the keys to fit with their ranges
        (``["bass.q=0.1:0.9"]`` or ``{"bass.q": (0.1, 0.9)}``); ``m`` (the simulated population in
        the data's units) is always fitted, over ``m=LO:HI`` if given, else over a range around the
        Bass estimate. One model step is one period of the data.
    holdout, horizon
        Fit all but the last ``holdout`` periods; forecast them and ``horizon`` periods beyond.
    budget, draws, seed, workers, scheduler
        Simulations for ABC-SMC, posterior draws run for the band, and where runs execute (as for
        :func:`funnelsim.experiments.engine.evaluate`).
    out, overwrite
        Write ``fit.json``, ``forecast.csv``, ``fit.png`` (and for the agent-based fit
        ``posterior.parquet`` and ``calibrated.toml``) into this folder, all at once.
    progress, figures
        Show progress bars on stderr; draw ``fit.png`` (tables only without).

    Returns
    -------
    CalibrationResult
    """
    from funnelsim.experiments.results_folder import check_output_directory

    if out is not None:
        check_output_directory(out, overwrite, kind="calibrate")
    observed = load_observed(data)
    count = len(observed.table)
    if holdout < 0 or horizon < 0:
        raise UsageError("--holdout and --horizon must be 0 or more")
    if count - holdout < 4:
        raise UsageError(f"--holdout {holdout}: leaves {count - holdout} of {count} periods to fit; a fit needs at least 4")
    if budget < 20:
        raise UsageError(f"--budget {budget}: too small; ABC-SMC needs at least 20 simulations")
    if draws < 10:
        raise UsageError(f"--draws {draws}: too few for a {forecast.LEVEL:.0%} band; use at least 10")
    fitted = observed.head(count - holdout)
    bass = fit_bass(fitted.periods, fitted.adopters)
    total_periods = count + horizon
    abc = None
    calibrated = None
    if scenario is None:
        if fit:
            raise UsageError("--fit needs --scenario (the model to fit)")
        periods = np.arange(observed.periods[0], observed.periods[0] + total_periods)
        band = bass.band(periods, seed=seed)
    else:
        if not fit:
            raise UsageError("--scenario needs at least one --fit KEY=LO:HI")
        base = load_scenario(scenario)
        if settings:
            base = load_scenario(base, scenario_overrides(base, settings))
        ranges = parse_ranges(fit)
        if abc_fit.MARKET_POTENTIAL not in ranges:
            ranges[abc_fit.MARKET_POTENTIAL] = default_potential_range(bass, fitted)
        result = abc_fit.fit_abc(base, fitted, ranges, budget=budget, seed=seed, workers=workers, scheduler=scheduler, progress=progress)
        model = abc_fit.SimulatedSeries(base, result.keys[:-1], fitted.series, count - holdout, seed)
        paths = abc_fit.simulate_band(model, result, total_periods, draws=draws, seed=seed, workers=workers, scheduler=scheduler, progress=progress)
        result.paths = paths
        band = forecast.band_from_paths(paths["adopters"])
        abc = result
        calibrated = calibrated_scenario(base, result, observed, total_periods)
    table = forecast.band_table(observed.periods, observed.adopters, band, count - holdout)
    outcome = CalibrationResult(observed, holdout, horizon, bass, abc, calibrated, table, forecast.forecast_table(table), seed)
    if out is not None:
        from funnelsim.experiments.calibration.outputs import write_outputs

        write_outputs(outcome, Path(out), overwrite, figures=figures)
    return outcome


def default_potential_range(bass: BassFit, data: ObservedData) -> tuple[float, float]:
    """Prior range of m without ``--fit m=LO:HI``: from half the Bass interval's low end to twice its
    high end, and never below what has already been sold (nor above 20 times it)."""
    total = float(data.adopters.sum())
    low = max(total, 0.5 * bass.intervals["m"][0])
    high = min(max(2.0 * bass.intervals["m"][1], 2.0 * low), 20.0 * total)
    return (low, max(high, 1.5 * low))


def calibrated_scenario(base: Scenario, fit: abc_fit.AbcFit, data: ObservedData, steps: int) -> Scenario:
    """The scenario at the posterior medians, run for the data's periods plus the horizon."""
    values = {key: fit.medians[key] for key in fit.keys if key != abc_fit.MARKET_POTENTIAL}
    model = abc_fit.SimulatedSeries(base, list(values), [], steps, 0)
    settings = model.settings({f"x{i}": value for i, value in enumerate(values.values())})
    overrides = scenario_overrides(base, settings)
    overrides["market.steps"] = int(steps)
    overrides["name"] = f"{base.name}-calibrated"
    overrides["description"] = (
        f"{base.name} calibrated to {Path(data.origin).name} (periods {data.periods[0]}-{data.periods[-1]}): "
        + ", ".join(f"{key} = {value:.4g}" for key, value in values.items())
        + f"; one step is one period; m = {fit.medians[abc_fit.MARKET_POTENTIAL]:.5g} (data units) "
        f"stands for the {base.market.consumers} simulated consumers"
    )
    return load_scenario(base, overrides)


def goodness_of_fit(rows: pd.DataFrame) -> dict[str, Any]:
    """R², RMSE and MAPE (over periods with sales) of the band's median against the observed."""
    observed, median = rows["observed"].to_numpy(), rows["median"].to_numpy()
    residual = observed - median
    positive = observed > 0
    return {
        "r2": float(1.0 - np.sum(residual**2) / max(np.sum((observed - observed.mean()) ** 2), 1e-300)),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "mape": float(np.mean(np.abs(residual[positive] / observed[positive])) * 100.0),
        "periods": len(rows),
    }


def write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2, default=float) + "\n", encoding="utf-8")


__all__ = ["CalibrationResult", "__version__", "calibrate", "parse_ranges"]
