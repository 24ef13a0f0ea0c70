"""``funnelsim optimize``: the best split of a fixed budget between marketing and sales.

Everything is checked before any run starts (the scenario and every ``--set``, the firm, the
objective, the space file, the output folder), so bad input ends with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from funnelsim.cli.arguments import (
    add_command,
    add_max_runs_argument,
    add_output_arguments,
    add_replications_argument,
    add_scenario_arguments,
    add_seed_argument,
    add_steps_argument,
    add_workers_arguments,
    check_run_arguments,
    fresh_seed,
    parse_set_options,
)
from funnelsim.errors import UsageError


def register(subparsers) -> None:
    from funnelsim.experiments.optimization.objectives import OBJECTIVES

    parser = add_command(
        subparsers,
        "optimize",
        help="find the best split of a firm's budget between marketing and sales, with its uncertainty",
        description="Search how a firm should split a fixed budget per step between marketing (and its channel mix) "
        "and whole salespeople, and which sales tactics to use, to maximize MEASURE. Every candidate runs on the "
        "same replications (common random numbers); the leaders are re-run on new replications before a winner "
        "is named. Writes best.json, best.toml, trials.parquet, manifest.json and figures/ to DIR. "
        "Exit code 2 for bad input, with nothing written.",
        examples=[
            "funnelsim optimize baseline --firm 0 --objective profit --trials 40 --seed 7 --out results/split",
            "funnelsim optimize baseline --out results/split --resume",
        ],
    )
    add_scenario_arguments(parser)
    parser.add_argument("--firm", default="0", metavar="F", help="the firm whose budget is split: index or name (default: 0)")
    parser.add_argument(
        "--objective", default="profit", metavar="MEASURE",
        help=f"per-firm measure to maximize: {', '.join(OBJECTIVES)} (default: profit)",
    )
    parser.add_argument("--trials", type=int, default=40, metavar="T", help="candidates searched (default: 40)")
    parser.add_argument("--space", metavar="FILE", help="a TOML file changing what is searched (see the README)")
    add_steps_argument(parser)
    add_replications_argument(parser, 4, extra="per candidate during the search, the same for all")
    parser.add_argument(
        "--final-replications", type=int, default=20, metavar="R2",
        help="new replications for the leaders and the baseline before a winner is named (default: 20)",
    )
    parser.add_argument("--leaders", type=int, default=5, metavar="K", help="leading candidates re-run (default: 5)")
    parser.add_argument(
        "--sampler", default="tpe", metavar="NAME", help="tpe (Optuna's multivariate TPE, default) or random"
    )
    parser.add_argument(
        "--batch-size", type=int, default=4, metavar="N",
        help="candidates proposed at a time (default: 4); results do not depend on --workers",
    )
    add_seed_argument(parser, extra="seeds the replications, the sampler and the bootstrap")
    add_workers_arguments(parser, default_text="1, this process")
    add_max_runs_argument(parser)
    parser.add_argument("--resume", action="store_true", help="finish the interrupted optimization of DIR (kept in DIR.partial)")
    add_output_arguments(
        parser, default=None, what="best.json, best.toml, trials.parquet, manifest.json and figures/"
    )
    parser.set_defaults(handler=optimize_command)


def optimize_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.optimization.api import optimize
    from funnelsim.experiments.optimization.trial_store import MANIFEST, partial_directory

    check_run_arguments(args)
    overrides = parse_set_options(args.set)
    seed = args.seed
    if seed is None and args.resume:
        manifest = partial_directory(args.out) / MANIFEST
        if not manifest.is_file():
            raise UsageError(f"--resume: no interrupted optimization at {partial_directory(args.out)}")
        seed = int(json.loads(manifest.read_text(encoding="utf-8"))["seed"])
    if seed is None:
        seed = fresh_seed()
    try:
        result = optimize(
            args.scenario, firm=args.firm, objective=args.objective, trials=args.trials,
            replications=args.replications, final_replications=args.final_replications, leaders=args.leaders,
            space=args.space, overrides=overrides, steps=args.steps, seed=seed, batch_size=args.batch_size,
            sampler=args.sampler, workers=args.workers, scheduler=args.scheduler, out=args.out,
            resume=args.resume, overwrite=args.overwrite, figures=not args.no_figures,
            progress=not args.quiet and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        kept = partial_directory(args.out)
        if kept.is_dir():
            print(
                f"funnelsim optimize: interrupted; finished trials are kept in {kept}: "
                "run the same command with --resume to finish",
                file=sys.stderr,
            )
            return 130
        raise
    print(report(result, args.out))
    return 0


def report(result, out) -> str:
    """A few lines for the terminal: the winner, its interval, the baseline, the odds."""
    p = result.params
    mix = ", ".join(f"{k.removeprefix('mix.')} {v:.2f}" for k, v in p.items() if k.startswith("mix."))
    tactics = ", ".join(f"{r['name']} {p[r['name']]:.3g}" for r in result.space["ranges"])
    o, b, d = result.objective, result.baseline, result.improvement
    near = int(result.candidates["near_optimal"].sum())
    return "\n".join(
        [
            f"firm {result.firm['name']}: best of {len(result.candidates)} trials for {result.measure}",
            f"  marketing share {p['marketing_share']:.3f} ({p['marketing_budget_per_step']:,.1f} per step), "
            f"{p['salespeople']} salespeople; mix: {mix}",
            f"  tactics: {tactics}" if tactics else "  tactics: as the scenario has them",
            f"  {result.measure}: {o.mean:,.6g} (95% interval {o.lo:,.6g} to {o.hi:,.6g}, "
            f"{result.settings['final_replications']} new replications)",
            f"  scenario as given: {b.mean:,.6g} ({b.lo:,.6g} to {b.hi:,.6g}); difference {d['mean']:,.6g} "
            f"({d['lo']:,.6g} to {d['hi']:,.6g}, paired p = {d['p_value']:.3g})",
            f"  probability it is the best of the {len(result.leaders)} leaders: {result.probability_best:.2f}; "
            f"{near} of {len(result.candidates)} trials are not distinguishable from it",
            f"  written to {out}",
        ]
    )
