"""``funnelsim run``, ``scenarios``, ``validate`` and ``report``: batch runs from the command line.

``run`` checks everything it can before it starts (the scenario and every ``--set``, the options,
the output folder), so bad input ends with one line on stderr, exit code 2 and nothing written.
Then it runs the replications (in parallel with ``--workers``), writes the results folder under a
temporary name, renames it into place, and prints a short summary table.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from funnelsim.errors import UsageError

DEFAULT_REPLICATIONS = 5
#: Seeds must fit the int64 seed column and numpy's SeedSequence (non-negative).
MAX_SEED = 2**63 - 1


def register(subparsers) -> None:
    run = subparsers.add_parser(
        "run",
        help="run a scenario: replications in, tables, figures and a manifest out",
        description="Run SCENARIO (a TOML file or a built-in name, see `funnelsim scenarios`) for R replications "
        "with independent seeds and write timeseries.parquet, summary.csv, manifest.json and figures/ to DIR. "
        "Exit code 2 for bad input, with nothing written.",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="a scenario TOML file or a built-in name (e.g. baseline)")
    run.add_argument("--out", metavar="DIR", help="results folder to create (default: a new folder under results/)")
    run.add_argument("--overwrite", action="store_true", help="replace DIR if it is an earlier results folder")
    run.add_argument(
        "--replications", "-r", type=int, default=DEFAULT_REPLICATIONS, metavar="R",
        help=f"independent replications (default: {DEFAULT_REPLICATIONS})",
    )
    run.add_argument("--steps", type=int, metavar="S", help="steps per replication (default: the scenario's market.steps)")
    run.add_argument(
        "--seed", type=int, metavar="N",
        help="seed of the whole batch; replication r uses SeedSequence(N, spawn_key=(r,)) (default: a fresh one, "
        "printed and recorded)",
    )
    _add_set_option(run)
    run.add_argument(
        "--workers", "-w", type=int, metavar="W",
        help="worker processes (default: one per CPU core, at most R); results are the same for any W",
    )
    run.set_defaults(handler=run_command)

    scenarios = subparsers.add_parser(
        "scenarios", help="list the built-in scenarios", description="List the built-in scenarios, one line each."
    )
    scenarios.set_defaults(handler=scenarios_command)

    validate = subparsers.add_parser(
        "validate",
        help="check a scenario file",
        description="Check a scenario file (or built-in name) and say what is wrong, or that it is fine. "
        "Exit code 0 when it is fine, 2 when it is not.",
    )
    validate.add_argument("file", metavar="FILE", help="a scenario TOML file")
    _add_set_option(validate)
    validate.set_defaults(handler=validate_command)

    report = subparsers.add_parser(
        "report",
        help="(re)draw the figures of a results folder",
        description="Redraw DIR/figures from DIR/timeseries.parquet and print the summary table again.",
    )
    report.add_argument("directory", metavar="DIR", help="a folder written by `funnelsim run`")
    report.set_defaults(handler=report_command)


def _add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="set",
        help="override a scenario setting, e.g. --set market.consumers=500 --set firms.0.price=90; "
        "VALUE is read as TOML (3, 0.5, true, \"text\", [1, 2]); a bare word is a string. Repeatable.",
    )


# ---------------------------------------------------------------------------------------------
# --set


def parse_set_options(items: list[str]) -> dict[str, Any]:
    """``["a.b=3", "c=text"]`` -> ``{"a.b": 3, "c": "text"}``; VALUE is a TOML value or a bare word."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        key = key.strip()
        if not equals or not key:
            raise UsageError(f"--set {item}: expected KEY=VALUE, e.g. --set market.consumers=500")
        overrides[key] = parse_value(text.strip())
    return overrides


