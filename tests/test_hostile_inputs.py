"""Careless and hostile input, as a table: every case ends in one line on stderr naming the
problem, a non-zero exit code, and nothing written (issue 14).

Each case is (name, setup, command line, expected fragment of the message, expected exit code).
``setup`` prepares the working folder (a damaged results folder, a sweep file, a monkeypatched
OS failure); the command runs in-process through ``funnelsim.cli.main``. "Nothing written" means
the set of paths under the working folder is the same before and after the command. Every case
fails before a single run starts, so the file takes seconds; the two results folders the damage
cases start from are made once per module with tiny runs.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from funnelsim.cli import main

TESTS_DIR = str(Path(__file__).parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # sweep_fakes, allowed on the command line below

TINY = ["--set", "market.consumers=100", "--steps", "3", "--quiet"]
BIG_INT = str(10**400)

SWEEP = """
scenario = "baseline"
steps = 2
{extra}
[fixed]
"market.consumers" = 100
[parameters]
{parameter}
[design]
{design}
"""


def sweep_file(name: str, extra: str = "", parameter: str = '"firms.0.price" = { levels = [90, 110] }',
               design: str = 'kind = "grid"'):
    def setup(folder: Path, monkeypatch) -> None:
        (folder / name).write_text(SWEEP.format(extra=extra, parameter=parameter, design=design))

    return setup


def text_file(name: str, text: str | bytes):
    def setup(folder: Path, monkeypatch) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)

    return setup


def copy_of(kind: str, damage=None, name: str = "copy"):
    """A copy of the module's run or sweep folder, then ``damage(folder)``."""

    def setup(folder: Path, monkeypatch) -> None:
        target = folder / name
        shutil.copytree(_FOLDERS[kind], target)
        if damage is not None:
            damage(target)

    return setup


def both(*setups):
    def setup(folder: Path, monkeypatch) -> None:
        for each in setups:
            each(folder, monkeypatch)

    return setup


def chdir_into(name: str):
    def setup(folder: Path, monkeypatch) -> None:
        monkeypatch.chdir(folder / name)

    return setup


def os_fails(target: str, attribute: str, code: int, message: str, named: bool = True):
    """``target.attribute`` raises OSError(code), naming a file or not, as a full or read-only disk would."""

    def setup(folder: Path, monkeypatch) -> None:
        import importlib

        module = importlib.import_module(target)

        def fail(*args, **kwargs):
            raise OSError(code, message, str(folder / "out")) if named else OSError(code, message)

        monkeypatch.setattr(module, attribute, fail)

    return setup


def little_memory(folder: Path, monkeypatch) -> None:
    from funnelsim.model import footprint

    monkeypatch.setattr(footprint, "available_bytes", lambda: 2**30)  # a machine with 1 GiB free


# --- damage done to a copied results folder --------------------------------------------------


def write_manifest(content: str):
    return lambda folder: (folder / "manifest.json").write_text(content)


