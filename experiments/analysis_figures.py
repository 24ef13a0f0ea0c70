"""Figures for ``funnelsim analyze``: main effects, index bar charts and a two-parameter heat map.

Drawn with matplotlib's object interface (``Figure``, no pyplot), so nothing depends on a
display or on global state. Axes and titles name settings and measures in words with their
units (``Acme: price ($)``, from :mod:`funnelsim.model.labels`), not as dotted keys. Every file
name carries the measure it shows (``main_effects_Acme.profit.png``), so analysing another
``--output`` adds figures instead of overwriting the last ones.

A heat map is drawn only for a grid design: there every cell is a point of the design. For a
Latin hypercube, Sobol or Morris design most cells would be empty or hold a few points averaged
over whatever the other parameters happened to be, which reads as a result and is not one.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from funnelsim.model.labels import measure_label, parameter_label

#: A parameter with at most this many distinct values is drawn value by value; more are binned.
MAX_DISCRETE_VALUES = 12
HEATMAP_BINS = 8


def file_name(kind: str, output: str) -> str:
    """``main_effects`` and ``Acme.profit`` -> ``main_effects_Acme.profit.png`` (safe characters only)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", output).strip("_") or "output"
    return f"{kind}_{safe}.png"


def _labeller(results):
    """Functions naming a parameter and a measure in words, with the sweep's firms and units."""
    scenario = results.manifest.get("base_scenario")
    return (lambda key: parameter_label(key, scenario)), (lambda name: measure_label(name, scenario))


def draw_figures(report, folder: Path) -> list[Path]:
    results, output = report.results, report.output
    files = [_save(main_effects_figure(results, output), folder / file_name("main_effects", output))]
    if report.indices is not None and (report.indices["measure"] == output).any():
        table = report.indices[report.indices["measure"] == output]
        if "S1" in table:
            files.append(_save(sobol_figure(table, output, results), folder / file_name("sobol_indices", output)))
        else:
            files.append(_save(morris_figure(table, output, results), folder / file_name("morris_indices", output)))
    kind = results.manifest.get("design", {}).get("kind")
    pair = report.heatmap_pair or tuple(results.parameters[:2])
    if len(pair) == 2 and kind == "grid":
        first, second = pair
        files.append(_save(heatmap_figure(results, output, first, second), folder / file_name("heatmap", output)))
    elif len(pair) == 2 and report.heatmap_pair is not None:
        report.notes.append(
            f"no heat map: a {kind} design is not a grid over {pair[0]} and {pair[1]}, so its cells would be "
            "sparse averages over the other parameters; the main-effects figure shows each parameter alone"
        )
    return files


def main_effects_figure(results, output: str) -> Figure:
    """Mean of the output against each parameter, averaged over everything else; band = one sd."""
    runs = results.ok_runs
    names = results.parameters
    name_of, measure_of = _labeller(results)
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, sharey=True)
    for axis, name in zip(axes.flat, names):
        grouped, positions, labels = _grouped(runs, name, output)
        mean, spread = grouped["mean"].to_numpy(float), grouped["std"].fillna(0).to_numpy(float)
        axis.fill_between(positions, mean - spread, mean + spread, alpha=0.2, linewidth=0)
        axis.plot(positions, mean, marker="o", markersize=3)
        if labels is not None:
            axis.set_xticks(positions, labels, rotation=30 if max(len(label) for label in labels) > 6 else 0)
        axis.set_xlabel(_wrap(name_of(name), 34))
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(names):]:
        axis.set_visible(False)
    for axis in axes[:, 0]:
        axis.set_ylabel(_wrap(measure_of(output), 30))
    figure.suptitle(
        _wrap(f"Main effects on {measure_of(output)}: mean and one sd over all other settings and replications",
              int(14 * 4.2 * columns)),
    )  # fmt: skip
    return figure


def sobol_figure(table: pd.DataFrame, output: str, results=None) -> Figure:
    name_of, measure_of = _labeller(results) if results is not None else (str, str)
    return _paired_bars(
        table,
        left=("S1", "S1_conf", "first order (S1)"),
        right=("ST", "ST_conf", "total (ST)"),
        ylabel="Sobol index (share of variance)",
        title=f"Sobol indices for {measure_of(output)} (95% confidence intervals)",
        name_of=name_of,
    )


def morris_figure(table: pd.DataFrame, output: str, results=None) -> Figure:
    name_of, measure_of = _labeller(results) if results is not None else (str, str)
    return _paired_bars(
        table,
        left=("mu_star", "mu_star_conf", "mu* (overall effect)"),
        right=("sigma", None, "sigma (interactions, non-linearity)"),
        ylabel=_wrap(f"elementary effect on {measure_of(output)} per full range of the parameter", 36),
        title=f"Morris screening for {measure_of(output)}",
        name_of=name_of,
    )


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, max(width, 20))) or text


