"""The results folder of ``funnelsim optimize``, written whole or not at all.

``best.json`` (the winner, its interval, the baseline's, the leaders, the near-optimal region),
``best.toml`` (the winner as a scenario ``funnelsim run`` takes), ``trials.parquet`` (every
evaluation), ``manifest.json`` (the settings) and ``figures/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import tomli_w

from funnelsim.experiments.results_folder import atomic_directory, without_none

FIGURES = "figures"


def write_results(result, out: Path, overwrite: bool, figures: bool = True) -> None:
    from funnelsim.experiments.optimization.figures import draw_figures

    with atomic_directory(out, replace=overwrite) as temporary:
        best = result.to_dict()
        (temporary / "best.json").write_text(json.dumps(best, indent=2) + "\n", encoding="utf-8")
        (temporary / "best.toml").write_text(best_toml(result), encoding="utf-8")
        trials = result.trials.copy()
        trials["constraints_ok"] = trials["constraints_ok"].astype("boolean")
        trials.to_parquet(temporary / "trials.parquet", index=False)
        manifest = {"kind": "funnelsim optimize", **best["settings"], "space": best["space"]}
        (temporary / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        if figures:
            draw_figures(result, temporary / FIGURES)


def best_toml(result) -> str:
    """The winning scenario as TOML; ``funnelsim run best.toml`` runs it."""
    data = without_none(result.scenario.to_dict())
    data["name"] = f"{result.scenario.name}-optimized"
    data["description"] = (
        f"{result.scenario.name} with firm '{result.firm['name']}' set to the budget split that maximized "
        f"{result.measure} (funnelsim optimize)"
    )
    header = (
        f"# Written by `funnelsim optimize`: the best split found for firm '{result.firm['name']}'.\n"
        f"# {result.measure}: {result.objective.mean:,.6g} (95% interval {result.objective.lo:,.6g} to "
        f"{result.objective.hi:,.6g}); the scenario as given: {result.baseline.mean:,.6g}.\n"
        "# Run it with `funnelsim run best.toml`.\n\n"
    )
    return header + tomli_w.dumps(data)
