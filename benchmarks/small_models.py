"""Benchmark 6: small models, where the fixed cost of a step matters more than its sparse product.

A ``baseline`` year (10,000 consumers, 365 steps, the table collected every step, built and run
from scratch) is timed as wall and as CPU time of this process, in alternation with a year of
the bare reference on the same network, and profiled once: the profile's cumulative time by phase
of the step says where the fixed cost goes.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from statistics import median

from benchmarks.reference import BareDiffusion
from funnelsim import MarketModel, load_scenario

#: Phases of a step by the function that runs them (see funnelsim.model.market's step order).
PHASES = (
    ("marketing (marketers and channels)", "marketer.py", "step"),
    ("word of mouth", "word_of_mouth.py", "spread"),
    ("awareness decay", "funnel.py", "decay_awareness"),
    ("cold leads", "funnel.py", "expire_cold_leads"),
    ("lead formation", "funnel.py", "form_leads"),
    ("lead switching", "funnel.py", "switch_leads"),
    ("self-serve", "funnel.py", "self_serve"),
    ("sales", "market.py", "_sell"),
    ("referrals", "funnel.py", "refer"),
    ("churn", "funnel.py", "churn"),
    ("the step's row (metrics)", "market.py", "_row"),
    ("collecting the row", "market.py", "collect"),
    ("building the model", "market.py", "__init__"),
    ("assembling the table", "market.py", "table"),
)


def _scenario(consumers: int):
    return load_scenario("baseline", overrides={"market.consumers": consumers})


def one_year(consumers: int, steps: int, seed: int = 1) -> MarketModel:
    model = MarketModel(_scenario(consumers), rng=seed)
    model.run(steps)
    return model


def _timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def small_models(consumers: int, steps: int, repetitions: int, seed: int = 1) -> dict:
    """Median wall and CPU time of a whole year, of the bare reference's year, and the profile."""
    model = one_year(consumers, 1, seed)
    reference = BareDiffusion(model.network.adjacency, model.scenario.word_of_mouth.beta, seed)

    def reference_year() -> None:
        for _ in range(steps):
            reference.step()

    samples: dict[str, list[tuple[float, float]]] = {"year": [], "reference_year": []}
    for _ in range(repetitions):
        samples["year"].append(_timed(lambda: one_year(consumers, steps, seed).table()))
        samples["reference_year"].append(_timed(reference_year))
    year_wall = median(wall for wall, _ in samples["year"])
    year_cpu = median(cpu for _, cpu in samples["year"])
    reference_wall = median(wall for wall, _ in samples["reference_year"])
    reference_cpu = median(cpu for _, cpu in samples["reference_year"])
    return {
        "consumers": consumers,
        "steps": steps,
        "repetitions": repetitions,
        "year_wall_seconds": year_wall,
        "year_cpu_seconds": year_cpu,
        "year_wall_min_seconds": min(wall for wall, _ in samples["year"]),
        "year_cpu_min_seconds": min(cpu for _, cpu in samples["year"]),
        "reference_year_wall_seconds": reference_wall,
        "reference_year_cpu_seconds": reference_cpu,
        "year_ratio_cpu": year_cpu / reference_cpu,
        "profile": profile_phases(consumers, steps, seed),
    }


def profile_phases(consumers: int, steps: int, seed: int = 1) -> dict:
    """Cumulative time of each phase under cProfile, as shares of the whole year (build and table included)."""
    profiler = cProfile.Profile()
    profiler.enable()
    one_year(consumers, steps, seed).table()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (calls, primitive, own, cumulative, callers)
    total = sum(own for (_, _, _), (_, _, own, _, _) in stats.items())
    phases = []
    for label, filename, function in PHASES:
        seconds = sum(
            cumulative
            for (path, _, name), (_, _, _, cumulative, _) in stats.items()
            if name == function and path.endswith(filename)
        )
        phases.append({"phase": label, "seconds": seconds, "share": seconds / total if total else 0.0})
    top = sorted(
        ((own, f"{path.rsplit('/', 1)[-1]}:{name}" if path != "~" else name) for (path, _, name), (_, _, own, _, _) in stats.items()),
        reverse=True,
    )[:12]
    return {
        "total_seconds": total,
        "phases": phases,
        "top_own_time": [{"function": name, "seconds": own, "share": own / total if total else 0.0} for own, name in top],
    }