def edit_manifest(**changes):
    def damage(folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        for key, value in changes.items():
            if value is None:
                manifest.pop(key, None)
            else:
                manifest[key] = value
        (folder / "manifest.json").write_text(json.dumps(manifest))

    return damage


def truncate_parts(sub: str):
    def damage(folder: Path) -> None:
        for part in (folder / sub).glob("*.parquet"):
            part.write_bytes(part.read_bytes()[:100])

    return damage


def empty_parts(sub: str):
    def damage(folder: Path) -> None:
        for part in (folder / sub).glob("*.parquet"):
            frame = pd.read_parquet(part)
            frame.iloc[:0].to_parquet(part, index=False)

    return damage


def shift_run_ids(folder: Path) -> None:
    for part in (folder / "runs").glob("*.parquet"):
        frame = pd.read_parquet(part)
        frame["run_id"] += 10**6
        frame.to_parquet(part, index=False)


def add_file(name: str):
    return lambda folder: (folder / name).write_text("mine")


CASES = [
    # --- run counts and sizes, refused before anything is built --------------------------
    ("replications 1e9", None, ["run", "baseline", "-r", "1000000000", *TINY], "more than the 1,000,000", 2),
    ("replications zero", None, ["run", "baseline", "-r", "0", *TINY], "needs at least 1", 2),
    ("replications negative", None, ["run", "baseline", "-r", "-5", *TINY], "needs at least 1", 2),
    ("max-runs lowered", None, ["run", "baseline", "-r", "20", "--max-runs", "10", *TINY], "more than the 10 ", 2),
    ("max-runs zero", None, ["run", "baseline", "--max-runs", "0", *TINY], "--max-runs 0", 2),
    # Commands that run several points count every run they will start, both sides, every point.
    ("compare runs", None, ["compare", "bass", "bass", "-r", "600000"], "--replications 600000 on both sides: 1,200,000 runs", 2),
    ("compare auto runs", None, ["compare", "bass", "bass", "-r", "auto", "--precision", "5%", "--max-replications", "600000"],
     "1,200,000 runs", 2),
    ("compare max-runs lowered", None, ["compare", "bass", "bass", "-r", "3", "--max-runs", "5"], "6 runs is more than the 5 ", 2),
    ("elasticities runs", None, ["elasticities", "baseline", "-r", "200000"], "8 points (each setting -/+0.1) x 200,000 replications", 2),
    ("optimize runs", None, ["optimize", "baseline", "--trials", "100000", "-r", "20", "--out", "o"],
     "--trials 100000 x --replications 20 + 6 x --final-replications 20: 2,000,120 runs", 2),
    ("workers zero", None, ["run", "baseline", "--workers", "0", *TINY], "needs at least 1", 2),
    ("workers absurd", None, ["run", "baseline", "--workers", "100000", *TINY], "at most 1024", 2),
    ("seed negative", None, ["run", "baseline", "--seed", "-1", *TINY], "between 0 and 2**63", 2),
    ("seed huge", None, ["run", "baseline", "--seed", BIG_INT, *TINY], "between 0 and 2**63", 2),
    ("steps 1e13", None, ["run", "baseline", "--steps", "10000000000000", "--quiet"], "less than or equal to 10000000", 2),
    ("sweep steps 1e13", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--steps", "10000000000000"], "--steps", 2),
    ("steps negative", None, ["run", "baseline", "--steps", "-1", "--quiet"], "cannot be negative", 2),
    ("memory", little_memory, ["run", "baseline", "--set", "market.consumers=10000000", "-w", "1", "--quiet"], "needs about", 2),
    ("memory times workers", little_memory, ["run", "baseline", "--set", "market.consumers=2000000", "-w", "4", "-r", "4", "--quiet"], "4 runs at once", 2),
    # --- schema limits ---------------------------------------------------------------------
    ("consumers 1e9", None, ["run", "baseline", "--set", "market.consumers=1000000000", "--quiet"], "less than or equal to 100000000", 2),
    ("consumers huge int", None, ["run", "baseline", "--set", f"market.consumers={BIG_INT}", "--quiet"], "401 digits", 2),
    ("consumers zero", None, ["run", "baseline", "--set", "market.consumers=0", "--quiet"], "market.consumers", 2),
    ("network degree huge int", None, ["validate", "baseline", "--set", f"network.k={BIG_INT}"], "network.k: an integer of 401 digits", 2),
    ("patience beyond int64", None, ["validate", "baseline", "--set", f"market.lead_patience={2**63}"], "too large", 2),
    ("steps huge int", None, ["validate", "baseline", "--set", f"market.steps={BIG_INT}"], "market.steps", 2),
    ("salespeople 1e9", None, ["run", "baseline", "--set", "firms.0.sales.salespeople=1000000000", "--quiet"], "less than or equal to 100000", 2),
    ("marketers 1e9", None, ["run", "baseline", "--set", "firms.0.marketing.marketers=1000000000", "--quiet"], "less than or equal to 100000", 2),
    ("budget inf", None, ["run", "baseline", "--set", "firms.0.marketing.budget_per_step=inf", "--quiet"], "finite number", 2),
    ("budget nan", None, ["run", "baseline", "--set", "firms.0.marketing.budget_per_step=nan", "--quiet"], "finite number", 2),
    ("budget -inf", None, ["validate", "baseline", "--set", "firms.0.marketing.budget_per_step=-inf"], "finite number", 2),
    ("budget 1e308", None, ["run", "baseline", "--set", "firms.0.marketing.budget_per_step=1e308", "--quiet"], "less than or equal to 1000000000000", 2),
    ("price nan", None, ["validate", "baseline", "--set", "firms.0.price=nan"], "finite number", 2),
    ("name 1 MB", None, ["run", "baseline", "--set", f"firms.0.name=\"{'x' * 1_000_000}\"", "--quiet"], "at most 80 characters", 2),
    ("name empty", None, ["validate", "baseline", "--set", 'firms.0.name=""'], "firms.0.name", 2),
    ("community beyond communities", None, ["validate", "baseline", "--set", 'network.kind="sbm"', "--set", 'firms.0.marketing.targeting="community"',
                                            "--set", "firms.0.marketing.target_community=9"], "target_community: 9 is not a community", 2),
    ("unknown setting", None, ["run", "baseline", "--set", "market.consumer=3", "--quiet"], "no such setting", 2),
    ("set without =", None, ["run", "baseline", "--set", "market.consumers", "--quiet"], "--set", 2),
    ("unknown built-in", None, ["run", "baselin", "--quiet"], "no such built-in scenario", 2),
    ("missing file", None, ["run", "./nope.toml", "--quiet"], "not found", 2),
    ("TOML nested 2000 deep", text_file("deep.toml", "a = " + "[" * 2000 + "]" * 2000), ["validate", "./deep.toml"], "nested too deeply", 2),
    ("TOML garbage", text_file("bad.toml", "[[[\n"), ["validate", "./bad.toml"], "not valid TOML", 2),
    ("not UTF-8", text_file("latin.toml", b"name = \"caf\xe9\"\n"), ["validate", "./latin.toml"], "cannot read", 2),
    ("scenario is a folder", text_file("folder.toml/x", "x"), ["validate", "./folder.toml"], "folder.toml", 2),
    # --- --out and --overwrite -----------------------------------------------------------------
    ("out empty", None, ["run", "baseline", "--out", "", *TINY], "give a folder name", 2),
    ("out exists", copy_of("run"), ["run", "baseline", "--out", "copy", *TINY], "pass --overwrite", 2),
    ("out is a file", text_file("afile", "x"), ["run", "baseline", "--out", "afile", "--overwrite", *TINY], "not a folder", 2),
    ("overwrite stray manifest", both(text_file("mine/manifest.json", "{}"), text_file("mine/thesis.tex", "x")),
     ["run", "baseline", "--out", "mine", "--overwrite", *TINY], "refusing to replace it", 2),
    ("overwrite run folder with extra file", copy_of("run", add_file("notes.txt")),
     ["run", "baseline", "--out", "copy", "--overwrite", *TINY], "refusing to replace it", 2),
    ("overwrite manifest not JSON", copy_of("run", write_manifest("{oops")),
     ["run", "baseline", "--out", "copy", "--overwrite", *TINY], "refusing to replace it", 2),
    ("overwrite a sweep folder", copy_of("sweep"), ["run", "baseline", "--out", "copy", "--overwrite", *TINY], "not a funnelsim run results folder", 2),
    ("overwrite the current folder", both(copy_of("run"), chdir_into("copy")),
     ["run", "baseline", "--out", ".", "--overwrite", *TINY], "current folder or a parent", 2),
    ("overwrite a parent", both(copy_of("run"), chdir_into("copy/runs")),
     ["run", "baseline", "--out", "..", "--overwrite", *TINY], "current folder or a parent", 2),
    ("out name too long", None, ["run", "baseline", "--out", "n" * 300, *TINY], "too long", 2),
    ("out under a file", text_file("afile", "x"), ["run", "baseline", "--out", "afile/sub", *TINY], "not a folder", 2),
    ("compare overwrite a run folder", copy_of("run"),
     ["compare", "baseline", "baseline", "--out", "copy", "--overwrite", "--steps", "2"], "not a funnelsim funnelsim compare results folder", 2),
    # --- the machine says no -----------------------------------------------------------------
    ("read-only folder", os_fails("funnelsim.experiments.results_folder", "_make_temporary_sibling", errno.EROFS, "Read-only file system"),
     ["run", "baseline", "--out", "out", *TINY, "-w", "1"], "Read-only file system", 1),
    ("disk full", os_fails("funnelsim.experiments.results_store", "_write_atomically", errno.ENOSPC, "No space left on device"),
     ["run", "baseline", "--out", "out", *TINY, "-w", "1"], "No space left on device", 1),
    ("disk full, no file named", os_fails("funnelsim.experiments.results_store", "_write_atomically", errno.ENOSPC, "No space left on device", named=False),
     ["run", "baseline", "--out", "out", *TINY, "-w", "1"], "No space left on device (writing out)", 1),
    # --- sweep files ---------------------------------------------------------------------------
    ("sweep replications 1e12", sweep_file("s.toml", extra="replications = 1e12"), ["sweep", "s.toml", "--out", "o", "--serial"], "more than the 1,000,000", 2),
    ("sweep grid num 1e9", sweep_file("s.toml", parameter='"firms.0.price" = { low = 1, high = 2, num = 1000000000 }'),
     ["sweep", "s.toml", "--out", "o", "--serial"], "1,000,000,000 runs", 2),
    ("sweep LHS 1e9", sweep_file("s.toml", parameter='"firms.0.price" = { low = 1, high = 2 }', design='kind = "latin_hypercube"\nsamples = 1000000000'),
     ["sweep", "s.toml", "--out", "o", "--serial"], "1,000,000,000 runs", 2),
    ("sweep sobol huge", sweep_file("s.toml", parameter='"firms.0.price" = { low = 1, high = 2 }', design='kind = "sobol"\nsamples = 1073741824'),
     ["sweep", "s.toml", "--out", "o", "--serial"], "runs is more than", 2),
    ("sweep morris levels 1", sweep_file("s.toml", parameter='"firms.0.price" = { low = 1, high = 2 }', design='kind = "morris"\nsamples = 4\nlevels = 1'),
     ["sweep", "s.toml", "--out", "o", "--serial"], "at least 2 grid levels", 2),
    ("sweep --replications 1e9", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--serial", "-r", "1000000000"], "more than the 1,000,000", 2),
    ("sweep run_function imports", sweep_file("s.toml", extra='run_function = "os:system"'), ["sweep", "s.toml", "--out", "o", "--serial"], "not allowed", 2),
    ("sweep run_function of the tests", sweep_file("s.toml", extra='run_function = "sweep_fakes:linear_response"'),
     ["sweep", "s.toml", "--out", "o", "--serial"], "--allow-run-function sweep_fakes", 2),
    ("sweep allowed module lacks function", sweep_file("s.toml", extra='run_function = "sweep_fakes:nothing_here"'),
     ["sweep", "s.toml", "--out", "o", "--serial", "--allow-run-function", "sweep_fakes"], "has no function", 2),
    ("sweep derived runaway", sweep_file("s.toml", extra='[derived]\n"firms.0.sales.salespeople" = "2 + 10 ** 10 ** 10"'),
     ["sweep", "s.toml", "--out", "o", "--serial"], "firms.0.sales.salespeople", 2),
    ("sweep connect-timeout nan", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--connect-timeout", "nan"], "positive number of seconds", 2),
    ("sweep connect-timeout negative", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--connect-timeout", "-1"], "positive number of seconds", 2),
    ("scheduler ucx", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--scheduler", "ucx://127.0.0.1:1"], "transport is not supported", 2),
    ("scheduler garbage", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--scheduler", "garbage::"], "not a scheduler address", 2),
    ("scheduler half IPv6", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--scheduler", "tcp://[::1"], "not a scheduler address", 2),
    ("run scheduler ucx", None, ["run", "baseline", "--scheduler", "ucx://h:1", *TINY], "transport is not supported", 2),
    ("scheduler unknown transport", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--scheduler", "udp://h:1"], "transport is not supported", 2),
    ("sweep file missing", None, ["sweep", "./nothing.toml", "--out", "o", "--serial"], "nothing.toml", 2),
    ("sweep TOML nested deep", text_file("deep.toml", "a = " + "[" * 2000 + "]" * 2000), ["sweep", "./deep.toml", "--out", "o"], "nested too deeply", 2),
    ("sweep out not empty", both(sweep_file("s.toml"), text_file("o/x", "x")), ["sweep", "s.toml", "--out", "o", "--serial"], "not empty", 2),
    ("sweep out empty string", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "", "--serial"], "give a folder name", 2),
    ("sweep batch size zero", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--batch-size", "0"], "--batch-size 0", 2),
    # --- damaged results folders: sweep --resume ---------------------------------------------
    ("resume nothing there", sweep_file("s.toml"), ["sweep", "s.toml", "--out", "o", "--resume", "--serial"], "no sweep results", 2),
    ("resume manifest not JSON", both(sweep_file("s.toml"), copy_of("sweep", write_manifest("{"), name="o")),
     ["sweep", "s.toml", "--out", "o", "--resume", "--serial"], "cannot read the manifest", 2),
    ("resume manifest a list", both(sweep_file("s.toml"), copy_of("sweep", write_manifest("[]"), name="o")),
     ["sweep", "s.toml", "--out", "o", "--resume", "--serial"], "not a funnelsim manifest", 2),
    ("resume manifest without seed", both(sweep_file("s.toml"), copy_of("sweep", edit_manifest(seed=None), name="o")),
     ["sweep", "s.toml", "--out", "o", "--resume", "--serial"], "damaged or edited results folder", 2),
    ("resume seed of the wrong type", both(sweep_file("s.toml"), copy_of("sweep", edit_manifest(seed="abc"), name="o")),
     ["sweep", "s.toml", "--out", "o", "--resume", "--serial"], "damaged or edited results folder", 2),
    # --- damaged results folders: report and analyze -----------------------------------------
    ("report no folder", None, ["report", "nowhere"], "no such folder", 2),
    ("report a file", text_file("afile", "x"), ["report", "afile"], "afile", 2),
    ("report /proc", None, ["report", "/proc/self"], "/proc/self", 2),
    ("report manifest not JSON", copy_of("run", write_manifest("not json")), ["report", "copy"], "cannot read the manifest", 2),
    ("report manifest a list", copy_of("run", write_manifest("[1]")), ["report", "copy"], "not a funnelsim manifest", 2),
    ("report wrong format", copy_of("run", edit_manifest(format="two")), ["report", "copy"], "format", 2),
    ("report scenario of the wrong type", copy_of("run", edit_manifest(scenario=5)), ["report", "copy"], "damaged or edited", 2),
    ("report truncated Parquet", copy_of("run", truncate_parts("timeseries")), ["report", "copy"], "cannot read its time series", 2),
    ("report zero rows", copy_of("run", empty_parts("timeseries")), ["report", "copy"], "no time series to draw", 2),
    ("analyze a run folder", copy_of("run"), ["analyze", "copy", "--no-figures"], "not a sweep's results folder", 2),
    ("analyze manifest not JSON", copy_of("sweep", write_manifest("nope")), ["analyze", "copy", "--no-figures"], "cannot read the manifest", 2),
    ("analyze truncated runs", copy_of("sweep", truncate_parts("runs")), ["analyze", "copy", "--no-figures"], "copy", 2),
    ("analyze zero rows", copy_of("sweep", empty_parts("runs")), ["analyze", "copy", "--no-figures"], "copy", 2),
    ("analyze run ids out of range", copy_of("sweep", shift_run_ids), ["analyze", "copy", "--no-figures"], "run ids", 2),
    ("analyze design truncated", copy_of("sweep", lambda folder: (folder / "design.parquet").write_bytes(b"PAR1")),
     ["analyze", "copy", "--no-figures"], "copy", 2),
    ("analyze nothing there", None, ["analyze", "nowhere", "--no-figures"], "nowhere", 2),
]

_FOLDERS: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def results_folders(tmp_path_factory):
    """One tiny run folder and one tiny sweep folder, copied and damaged by the cases."""
    root = tmp_path_factory.mktemp("originals")
    run = root / "run"
    assert main(["run", "baseline", *TINY, "-r", "2", "--seed", "1", "-w", "1", "--no-figures", "--out", str(run)]) == 0
    (root / "s.toml").write_text(SWEEP.format(extra="", parameter='"firms.0.price" = { levels = [90, 110] }', design='kind = "grid"'))
    sweep = root / "sweep"
    assert main(["sweep", str(root / "s.toml"), "--out", str(sweep), "--serial", "--quiet", "--seed", "1"]) == 0
    _FOLDERS.update(run=run, sweep=sweep)
    yield


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_the_table_has_at_least_60_cases_with_distinct_names():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "setup", "argv", "fragment", "code"), CASES, ids=[case[0] for case in CASES])
def test_hostile_input_ends_in_one_line_and_writes_nothing(name, setup, argv, fragment, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if setup is not None:
        setup(tmp_path, monkeypatch)
    before = _tree(tmp_path)
    capsys.readouterr()
    started = time.monotonic()
    try:
        exit_code = main(argv)
    except SystemExit as error:  # argparse's own errors
        exit_code = error.code
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err[:2000]
    assert fragment in lines[0], lines[0][:500]
    assert len(lines[0]) < 600, "a message should be one short line"
    assert exit_code == code, lines[0]
    assert _tree(tmp_path) == before, "the command wrote something"
    assert elapsed < 10, f"took {elapsed:.1f} s to refuse"


def test_stale_temporary_folders_of_a_killed_command_are_removed_at_the_next_run(tmp_path):
    """A temporary folder whose process is gone and which is older than a few minutes is a
    killed command's leftover; one whose process lives, or which is fresh, is left alone."""
    from funnelsim.experiments.results_folder import STALE_AFTER_SECONDS, TEMPORARY_SUFFIX, remove_stale_temporaries

    dead = 2**22 + 12345  # above the kernel's default pid_max, so no process has it
    old = time.time() - STALE_AFTER_SECONDS - 60
    stale = tmp_path / f".out.{dead}-0123abcd{TEMPORARY_SUFFIX}"
    fresh = tmp_path / f".other.{dead}-0123abce{TEMPORARY_SUFFIX}"
    alive = tmp_path / f".mine.{os.getpid()}-0123abcf{TEMPORARY_SUFFIX}"
    mine = tmp_path / ".not-ours.tmp"
    for folder in (stale, fresh, alive, mine):
        (folder / "runs").mkdir(parents=True)
    for folder in (stale, alive, mine):
        os.utime(folder, (old, old))
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and fresh.exists() and alive.exists() and mine.exists()

    os.utime(fresh, (old, old))
    assert main(["run", "baseline", *TINY, "-r", "1", "-w", "1", "--no-figures", "--out", str(tmp_path / "out")]) == 0
    assert not fresh.exists() and alive.exists()


def test_a_symlinked_out_is_followed_and_leaves_no_dangling_link(tmp_path):
    target = tmp_path / "target"
    assert main(["run", "baseline", *TINY, "-r", "1", "-w", "1", "--no-figures", "--out", str(target)]) == 0
    (tmp_path / "link").symlink_to(target)
    assert main(["run", "baseline", *TINY, "-r", "1", "-w", "1", "--no-figures", "--out", str(tmp_path / "link"), "--overwrite"]) == 0
    assert (tmp_path / "link").resolve() == target and (target / "manifest.json").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["link", "target"]


def test_a_sweep_stopped_by_a_full_disk_says_to_resume(tmp_path, monkeypatch, capsys):
    from funnelsim.experiments import results_store

    (tmp_path / "s.toml").write_text(SWEEP.format(extra="", parameter='"firms.0.price" = { levels = [90, 110] }', design='kind = "grid"'))

    def full(self, records):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "runs" / "part-000001.parquet"))

    monkeypatch.setattr(results_store.ResultsStore, "write_batch", full)
    code = main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--serial", "--quiet", "--seed", "1"])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert "No space left on device" in last and "part-000001.parquet" in last and "--resume" in last


def test_python_dash_m_does_not_import_from_the_current_folder(tmp_path):
    import subprocess

    (tmp_path / "sneaky.py").write_text("open('pwned', 'w').write('x')\ndef run(task):\n    return []\n")
    (tmp_path / "s.toml").write_text(SWEEP.format(extra='run_function = "sneaky:run"', parameter='"firms.0.price" = { levels = [90, 110] }', design='kind = "grid"'))
    result = subprocess.run(
        [sys.executable, "-m", "funnelsim", "sweep", "s.toml", "--out", "o", "--serial", "--allow-run-function", "sneaky"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "cannot import sneaky" in result.stderr
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "o").exists()


def test_run_functions_come_from_funnelsim_entry_points_or_the_command_line(monkeypatch):
    import importlib.metadata

    from funnelsim.errors import UsageError
    from funnelsim.experiments.sweep_plan import DEFAULT_RUN_FUNCTION, check_run_function_allowed, load_run_function

    registered = [importlib.metadata.EntryPoint("linear", "sweep_fakes:linear_response", "funnelsim.run_functions")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: registered if group == "funnelsim.run_functions" else [])
    assert check_run_function_allowed(DEFAULT_RUN_FUNCTION, "s.toml") == DEFAULT_RUN_FUNCTION
    assert check_run_function_allowed("linear", "s.toml") == "sweep_fakes:linear_response"
    assert check_run_function_allowed("sweep_fakes:linear_response", "s.toml") == "sweep_fakes:linear_response"
    assert callable(load_run_function("linear", "s.toml"))
    assert check_run_function_allowed("json:loads", "s.toml", ["json"]) == "json:loads"
    with pytest.raises(UsageError, match="not allowed"):
        check_run_function_allowed("json:loads", "s.toml", ["jsonx"])
    with pytest.raises(UsageError, match="not allowed"):
        check_run_function_allowed("sweep_fakes:slow_draw", "s.toml")  # registered is one function, not its module


def test_max_runs_reaches_the_checks_inside_evaluate_and_ends_with_the_command():
    from funnelsim.errors import UsageError
    from funnelsim.experiments.engine import evaluate
    from funnelsim.experiments.limits import MAX_RUNS, check_run_count, run_limit

    with run_limit(3):
        with pytest.raises(UsageError, match="4 runs is more than the 3 one command may start"):
            evaluate("bass", replications=4, steps=1)
        assert len(evaluate("bass", replications=3, steps=1).summary) > 0
    with run_limit(2 * MAX_RUNS):  # raised: what the default refuses is allowed
        assert check_run_count(MAX_RUNS + 1, "x") == MAX_RUNS + 1
    with pytest.raises(UsageError):
        check_run_count(MAX_RUNS + 1, "x")  # and the default is back afterwards
