"""``funnelsim run``, ``scenarios``, ``validate`` and ``report``: batch runs from the command line.

``run`` checks everything it can before it starts (the scenario and every ``--set``, the options,
the output folder), so bad input ends with one line on stderr, exit code 2 and nothing written.
Then it runs the replications as a sweep of one design point (the same plan, executors, loop and
results folder as ``funnelsim sweep``), writes the folder under a temporary name, renames it into
place, and prints a short summary table.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from funnelsim.cli.arguments import (
    DEFAULT_REPLICATIONS,
    add_command,
    add_output_arguments,
    add_run_arguments,
    add_scenario_arguments,
    add_set_argument,
    check_run_arguments,
    fresh_seed,
    parse_set_options,
    parse_value,
    scenario_from_arguments,
)
from funnelsim.errors import UsageError
from funnelsim.experiments.engine import MAX_SEED

__all__ = ["DEFAULT_REPLICATIONS", "MAX_SEED", "parse_set_options", "parse_value", "register"]

logger = logging.getLogger(__name__)

#: Exit code when some replications failed (their errors are in the results folder).
EXIT_RUNS_FAILED = 1


def register(subparsers) -> None:
    run = add_command(
        subparsers,
        "run",
        help="run a scenario: replications in, tables, figures and a manifest out",
        description="Run SCENARIO for R replications (replication r uses SeedSequence(seed, spawn_key=(r,))) and "
        "write a results folder (manifest.json, runs/, timeseries/, figures/; read it with "
        "funnelsim.load_results), then print a summary table (not with --quiet). Exit code 2 for bad input, "
        "with nothing written.",
        examples="funnelsim run baseline -r 5 --seed 7 --set market.consumers=2000 --out results/base",
    )
    add_scenario_arguments(run)
    add_run_arguments(run)
    add_output_arguments(run)
    run.set_defaults(handler=run_command)

    scenarios = add_command(
        subparsers, "scenarios", help="list the built-in scenarios", description="List the built-in scenarios, one line each.",
        examples="funnelsim scenarios",
    )
    scenarios.set_defaults(handler=scenarios_command)

    validate = add_command(
        subparsers,
        "validate",
        help="check a scenario file",
        description="Check a scenario file (or built-in name) and say what is wrong, or that it is fine. "
        "Exit code 0 when it is fine, 2 when it is not.",
        examples="funnelsim validate ./my-market.toml --set market.consumers=500",
    )
    add_scenario_arguments(validate, positional="file")
    validate.set_defaults(handler=validate_command)

    report = add_command(
        subparsers,
        "report",
        help="(re)draw the figures of a results folder",
        description="Redraw DIR/figures from a run folder's time series and print the summary table again.",
        examples="funnelsim report results/base",
    )
    report.add_argument("directory", metavar="DIR", help="a folder written by `funnelsim run`")
    report.set_defaults(handler=report_command)


# Kept for callers of the old names.
_add_set_option = add_set_argument


# ---------------------------------------------------------------------------------------------
# run


def run_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.results_folder import check_output_directory, default_results_directory

    check_run_arguments(args)
    scenario, overrides, source = scenario_from_arguments(args)
    directory = Path(args.out) if args.out else default_results_directory(scenario.name)
    check_output_directory(directory, args.overwrite, kind="run")

    seed = args.seed if args.seed is not None else fresh_seed()
    outcome, results = run_replications(
        scenario, args.replications, seed, directory,
        workers=args.workers, scheduler=getattr(args, "scheduler", None), overwrite=args.overwrite,
        figures=not args.no_figures, progress=not args.quiet and sys.stderr.isatty(), max_runs=args.max_runs,
        options={"scenario": args.scenario, "set": args.set, "overrides": overrides, "source": source},
    )

    from funnelsim.experiments.run_outputs import terminal_report

    if not args.quiet:
        print(
            terminal_report(
                f"{scenario.name} ({source})", results.summary, args.replications, scenario.market.steps,
                scenario.market.step_unit, seed, directory, figures=not args.no_figures,
            )
        )
    if outcome.failed_total:
        first = results.failed["error"].iloc[0]
        print(
            f"funnelsim run: {outcome.failed_total} of {outcome.total} replications failed (first: {first}); "
            f"errors and tracebacks are in {directory}/runs",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    return 0


def run_replications(
    scenario,
    replications: int,
    seed: int,
    directory: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    figures: bool = True,
    progress: bool = False,
    options: dict | None = None,
    max_runs: int | None = None,
):
    """Run ``replications`` of a validated scenario into a new results folder ``directory``,
    through the sweep machinery (a one-point plan); the folder appears whole or not at all."""
    from funnelsim.experiments import provenance
    from funnelsim.experiments.engine import SEED_RULE
    from funnelsim.experiments.executors import open_executor
    from funnelsim.experiments.figures import draw_figures
    from funnelsim.experiments.limits import check_largest_fits, check_run_count
    from funnelsim.experiments.results import load_results
    from funnelsim.experiments.results_folder import atomic_directory
    from funnelsim.experiments.results_store import LOCK, ResultsStore
    from funnelsim.experiments.run_functions import run_market_model
    from funnelsim.experiments.run_outputs import FIGURES
    from funnelsim.experiments.sweep_plan import make_run_plan
    from funnelsim.experiments.sweep_runner import run_sweep
    from funnelsim.model.metrics import COLUMNS

    # Sizes first: nothing is built, sampled or written for a request that cannot finish.
    check_run_count(replications, f"--replications {replications}", max_runs)
    count = workers or max(1, min(replications, os.cpu_count() or 1))
    check_largest_fits([scenario], 1 if scheduler else count, scenario.name)
    steps = scenario.market.steps
    plan = make_run_plan(scenario, replications, seed, steps, tuple(COLUMNS))
    manifest = {
        "kind": "run",
        "command": provenance.command_line(),
        "options": options or {},
        "description": scenario.description,
        "seed": seed,
        "seed_rule": SEED_RULE,
        "run_id": "point_id * replications + replication",
        "replications": replications,
        "steps": steps,
        "n_points": 1,
        "n_runs": replications,
        "run_function": plan.run_function,
        "design": {"kind": "single"},
        "parameters": {},
        "outputs": {"summary": plan.measures, "timeseries": list(COLUMNS)},
        "workers": None if scheduler else count,
        "scheduler": scheduler,
        "started_at": provenance.now_utc(),
        "finished_at": None,
        "environment": provenance.environment(),
        "scenario": plan.base_scenario,
    }
    with atomic_directory(directory, replace=overwrite) as temporary:
        with open_executor(workers=count, scheduler=scheduler, serial=scheduler is None and count == 1) as handle:
            logger.info("%s: %d replications on %s", scenario.name, replications, handle.description)
            with ResultsStore.create(temporary, manifest, plan.point_table(), None, plan.measures) as store:
                outcome = run_sweep(
                    plan, store, handle, run_market_model, batch_size=replications, progress=progress,
                    description=scenario.name, unit="step",
                )
                store.update_manifest(finished_at=provenance.now_utc())
        (temporary / LOCK).unlink(missing_ok=True)  # nobody resumes a run: the folder needs no lock
        results = load_results(temporary)
        if figures and not results.timeseries.empty:
            draw_figures(results.timeseries, temporary / FIGURES, scenario.name, scenario.market.step_unit, scenario.market.currency)
    results.directory = directory
    return outcome, results


# ---------------------------------------------------------------------------------------------
# scenarios, validate, report


def scenarios_command(args: argparse.Namespace) -> int:
    from funnelsim.model.scenario import builtin_description, builtin_names

    names = builtin_names()
    width = max((len(name) for name in names), default=0)
    for name in names:
        print(f"{name.ljust(width)}  {builtin_description(name)}")
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from funnelsim.model.scenario import describe_source, load_scenario

    scenario = load_scenario(args.file, overrides=parse_set_options(args.set))
    market = scenario.market
    firms = ", ".join(firm.name for firm in scenario.firms)
    print(
        f"{args.file}: ok ({describe_source(args.file)}, '{scenario.name}': {market.consumers:,} consumers, "
        f"{market.steps} {market.step_unit}s, {len(scenario.firms)} firm{'s' if len(scenario.firms) != 1 else ''}: {firms})"
    )
    return 0


def report_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.results_store import damaged_folder

    with damaged_folder(args.directory):
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    from funnelsim.experiments import run_outputs
    from funnelsim.experiments.figures import draw_figures
    from funnelsim.experiments.results import load_results
    from funnelsim.experiments.results_folder import atomic_directory

    directory = Path(args.directory)
    results = load_results(directory)
    try:
        timeseries = results.timeseries
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise UsageError(f"{directory}: cannot read its time series ({' '.join(str(error).split())})") from None
    if timeseries.empty:
        raise UsageError(f"{directory}: no time series to draw (a sweep keeps them only when asked for)")
    scenario = results.manifest.get("scenario") or results.manifest.get("base_scenario") or {}
    title = scenario.get("name", directory.name)
    step_unit = scenario.get("market", {}).get("step_unit", "step")
    with atomic_directory(directory / run_outputs.FIGURES, replace=True) as temporary:
        written = draw_figures(timeseries, temporary, title, step_unit, scenario.get("market", {}).get("currency", "$"))
    for path in written:
        print(directory / run_outputs.FIGURES / path.name)
    summary = results.summary
    if not summary.empty and set(m for m, _, _ in run_outputs.TERMINAL_MEASURES) <= set(summary.columns):
        print()
        print(run_outputs.summary_table(summary))
    return 0
