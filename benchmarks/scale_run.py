"""Benchmark 3's child process: build one large model and run it, with data collected every step.

Run as ``python -m benchmarks.scale_run --consumers N --steps S --result FILE``; it writes its
timings as JSON to FILE. The parent measures this process's peak resident memory as the
operating system reports it (``wait4``), so nothing else the benchmark holds is counted.
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
        "own_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
