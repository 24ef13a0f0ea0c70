"""``funnelsim elasticities``: advertising and price elasticities of customers, next to the
published ranges (the measurement is :func:`funnelsim.experiments.elasticities.measure_elasticities`)."""

from __future__ import annotations

import argparse

from funnelsim.experiments.elasticities import measure_elasticities


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "elasticities",
        help="measure advertising and price elasticities of customers",
        description="Measure each firm's advertising elasticity (d ln customers / d ln marketing budget) "
        "and price elasticity (d ln customers / d ln price) by paired +-change runs with common random "
        "numbers, with confidence intervals, next to the published ranges.",
    )
    parser.add_argument("scenario", nargs="?", default="baseline", help="built-in name or TOML file (default: baseline)")
    parser.add_argument("--firm", type=int, action="append", help="firm index to measure (repeatable; default: all)")
    parser.add_argument("--replications", "-r", type=int, default=20, help="paired replications (default: 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the replications (default: 0)")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: the scenario's)")
    parser.add_argument("--change", type=float, default=0.1, help="relative change either side (default: 0.1)")
    parser.add_argument("--workers", "-w", type=int, default=1, help="local worker processes (default: 1)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="dotted-key override, e.g. market.consumers=2000 (repeatable)",
    )
    parser.set_defaults(handler=run_elasticities_command)


def run_elasticities_command(args: argparse.Namespace) -> int:
    from funnelsim.cli.arguments import parse_set_options

    overrides = parse_set_options(args.overrides)
    table = measure_elasticities(
        args.scenario,
        firms=args.firm,
        change=args.change,
        replications=args.replications,
        seed=args.seed,
        steps=args.steps,
        overrides=overrides,
        workers=args.workers,
        progress=True,
    )
    shown = table.copy()
    shown["interval"] = [f"[{low:.3f}, {high:.3f}]" for low, high in zip(table["low"], table["high"])]
    shown["published"] = [f"[{low:g}, {high:g}]" for low, high in zip(table["published_low"], table["published_high"])]
    columns = ["firm", "setting", "estimate", "interval", "std", "replications", "published"]
    print(shown[columns].to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    return 0