def _paired_bars(table: pd.DataFrame, left: tuple, right: tuple, ylabel: str, title: str, name_of=str) -> Figure:
    """Two bars per parameter, each ``(column, error column or None, legend label)``."""
    width_inches = max(6.5, 1.6 * len(table) + 2.5)
    figure = Figure(figsize=(width_inches, 4.4), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(table))
    width = 0.38
    for offset, (column, error, label) in ((-width / 2, left), (width / 2, right)):
        errors = table[error] if error else None
        axis.bar(positions + offset, table[column], width, yerr=errors, capsize=3, label=label)
    axis.set_xticks(positions, [_wrap(name_of(name), 22) for name in table["parameter"]], fontsize=8.5)
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_ylabel(ylabel)
    # Wrapped to the figure's width (about 13 characters per inch at 12 pt), so it is never clipped.
    axis.set_title(_wrap(title, int(13 * width_inches)))
    axis.legend(frameon=False)
    axis.grid(axis="y", alpha=0.3)
    return figure


def heatmap_figure(results, output: str, first: str, second: str) -> Figure:
    """Mean output over a grid of two parameters (binned when they take many values).

    Meant for grid designs (see the module's docstring); when the grid has more parameters, the
    title says which ones each cell averages over.
    """
    runs = results.ok_runs
    name_of, measure_of = _labeller(results)
    rows_key, row_labels = _binned(runs[first])
    columns_key, column_labels = _binned(runs[second])
    table = (
        pd.DataFrame({"row": rows_key, "column": columns_key, "value": runs[output].to_numpy(float)})
        .groupby(["row", "column"])["value"]
        .mean()
        .unstack("column")
        .reindex(index=range(len(row_labels)), columns=range(len(column_labels)))
    )
    figure = Figure(figsize=(max(5.5, 0.75 * len(column_labels) + 2.8), 0.45 * len(row_labels) + 2.0), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(table.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
    axis.set_xticks(range(len(column_labels)), column_labels, rotation=30 if len(column_labels) > 6 else 0)
    axis.set_yticks(range(len(row_labels)), row_labels)
    axis.set_xlabel(_wrap(name_of(second), 40))
    axis.set_ylabel(_wrap(name_of(first), 30))
    figure.colorbar(image, ax=axis, label=_wrap(f"mean {measure_of(output)}", 30))
    if table.size <= 100:
        values = table.to_numpy(float)
        middle = np.nanmean(values)
        for (row, column), value in np.ndenumerate(values):
            if np.isfinite(value):
                axis.text(column, row, _compact(value), ha="center", va="center", fontsize=7,
                          color="white" if value < middle else "black")
    others = [name_of(name) for name in results.parameters if name not in (first, second)]
    if others:
        averaged = f"mean over replications and, with equal weight, every grid value of {', '.join(others)}"
    else:
        averaged = "mean over replications"
    axis.set_title(_wrap(f"{measure_of(output)} ({averaged})", int(11 * figure.get_figwidth())), fontsize=10)
    return figure


def _grouped(runs: pd.DataFrame, name: str, output: str):
    """Mean and sd of ``output`` by the parameter's value, or by quantile bin of a continuous one."""
    values = runs[name]
    if _is_discrete(values):
        grouped = runs.groupby(name, sort=True)[output].agg(["mean", "std"])
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            return grouped, grouped.index.to_numpy(float), None
        return grouped, np.arange(len(grouped)), [str(value) for value in grouped.index]
    bins = pd.qcut(values, q=min(10, values.nunique()), duplicates="drop")
    grouped = runs.groupby(bins, observed=True)[output].agg(["mean", "std"])
    centres = runs.groupby(bins, observed=True)[name].mean().to_numpy(float)
    return grouped, centres, None


def _binned(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and labels: one per value when few, else equal-count bins labelled by their mean."""
    if _is_discrete(values):
        categories = sorted(values.unique(), key=lambda value: (str(type(value)), value))
        codes = pd.Categorical(values, categories=categories).codes
        return np.asarray(codes), [_label(value) for value in categories]
    bins = pd.qcut(values, q=HEATMAP_BINS, duplicates="drop")
    codes = np.asarray(bins.cat.codes)
    centres = values.groupby(codes).mean()
    return codes, [_label(centres.get(code, np.nan)) for code in range(len(bins.cat.categories))]


def _is_discrete(values: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    return values.nunique() <= MAX_DISCRETE_VALUES


def _compact(value: float) -> str:
    """Short cell labels: -28.8k rather than -2.88e+04."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _label(value) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 1e4 else f"{number:.4g}"
    return str(value)


def _save(figure: Figure, path: Path) -> Path:
    temporary = path.with_name(path.stem + ".tmp.png")
    figure.savefig(temporary, dpi=110)
    temporary.replace(path)
    return path
