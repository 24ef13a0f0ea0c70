"""``funnelsim elasticities``: advertising and price elasticities of customers, next to the
published ranges (the measurement is :func:`funnelsim.experiments.elasticities.measure_elasticities`)."""

from __future__ import annotations

import argparse
import sys

from funnelsim.cli.arguments import (
    add_command,
    add_max_runs_argument,
    add_replications_argument,
    add_scenario_arguments,
    add_seed_argument,
    add_steps_argument,
    add_workers_arguments,
    check_run_arguments,
    scenario_from_arguments,
)

#: Paired replications when none are asked for (enough for a usable interval on the baseline).
DEFAULT_REPLICATIONS = 20


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "elasticities",
        help="measure advertising and price elasticities of customers",
        description="Measure each firm's advertising elasticity (d ln customers / d ln marketing budget) "
        "and price elasticity (d ln customers / d ln price) by paired +-change runs with common random "
        "numbers, with confidence intervals, next to the published ranges.",
        examples="funnelsim elasticities baseline -r 20 --seed 0 --set market.consumers=2000 --workers 2",
    )
    add_scenario_arguments(parser, default="baseline")
    parser.add_argument(
        "--firm", type=int, action="append", metavar="F", help="firm index to measure (repeatable; default: all)"
    )
    parser.add_argument(
        "--change", type=float, default=0.1, metavar="C", help="relative change either side (default: 0.1)"
    )
    add_steps_argument(parser)
    add_replications_argument(parser, DEFAULT_REPLICATIONS, extra="paired: both sides of a change share a stream")
    add_seed_argument(parser, default=0)
    add_workers_arguments(parser, default_text="1, this process")
    add_max_runs_argument(parser)
    parser.set_defaults(handler=run_elasticities_command)


def run_elasticities_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.elasticities import measure_elasticities

    check_run_arguments(args)
    scenario, _, _ = scenario_from_arguments(args)
    table = measure_elasticities(
        scenario,
        firms=args.firm,
        change=args.change,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    shown = table.copy()
    shown["interval"] = [f"[{low:.3f}, {high:.3f}]" for low, high in zip(table["low"], table["high"])]
    shown["published"] = [f"[{low:g}, {high:g}]" for low, high in zip(table["published_low"], table["published_high"])]
    columns = ["firm", "setting", "estimate", "interval", "std", "replications", "published"]
    print(shown[columns].to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    return 0
