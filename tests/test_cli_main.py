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
