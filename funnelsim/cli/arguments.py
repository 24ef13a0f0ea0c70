"""Arguments every command shares, so the same flag means the same thing everywhere.

A command module's ``register(subparsers)`` builds its parser from these helpers:

- :func:`add_scenario_arguments`: ``SCENARIO`` (a built-in name, or a path that looks like one:
  ``./baseline``, ``my.toml``) and ``--set KEY=VALUE``;
- :func:`add_run_arguments`: ``--steps``, ``--replications/-r``, ``--seed``, ``--workers/-w``,
  ``--scheduler``;
- :func:`add_output_arguments`: ``--out``, ``--overwrite``, ``--no-figures``.

``-v/--verbose`` and ``--quiet`` are added to every command by :mod:`funnelsim.cli`. Handlers
then call :func:`scenario_from_arguments` and :func:`check_run_arguments`.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from typing import Any

from funnelsim.errors import UsageError

#: Replications of ``funnelsim run`` when none are asked for.
DEFAULT_REPLICATIONS = 5


def add_scenario_arguments(parser: argparse.ArgumentParser, positional: str = "scenario") -> None:
    """``SCENARIO`` and ``--set KEY=VALUE`` (repeatable)."""
    parser.add_argument(
        positional, metavar="SCENARIO",
        help="a built-in scenario name (see `funnelsim scenarios`) or a scenario file; a file must look like a "
        "path (./baseline, baseline.toml), so a file named like a built-in never hides it",
    )
    add_set_argument(parser)


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="set",
        help="override a scenario setting, e.g. --set market.consumers=500 --set firms.0.price=90; "
        "VALUE is read as TOML (3, 0.5, true, \"text\", [1, 2]); a bare word is a string. Repeatable.",
    )


def add_run_arguments(
    parser: argparse.ArgumentParser, replications: int | None = DEFAULT_REPLICATIONS, scheduler: bool = True
) -> None:
    """``--steps``, ``--replications/-r``, ``--seed``, ``--workers/-w`` (and ``--scheduler``)."""
    parser.add_argument("--steps", type=int, metavar="S", help="steps per run (default: the scenario's market.steps)")
    if replications is not None:
        parser.add_argument(
            "--replications", "-r", type=int, default=replications, metavar="R",
            help=f"replications, each with its own random stream (default: {replications})",
        )
    parser.add_argument(
        "--seed", type=int, metavar="N",
        help="seed; replication r uses SeedSequence(N, spawn_key=(r,)) (default: a fresh one, printed and recorded)",
    )
    parser.add_argument(
        "--workers", "-w", type=int, metavar="W",
        help="local worker processes (default: one per CPU core); results are the same for any W",
    )
    add_max_runs_argument(parser)
    if scheduler:
        parser.add_argument(
            "--scheduler", metavar="ADDRESS",
            help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (needs pip install 'funnelsim[dask]')",
        )


def add_max_runs_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-runs N``: the bound on runs per command (see funnelsim.experiments.limits)."""
    from funnelsim.experiments.limits import MAX_RUNS

    parser.add_argument(
        "--max-runs", type=int, default=MAX_RUNS, metavar="N",
        help=f"refuse to start more than N runs, a guard against typos (default: {MAX_RUNS:,})",
    )


def add_output_arguments(parser: argparse.ArgumentParser, overwrite: bool = True, figures: bool = True) -> None:
    """``--out DIR`` (with ``--overwrite``) and ``--no-figures``."""
    parser.add_argument("--out", metavar="DIR", help="results folder to create (default: a new folder under results/)")
    if overwrite:
        parser.add_argument("--overwrite", action="store_true", help="replace DIR if it is an earlier results folder")
    if figures:
        parser.add_argument("--no-figures", action="store_true", help="write tables only, no figures")


#: Local worker processes one command may start; more is a typo on any machine this runs on.
MAX_WORKERS = 1024


def check_run_arguments(args: argparse.Namespace) -> None:
    """One-line errors for counts out of range, before anything runs."""
    from funnelsim.experiments.engine import MAX_SEED

    replications = getattr(args, "replications", None)
    if replications is not None and replications < 1:
        raise UsageError(f"--replications {replications}: needs at least 1")
    if getattr(args, "steps", None) is not None and args.steps < 0:
        raise UsageError(f"--steps {args.steps}: cannot be negative")
    if getattr(args, "workers", None) is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: needs at least 1")
    if getattr(args, "seed", None) is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed {args.seed}: must be between 0 and 2**63 - 1")
    if getattr(args, "scheduler", None) and getattr(args, "workers", None) is not None:
        raise UsageError("--workers and --scheduler: give one (a Dask cluster has its own workers)")
    if getattr(args, "workers", None) is not None and args.workers > MAX_WORKERS:
        raise UsageError(f"--workers {args.workers}: at most {MAX_WORKERS} local worker processes")
    if getattr(args, "max_runs", None) is not None and args.max_runs < 1:
        raise UsageError(f"--max-runs {args.max_runs}: needs at least 1")
    replications = getattr(args, "replications", None)
    max_runs = getattr(args, "max_runs", None)
    if replications is not None and max_runs is not None:
        from funnelsim.experiments.limits import check_run_count

        check_run_count(replications, f"--replications {replications}", max_runs)
    if getattr(args, "scheduler", None) is not None:
        from funnelsim.experiments.executors import check_scheduler_address

        try:
            check_scheduler_address(args.scheduler)
        except ImportError:  # no Dask: opening the executor says how to install it
            pass
    if getattr(args, "out", None) == "":
        raise UsageError("--out '': give a folder name (or leave --out out for the default)")
    timeout = getattr(args, "connect_timeout", None)
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--connect-timeout {timeout}: give a positive number of seconds")


def scenario_from_arguments(args: argparse.Namespace, positional: str = "scenario"):
    """The validated scenario the arguments name, with ``--set`` and ``--steps`` applied; and
    a few words saying which scenario was used (``built-in scenario 'baseline'`` or the file)."""
    from funnelsim.model.scenario import describe_source, load_scenario

    source = getattr(args, positional)
    overrides = parse_set_options(getattr(args, "set", []))
    if getattr(args, "steps", None) is not None:
        overrides["market.steps"] = args.steps
    scenario = load_scenario(source, overrides=overrides)
    return scenario, overrides, describe_source(source)


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
    except (tomllib.TOMLDecodeError, RecursionError):
        return text
