"""``funnelsim analyze``: tables and sensitivity indices from a sweep folder.

For every design point: how many runs succeeded and failed, and the mean and standard deviation
of every measure over its replications. For a Sobol design, SALib's first-order and total
indices with confidence intervals; for a Morris design, SALib's mu* and sigma. Replications are
averaged per point before SALib sees them, in the design's point order, which is the order its
samplers made. Tables go to ``DIR/analysis/*.csv``; figures are drawn by
:mod:`funnelsim.experiments.analysis_figures`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from funnelsim.errors import UsageError
from funnelsim.experiments.designs import UNIT_PREFIX, salib_problem
from funnelsim.experiments.results_store import read_design, read_manifest, read_runs
from funnelsim.experiments.run_functions import RECORD_COLUMNS

ANALYSIS_FOLDER = "analysis"
#: Bootstrap resamples and confidence level for SALib's confidence intervals.
RESAMPLES, CONFIDENCE = 200, 0.95


@dataclass
class SweepResults:
    """A sweep folder read back: its manifest, design points and finished runs."""

    directory: Path
    manifest: dict
    design: pd.DataFrame
    runs: pd.DataFrame

    @property
    def parameters(self) -> list[str]:
        return list(self.manifest["parameters"])

    @property
    def measures(self) -> list[str]:
        """Numeric output columns: everything in a run record that is not bookkeeping or an input."""
        inputs = set(self.design.columns) | set(RECORD_COLUMNS) | {"firm"}
        return [
            column
            for column in self.runs.columns
            if column not in inputs and pd.api.types.is_numeric_dtype(self.runs[column])
            and not pd.api.types.is_bool_dtype(self.runs[column])
        ]

    @property
    def ok_runs(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "ok"]


@dataclass
class AnalysisReport:
    results: SweepResults
    output: str
    point_table: pd.DataFrame
    indices: pd.DataFrame | None = None  # tidy: measure, parameter, then the method's columns
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    heatmap_pair: tuple[str, str] | None = None  # the two parameters of the heat map; the first two if None

    def text(self) -> str:
        manifest = self.results.manifest
        runs = self.results.runs
        failed = int((runs["status"] == "failed").sum())
        lines = [
            f"sweep: {manifest.get('description') or Path(manifest.get('sweep_file', '')).name} "
            f"({manifest['design']['kind']}, {manifest['n_points']} points x {manifest['replications']} replications)",
            f"runs: {len(runs)} of {manifest['n_runs']} finished, {failed} failed",
            f"output: {self.output}",
        ]
        mean, spread = f"{self.output} mean", f"{self.output} std"
        if mean in self.point_table and self.point_table[mean].notna().any():
            best = self.point_table.loc[self.point_table[mean].idxmax()]
            settings = ", ".join(f"{name} = {_short(best[name])}" for name in self.results.parameters)
            spread_note = f" (sd {_short(best[spread])})" if pd.notna(best[spread]) else ""
            lines.append(f"highest mean {self.output}: {_short(best[mean])}{spread_note} at {settings}")
        if self.indices is not None:
            shown = self.indices[self.indices["measure"] == self.output].drop(columns="measure")
            lines.append(f"{self.indices.attrs.get('method', 'sensitivity')} indices for {self.output}:")
            lines.append(shown.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
        lines.extend(self.notes)
        lines.extend(f"wrote {path}" for path in self.files)
        return "\n".join(lines)


def load_sweep(directory: str | Path) -> SweepResults:
    """A sweep folder with its runs one row each: analysis compares runs, so the long layout's
    rows per firm become ``"<firm>.<measure>"`` columns here (in memory only)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    runs = read_runs(directory)
    if runs.empty:
        raise UsageError(f"{directory}: no finished runs yet")
    return SweepResults(directory, manifest, read_design(directory), wide_runs(runs))


