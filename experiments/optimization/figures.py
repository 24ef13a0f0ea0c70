"""The two figures of an optimization: the objective against the marketing share, and the
near-optimal region with each leader's probability of being the best."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from funnelsim.model.labels import measure_label, scenario_units

SHARE_FIGURE = "objective_vs_marketing_share.png"
REGION_FIGURE = "near_optimal_region.png"
NEAR, OTHER, WINNER, BASELINE = "tab:blue", "0.7", "tab:red", "black"


def draw_figures(result, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [_share_figure(result, folder / SHARE_FIGURE), _region_figure(result, folder / REGION_FIGURE)]


def _share_figure(result, path: Path) -> Path:
    candidates, leaders = result.candidates, result.leaders
    fig, ax = plt.subplots(figsize=(8, 5))
    other = candidates[~candidates["near_optimal"]]
    near = candidates[candidates["near_optimal"]]
    ax.scatter(other["marketing_share"], other["score"], s=18, color=OTHER, label="trial (search mean)")
    ax.scatter(near["marketing_share"], near["score"], s=22, color=NEAR, label="not distinguishable from the winner")
    ax.errorbar(
        leaders["marketing_share"], leaders["mean"],
        yerr=[leaders["mean"] - leaders["lo"], leaders["hi"] - leaders["mean"]],
        fmt="o", color="tab:orange", capsize=3, label="leader, new replications (95% interval)",
    )
    top = leaders.iloc[0]
    ax.plot([top["marketing_share"]], [top["mean"]], marker="*", markersize=16, color=WINNER, linestyle="none", label="winner")
    baseline = result.baseline
    share = result.baseline_params.get("marketing_share", np.nan)
    ax.errorbar(
        [share], [baseline.mean], yerr=[[baseline.mean - baseline.lo], [baseline.hi - baseline.mean]],
        fmt="D", color=BASELINE, capsize=3, label="scenario as given (new replications)",
    )
    ax.axhline(baseline.mean, color=BASELINE, linewidth=0.8, linestyle="--")
    ax.set_xlim(-0.03, 1.03)
    currency, step_unit = scenario_units(result.scenario)
    ax.set_xlabel(
        f"share of the budget ({currency}{result.space['total_per_step']:,.0f} per {step_unit}) going to marketing"
    )
    ax.set_ylabel(measure_label(result.measure, result.scenario))
    ax.set_title(f"{result.firm['name']}: {result.measure} against the marketing share")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _region_figure(result, path: Path) -> Path:
    space = result.space
    axes_spec = []  # (column, low, high)
    low, high = space["marketing_share"]
    if high > low:
        axes_spec.append(("marketing_share", low, high))
    people = result.candidates["salespeople"]
    if people.max() > people.min():
        axes_spec.append(("salespeople", float(people.min()), float(people.max())))
    if len(space["mix_channels"]) > 1:
        axes_spec += [(f"mix.{c}", 0.0, 1.0) for c in space["mix_channels"]]
    axes_spec += [(r["name"], r["low"], r["high"]) for r in space["ranges"]]

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [2.2, 1]})
    candidates = result.candidates
    x = np.arange(len(axes_spec))

    def scaled(rows):
        return np.column_stack([(rows[c].to_numpy(float) - lo) / (hi - lo if hi > lo else 1.0) for c, lo, hi in axes_spec])

    for rows, color, width, alpha in (
        (candidates[~candidates["near_optimal"]], OTHER, 0.8, 0.5),
        (candidates[candidates["near_optimal"]], NEAR, 1.0, 0.6),
        (candidates[candidates["winner"]], WINNER, 2.5, 1.0),
    ):
        if len(rows):
            left.plot(x, scaled(rows).T, color=color, linewidth=width, alpha=alpha)
    for i, (_column, lo, hi) in enumerate(axes_spec):
        left.axvline(i, color="0.3", linewidth=0.6)
        left.annotate(f"{lo:g}", (i, 0), xytext=(2, -12), textcoords="offset points", fontsize=7)
        left.annotate(f"{hi:g}", (i, 1), xytext=(2, 4), textcoords="offset points", fontsize=7)
    left.set_xticks(x, [c for c, _, _ in axes_spec], rotation=30, ha="right")
    left.set_yticks([])
    left.set_ylim(-0.08, 1.08)
    near_count = int(candidates["near_optimal"].sum())
    left.set_title(
        f"near-optimal region: {near_count} of {len(candidates)} trials not distinguishable from the winner (blue; red = winner)",
        fontsize=9,
    )

    leaders = result.leaders
    labels = [
        f"trial {int(r.trial)}: share {r.marketing_share:.2f}, {int(r.salespeople)} sales\n"
        f"{_number(r.mean)} [{_number(r.lo)}, {_number(r.hi)}]"
        for r in leaders.itertuples()
    ]
    # Red: the winner; orange: not distinguishable from it; grey: distinguishably worse.
    colors = [WINNER if i == 0 else ("tab:orange" if not d else OTHER) for i, d in enumerate(leaders["distinguishable"])]
    right.barh(np.arange(len(leaders)), leaders["probability_best"], color=colors)
    right.set_yticks(np.arange(len(leaders)), labels, fontsize=7)
    right.invert_yaxis()
    right.set_xlim(0, 1)
    right.set_xlabel("probability of being the best\n(bootstrap over paired replications)")
    for i, r in enumerate(leaders.itertuples()):
        right.annotate(f"{r.probability_best:.2f}", (min(r.probability_best, 0.88) + 0.02, i), va="center", fontsize=8)
    right.set_title(
        f"leaders on {result.settings['final_replications']} new replications: "
        f"{measure_label(result.measure, result.scenario)}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
