"""Provenance for results manifests: what ran, where, with which versions, when, and how asked.

Every results folder (``funnelsim run`` and ``funnelsim sweep`` alike) records this, so a result
can be traced to the code and libraries that made it and rerun with the same command.
"""

from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions go into the manifest: everything that can change a result or a
#: file, installed or not (a missing one is recorded as null).
LIBRARIES = (
    "mesa", "numpy", "pandas", "scipy", "networkx", "pyarrow", "pydantic", "matplotlib", "SALib",
    "duckdb", "tqdm", "dask", "distributed", "polars", "optuna", "pyabc",
)


def write_manifest(folder: Path, content: dict[str, Any], name: str = "manifest.json") -> Path:
    """``content`` plus the command line and the environment, as ``folder/name``.

    For the results folders that are not run or sweep folders (compare, calibrate, optimize),
    so that every folder funnelsim writes says what made it. The folder is a temporary one that
    is renamed when whole, so a plain write is enough here.
    """
    import json

    manifest = {"command": command_line(), **content, "environment": environment()}
    path = Path(folder) / name
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (``funnelsim run baseline -r 5``), quoted so it can be pasted again."""
    words = list(sys.argv if argv is None else argv)
    if words and Path(words[0]).name in ("__main__.py", "funnelsim"):
        words[0] = "funnelsim"
    return shlex.join(words)


def environment() -> dict[str, Any]:
    """funnelsim's version and commit, Python's, the platform's and the libraries' versions."""
    from funnelsim import __version__

    commit, dirty = git_commit()
    return {
        "funnelsim": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {name: _version(name) for name in LIBRARIES},
    }


def git_commit() -> tuple[str | None, bool | None]:
    """The commit of the source tree funnelsim is imported from, if it is a git checkout."""
    import funnelsim

    source = Path(funnelsim.__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None, None
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(status.strip())


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