def parse_value(text: str) -> Any:
    """A TOML value (``3``, ``0.5``, ``true``, ``"text"``, ``[1, 2]``); anything else is the text itself."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


# ---------------------------------------------------------------------------------------------
# run


def run_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.batch import replication_seeds
    from funnelsim.experiments.results_folder import check_output_directory, default_results_directory
    from funnelsim.model.scenario import load_scenario

    _check_counts(args)
    overrides = parse_set_options(args.set)
    if args.steps is not None:
        overrides["market.steps"] = args.steps
    scenario = load_scenario(args.scenario, overrides=overrides)
    directory = Path(args.out) if args.out else default_results_directory(scenario.name)
    check_output_directory(directory, args.overwrite)

    seed = args.seed if args.seed is not None else secrets.randbits(63)
    seeds = replication_seeds(seed, args.replications)
    workers = args.workers or max(1, min(args.replications, os.cpu_count() or 1))
    with _sigterm_as_interrupt():
        summary = _run_and_write(args, scenario, overrides, directory, seed, seeds, workers)

    from funnelsim.experiments.run_outputs import terminal_report

    print(
        terminal_report(
            scenario.name, summary, args.replications, scenario.market.steps, scenario.market.step_unit, seed, directory
        )
    )
    return 0


def _check_counts(args: argparse.Namespace) -> None:
    if args.replications < 1:
        raise UsageError(f"--replications {args.replications}: needs at least 1")
    if args.steps is not None and args.steps < 0:
        raise UsageError(f"--steps {args.steps}: cannot be negative")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: needs at least 1")
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed {args.seed}: must be between 0 and 2**63 - 1")


def _run_and_write(args, scenario, overrides, directory: Path, seed: int, seeds: list[int], workers: int):
    from tqdm import tqdm

    from funnelsim.experiments import run_outputs
    from funnelsim.experiments.batch import run_batch
    from funnelsim.experiments.figures import draw_figures
    from funnelsim.experiments.results_folder import atomic_directory
    from funnelsim.model.metrics import summarize

    steps = scenario.market.steps
    started = run_outputs.now_utc()
    with atomic_directory(directory, replace=args.overwrite) as temporary:
        bar = tqdm(
            total=len(seeds) * steps, unit="step", desc=scenario.name, file=sys.stderr,
            disable=not sys.stderr.isatty(), delay=0.5, leave=False, dynamic_ncols=True,
        )
        with bar:
            timeseries = run_batch(scenario.to_dict(), steps, seeds, workers, bar.update)
            bar.set_postfix_str("writing tables and figures")  # a few seconds for a long run
            summary = summarize(timeseries)
            run_outputs.write_tables(temporary, timeseries, summary)
            draw_figures(timeseries, temporary / run_outputs.FIGURES, scenario.name, scenario.market.step_unit, scenario.market.currency)
        manifest = {
            "kind": "funnelsim run",
            "options": {
                "scenario": args.scenario, "out": str(directory), "replications": args.replications,
                "steps": args.steps, "seed": args.seed, "set": args.set, "workers": args.workers,
                "overwrite": args.overwrite,
            },
            "scenario_source": args.scenario,
            "overrides": overrides,
            "replications": len(seeds),
            "steps": steps,
            "seed": seed,
            "seeds": [{"replication": r, "seed": s} for r, s in enumerate(seeds)],
            "seed_rule": "replication r runs MarketModel(scenario, rng=s) with s = "
            "SeedSequence(seed, spawn_key=(r,)).generate_state(1, uint64)[0] >> 1",
            "workers": workers,
            "started_at": started,
            "finished_at": run_outputs.now_utc(),
            "environment": run_outputs.environment(),
            "scenario": scenario.to_dict(),
        }
        run_outputs.write_manifest(temporary, manifest)
    return summary


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """``kill`` cleans up like Ctrl-C does: no half-written results folder is left."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. called from a test thread): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    from funnelsim.model.scenario import load_scenario

    scenario = load_scenario(args.file, overrides=parse_set_options(args.set))
    market = scenario.market
    firms = ", ".join(firm.name for firm in scenario.firms)
    print(
        f"{args.file}: ok (scenario '{scenario.name}': {market.consumers:,} consumers, "
        f"{market.steps} {market.step_unit}s, {len(scenario.firms)} firm{'s' if len(scenario.firms) != 1 else ''}: {firms})"
    )
    return 0


def report_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from funnelsim.experiments import run_outputs
    from funnelsim.experiments.figures import draw_figures
    from funnelsim.experiments.results_folder import atomic_directory

    directory = Path(args.directory)
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such folder")
    timeseries_path = directory / run_outputs.TIMESERIES
    if not timeseries_path.is_file():
        raise UsageError(f"{directory}: not a funnelsim run folder (no {run_outputs.TIMESERIES})")
    try:
        timeseries = pd.read_parquet(timeseries_path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise UsageError(f"{timeseries_path}: cannot read it ({' '.join(str(error).split())})") from None
    manifest = run_outputs.read_manifest(directory) if (directory / run_outputs.MANIFEST).is_file() else {}
    scenario = manifest.get("scenario", {})
    title = scenario.get("name", directory.name)
    step_unit = scenario.get("market", {}).get("step_unit", "step")
    with atomic_directory(directory / run_outputs.FIGURES, replace=True) as temporary:
        written = draw_figures(timeseries, temporary, title, step_unit, scenario.get("market", {}).get("currency", "$"))
    for path in written:
        print(directory / run_outputs.FIGURES / path.name)
    summary_path = directory / run_outputs.SUMMARY
    if summary_path.is_file():
        print()
        print(run_outputs.summary_table(pd.read_csv(summary_path)))
    return 0
