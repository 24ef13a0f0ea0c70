"""Does a study's finding survive a second look? Its placeholders halved and doubled, other seeds.

A built-in study states a finding (say, "each sales tactic raises Closer's win rate"). The finding
rests on settings that are placeholders, plausible values with no published figure behind them,
and on one seed. :func:`robustness` reruns the study's design points (through
:func:`funnelsim.experiments.engine.evaluate`, common random numbers across points):

- at the study's own settings with several seeds, and
- with each named placeholder at half and at twice its value (one seed each),

tests the finding on the means over replications in each case, and classifies it:

- "holds": true at every seed and every placeholder value tried;
- "holds only when ...": true at the study's settings for most seeds, false for some placeholder
  values (named);
- "does not hold": false at the study's settings for most seeds.

Runs are small on purpose (``consumers``, ``replications``; a few minutes for all studies on two
cores), so a verdict is a screen, not a proof: a finding that "does not hold" at 1,000 consumers
may be a matter of noise, and one that "holds" may still fail at values not tried.

``python -m funnelsim.experiments.robustness --out docs/studies.md`` writes the tables.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.errors import UsageError
from funnelsim.experiments.engine import evaluate
from funnelsim.experiments.sweep_plan import make_plan
from funnelsim.experiments.sweep_spec import read_sweep_file

STUDIES = Path(__file__).resolve().parent / "studies"

#: The placeholders every finding is tried against, halved and doubled. They are the placeholders
#: the issue and the model notes single out as steering who buys through which route: how often a
#: waiting lead buys on its own (``self_serve_rate``; the best budget split turns on it), how much
#: awareness makes a lead (``interest_threshold``, calibrated only to the elasticity ranges) and
#: how long a lead waits (``lead_patience``).
PLACEHOLDERS = ("market.self_serve_rate", "market.interest_threshold", "market.lead_patience")

#: A finding is a test on ``means(measure, firm) -> array over the design points`` (means over
#: replications), and a point filter picks which design points to run (None: all).
Means = Callable[[str, int], np.ndarray]


@dataclass(frozen=True)
class Finding:
    study: str
    text: str
    test: Callable[[Means], bool]
    points: Callable[[pd.DataFrame], pd.Series] | None = None


def _interior_best(values: np.ndarray) -> bool:
    best = int(np.argmax(values))
    return 0 < best < len(values) - 1


FINDINGS: dict[str, Finding] = {
    finding.study: finding
    for finding in [
        Finding(
            "budget_split",
            "a split between marketing and sales (neither end) maximizes Loudmouth's profit "
            "(small-world network, price 2,400)",
            lambda m: _interior_best(m("profit", 0)),
            lambda design: (design["network.kind"] == "watts_strogatz") & (design["firms.0.price"] == 2400.0),
        ),
        Finding(
            "channels",
            "email alone brings Loudmouth the fewest customers of the four channels",
            lambda m: int(np.argmin(m("customers", 0))) == 0,
        ),
        Finding(
            "marketing_or_sales",
            "Closer's even split brings more customers than all-marketing or all-sales",
            lambda m: _interior_best(m("customers", 1)),
        ),
        Finding(
            "sales_bottleneck",
            "with two salespeople and no self-serve, raising marketing from 50 to 3,200 a day lowers "
            "Loudmouth's profit",
            lambda m: m("profit", 0)[-1] < m("profit", 0)[1],
        ),
        Finding(
            "sales_tactics",
            "each tactic (coupon, commission, referral) raises Closer's win rate over none",
            lambda m: bool(np.all(m("win_rate", 1)[1:] > m("win_rate", 1)[0])),
        ),
        Finding(
            "topology_seeding",
            "aiming Loudmouth's marketing at hubs changes its customers by less than 10% on every network",
            lambda m: bool(np.all(np.abs(m("customers", 0)[1::2] / m("customers", 0)[0::2] - 1) < 0.1)),
        ),
        Finding(
            "two_returns",
            "the split that maximizes Loudmouth's market share differs from the one that maximizes its revenue",
            lambda m: int(np.argmax(m("market_share", 0))) != int(np.argmax(m("revenue", 0))),
        ),
    ]
}

#: Studies with no finding tried here, and why.
NOT_TRIED = {
    "population_scale": "its arms run 100,000 consumers for a year; too large for a screen of minutes",
    "sensitivity": "its finding is a ranking of Sobol indices over 384 points; rerunning it per placeholder "
    "is the study itself many times over",
    "screening": "its finding is a Morris ranking of settings, placeholders among them: it is itself the "
    "robustness screen",
}


def robustness(
    finding: Finding,
    *,
    placeholders: tuple[str, ...] = PLACEHOLDERS,
    seeds: tuple[int, ...] = (1, 2, 3),
    consumers: int = 1000,
    replications: int = 2,
    workers: int | None = 1,
) -> tuple[str, pd.DataFrame]:
    """Classify ``finding`` across seeds and placeholders halved and doubled.

    Returns the verdict ("holds", "holds only when ...", "does not hold") and a table with one
    row per case (setting, value, seed, finding true or false). A placeholder the study fixes
    itself is left alone (the study's own choice is not a placeholder there).
    """
    path = STUDIES / f"{finding.study}.toml"
    spec, _ = read_sweep_file(path)
    if spec.seed is None:
        raise UsageError(f"{path}: a study needs a seed, so that its design points are the same every time")
    plan = make_plan(spec, path, spec.seed)
    design = plan.design.points
    keep = np.ones(len(design), dtype=bool) if finding.points is None else finding.points(design).to_numpy()
    points = [{**plan.overrides_of(int(i)), "market.consumers": consumers} for i in np.flatnonzero(keep)]

    def check(extra: dict[str, Any], seed: int) -> bool:
        result = evaluate(
            plan.base, [{**point, **extra} for point in points], replications=replications, seed=seed,
            steps=plan.steps, workers=workers, description=f"{finding.study}",
        )
        return bool(finding.test(lambda measure, firm: result.measure(measure, firm=firm).mean(axis=1)))

    rows = [{"setting": "study's own", "value": "", "seed": seed, "holds": check({}, seed)} for seed in seeds]
    base = plan.base.to_dict()
    for key in placeholders:
        if key in spec.fixed:
            continue
        section, name = key.split(".")
        value = base[section][name]
        for factor, label in ((0.5, "halved"), (2.0, "doubled")):
            new = value * factor
            new = int(round(new)) if isinstance(value, int) else min(float(new), 1.0)
            rows.append({"setting": key, "value": f"{new:g} ({label})", "seed": seeds[0], "holds": check({key: new}, seeds[0])})
    table = pd.DataFrame(rows)
    return classify(table), table


def classify(table: pd.DataFrame) -> str:
    """The verdict from a table of cases (``setting``, ``value``, ``seed``, ``holds``); the rows
    whose setting is "study's own" are the seeds at the study's settings."""
    own = table[table["setting"] == "study's own"]["holds"].astype(bool)
    varied = table[table["setting"] != "study's own"]
    if own.mean() <= 0.5:
        return "does not hold"
    if own.all() and varied["holds"].all():
        return "holds"
    failing = [f"{r.setting} = {r.value}" for r in varied.itertuples() if not r.holds]
    seeds_failing = int((~own).sum())
    parts = []
    if failing:
        parts.append("fails when " + ", ".join(failing))
    if seeds_failing:
        parts.append(f"fails at {seeds_failing} of {len(own)} seeds")
    return "holds only when the placeholders stay near their defaults (" + "; ".join(parts) + ")"


def studies_markdown(results: dict[str, tuple[str, pd.DataFrame]], *, consumers: int, replications: int, seeds) -> str:
    """The generated part of docs/studies.md: a summary table, then one table per study."""
    lines = [
        f"Sizes: {consumers:,} consumers per run, {replications} replications per case, seeds "
        f"{', '.join(map(str, seeds))} at the study's own settings, seed {seeds[0]} with each placeholder halved "
        "and doubled; each study's own steps and design points.",
        "",
        "| study | finding | verdict |",
        "| --- | --- | --- |",
    ]
    for study, (verdict, _) in results.items():
        lines.append(f"| `{study}` | {FINDINGS[study].text} | {verdict} |")
    for study, reason in NOT_TRIED.items():
        lines.append(f"| `{study}` | (not tried) | not tried: {reason} |")
    for study, (verdict, table) in results.items():
        lines += ["", f"### `{study}`", "", f"Finding: {FINDINGS[study].text}. **Verdict: {verdict}.**", ""]
        lines.append("| setting | value | seed | finding true |")
        lines.append("| --- | --- | --- | --- |")
        for row in table.itertuples():
            lines.append(f"| {row.setting} | {row.value} | {row.seed} | {'yes' if row.holds else 'no'} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- robustness: begin (generated) -->", "<!-- robustness: end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m funnelsim.experiments.robustness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", nargs="*", default=list(FINDINGS), help="studies to try (default: all with a finding)")
    parser.add_argument("--consumers", type=int, default=1000)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", help="write the tables between the markers of this file")
    args = parser.parse_args(argv)
    seeds = (1, 2, 3)
    results = {}
    for study in args.studies:
        results[study] = robustness(FINDINGS[study], consumers=args.consumers, replications=args.replications,
                                    workers=args.workers, seeds=seeds)
        print(f"{study}: {results[study][0]}", file=sys.stderr)
    text = studies_markdown(results, consumers=args.consumers, replications=args.replications, seeds=seeds)
    if args.out:
        path = Path(args.out)
        document = path.read_text(encoding="utf-8")
        head, rest = document.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(f"{head}{BEGIN}\n\n{text}\n{END}{tail}", encoding="utf-8")
        temporary.replace(path)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
