"""``funnelsim calibrate``: fit the Bass model or a scenario to observed sales, and forecast.

Everything that can be checked is checked before any simulation starts (the data, the options,
the scenario and both ends of every ``--fit`` range, the output folder), so bad input ends with
one line, exit code 2 and nothing written; the results folder appears only when complete.
"""

from __future__ import annotations

import argparse
import os
import sys

from funnelsim.cli.arguments import (
    add_command,
    add_output_arguments,
    add_seed_argument,
    add_set_argument,
    add_workers_arguments,
    check_run_arguments,
    parse_set_options,
)
from funnelsim.errors import UsageError


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "calibrate",
        help="fit the Bass model or a scenario to observed sales, with intervals and forecasts",
        description="Fit DATA (CSV or Parquet: a 'period' column and 'adopters' per period, optionally 'leads', "
        "'revenue', 'customers' and '<series>.<firm>') by Bass least squares (--bass) or fit scenario keys by "
        "ABC-SMC (--scenario S --fit KEY=LO:HI ...), and write fit.json, forecast.csv, band.csv and fit.png "
        "(plus posterior.parquet and calibrated.toml for a scenario) to DIR. One model step is one period.",
        examples=[
            "funnelsim calibrate sales.csv --bass --holdout 4 --horizon 12 --out results/bass-fit",
            "funnelsim calibrate sales.csv --scenario bass --fit bass.q=0.1:0.9 --budget 300 --out results/abc-fit",
        ],
    )
    parser.add_argument("data", metavar="DATA", help="observed series: a CSV or Parquet file")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bass", action="store_true", help="fit p, q and m of the Bass model by nonlinear least squares")
    mode.add_argument(
        "--scenario", metavar="SCENARIO",
        help="a built-in scenario name or a scenario file (./name, name.toml) to fit by simulation",
    )
    parser.add_argument(
        "--fit", action="append", default=[], metavar="KEY=LO:HI",
        help="a scenario key to fit with a uniform prior on [LO, HI], e.g. --fit bass.q=0.1:0.9; "
        "'m=LO:HI' sets the range of the market potential in the data's units (default: around the Bass fit). Repeatable.",
    )
    add_set_argument(parser, extra="needs --scenario")
    parser.add_argument("--holdout", type=int, default=0, metavar="K", help="fit all but the last K periods and forecast them")
    parser.add_argument("--horizon", type=int, default=0, metavar="H", help="also forecast H periods beyond the data")
    parser.add_argument("--budget", type=int, default=None, metavar="N", help="simulations for the ABC-SMC fit (default: 600)")
    parser.add_argument("--draws", type=int, default=None, metavar="D", help="posterior draws run for the band (default: 100)")
    add_seed_argument(parser, default=0, extra="seeds the ABC-SMC fit, its simulations and the forecast draws")
    add_workers_arguments(parser, extra="")
    add_output_arguments(parser, default=None, what="fit.json, forecast.csv, band.csv, fit.png and manifest.json")
    parser.set_defaults(handler=calibrate_command)


def calibrate_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.calibration.abc_fit import DEFAULT_BUDGET
    from funnelsim.experiments.calibration.api import DEFAULT_DRAWS, calibrate

    if args.bass and args.fit:
        raise UsageError("--fit needs --scenario; --bass fits p, q and m only")
    check_run_arguments(args)
    settings = parse_set_options(args.set)
    if settings and not args.scenario:
        raise UsageError("--set needs --scenario")
    result = calibrate(
        args.data,
        scenario=args.scenario,
        settings=settings,
        fit=args.fit,
        holdout=args.holdout,
        horizon=args.horizon,
        budget=args.budget if args.budget is not None else DEFAULT_BUDGET,
        draws=args.draws if args.draws is not None else DEFAULT_DRAWS,
        seed=args.seed,
        workers=args.workers if args.workers is not None else (os.cpu_count() or 1),
        scheduler=args.scheduler,
        out=args.out,
        overwrite=args.overwrite,
        figures=not args.no_figures,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    summary = result.fit_summary()
    keys = result.abc.keys if result.abc is not None else ["p", "q", "m"]
    for key in keys:
        low, high = summary["intervals"][key]
        print(f"{key:>24}  {summary[key]:.5g}  [{low:.5g}, {high:.5g}]")
    fit = result.bass.goodness_of_fit
    print(f"Bass least squares: R2 {fit['r2']:.3f}, RMSE {fit['rmse']:.4g}, MAPE {fit['mape']:.1f}%")
    if summary["holdout_coverage"] is not None:
        print(f"held-out periods inside the 90% band: {summary['holdout_coverage']:.0%}")
    print(f"wrote {args.out}")
    return 0
