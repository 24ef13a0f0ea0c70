"""Benchmarks 1, 2 and 4: the full model's step against the bare reference and against
idiomatic Mesa, and how the step grows with consumers and with mean degree.

Each model is the built-in ``baseline`` scenario (two rival firms) on a Watts-Strogatz network,
advanced ``warmup`` steps first so awareness, leads and customers exist, then timed step by step
in alternation with its contestants.
"""

from __future__ import annotations

import math

from benchmarks.mesa_idiomatic import MesaWordOfMouth
from benchmarks.reference import BareDiffusion
from benchmarks.timing import interleaved_medians
from funnelsim import MarketModel, load_scenario


def build_model(consumers: int, k: int = 10, p: float = 0.1, seed: int = 1) -> MarketModel:
    scenario = load_scenario(
        "baseline",
        overrides={"market.consumers": consumers, "network.kind": "watts_strogatz", "network.k": k, "network.p": p},
    )
    return MarketModel(scenario, rng=seed)


def step_cost(consumers: int, k: int, warmup: int, repetitions: int, seed: int = 1) -> dict:
    """Median step of the full model and of the bare reference on the same adjacency."""
    model = build_model(consumers, k, seed=seed)
    for _ in range(warmup):
        model.step()
    reference = BareDiffusion(model.network.adjacency, model.scenario.word_of_mouth.beta, seed)
    timings = interleaved_medians({"funnelsim": model.step, "reference": reference.step}, repetitions)
    return {
        "consumers": consumers,
        "k": k,
        "edges": model.network.edges,
        "warmup_steps": warmup,
        "funnelsim_step": timings["funnelsim"],
        "reference_step": timings["reference"],
        "ratio": timings["funnelsim"]["median"] / timings["reference"]["median"],
        "ratio_cpu": timings["funnelsim"]["cpu_median"] / timings["reference"]["cpu_median"],
    }


def mesa_comparison(consumers: int, warmup: int, repetitions: int, seed: int = 1) -> dict:
    """Median step of the full model and of Mesa-style word of mouth on the same network and state."""
    model = build_model(consumers, seed=seed)
    for _ in range(warmup):
        model.step()
    mesa_model = MesaWordOfMouth(model.network_graph(), model.consumers, model.scenario.word_of_mouth, seed=seed)
    # Garbage collected between calls: Mesa's would otherwise be collected during funnelsim's step.
    timings = interleaved_medians({"funnelsim": model.step, "mesa": mesa_model.step}, repetitions, collect=True)
    return {
        "consumers": consumers,
        "edges": model.network.edges,
        "funnelsim_step": timings["funnelsim"],
        "mesa_step": timings["mesa"],
        "speedup": timings["mesa"]["median"] / timings["funnelsim"]["median"],
        "speedup_cpu": timings["mesa"]["cpu_median"] / timings["funnelsim"]["cpu_median"],
    }


def growth_slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(time) against log(edges): 1 is linear growth."""
    if len(points) < 2:
        return math.nan
    xs = [math.log(edges) for edges, _ in points]
    ys = [math.log(seconds) for _, seconds in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread if spread else math.nan


def growth_summary(rows: list[dict]) -> dict:
    """Slopes of the model's and the reference's median step against edges."""
    model_points = [(row["edges"], row["funnelsim_step"]["median"]) for row in rows]
    reference_points = [(row["edges"], row["reference_step"]["median"]) for row in rows]
    return {"funnelsim_slope": growth_slope(model_points), "reference_slope": growth_slope(reference_points)}
