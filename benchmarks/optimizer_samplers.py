"""Which Optuna sampler ``funnelsim optimize`` uses by default, measured: TPE against plain random
search on the same budget of runs.

The market is small and built so that neither extreme works (no promotion: no leads; no
salespeople: no sales), with the full default space (marketing share, four-channel mix, three
tactics: 8 coordinates), so a search has something to find and the runs are cheap (300 consumers,
60 steps). Each sampler runs the whole optimization (search, leaders re-run, winner named) with several
seeds; each winner is then scored on held-out replications 1000..1000+H-1, the same for every
winner, so the comparison is paired and free of the winner's curse. Reported: the mean held-out
objective per sampler, and the paired difference TPE - random over seeds with its t interval.

    python -m benchmarks.optimizer_samplers            # the README's numbers (minutes on 2 cores)
    python -m benchmarks.optimizer_samplers --quick    # seconds: checks that it runs
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import stats

from funnelsim.experiments.engine import evaluate
from funnelsim.experiments.optimization import optimize
from funnelsim.model.scenario import load_scenario

HELD_OUT_FIRST = 1000

#: One firm on a ring; 100 a day buys promotion and salespeople at 20 a day each (0 to 5).
MARKET = {
    "name": "two_levers",
    "market": {
        "consumers": 300, "steps": 60, "willingness_to_pay": 2400.0, "self_serve_rate": 0.0,
        "in_market_share": 0.5, "interest_threshold": 0.3,
    },
    "word_of_mouth": {"beta": 0.0},
    "network": {"kind": "ring", "k": 4},
    "firms": [
        {
            "name": "Solo", "price": 2000.0, "unit_cost": 800.0,
            "marketing": {
                "marketers": 1, "marketer_salary": 0.0,
                "mix": {"email": 0.0, "blogging": 0.0, "media": 1.0, "jingles": 0.0},
                "media": {"cost_per_thousand": 100.0, "lift": 0.2},
            },
            "sales": {"salary": 20.0, "cycle_steps": 4, "skill": 0.6},
            "budget": {"total_per_step": 100.0, "marketing_share": 0.9},
        }
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "optimizer_samplers.json"))
    args = parser.parse_args()
    size = {}
    seeds, trials, held_out = args.seeds, args.trials, 12
    if args.quick:
        size, seeds, trials, held_out = {"market.steps": 20}, 2, 12, 3
    base = load_scenario(MARKET, size)
    settings = dict(firm="Solo", objective="profit", trials=trials, replications=2, final_replications=4, leaders=3)
    picks: dict[str, list[dict]] = {"tpe": [], "random": []}
    started = time.perf_counter()
    for seed in range(seeds):
        for sampler in picks:
            result = optimize(base, seed=seed, sampler=sampler, workers=args.workers, **settings)
            picks[sampler].append(result.overrides)
            print(f"seed {seed} {sampler}: share {result.params['marketing_share']:.2f}, "
                  f"{result.params['salespeople']} salespeople, final {result.objective.mean:,.0f}", flush=True)
    points = picks["tpe"] + picks["random"]
    scored = evaluate(
        base, points, replications=held_out, first_replication=HELD_OUT_FIRST, seed=12345, workers=args.workers
    ).measure("profit", firm=0).mean(axis=1)
    tpe, random = scored[:seeds], scored[seeds:]
    difference = tpe - random
    interval = stats.t.interval(0.95, seeds - 1, loc=difference.mean(), scale=stats.sem(difference)) if seeds > 1 else (np.nan, np.nan)
    report = {
        "scenario": MARKET, "firm": "Solo", "objective": "profit",
        "trials": trials, "replications": 2, "final_replications": 4, "leaders": 3, "seeds": seeds,
        "runs_per_optimization": 2 + trials * 2 + 4 * 4,
        "held_out_replications": held_out,
        "held_out_profit": {"tpe": tpe.tolist(), "random": random.tolist()},
        "mean": {"tpe": float(tpe.mean()), "random": float(random.mean())},
        "tpe_minus_random": {"mean": float(difference.mean()), "lo": float(interval[0]), "hi": float(interval[1]),
                             "tpe_better_in": int((difference > 0).sum())},
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(report, indent=2))
    if not args.quick:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
