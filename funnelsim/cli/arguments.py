"""Arguments every command shares, so the same flag means the same thing everywhere.

A command module's ``register(subparsers)`` makes its parser with :func:`add_command` (which
insists on an example for ``--help``) and adds the shared flags with these helpers:

- :func:`add_scenario_arguments`: ``SCENARIO`` (a built-in name, or a path that looks like one:
  ``./baseline``, ``my.toml``) and ``--set KEY=VALUE``; :func:`add_set_argument` alone;
- :func:`add_run_arguments`: all of ``--steps``, ``--replications/-r``, ``--seed``,
  ``--workers/-w``, ``--max-runs`` and ``--scheduler``, or one at a time with
  :func:`add_steps_argument`, :func:`add_replications_argument`, :func:`add_seed_argument`,
  :func:`add_workers_arguments` (``--workers`` and ``--scheduler``, one or the other) and
  :func:`add_max_runs_argument`;
- :func:`add_output_arguments`: ``--out``, ``--overwrite``, ``--no-figures``.

A command passes its own defaults; the help text of a shared flag always starts with the flag's
meaning in :data:`MEANINGS`, so a flag cannot drift into meaning something else in one command.
``-v/--verbose`` and ``--quiet/-q`` are added to every command by :mod:`funnelsim.cli.main`.
Handlers then call :func:`scenario_from_arguments` and :func:`check_run_arguments`.
"""

from __future__ import annotations

import argparse
import math
import secrets
import textwrap
import tomllib
from collections.abc import Sequence
from typing import Any

from funnelsim.errors import UsageError

#: Replications of ``funnelsim run`` when none are asked for.
DEFAULT_REPLICATIONS = 5

#: What each shared flag means, the start of its help text in every command that has it.
MEANINGS = {
    "--set": "override a scenario setting, e.g. --set market.consumers=500 --set firms.0.price=90; "
    'VALUE is read as TOML (3, 0.5, true, "text", [1, 2]); a bare word is a string. Repeatable',
    "--steps": "steps per run",
    "--replications": "replications, each with its own random stream",
    "--seed": "seed of every random stream: the same seed gives the same results",
    "--workers": "local worker processes",
    "--scheduler": "run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (needs pip install 'funnelsim[dask]')",
    "--max-runs": "refuse to start more than N runs, a guard against typos",
    "--out": "results folder to create",
    "--overwrite": "replace DIR if it is an earlier results folder",
    "--no-figures": "write tables only, no figures",
    "--verbose": "say more on stderr (-vv for debugging detail)",
    "--quiet": "no progress bar and no progress messages; errors and warnings still show",
}

#: The option strings of each shared flag: the same short form in every command.
OPTION_STRINGS = {
    "--replications": ("--replications", "-r"),
    "--workers": ("--workers", "-w"),
    "--verbose": ("-v", "--verbose"),
    "--quiet": ("--quiet", "-q"),
}


def _help(flag: str, default: str | None = None, extra: str = "") -> str:
    """A shared flag's help: its meaning, then what this command does without it, then notes."""
    text = MEANINGS[flag]
    if default is not None:
        text += f" (default: {default})"
    return f"{text}; {extra}" if extra else text


class HelpFormatter(argparse.HelpFormatter):
    """Wraps the description's paragraphs to the terminal but keeps indented lines (the
    examples of the epilog) exactly as written, so they can be copied into a shell; never
    breaks a line inside a flag's name (``--max-`` / ``replications``)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                lines.extend(
                    textwrap.wrap(
                        " ".join(paragraph), width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
                    )
                )
                paragraph.clear()

        for line in text.splitlines():
            if line[:1].isspace() or not line.strip():
                flush()
                lines.append(indent + line)
            else:
                paragraph.append(line.strip())
        flush()
        return "\n".join(lines)


def add_command(
    subparsers: Any, name: str, *, help: str, description: str, examples: str | Sequence[str]
) -> argparse.ArgumentParser:
    """A command's parser whose ``--help`` ends with ``examples`` (at least one)."""
    examples = [examples] if isinstance(examples, str) else list(examples)
    if not examples:
        raise ValueError(f"command {name}: give at least one example for its --help")
    heading = "example:" if len(examples) == 1 else "examples:"
    epilog = "\n".join([heading, *(f"  {example}" for example in examples)])
    return subparsers.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=HelpFormatter)


def add_scenario_arguments(
    parser: argparse.ArgumentParser, positional: str = "scenario", default: str | None = None
) -> None:
    """``SCENARIO`` (optional when there is a ``default``) and ``--set KEY=VALUE`` (repeatable)."""
    add_scenario_positional(parser, positional, default)
    add_set_argument(parser)


def add_scenario_positional(parser: argparse.ArgumentParser, positional: str = "scenario", default: str | None = None) -> None:
    """``SCENARIO``: a built-in name or a file that looks like a path."""
    text = (
        "a built-in scenario name (see `funnelsim scenarios`) or a scenario file; a file must look like a "
        "path (./baseline, baseline.toml), so a file named like a built-in never hides it"
    )
    if default is None:
        parser.add_argument(positional, metavar="SCENARIO", help=text)
    else:
        parser.add_argument(positional, metavar="SCENARIO", nargs="?", default=default, help=f"{text} (default: {default})")


