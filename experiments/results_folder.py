"""Results folders that appear complete or not at all.

A run writes everything into a hidden temporary folder beside the destination and renames it
into place at the end, so a reader never sees a half-written results folder: an interrupted or
failed run removes its temporary folder and leaves the destination as it was. Renaming a folder
within one parent directory is atomic on POSIX file systems.

Used by ``funnelsim run`` (the whole folder) and ``funnelsim report`` (its ``figures/``); sweep
code may reuse it for any folder that must not be seen half-made.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from funnelsim.errors import UsageError

#: A results folder written by ``funnelsim run`` holds this file; only such a folder (or an
#: empty one) is replaced by ``--overwrite``, so a mistyped ``--out ~`` cannot delete a home.
MARKER = "manifest.json"

TEMPORARY_SUFFIX = ".tmp"


def default_results_directory(name: str, root: str | Path = "results", now: datetime | None = None) -> Path:
    """A new folder under ``root``: ``results/<name>-YYYYMMDD-HHMMSS``, numbered if that exists."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe_name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name) or "run"
    candidate = Path(root) / f"{safe_name}-{stamp}"
    number = 2
    while candidate.exists():
        candidate = Path(root) / f"{safe_name}-{stamp}-{number}"
        number += 1
    return candidate


def check_output_directory(directory: str | Path, overwrite: bool, option: str = "--out") -> Path:
    """Refuse a destination that exists (unless ``overwrite``) or cannot become a folder.

    Called before any work starts, so bad input ends the command with nothing written.
    """
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"{option} {directory}: exists and is not a folder")
        if not overwrite:
            raise UsageError(f"{option} {directory}: folder exists; pass --overwrite to replace it")
        if any(directory.iterdir()) and not (directory / MARKER).is_file():
            raise UsageError(
                f"{option} {directory}: folder is not empty and is not a funnelsim results folder "
                f"(no {MARKER}); refusing to replace it"
            )
    parent = _nearest_existing(directory.parent)
    if not parent.is_dir():
        raise UsageError(f"{option} {directory}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {directory}: cannot write in {parent}")
    return directory


@contextmanager
def atomic_directory(destination: str | Path, replace: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that becomes ``destination`` when the block ends cleanly.

    If the block raises anything (including ``KeyboardInterrupt``), the temporary folder is
    removed and ``destination`` is untouched. With ``replace``, an existing ``destination`` is
    swapped out and deleted only after the new folder is in place.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = _make_temporary_sibling(destination)
    try:
        yield temporary
        _move_into_place(temporary, destination, replace)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _make_temporary_sibling(destination: Path) -> Path:
    while True:
        candidate = destination.parent / f".{destination.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
        try:
            candidate.mkdir()  # respects the umask, unlike tempfile.mkdtemp's 0700
            return candidate
        except FileExistsError:
            continue


def _move_into_place(temporary: Path, destination: Path, replace: bool) -> None:
    if not destination.exists():
        try:
            temporary.rename(destination)
            return
        except OSError:
            # Another process made it in the meantime (rename onto a non-empty folder fails).
            if not destination.exists():
                raise
    if not replace:
        raise UsageError(f"{destination}: folder appeared while writing; results not saved")
    retired = _make_temporary_sibling(destination)
    retired.rmdir()
    destination.rename(retired)
    temporary.rename(destination)
    shutil.rmtree(retired, ignore_errors=True)


def _nearest_existing(path: Path) -> Path:
    path = path if str(path) else Path(".")
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
