"""The command line's front: every argument error is one line on stderr with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


def funnelsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnelsim", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        (["run", "baseline", "--replications", "abc"], "--replications"),
        (["run"], "SCENARIO"),
        ([], "COMMAND"),
    ],
)
def test_argument_errors_are_one_line_with_exit_code_2(args, named):
    result = funnelsim(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named.lower() in lines[0].lower()
    assert result.stdout == ""


def test_version_and_help():
    assert funnelsim("--version").stdout.startswith("funnelsim ")
    help_text = funnelsim("--help").stdout
    for command in ("run", "scenarios", "validate", "report", "sweep", "analyze", "serve"):
        assert command in help_text


def test_a_closed_pipe_ends_quietly():
    # `funnelsim scenarios | head -0`: the reader is gone before anything is written.
    reader = subprocess.Popen(["head", "-c", "0"], stdin=subprocess.PIPE)
    writer = subprocess.run(
        [sys.executable, "-c", "import sys, time; time.sleep(0.5); from funnelsim.cli import main; sys.exit(main(['scenarios']))"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    reader.stdin.close()
    reader.wait()
    assert "Traceback" not in writer.stderr
