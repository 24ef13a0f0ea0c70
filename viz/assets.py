"""A local copy of the front-end files that Solara's page loads, for machines without internet.

Solara's server fetches its JavaScript, CSS and fonts from a public CDN and keeps what it
fetched in a proxy cache folder. Offline the CDN cannot be reached and the page stays blank.
The CDN serves npm packages file by file, so the same files come from the npm registry:
``npm pack NAME@VERSION`` gives the package's tarball, and its contents unpacked into
``<cache>/NAME@VERSION/`` are exactly what the proxy looks up. Pointing
``SOLARA_ASSETS_PROXY_CACHE_DIR`` at that folder makes the page render offline.

The cache is per user (``$XDG_CACHE_HOME/funnelsim/solara-assets``, usually
``~/.cache/funnelsim/solara-assets``); ``FUNNELSIM_ASSET_CACHE`` moves it. ``funnelsim serve``
uses it only when it is complete, so users with internet need no extra step.

Fill it with ``python -m funnelsim.viz.assets fill`` (``scripts/install-browser-deps.sh``
does) and check it with ``python -m funnelsim.viz.assets check``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: Environment variable that moves the cache folder.
CACHE_DIR_VARIABLE = "FUNNELSIM_ASSET_CACHE"

#: The npm packages (name, exact version) whose files Solara 1.64.1's page requests with
#: ``ipyvuetify<2``, found by loading the page in a browser and listing its CDN requests,
#: plus ECharts, which ``solara.FigureEcharts`` loads.
#: A Solara upgrade can change these versions; the browser tests then fail on a 404.
SOLARA_ASSET_PACKAGES: tuple[tuple[str, str], ...] = (
    ("@widgetti/solara-vuetify-app", "10.1.1"),  # the page's Vue/Vuetify bundle, CSS, fonts
    ("requirejs", "2.3.6"),  # the module loader the widgets use
    ("font-awesome", "4.5.0"),  # icon font
    ("@widgetti/vue-grid-layout", "2.3.13-alpha.2"),  # SolaraViz's draggable grid of charts
    ("mermaid", "10.8.0"),  # every solara.Markdown loads it
    ("katex", "0.16.9"),  # every solara.Markdown loads it
    ("echarts", "5.4.0"),  # solara.FigureEcharts, which draws funnelsim's charts in the browser
)

#: The Solara release the list above was made for; another release may ask for other versions.
SOLARA_VERSION = "1.64.1"

#: Written into a package's folder after it was unpacked completely.
_COMPLETE_MARKER = ".funnelsim-complete"


def cache_dir() -> Path:
    """The folder that holds (or will hold) the front-end files."""
    override = os.environ.get(CACHE_DIR_VARIABLE)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "funnelsim" / "solara-assets"


def package_dir(root: Path, name: str, version: str) -> Path:
    """Where the proxy looks for ``name@version``'s files (scoped names keep their ``@scope/``)."""
    return root / f"{name}@{version}"


def missing_packages(root: Path | None = None) -> list[str]:
    """``name@version`` of every package not (completely) in the cache."""
    root = cache_dir() if root is None else root
    return [
        f"{name}@{version}"
        for name, version in SOLARA_ASSET_PACKAGES
        if not (package_dir(root, name, version) / _COMPLETE_MARKER).is_file()
    ]


def is_filled(root: Path | None = None) -> bool:
    """True when every package the page needs is in the cache."""
    return not missing_packages(root)


def _npm_pack(spec: str, destination: Path) -> Path:
    """Download one package's tarball from the npm registry into ``destination``."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed; install it (Debian: apt-get install npm) to fill the asset cache")
    result = subprocess.run(
        [npm, "pack", spec, "--json", "--pack-destination", str(destination)],
        capture_output=True,
        text=True,
        cwd=destination,
    )
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"npm pack {spec} failed: {last_line}")
    filename = json.loads(result.stdout)[0]["filename"]
    return destination / filename


def _unpack(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball into ``target``, dropping its top folder (usually ``package/``)."""
    with tarfile.open(tarball) as archive:
        members = []
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if len(parts) < 2 or not (member.isfile() or member.isdir()):
                continue
            member.name = str(Path(*parts[1:]))
            members.append(member)
        archive.extractall(target, members=members, filter="data")


def fill(root: Path | None = None, *, log=print) -> list[str]:
    """Download every missing package into the cache; return the ones it added.

    Each package is unpacked into a temporary folder beside its final place and renamed
    when complete, so an interrupted fill never leaves a half-filled package behind.
    """
    root = cache_dir() if root is None else root
    root.mkdir(parents=True, exist_ok=True)
    added = []
    for name, version in SOLARA_ASSET_PACKAGES:
        final = package_dir(root, name, version)
        if (final / _COMPLETE_MARKER).is_file():
            continue
        spec = f"{name}@{version}"
        log(f"fetching {spec}")
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=final.parent, prefix=".fill-") as work:
            work_dir = Path(work)
            tarball = _npm_pack(spec, work_dir)
            unpacked = work_dir / "unpacked"
            _unpack(tarball, unpacked)
            (unpacked / _COMPLETE_MARKER).write_text(spec + "\n")
            if final.exists():  # a partial copy, e.g. files Solara fetched itself
                shutil.rmtree(final)
            unpacked.rename(final)
        added.append(spec)
    return added


def solara_environment(root: Path | None = None) -> dict[str, str]:
    """Environment variables that point Solara at the cache, or none when it is not filled.

    With an unfilled cache Solara keeps its own default (fetch from the CDN), which is what
    a user with internet wants.
    """
    root = cache_dir() if root is None else root
    if not is_filled(root):
        return {}
    return {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(root)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m funnelsim.viz.assets",
        description="Manage the local copy of Solara's front-end files (for machines without internet).",
    )
    parser.add_argument("action", choices=["fill", "check", "path"], help="fill the cache, check it, or print its folder")
    args = parser.parse_args(argv)
    root = cache_dir()
    if args.action == "path":
        print(root)
        return 0
    if args.action == "fill":
        try:
            added = fill(root)
        except (RuntimeError, OSError, tarfile.TarError) as error:
            print(f"funnelsim assets: error: {error}", file=sys.stderr)
            return 1
        print(f"asset cache {root}: {len(added)} package(s) added, complete")
        return 0
    missing = missing_packages(root)
    if missing:
        print(f"asset cache {root}: missing {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"asset cache {root}: complete")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
