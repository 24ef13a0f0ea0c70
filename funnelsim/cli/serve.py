"""``funnelsim serve``: the live browser page for one model.

This module only parses and checks the command line; it imports neither Solara nor the page,
so ``funnelsim --help`` and the other commands stay fast.
"""

from __future__ import annotations

import argparse

from funnelsim.cli.arguments import add_command, add_scenario_arguments, scenario_from_arguments
from funnelsim.errors import UsageError
from funnelsim.viz.server import DEFAULT_HOST, DEFAULT_PORT

DEFAULT_SCENARIO = "baseline"


def register(subparsers) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        "serve",
        help="start the live browser page for one model",
        description=(
            "Start a web page that runs one model live: the social network coloured by funnel "
            "stage, the funnel, market share, revenue, profit, spend and the lead queue over time, "
            "and sliders for the levers a marketing or sales manager pulls. Prints the page's "
            "address. Binds to 127.0.0.1 unless --host says otherwise."
        ),
        examples="funnelsim serve baseline --port 8765 --set market.consumers=2000",
    )
    add_scenario_arguments(parser, default=DEFAULT_SCENARIO)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on, 0 for any free one (default: {DEFAULT_PORT})")
    parser.set_defaults(handler=run_serve)
    return parser


def run_serve(args: argparse.Namespace) -> int:
    from funnelsim.viz import server

    _check_page_libraries()
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a port number (0-65535)")
    # Check the scenario and --set now, so a mistake stops here with one line instead of in the page.
    _, overrides, _ = scenario_from_arguments(args)
    scenario_source = _absolute_if_file(args.scenario)
    problem = server.listen_problem(args.host, args.port)
    if problem:
        raise UsageError(problem)
    port = args.port or server.free_port(args.host)
    return server.serve(scenario_source, host=args.host, port=port, overrides=overrides)


def _check_page_libraries() -> None:
    """The page needs the ``viz`` extra; say so in one line instead of an import traceback."""
    from importlib.util import find_spec

    missing = [name for name in ("solara", "ipyvuetify") if find_spec(name) is None]
    if missing:
        raise UsageError(f"the page needs {', '.join(missing)}: pip install 'funnelsim[viz]'")


def _absolute_if_file(source: str) -> str:
    """A scenario path made absolute, so the page finds it whatever its working folder; a
    built-in name stays a name even when a file of that name is in this folder."""
    from pathlib import Path

    from funnelsim.model.scenario import looks_like_path

    return str(Path(source).expanduser().resolve()) if looks_like_path(source) else source
