"""Benchmark 3: one large run in a child process; build time, run time and peak resident memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def scale_run(consumers: int, steps: int, look_at_agents: bool = False, k: int = 10) -> dict:
    """Run :mod:`benchmarks.scale_run` in a fresh process; add its peak RSS as the OS reports it."""
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        command = [
            sys.executable, "-m", "benchmarks.scale_run",
            "--consumers", str(consumers), "--steps", str(steps), "--k", str(k), "--result", str(result_file),
        ]  # fmt: skip
        if look_at_agents:
            command.append("--look-at-agents")
        process = subprocess.Popen(command, cwd=REPOSITORY)
        # wait4 gives this child's own resource usage: ru_maxrss is its peak resident set (KiB).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"benchmarks.scale_run exited with {process.returncode}: {' '.join(command)}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
    result["peak_rss_bytes"] = usage.ru_maxrss * 1024
    return result
