"""Timing helpers: interleaved repetitions, medians, and a description of the machine.

Shared machines drift: another process can halve the speed for a few seconds. Timing two things
in alternation (A, B, A, B, ...) exposes both to the same drift, so their ratio stays meaningful
even when the absolute figures move.

With ``collect``, each timed call starts from a collected heap and runs with the cyclic garbage
collector paused, as :mod:`timeit` runs: otherwise one contestant's garbage (idiomatic Mesa makes a
great deal of it) is collected during the other's call and billed to it. A collection walks every
object, so both then start with cold caches, which costs the array code more than the
interpreted one: the comparison is conservative for funnelsim.
"""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median


def interleaved_medians(
    contestants: dict[str, Callable[[], object]], repetitions: int, collect: bool = False
) -> dict[str, dict[str, float]]:
    """Call every contestant once per round, ``repetitions`` rounds; median and spread in seconds.
    ``collect``: collect garbage before each call and pause the collector during it."""
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    cpu: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(repetitions):
        for name, call in contestants.items():
            if collect:
                gc.collect()
                gc.disable()
            try:
                start, cpu_start = time.perf_counter(), time.process_time()
                call()
                samples[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - cpu_start)
            finally:
                if collect:
                    gc.enable()
    # CPU time of this process as well: on a machine shared by many processes, wall time counts
    # the time others held the core; CPU time counts only this work.
    return {name: {**summarize_seconds(values), "cpu_median": median(cpu[name])} for name, values in samples.items()}


def summarize_seconds(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "repetitions": len(ordered),
    }


def machine_description() -> dict[str, object]:
    """What the figures were measured on: cores, CPU, memory, versions, load, commit."""
    import mesa
    import networkx
    import numba
    import numpy
    import scipy

    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(_memory_bytes() / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
        "mesa": mesa.__version__,
        "networkx": networkx.__version__,
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "git_commit": _git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _cpu_model() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in output.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
        return result.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