def wide_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Long runs (one row per run and firm) -> one row per run with ``"<firm>.<measure>"`` columns
    (a measure of no firm keeps its bare name), firms in the order the runs wrote them."""
    start = list(runs.columns).index("firm")
    keys, measures = list(runs.columns[:start]), list(runs.columns[start + 1 :])
    base = runs.drop_duplicates("run_id")[keys].set_index("run_id")
    columns = {}
    for firm in runs["firm"].dropna().unique().tolist() + ([None] if runs["firm"].isna().any() else []):
        rows = runs[runs["firm"].isna()] if firm is None else runs[runs["firm"] == firm]
        rows = rows.set_index("run_id")[measures]
        if firm is None:
            rows = rows.dropna(how="all")
        for measure in measures:
            name = measure if firm is None else f"{firm}.{measure}"
            if firm is None and not rows[measure].notna().any():
                continue
            columns[name] = rows[measure]
    measure_table = pd.DataFrame(columns, index=base.index)
    return base.join(measure_table).reset_index()


def analyze_sweep(
    directory: str | Path,
    output: str | None = None,
    figures: bool = True,
    heatmap_pair: tuple[str, str] | None = None,
) -> AnalysisReport:
    results = load_sweep(directory)
    chosen = choose_output(results, output)
    if heatmap_pair is not None:
        for name in heatmap_pair:
            if name not in results.parameters:
                raise UsageError(f"--heatmap {name}: not a parameter of this sweep ({', '.join(results.parameters)})")
        if heatmap_pair[0] == heatmap_pair[1]:
            raise UsageError("--heatmap: name two different parameters")
    folder = results.directory / ANALYSIS_FOLDER
    folder.mkdir(exist_ok=True)
    report = AnalysisReport(
        results=results, output=chosen, point_table=point_table(results), heatmap_pair=heatmap_pair
    )
    report.files.append(_write_csv(report.point_table, folder / "points.csv"))

    kind = results.manifest["design"]["kind"]
    if kind in ("sobol", "morris"):
        report.indices, skipped = sensitivity_indices(results)
        report.notes.extend(skipped)
        if report.indices is not None:
            report.files.append(_write_csv(report.indices, folder / f"{kind}_indices.csv"))
    if figures:
        from funnelsim.experiments.analysis_figures import draw_figures

        report.files.extend(draw_figures(report, folder))
    return report


def choose_output(results: SweepResults, output: str | None) -> str:
    """The measure to report: as named, or a bare measure for the first firm, or the sweep's first output."""
    measures = results.measures
    if not measures:
        raise UsageError(f"{results.directory}: the runs have no numeric measures to analyze")
    if output is None:
        wanted = results.manifest.get("outputs", {}).get("summary") or []
        output = wanted[0] if wanted else None
        if output is None:
            return measures[0]
    if output in measures:
        return output
    suffixed = [measure for measure in measures if measure.endswith(f".{output}")]
    if suffixed:
        return suffixed[0]
    raise UsageError(f"--output {output}: no such measure; the runs have {', '.join(measures[:12])}{' ...' if len(measures) > 12 else ''}")


def point_table(results: SweepResults) -> pd.DataFrame:
    """One row per design point: its settings, runs ok / failed, mean and sd of every measure."""
    runs, design = results.runs, results.design
    counts = (
        runs.assign(ok=runs["status"] == "ok", failed=runs["status"] == "failed")
        .groupby("point_id")[["ok", "failed"]]
        .sum()
        .rename(columns={"ok": "runs_ok", "failed": "runs_failed"})
    )
    measures = results.measures
    stats = results.ok_runs.groupby("point_id")[measures].agg(["mean", "std"]) if measures else pd.DataFrame()
    stats.columns = [f"{measure} {statistic}" for measure, statistic in stats.columns]
    inputs = design[[column for column in design.columns if not column.startswith(UNIT_PREFIX)]]
    table = inputs.set_index("point_id").join(counts, how="left").join(stats, how="left")
    table[["runs_ok", "runs_failed"]] = table[["runs_ok", "runs_failed"]].fillna(0).astype(int)
    return table.reset_index()


def point_means(results: SweepResults, measure: str) -> np.ndarray:
    """Mean of ``measure`` per design point in point order; NaN where no run of the point succeeded."""
    means = results.ok_runs.groupby("point_id")[measure].mean()
    return means.reindex(results.design["point_id"]).to_numpy(dtype=float)


def sensitivity_indices(results: SweepResults) -> tuple[pd.DataFrame | None, list[str]]:
    """SALib indices for every measure of a Sobol or Morris sweep, as one tidy table."""
    manifest = results.manifest
    kind = manifest["design"]["kind"]
    names = results.parameters
    problem = salib_problem(names)
    unit = results.design[[UNIT_PREFIX + name for name in names]].to_numpy(dtype=float)
    tables, skipped = [], []
    for measure in results.measures:
        y = point_means(results, measure)
        missing = int(np.isnan(y).sum())
        if missing:
            skipped.append(f"{measure}: no indices, {missing} design points have no successful run")
            continue
        if np.ptp(y) == 0:
            skipped.append(f"{measure}: no indices, it is the same at every point")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if kind == "sobol":
                table = _sobol_table(problem, y, manifest)
            else:
                table = _morris_table(problem, unit, y, manifest)
        table.insert(0, "measure", measure)
        tables.append(table)
    if not tables:
        return None, skipped
    indices = pd.concat(tables, ignore_index=True)
    indices.attrs["method"] = "Sobol" if kind == "sobol" else "Morris"
    return indices, skipped


def _sobol_table(problem: dict, y: np.ndarray, manifest: dict) -> pd.DataFrame:
    from SALib.analyze import sobol

    result = sobol.analyze(
        problem,
        y,
        calc_second_order=manifest["design"]["second_order"],
        num_resamples=RESAMPLES,
        conf_level=CONFIDENCE,
        seed=manifest["seed"] % 2**32,
    )
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )


def _morris_table(problem: dict, unit: np.ndarray, y: np.ndarray, manifest: dict) -> pd.DataFrame:
    from SALib.analyze import morris

    result = morris.analyze(
        problem,
        unit,
        y,
        num_resamples=RESAMPLES,
        conf_level=CONFIDENCE,
        num_levels=manifest["design"]["levels"],
        seed=manifest["seed"] % 2**32,
    )
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "mu": result["mu"],
            "mu_star": result["mu_star"],
            "mu_star_conf": result["mu_star_conf"],
            "sigma": result["sigma"],
        }
    )


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    table.to_csv(temporary, index=False)
    temporary.replace(path)
    return path


def _short(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)