def add_set_argument(parser: argparse.ArgumentParser, extra: str = "") -> None:
    """``--set KEY=VALUE``, repeatable, into ``args.set``."""
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="set", help=_help("--set", extra=extra)
    )


def add_run_arguments(
    parser: argparse.ArgumentParser, replications: int | None = DEFAULT_REPLICATIONS, scheduler: bool = True
) -> None:
    """``--steps``, ``--replications/-r``, ``--seed``, ``--workers/-w``, ``--max-runs`` (and ``--scheduler``)."""
    add_steps_argument(parser)
    if replications is not None:
        add_replications_argument(parser, replications)
    add_seed_argument(parser)
    add_workers_arguments(parser, scheduler=scheduler)
    add_max_runs_argument(parser)


def add_steps_argument(parser: argparse.ArgumentParser, default: str = "the scenario's market.steps") -> None:
    parser.add_argument("--steps", type=int, metavar="S", help=_help("--steps", default))


def add_replications_argument(
    parser: argparse.ArgumentParser,
    default: Any,
    default_text: str | None = None,
    extra: str = "",
    type: Any = int,
    metavar: str = "R",
) -> None:
    """``--replications/-r R``; ``default_text`` says the default in words when it is not a number."""
    shown = default_text if default_text is not None else str(default)
    parser.add_argument(
        *OPTION_STRINGS["--replications"], type=type, default=default, metavar=metavar,
        help=_help("--replications", shown, extra),
    )


#: How replications of one point are seeded, for the help of the commands that run replications.
SEED_RULE_HELP = "replication r uses SeedSequence(N, spawn_key=(r,))"


def add_seed_argument(
    parser: argparse.ArgumentParser,
    default: int | None = None,
    default_text: str = "a fresh one, printed and recorded",
    extra: str = SEED_RULE_HELP,
) -> None:
    shown = default_text if default is None else str(default)
    parser.add_argument("--seed", type=int, default=default, metavar="N", help=_help("--seed", shown, extra))


def add_workers_arguments(
    parser: argparse.ArgumentParser,
    default_text: str = "one per CPU core",
    scheduler: bool = True,
    extra: str = "results are the same for any W",
) -> Any:
    """``--workers/-w W`` and (with ``scheduler``) ``--scheduler ADDRESS``, one or the other.

    Both are None when not given (so :func:`check_run_arguments` can tell them apart); the
    command applies the default that ``default_text`` describes. Returns the group, so a
    command can add another way to run (``sweep --serial``) to it."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        *OPTION_STRINGS["--workers"], type=int, metavar="W", help=_help("--workers", default_text, extra)
    )
    if scheduler:
        group.add_argument("--scheduler", metavar="ADDRESS", help=_help("--scheduler"))
    return group


def add_max_runs_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-runs N``: the bound on runs per command (see funnelsim.experiments.limits)."""
    from funnelsim.experiments.limits import MAX_RUNS

    parser.add_argument("--max-runs", type=int, default=MAX_RUNS, metavar="N", help=_help("--max-runs", f"{MAX_RUNS:,}"))


def add_output_arguments(
    parser: argparse.ArgumentParser,
    overwrite: bool = True,
    figures: bool = True,
    default: str | None = "a new folder under results/",
    what: str = "",
) -> None:
    """``--out DIR`` (required when there is no ``default``), ``--overwrite`` and ``--no-figures``;
    ``what`` names the files written."""
    parser.add_argument(
        "--out", metavar="DIR", required=default is None, help=_help("--out", default, f"writes {what}" if what else "")
    )
    if overwrite:
        parser.add_argument("--overwrite", action="store_true", help=_help("--overwrite"))
    if figures:
        parser.add_argument("--no-figures", action="store_true", help=_help("--no-figures"))


def add_verbosity_arguments(parser: argparse.ArgumentParser) -> None:
    """``-v/--verbose`` (count) and ``--quiet/-q``: how much a command says on stderr."""
    parser.add_argument(*OPTION_STRINGS["--verbose"], action="count", default=0, help=_help("--verbose"))
    parser.add_argument(*OPTION_STRINGS["--quiet"], action="store_true", help=_help("--quiet"))


#: Local worker processes one command may start; more is a typo on any machine this runs on.
MAX_WORKERS = 1024


def check_run_arguments(args: argparse.Namespace) -> None:
    """One-line errors for counts out of range, before anything runs."""
    from funnelsim.experiments.engine import MAX_SEED

    replications = getattr(args, "replications", None)
    if not isinstance(replications, int):  # None, or a word the command reads itself (compare's 'auto')
        replications = None
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


def fresh_seed() -> int:
    """A new seed, 0 to ``MAX_SEED``, for a command given no ``--seed``; commands print or record
    it, so the results can be made again."""
    from funnelsim.experiments.engine import MAX_SEED

    return secrets.randbelow(MAX_SEED + 1)


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
