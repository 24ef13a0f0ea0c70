"""The ``funnelsim`` command line.

Each subcommand lives in the module that owns its job and exposes ``register(subparsers)``,
which adds its parser and sets ``handler`` to a function taking the parsed arguments and
returning an exit code. Registering a command is one line in :data:`COMMAND_MODULES`. Shared
flags come from :mod:`funnelsim.cli.arguments`; this file adds ``-v/--verbose`` and ``--quiet`` to
every command, sets up the standard ``logging`` module from them, suggests the closest name for a
mistyped command, and turns the project's own input errors into one line on stderr with exit
code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys

from funnelsim import __version__
from funnelsim.cli.arguments import add_verbosity_arguments
from funnelsim.errors import UsageError

#: Modules that each contribute subcommands, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "funnelsim.cli.run",  # run, scenarios, validate, report
    "funnelsim.cli.sweep",  # sweep, analyze
    "funnelsim.cli.compare",  # compare
    "funnelsim.cli.studies",  # studies
    "funnelsim.cli.elasticities",  # elasticities
    "funnelsim.cli.serve",  # serve
    "funnelsim.cli.optimize",  # optimize
    "funnelsim.cli.calibrate",  # calibrate
)

#: Exit code for bad input (a bad scenario, an unknown option value, a missing file).
EXIT_BAD_INPUT = 2

#: Exit code when the machine refuses (disk full, read-only folder, name too long).
EXIT_OS_ERROR = 1


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr with exit code 2, like every
    other bad input, instead of a usage block followed by the error."""

    #: The subcommands' parsers by name (on the top-level parser), to name a misspelt option.
    commands: dict[str, argparse.ArgumentParser] = {}

    def parse_command_line(self, argv: list[str] | None = None) -> argparse.Namespace:
        """As ``parse_args``, but an unknown option gets the closest option of its command, e.g.
        ``funnelsim run: error: unrecognized arguments: --replicatons 3 (did you mean '--replications'?)``."""
        parsed, extras = self.parse_known_args(argv)
        if extras:
            from funnelsim.suggest import did_you_mean

            command = self.commands.get(getattr(parsed, "command", None) or "")
            options = list((command or self)._option_string_actions)
            unknown = next((extra.partition("=")[0] for extra in extras if extra.startswith("-")), "")
            hint = did_you_mean(unknown, options) if unknown else ""
            (command or self).error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed

    def error(self, message: str):
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            from funnelsim.suggest import did_you_mean

            # Python 3.11 quotes each choice, 3.12.8 and later do not.
            choices = re.findall(r"'([^']*)'", choice.group(2)) or [c.strip() for c in choice.group(2).split(",")]
            message += did_you_mean(choice.group(1), choices)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="funnelsim",
        description="Agent-based simulation of marketing and sales turning a population into customers.",
    )
    parser.add_argument("--version", action="version", version=f"funnelsim {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for command in subparsers.choices.values():
        add_verbosity_arguments(command)
    parser.commands = dict(subparsers.choices)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    """funnelsim's loggers write to stderr: warnings by default, more with -v, errors only with --quiet."""
    verbose = getattr(args, "verbose", 0) or 0
    level = logging.ERROR if getattr(args, "quiet", False) else (logging.WARNING, logging.INFO)[min(verbose, 1)]
    if verbose >= 2:
        level = logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("funnelsim: %(message)s"))
    logger = logging.getLogger("funnelsim")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    from funnelsim.experiments.interrupts import interrupts_stop_the_command
    from funnelsim.experiments.limits import run_limit
    from funnelsim.model.scenario import ScenarioError

    parser = build_parser()
    args = parser.parse_command_line(argv)
    _configure_logging(args)
    try:
        # Ctrl-C and `kill` stop every command the same way: finished work kept, nothing half-written.
        with interrupts_stop_the_command(), run_limit(getattr(args, "max_runs", None)):
            return int(args.handler(args) or 0)
    except (ScenarioError, UsageError) as error:
        print(f"funnelsim {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"funnelsim {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`funnelsim analyze DIR | head`): stop quietly, as Unix tools do.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as error:
        # Last resort for the machine saying no (disk full, read-only, name too long): one line
        # naming the file, not a traceback. Nothing half-written remains (results folders are
        # written under a temporary name and renamed when whole).
        print(f"funnelsim {args.command}: error: {_os_error(error, args)}", file=sys.stderr)
        return EXIT_OS_ERROR


def _os_error(error: OSError, args: argparse.Namespace | None = None) -> str:
    """``strerror: filename`` (and the second file of a rename), whatever raised it; a write
    that names no file (a full disk) is named by the command's output folder."""
    reason = error.strerror or " ".join(str(error).split()) or type(error).__name__
    files = [str(name) for name in (error.filename, error.filename2) if name is not None]
    if not files:
        folder = getattr(args, "out", None) or getattr(args, "directory", None)
        return f"{reason} (writing {folder})" if folder else reason
    return f"{reason}: {' -> '.join(files)}"


if __name__ == "__main__":
    raise SystemExit(main())
