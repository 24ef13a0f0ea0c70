"""Run the Solara server for the live page in this process.

The server runs in the process that ``funnelsim serve`` started (not in a child process), so
stopping that one process id stops the whole server and leaves nothing behind.

Solara reads its settings from the environment when it is first imported, so every setting
is put into ``os.environ`` before the first ``import solara`` and, to be safe when something
imported Solara earlier, also set on its settings objects.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from funnelsim.viz import assets

#: The module Solara loads; it defines ``Page``.
APP_MODULE = "funnelsim.viz.app"

#: Tells the page which scenario to start from (a path or a built-in name).
SCENARIO_VARIABLE = "FUNNELSIM_SERVE_SCENARIO"
#: The ``--set`` overrides of ``funnelsim serve``, as a JSON object, for the page's process.
SETTINGS_VARIABLE = "FUNNELSIM_SERVE_SET"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

#: How long a session whose browser tab dropped without a clean close (a lost network, a
#: laptop lid) keeps its model on the server before Solara culls it. Solara's default is a day,
#: which a classroom of reloading browsers turns into gigabytes; a reconnect within this time
#: still finds its model.
SESSION_CULL_TIMEOUT = "2m"


def listen_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on ``host:port`` now, as one line naming the option; None if it can."""
    import errno

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return f"--host: '{host}' is not an address or name this machine can resolve"
    family, _, _, _, address = addresses[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"--port: {host}:{port} is already in use; choose another port"
            if error.errno == errno.EADDRNOTAVAIL:
                return f"--host: {host} is not an address of this machine"
            if error.errno == errno.EACCES:
                return f"--port: not allowed to listen on port {port} (ports below 1024 need root)"
            return f"--host/--port: cannot listen on {host}:{port} ({error.strerror})"
    return None


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port on ``host`` that nothing listens on at the moment of asking."""
    family, _, _, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind(address)
        return probe.getsockname()[1]


def server_environment(
    scenario_source: str, title: str = "funnelsim", overrides: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The environment variables the server and its page need."""
    environment = {
        SCENARIO_VARIABLE: scenario_source,
        SETTINGS_VARIABLE: json.dumps(dict(overrides or {})),
        # Solara otherwise posts usage statistics and asks PyPI for a newer version; offline
        # both hang or fail, and neither is wanted in a classroom.
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_KERNEL_CULL_TIMEOUT": SESSION_CULL_TIMEOUT,
        # The browser tab's title before the page sets its own (Solara's default is "Solara"),
        # and no "runs on Solara" banner pinned over the bottom of the last chart.
        "SOLARA_THEME_TITLE": title,
        "SOLARA_THEME_SHOW_BANNER": "False",
    }
    environment.update(assets.solara_environment())
    environment.update(_base_jupyter_config())
    return environment


def _base_jupyter_config() -> dict[str, str]:
    """Let Solara find the widget front-end configuration of a base Python.

    In a virtualenv made with ``--system-site-packages``, Solara and its widgets may be
    installed in the base Python, whose ``etc/jupyter`` the virtualenv's Jupyter paths leave
    out; Solara then finds no notebook configuration and every page request fails
    (``KeyError: 'load_extensions'``) or misses the widgets' JavaScript. Adding the base's
    folders to ``JUPYTER_CONFIG_PATH`` and ``JUPYTER_PATH`` is harmless where they are already
    searched.
    """
    if sys.base_prefix == sys.prefix:
        return {}
    environment = {}
    for variable, base in (
        ("JUPYTER_CONFIG_PATH", Path(sys.base_prefix) / "etc" / "jupyter"),  # which widget extensions load
        ("JUPYTER_PATH", Path(sys.base_prefix) / "share" / "jupyter"),  # where their front-end files are
    ):
        if not base.is_dir():
            continue
        paths = [path for path in os.environ.get(variable, "").split(os.pathsep) if path]
        if str(base) not in paths:
            paths.append(str(base))
        environment[variable] = os.pathsep.join(paths)
    return environment


def page_title(scenario_source: str) -> str:
    """The browser tab's title: funnelsim and the scenario's name."""
    from funnelsim import ScenarioError, load_scenario

    try:
        return f"funnelsim: {load_scenario(scenario_source).name}"
    except (ScenarioError, OSError):  # the command checked it already; a title is not worth failing for
        return "funnelsim"


def _installed_solara() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("solara")
    except PackageNotFoundError:
        return "(none)"


def url_for(host: str, port: int) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    return f"http://{shown_host}:{port}/"


def is_loopback(host: str) -> bool:
    """True when ``host`` (a name or address) only ever resolves to this machine's loopback."""
    import ipaddress

    try:
        resolved = {str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except socket.gaierror:
        return False
    return all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in resolved)


def reachable_urls(host: str, port: int) -> list[str]:
    """The addresses a browser can really open for a server bound to ``host``.

    A wildcard (``0.0.0.0`` or ``::``) is no address anybody can open: it means every address of
    every interface, so those are listed instead.
    """
    if host not in ("0.0.0.0", "::", ""):
        return [url_for(host, port)]
    import psutil

    families = (socket.AF_INET,) if host == "0.0.0.0" else (socket.AF_INET, socket.AF_INET6)
    addresses = [
        address.address
        for interface in psutil.net_if_addrs().values()
        for address in interface
        if address.family in families and not address.address.startswith("fe80")
    ]
    return [url_for(address, port) for address in addresses] or [url_for(host, port)]


def exposure_warning(host: str, port: int) -> str | None:
    """What a user must know before serving beyond loopback; None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"funnelsim serve: warning: --host {host} makes the page reachable from other machines, and it has no "
        "login: anyone who can reach it can run models on this machine and use its CPU and memory. "
        f"Open it at: {'  '.join(reachable_urls(host, port))}"
    )


def _quiet_known_warnings() -> None:
    """Hide a warning that says nothing to a user of this page: Solara warns on plain-http
    requests that it falls back to ``samesite=lax`` cookies, which is right on loopback."""
    warnings.filterwarnings("ignore", message=r"Cookies with samesite=none require https")


def serve(
    scenario_source: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    overrides: Mapping[str, Any] | None = None,
) -> int:
    """Serve the live page, starting from ``scenario_source`` with dotted-key ``overrides``,
    until interrupted; return an exit code."""
    environment = server_environment(scenario_source, page_title(scenario_source), overrides)
    os.environ.update(environment)
    _quiet_known_warnings()

    import click
    from solara.__main__ import run as solara_run
    from solara.server import settings

    settings.telemetry.mixpanel_enable = False
    settings.kernel.cull_timeout = SESSION_CULL_TIMEOUT
    settings.theme.title = environment["SOLARA_THEME_TITLE"]
    settings.theme.show_banner = False
    if "SOLARA_ASSETS_PROXY_CACHE_DIR" in environment:
        settings.assets.proxy_cache_dir = Path(environment["SOLARA_ASSETS_PROXY_CACHE_DIR"])
        where_assets = f"front-end files from {environment['SOLARA_ASSETS_PROXY_CACHE_DIR']}"
    else:
        where_assets = "front-end files from the CDN (run scripts/install-browser-deps.sh to work offline)"
    installed = _installed_solara()
    if installed != assets.SOLARA_VERSION and "SOLARA_ASSETS_PROXY_CACHE_DIR" in environment:
        print(
            f"funnelsim serve: note: Solara {installed} is installed, the offline files are those Solara "
            f"{assets.SOLARA_VERSION} needs; offline, the page may miss some",
            file=sys.stderr,
        )

    warning = exposure_warning(host, port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"funnelsim serve: {url_for(host, port)}  (scenario {scenario_source!r}; {where_assets}; Ctrl+C stops)", flush=True)
    arguments = [
        APP_MODULE,
        "--host", host,
        "--port", str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level-uvicorn", "warning",
    ]  # fmt: skip
    try:
        solara_run.main(args=arguments, prog_name="funnelsim serve", standalone_mode=False)
    except SystemExit as stop:  # uvicorn exits when it cannot bind, for example
        return int(stop.code or 0)
    except click.exceptions.Abort:
        # uvicorn shuts down on Ctrl-C or SIGTERM, then raises the signal again, and click turns
        # the KeyboardInterrupt into Abort: stopping the page is what the user asked for, not an error.
        print("funnelsim serve: stopped", file=sys.stderr, flush=True)
    sys.stdout.flush()
    return 0
