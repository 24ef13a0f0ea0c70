"""Benchmark 3: one large run in a child process; build time, run time and peak resident memory."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def scale_run(consumers: int, steps: int, look_at_agents: bool = False, k: int = 10) -> dict:
    """Run :mod:`benchmarks.scale_run` in a fresh process, so only that model's memory is counted."""
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        command = [
            sys.executable, "-m", "benchmarks.scale_run",
            "--consumers", str(consumers), "--steps", str(steps), "--k", str(k), "--result", str(result_file),
        ]  # fmt: skip
        if look_at_agents:
            command.append("--look-at-agents")
        completed = subprocess.run(command, cwd=REPOSITORY)
        if completed.returncode != 0:
            raise RuntimeError(f"benchmarks.scale_run exited with {completed.returncode}: {' '.join(command)}")
        return json.loads(result_file.read_text(encoding="utf-8"))
