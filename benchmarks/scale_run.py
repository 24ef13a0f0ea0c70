"""Benchmark 3's child process: build one large model and run it, with data collected every step.

Run as ``python -m benchmarks.scale_run --consumers N --steps S --result FILE [--kind KIND]``; it
writes its timings, its resident memory after every step and its peak resident memory, as the
kernel reports them, as JSON to FILE. ``--progress`` shows the build and the steps on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

from funnelsim import MarketModel, load_scenario

KINDS = ("watts_strogatz", "ring", "erdos_renyi", "sbm", "barabasi_albert", "complete")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_run")
    parser.add_argument("--consumers", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--kind", choices=KINDS, default="watts_strogatz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--look-at-agents", action="store_true", help="after building, look at model.agents, which makes the consumer agents"
    )
    parser.add_argument("--progress", action="store_true", help="progress bars on stderr for the build and the steps")
    parser.add_argument("--result", required=True, help="JSON file to write the timings to")
    args = parser.parse_args(argv)

    overrides = {"market.consumers": args.consumers, "network.kind": args.kind, "network.k": args.k, "network.p": 0.1}
    scenario = load_scenario("baseline", overrides=overrides)
    load_before = os.getloadavg()[0]  # the machine's load, to read a wall time against its CPU time
    start, cpu_start = time.perf_counter(), time.process_time()
    model = MarketModel(scenario, rng=args.seed)
    built, cpu_built = time.perf_counter(), time.process_time()
    load_after = os.getloadavg()[0]
    rss_after_build, peak_after_build = resident_bytes(), peak_resident_bytes()
    agents = len(model.agents) if args.look_at_agents else None
    looked = time.perf_counter()
    step_seconds, step_rss = [], []
    bar = _bar(args.steps, args.progress)
    for _ in range(args.steps):
        began = time.perf_counter()
        model.step()
        step_seconds.append(time.perf_counter() - began)
        step_rss.append(resident_bytes())
        bar.update(1)
    bar.close()
    table = model.table()
    finished = time.perf_counter()
    result = {
        "consumers": args.consumers,
        "kind": args.kind,
        "edges": model.network.edges,
        "steps": args.steps,
        "build_seconds": built - start,
        "build_cpu_seconds": cpu_built - cpu_start,
        "build_load_average": [round(load_before, 2), round(load_after, 2)],
        "rss_after_build_bytes": rss_after_build,
        "build_peak_rss_bytes": peak_after_build,
        "agents": agents,
        "agents_seconds": looked - built if args.look_at_agents else None,
        "run_seconds": finished - looked,
        "step_seconds_mean": sum(step_seconds) / args.steps if args.steps else 0.0,
        "step_seconds": step_seconds,
        "step_rss_bytes": step_rss,
        "table_rows": len(table),
        "peak_rss_bytes": peak_resident_bytes(),
    }
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


def _bar(steps: int, show: bool):
    from tqdm import tqdm

    return tqdm(total=steps, desc="steps", unit="step", file=sys.stderr, disable=not show, leave=False)


def _status(field: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def resident_bytes() -> int:
    """This process's resident set now (VmRSS)."""
    return _status("VmRSS:")


def peak_resident_bytes() -> int:
    """This process's peak resident set as the kernel reports it (VmHWM in /proc/self/status).

    Not getrusage's ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss across
    fork and exec, so a child started by a large benchmark process would report the parent's size.
    """
    return _status("VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    sys.exit(main())
