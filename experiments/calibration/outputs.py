"""Write a calibration's files into a temporary folder and rename it into place when complete."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from funnelsim import __version__
from funnelsim.experiments.calibration.figures import plot_fit
from funnelsim.experiments.results_folder import MARKER, atomic_directory, without_none


def write_outputs(result, directory: Path, overwrite: bool = False, figures: bool = True) -> list[str]:
    """``fit.json``, ``forecast.csv``, ``fit.png`` (unless not ``figures``) and, for an agent-based
    fit, ``posterior.parquet`` and ``calibrated.toml``; plus the ``manifest.json`` that marks a
    funnelsim results folder."""
    from funnelsim.experiments.calibration.api import write_json

    written: list[str] = []
    with atomic_directory(directory, replace=overwrite) as temporary:
        write_json(temporary / "fit.json", result.fit_summary())
        written.append("fit.json")
        result.forecast.to_csv(temporary / "forecast.csv", index=False)
        written.append("forecast.csv")
        result.table.to_csv(temporary / "band.csv", index=False)
        written.append("band.csv")
        fitted = pd.Series(result.bass.expected(result.table["period"].to_numpy()), index=result.table["period"].to_numpy())
        if result.abc is not None:
            title = f"{result.calibrated.name}: " + ", ".join(
                f"{key} = {result.abc.medians[key]:.3g}" for key in result.abc.keys
            )
            result.abc.posterior.to_parquet(temporary / "posterior.parquet", index=False)
            written.append("posterior.parquet")
            (temporary / "calibrated.toml").write_text(scenario_toml(result.calibrated), encoding="utf-8")
            written.append("calibrated.toml")
        else:
            title = f"Bass fit: p = {result.bass.p:.4g}, q = {result.bass.q:.4g}, m = {result.bass.m:.5g}"
        if figures:
            plot_fit(result.table, temporary / "fit.png", title, fitted)
            written.append("fit.png")
        write_json(
            temporary / MARKER,
            {"command": "calibrate", "funnelsim": __version__, "seed": result.seed, "files": sorted(written)},
        )
    return written


def scenario_toml(scenario) -> str:
    """The fully resolved scenario as TOML (``funnelsim run`` reads it back to the same scenario)."""
    try:
        import tomli_w
    except ImportError:
        from funnelsim.errors import UsageError

        raise UsageError("writing calibrated.toml needs tomli-w; install the extra: pip install 'funnelsim[calibrate]'") from None
    header = "# Written by `funnelsim calibrate`: the scenario at the posterior medians.\n"
    return header + tomli_w.dumps(without_none(scenario.to_dict()))
