"""Benchmark 3: one large run in a child process; build time, run time and peak resident memory."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def scale_run(
    consumers: int, steps: int, look_at_agents: bool = False, k: int = 10, kind: str = "watts_strogatz", progress: bool = False
) -> dict:
    """Run :mod:`benchmarks.scale_run` in a fresh process, so only that model's memory is counted."""
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        command = [
            sys.executable, "-m", "benchmarks.scale_run", "--consumers", str(consumers), "--steps", str(steps),
            "--k", str(k), "--kind", kind, "--result", str(result_file),
        ]  # fmt: skip
        if look_at_agents:
            command.append("--look-at-agents")
        if progress:
            command.append("--progress")
        completed = subprocess.run(command, cwd=REPOSITORY)
        if completed.returncode != 0:
            raise RuntimeError(f"benchmarks.scale_run exited with {completed.returncode}: {' '.join(command)}")
        return json.loads(result_file.read_text(encoding="utf-8"))


def memory_growth(result: dict, skip: int = 2) -> float:
    """Resident memory growth per step after the first ``skip`` steps (bytes per step, least squares).

    Flat memory (growth near zero against the total) is what lets a 365-step peak be read off a
    run of a few tens of steps: the table grows by one row per firm per step, a few hundred bytes.
    """
    values = result["step_rss_bytes"][skip:]
    if len(values) < 2:
        return float("nan")
    xs = list(range(len(values)))
    mean_x, mean_y = sum(xs) / len(xs), sum(values) / len(values)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, values)) / spread


def ten_million(consumers: int, steps: int, kinds: tuple[str, ...], k: int = 10) -> list[dict]:
    """Every network kind at ``consumers``: build, ``steps`` steps, memory after each step."""
    rows = []
    for kind in kinds:
        print(f"[benchmarks] {consumers:,} consumers on {kind} ...", file=sys.stderr, flush=True)
        try:
            result = scale_run(consumers, steps, k=k, kind=kind, progress=True)
        except RuntimeError as error:  # e.g. killed for want of memory: the other kinds still run
            rows.append({"consumers": consumers, "kind": kind, "error": str(error)})
            continue
        result["rss_growth_per_step_bytes"] = memory_growth(result)
        rows.append(result)
    return rows
