"""``funnelsim compare A B``: two scenarios (or a scenario and a variant) with common random numbers.

Everything is checked before the first run (both scenarios with their settings, the options, the
output folder), so bad input ends with one line, exit code 2 and nothing written. The results
folder appears whole or not at all.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from funnelsim.cli.arguments import (
    add_command,
    add_max_runs_argument,
    add_output_arguments,
    add_replications_argument,
    add_seed_argument,
    add_set_argument,
    add_steps_argument,
    add_workers_arguments,
    check_run_arguments,
    fresh_seed,
    parse_set_options,
)
from funnelsim.errors import UsageError

DEFAULT_REPLICATIONS = 10
COMPARISON = "comparison.csv"
PAIRS = "pairs.csv"
FIGURE = "comparison.png"


def register(subparsers) -> None:
    compare = add_command(
        subparsers,
        "compare",
        help="compare two scenarios with common random numbers: differences, intervals, replications needed",
        description="Run A and B over the same replications (replication r of both uses the same random "
        "stream) and print, per firm and headline measure, the mean difference B - A with a paired t "
        "confidence interval, whether it is significant, and how many replications would resolve it at "
        "--precision (without it: how many would tell it from zero). A and B are scenario files or built-in "
        "names; they may be the same, with --set-a / --set-b making the variant. Exit code 2 for bad input, "
        "with nothing written.",
        examples=[
            "funnelsim compare baseline baseline --set-b firms.1.sales.salespeople=10 --seed 7",
            "funnelsim compare ./a.toml ./b.toml -r auto --precision 5% --max-replications 60 --out results/a-vs-b",
        ],
    )
    compare.add_argument("a", metavar="A", help="scenario A: a built-in name or a scenario file (./a, a.toml)")
    compare.add_argument("b", metavar="B", help="scenario B: a built-in name or a scenario file (./b, b.toml)")
    add_set_argument(compare, extra="applies to both scenarios")
    for option, side in (("--set-a", "A"), ("--set-b", "B")):
        compare.add_argument(
            option, action="append", default=[], metavar="KEY=VALUE", dest=option[2:].replace("-", "_"),
            help=f"as --set, for {side} only, e.g. {option} firms.0.price=90 (repeatable; applied after --set)",
        )
    add_steps_argument(compare, default="each scenario's market.steps")
    add_replications_argument(
        compare, str(DEFAULT_REPLICATIONS), type=str, metavar="N|auto",
        extra="the same streams for A and B; 'auto' starts with 5 and adds rounds, never rerunning one, until "
        "every interval reaches --precision or --max-replications",
    )
    compare.add_argument(
        "--max-replications", type=int, metavar="N", help="the cap of --replications auto (default: 100)"
    )
    compare.add_argument(
        "--precision", action="append", default=[], metavar="P",
        help="target half-width of the intervals: '5%%' of each measure's level (the larger of |A| and |B|), "
        "or per measure, absolute in its units or relative: 'profit=5000', 'customers=2%%' (repeatable)",
    )
    compare.add_argument(
        "--measures", metavar="LIST",
        help="comma-separated summary measures to compare (default: customers, market_share, revenue, profit, "
        "acquisition_cost, marketing_return, sales_return)",
    )
    compare.add_argument("--confidence", type=float, default=0.95, metavar="C", help="confidence level (default: 0.95)")
    add_seed_argument(compare, extra="replication r of both A and B uses SeedSequence(N, spawn_key=(r,))")
    add_workers_arguments(compare)
    add_max_runs_argument(compare)
    add_output_arguments(
        compare, default="none: the table is only printed",
        what=f"{COMPARISON}, {PAIRS} (per replication), {FIGURE} and manifest.json",
    )
    compare.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.compare import AUTO_CAP, HEADLINE_MEASURES, compare
    from funnelsim.experiments.limits import check_run_count
    from funnelsim.experiments.results_folder import check_output_directory

    check_run_arguments(args)
    replications = _replications(args.replications)
    if args.max_replications is not None and replications != "auto":
        raise UsageError("--max-replications: only applies to --replications auto")
    if replications == "auto" and not args.precision:
        raise UsageError("--replications auto: needs --precision, the half-width to reach (e.g. --precision 5%)")
    cap = args.max_replications if args.max_replications is not None else AUTO_CAP
    if not 0 < args.confidence < 1:
        raise UsageError(f"--confidence {args.confidence}: must be between 0 and 1")
    measures = [m.strip() for m in args.measures.split(",") if m.strip()] if args.measures else list(HEADLINE_MEASURES)
    precision = _precision(args.precision, measures)
    if args.out:
        check_output_directory(args.out, args.overwrite, kind="funnelsim compare")
    seed = args.seed if args.seed is not None else fresh_seed()
    expected = cap if isinstance(replications, str) else replications
    check_run_count(
        2 * expected, f"--replications {args.replications}" + (f" (up to {cap:,})" if replications == "auto" else "") + " on both sides"
    )
    workers = args.workers or max(1, min(2 * expected, os.cpu_count() or 1))

    def report_round(comparison) -> None:
        if not args.quiet:
            needed = comparison.table["replications_needed"].max()
            print(
                f"after {comparison.replications} replications: the widest interval needs "
                f"{'n/a' if math.isnan(needed) else int(needed)}",
                file=sys.stderr,
            )

    comparison = compare(
        args.a, args.b,
        overrides=parse_set_options(args.set), overrides_a=parse_set_options(args.set_a),
        overrides_b=parse_set_options(args.set_b),
        replications=replications, precision=precision, max_replications=cap, measures=measures,
        confidence=args.confidence, seed=seed, steps=args.steps, workers=workers, scheduler=args.scheduler,
        progress=not args.quiet and sys.stderr.isatty(), on_round=report_round,
    )
    if args.out:
        _write(Path(args.out), args, comparison, seed)
    print(_text(args, comparison, seed))
    return 0


def _replications(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--replications {text}: expected a whole number or 'auto'") from None
    if value < 2:
        raise UsageError(f"--replications {text}: needs at least 2 for an interval")
    return value


def _precision(items: list[str], measures: list[str]):
    """``["5%"]`` -> "5%" for every measure; ``["profit=5000", "customers=2%"]`` -> per measure."""
    from funnelsim.experiments.compare import parse_precision

    if not items:
        return None
    overall = [item for item in items if "=" not in item]
    per_measure = [item for item in items if "=" in item]
    if len(overall) > 1:
        raise UsageError(f"--precision {overall[1]}: give one precision for all measures, or one per measure")
    setting: dict[str, str] = {}
    if overall:
        common = parse_precision(overall[0], "--precision")
        if not common.relative:
            raise UsageError(
                f"--precision {overall[0]}: a number alone is in no one unit; name its measure (profit={overall[0]}) "
                "or give a share of the level (5%)"
            )
        setting = {measure: overall[0] for measure in measures}
    for item in per_measure:
        measure, _, value = item.partition("=")
        measure = measure.strip()
        if measure not in measures:
            raise UsageError(f"--precision {item}: {measure!r} is not a compared measure (see --measures)")
        parse_precision(value, f"--precision {measure}=")
        setting[measure] = value.strip()
    return setting


def _write(directory: Path, args: argparse.Namespace, comparison, seed: int) -> None:
    from funnelsim.experiments import provenance
    from funnelsim.experiments.compare_figure import draw_comparison
    from funnelsim.experiments.results_folder import atomic_directory

    with atomic_directory(directory, replace=args.overwrite) as temporary:
        comparison.table.to_csv(temporary / COMPARISON, index=False)
        comparison.pairs.to_csv(temporary / PAIRS, index=False)
        if not args.no_figures:
            draw_comparison(
                comparison.table, temporary / FIGURE, f"{_label(args, 'a')} vs {_label(args, 'b')}",
                comparison.confidence, scenario=comparison.scenario,
            )
        provenance.write_manifest(
            temporary,
            {
                "kind": "funnelsim compare",
                "a": args.a, "b": args.b, "set": args.set, "set_a": args.set_a, "set_b": args.set_b,
                "replications": comparison.replications, "rounds": comparison.rounds,
                "converged": comparison.converged, "precision": args.precision,
                "confidence": comparison.confidence, "steps": args.steps, "seed": seed,
                "seed_rule": "replication r of A and of B runs with SeedSequence(seed, spawn_key=(r,))",
                "created": provenance.now_utc(),
            },
        )


def _label(args: argparse.Namespace, side: str) -> str:
    name = Path(getattr(args, side)).stem
    extra = getattr(args, f"set_{side}")
    return f"{name} [{', '.join(extra)}]" if extra else name


def _text(args: argparse.Namespace, comparison, seed: int) -> str:
    """The terminal table: firm, measure, A, B, difference and interval, significance, needed."""
    level = f"{100 * comparison.confidence:g}%"
    header = ["firm", "measure", "A", "B", "B - A", f"{level} interval", "sig", "needed"]
    lines = [header]
    for row in comparison.table.itertuples(index=False):
        interval = f"[{_number(row.lo)}, {_number(row.hi)}]" if math.isfinite(row.lo) else "n/a"
        needed = "n/a" if not math.isfinite(row.replications_needed) else f"{int(row.replications_needed):,}"
        lines.append([
            row.firm, row.measure, _number(row.a_mean), _number(row.b_mean), _number(row.diff), interval,
            "yes" if row.significant else "no", needed,
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
        for line in lines
    ]
    converged = ""
    if comparison.converged is not None:
        converged = ", precision reached" if comparison.converged else ", cap reached before the precision"
    return (
        f"A: {_label(args, 'a')}\nB: {_label(args, 'b')}\n"
        f"{comparison.replications} paired replications (seed {seed}{converged}); "
        f"'needed': replications for {'--precision ' + ' '.join(args.precision) if args.precision else 'the interval to exclude zero'}\n\n"
        + "\n".join(text)
    )


def _number(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
