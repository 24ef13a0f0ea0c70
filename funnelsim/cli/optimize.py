"""``funnelsim optimize``: the best split of a fixed budget between marketing and sales.

Everything is checked before any run starts (the scenario and every ``--set``, the firm, the
objective, the space file, the output folder), so bad input ends with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from funnelsim.errors import UsageError


def register(subparsers) -> None:
    from funnelsim.experiments.optimization.objectives import OBJECTIVES

    parser = subparsers.add_parser(
        "optimize",
        help="find the best split of a firm's budget between marketing and sales, with its uncertainty",
        description="Search how a firm should split a fixed budget per step between marketing (and its channel mix) "
        "and whole salespeople, and which sales tactics to use, to maximize MEASURE. Every candidate runs on the "
        "same replications (common random numbers); the leaders are re-run on new replications before a winner "
        "is named. Writes best.json, best.toml, trials.parquet, manifest.json and figures/ to DIR. "
        "Exit code 2 for bad input, with nothing written.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="a scenario TOML file or a built-in name (e.g. baseline)")
    parser.add_argument("--firm", default="0", metavar="F", help="the firm whose budget is split: index or name (default: 0)")
    parser.add_argument(
        "--objective", default="profit", metavar="MEASURE",
        help=f"per-firm measure to maximize: {', '.join(OBJECTIVES)} (default: profit)",
    )
    parser.add_argument("--trials", type=int, default=40, metavar="T", help="candidates searched (default: 40)")
    parser.add_argument("--out", required=True, metavar="DIR", help="results folder to create")
    parser.add_argument("--space", metavar="FILE", help="a TOML file changing what is searched (see the README)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="set",
        help="override a scenario setting, as in `funnelsim run`; repeatable",
    )
    parser.add_argument("--steps", type=int, metavar="S", help="steps per run (default: the scenario's market.steps)")
    parser.add_argument(
        "--replications", "-r", type=int, default=4, metavar="R",
        help="replications per candidate during the search, the same for all (default: 4)",
    )
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
    parser.add_argument("--seed", type=int, metavar="N", help="seed of the whole optimization (default: a fresh one, recorded)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", "-w", type=int, metavar="W", help="local worker processes (default: 1, this process)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--resume", action="store_true", help="finish the interrupted optimization of DIR (kept in DIR.partial)")
    parser.add_argument("--overwrite", action="store_true", help="replace DIR if it is an earlier results folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=optimize_command)


def optimize_command(args: argparse.Namespace) -> int:
    from funnelsim.cli.arguments import parse_set_options
    from funnelsim.experiments.executors import sigterm_as_interrupt
    from funnelsim.experiments.optimization.api import optimize
    from funnelsim.experiments.optimization.trial_store import MANIFEST, partial_directory

    overrides = parse_set_options(args.set)
    seed = args.seed
    if seed is None and args.resume:
        manifest = partial_directory(args.out) / MANIFEST
        if not manifest.is_file():
            raise UsageError(f"--resume: no interrupted optimization at {partial_directory(args.out)}")
        seed = int(json.loads(manifest.read_text(encoding="utf-8"))["seed"])
    if seed is None:
        seed = secrets.randbits(63)
    try:
        with sigterm_as_interrupt():  # `kill` stops like Ctrl-C: finished batches stay saved
            result = optimize(
                args.scenario, firm=args.firm, objective=args.objective, trials=args.trials,
                replications=args.replications, final_replications=args.final_replications, leaders=args.leaders,
                space=args.space, overrides=overrides, steps=args.steps, seed=seed, batch_size=args.batch_size,
                sampler=args.sampler, workers=args.workers, scheduler=args.scheduler, out=args.out,
                resume=args.resume, overwrite=args.overwrite, progress=not args.quiet,
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
