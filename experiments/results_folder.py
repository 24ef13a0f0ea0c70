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
from typing import Any

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


#: What each command writes into its results folder, by the ``kind`` its manifest records
#: (calibrate records ``command``). ``--overwrite`` replaces a folder only if its manifest parses,
#: names one of these kinds, and the folder holds nothing else: never a sweep folder (it may be
#: resumed), never a folder where someone keeps other files beside a stray ``manifest.json``.
LAYOUTS = {
    "run": frozenset({MARKER, "design.parquet", "runs", "timeseries", "figures"}),
    "funnelsim compare": frozenset({MARKER, "comparison.csv", "pairs.csv", "comparison.png"}),
    "funnelsim optimize": frozenset({MARKER, "best.json", "best.toml", "trials.parquet", "figures"}),
    "calibrate": frozenset(
        {MARKER, "fit.json", "forecast.csv", "band.csv", "posterior.parquet", "calibrated.toml", "fit.png"}
    ),
}

#: A temporary folder older than this whose process is gone is left over from a killed command.
STALE_AFTER_SECONDS = 300


def results_kind(directory: str | Path) -> str | None:
    """The kind of funnelsim results folder ``directory`` is, or ``None`` if it is not one that
    ``--overwrite`` may replace (no parseable manifest, an unknown kind, or other files in it)."""
    import json

    directory = Path(directory)
    try:
        manifest = json.loads((directory / MARKER).read_text(encoding="utf-8"))
        names = {entry.name for entry in directory.iterdir()}
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    kind = manifest.get("kind") or ("calibrate" if manifest.get("command") == "calibrate" else None)
    if not isinstance(kind, str) or kind not in LAYOUTS:
        return None
    return kind if names <= LAYOUTS[kind] else None


def check_output_directory(
    directory: str | Path, overwrite: bool, option: str = "--out", kind: str | None = None
) -> Path:
    """Refuse a destination that exists (unless ``overwrite``) or cannot become a folder.

    With ``overwrite``, an existing folder is replaced only if it is empty or a results folder
    funnelsim wrote (of ``kind`` when given; see :data:`LAYOUTS`), and never the current folder
    or one of its parents. Called before any work starts, so bad input ends the command with
    nothing written.
    """
    if str(directory) == "":
        raise UsageError(f"{option} '': give a folder name")
    directory = Path(directory)
    try:
        exists = directory.exists()
        if exists:
            if not directory.is_dir():
                raise UsageError(f"{option} {directory}: exists and is not a folder")
            if not overwrite:
                raise UsageError(f"{option} {directory}: folder exists; pass --overwrite to replace it")
            here = Path.cwd().resolve()
            target = directory.resolve()
            if here == target or target in here.parents:
                raise UsageError(f"{option} {directory}: is the current folder or a parent of it; refusing to replace it")
            if any(directory.iterdir()):
                found = results_kind(directory)
                if found is None or (kind is not None and found != kind):
                    what = f"a funnelsim {kind} results folder" if kind else "a funnelsim results folder"
                    raise UsageError(
                        f"{option} {directory}: is not {what} (a readable {MARKER} and nothing else "
                        f"that {kind or 'funnelsim'} writes); refusing to replace it"
                    )
        parent = _nearest_existing(directory.parent)
    except OSError as error:
        raise UsageError(f"{option} {directory}: {error.strerror or error}") from None
    if not parent.is_dir():
        raise UsageError(f"{option} {directory}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {directory}: cannot write in {parent}")
    name_max = _name_max(parent)
    for part in directory.parts:
        if len(os.fsencode(part)) + 32 > name_max:  # room for the temporary name's prefix and suffix
            raise UsageError(f"{option} {directory}: the name {part[:20]}... is too long for this file system")
    return directory


@contextmanager
def atomic_directory(destination: str | Path, replace: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that becomes ``destination`` when the block ends cleanly.

    If the block raises anything (including ``KeyboardInterrupt``), the temporary folder is
    removed and ``destination`` is untouched. With ``replace``, an existing ``destination`` is
    swapped out and deleted only after the new folder is in place. A ``destination`` that is a
    symbolic link is followed: the folder it points to is replaced and the link kept.
    Temporary folders left by killed commands in the same parent are removed first.
    """
    destination = Path(destination)
    if destination.is_symlink():
        destination = destination.resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(destination.parent)
    temporary = _make_temporary_sibling(destination)
    try:
        yield temporary
        _move_into_place(temporary, destination, replace)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def remove_stale_temporaries(parent: Path, older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Remove hidden temporary folders (``.<name>.<pid>-<hex>.tmp``) in ``parent`` that are older
    than ``older_than`` seconds and whose process no longer exists; return what was removed."""
    import re
    import time

    removed: list[Path] = []
    pattern = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}" + re.escape(TEMPORARY_SUFFIX) + "$")
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if age < older_than or _process_alive(int(match.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _make_temporary_sibling(destination: Path) -> Path:
    # The pid in the name lets a later command tell a killed command's leftovers from a live one's.
    while True:
        candidate = destination.parent / f".{destination.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
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


def without_none(value: Any) -> Any:
    """Scenario data (``Scenario.to_dict()``) ready for TOML, which has no null: unset optional
    settings are left out, so the file loads back to the same scenario."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value
