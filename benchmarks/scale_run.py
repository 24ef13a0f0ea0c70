"""Benchmark 3's child process: build one large model and run it, with data collected every step.

Run as ``python -m benchmarks.scale_run --consumers N --steps S --result FILE``; it writes its
timings and its peak resident memory, as the kernel reports it, as JSON to FILE.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from funnelsim import MarketModel, load_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_run")
    parser.add_argument("--consumers", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--look-at-agents", action="store_true", help="after building, look at model.agents, which makes the consumer agents"
    )
    parser.add_argument("--result", required=True, help="JSON file to write the timings to")
    args = parser.parse_args(argv)

    overrides = {"market.consumers": args.consumers, "network.kind": "watts_strogatz", "network.k": args.k, "network.p": 0.1}
    scenario = load_scenario("baseline", overrides=overrides)
    start = time.perf_counter()
    model = MarketModel(scenario, rng=args.seed)
    built = time.perf_counter()
    agents = len(model.agents) if args.look_at_agents else None
    looked = time.perf_counter()
    table = model.run(args.steps)
    finished = time.perf_counter()
    result = {
        "consumers": args.consumers,
        "edges": model.network.edges,
        "steps": args.steps,
        "build_seconds": built - start,
        "agents": agents,
        "agents_seconds": looked - built if args.look_at_agents else None,
        "run_seconds": finished - looked,
        "step_seconds_mean": (finished - looked) / args.steps if args.steps else 0.0,
        "table_rows": len(table),
        "peak_rss_bytes": peak_resident_bytes(),
    }
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


def peak_resident_bytes() -> int:
    """This process's peak resident set as the kernel reports it (VmHWM in /proc/self/status).

    Not getrusage's ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss across
    fork and exec, so a child started by a large benchmark process would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    sys.exit(main())
