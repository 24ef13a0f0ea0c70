"""How long ``funnelsim calibrate`` takes on the ``bass`` scenario and a 13-period series.

The series is the shipped room air conditioner sales of Bass (1969), 1949-1961 (13 years).
The fit is the command's default: ABC-SMC on bass.p and bass.q (m over its default range around
the Bass least-squares estimate) at the default budget, then the default posterior draws for the
band, on two worker processes. The scenario runs at its own size (100,000 consumers), one step
per year. The figure is wall time from start to the finished results folder; on a shared machine
it is noisy (other processes compete for the two cores), so it is measured ``--repeat`` times and
the median is reported with the range.

    python -m benchmarks.calibration            # default budget, 2 workers, 1 repeat
    python -m benchmarks.calibration --repeat 3 --json benchmarks/results/calibration.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from importlib.resources import files
from pathlib import Path
from statistics import median

from funnelsim.experiments.calibration import calibrate
from funnelsim.experiments.calibration.abc_fit import DEFAULT_BUDGET
from funnelsim.experiments.calibration.api import DEFAULT_DRAWS

SERIES = "room_air_conditioners.csv"
FIT = ["bass.p=0.001:0.05", "bass.q=0.05:1.0"]


def time_one(workers: int, budget: int, seed: int) -> dict:
    data = files("funnelsim.experiments.calibration").joinpath("data", SERIES)
    with tempfile.TemporaryDirectory(prefix="funnelsim-bench-calibrate-") as folder:
        start = time.perf_counter()
        cpu_start = _cpu_seconds()
        result = calibrate(str(data), "bass", FIT, budget=budget, seed=seed, workers=workers, out=Path(folder) / "out")
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_start
    return {
        "seconds": seconds,
        # CPU time of this process and its finished workers: over two cores, half of it is the
        # wall time a quiet machine would need at best, whatever else shared the CPU meanwhile.
        "cpu_seconds": cpu,
        "simulations": result.abc.simulations,
        "band_runs": DEFAULT_DRAWS,
        "generations": result.abc.generations,
        "medians": result.abc.medians,
        "intervals": result.abc.intervals,
        "bass_least_squares": {"p": result.bass.p, "q": result.bass.q, "m": result.bass.m},
    }


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = parser.parse_args(argv)
    runs = [time_one(args.workers, args.budget, seed) for seed in range(args.repeat)]
    seconds = [run["seconds"] for run in runs]
    report = {
        "benchmark": "calibrate bass scenario to a 13-period series",
        "workers": args.workers,
        "budget": args.budget,
        "draws": DEFAULT_DRAWS,
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],
        "python": platform.python_version(),
        "median_seconds": median(seconds),
        "min_seconds": min(seconds),
        "max_seconds": max(seconds),
        "runs": runs,
    }
    print(
        f"calibrate bass to 13 periods, budget {args.budget}, {args.workers} workers: median {median(seconds):.1f} s "
        f"(range {min(seconds):.1f}-{max(seconds):.1f} s over {len(seconds)}; "
        f"{runs[0]['simulations']} ABC simulations + {DEFAULT_DRAWS} band runs; {runs[0]['cpu_seconds']:.0f} CPU s; "
        f"load average {report['load_average_at_end']:.1f})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
