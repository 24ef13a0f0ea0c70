"""Run funnelsim's performance benchmarks, print the table and write it to benchmarks/results/.

    python -m benchmarks.run            # the full set: 10,000 to 1,000,000 consumers (about 10 minutes)
    python -m benchmarks.run --quick    # tiny sizes, seconds: checks that everything runs
    python -m benchmarks.run --only step_cost mesa

Run from the repository root. Writes ``latest.md`` (the table) and ``latest.json`` (every figure,
with the machine it was measured on) to ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.engine_throughput import engine_throughput
from benchmarks.scale import scale_run, ten_million
from benchmarks.small_models import small_models
from benchmarks.step_cost import growth_summary, mesa_comparison, step_cost
from benchmarks.sweep_throughput import sweep_throughput
from benchmarks.timing import machine_description

BENCHMARKS = ("step_cost", "mesa", "scale", "growth", "sweep", "small", "engine", "ten_million")
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is; ``--quick`` shrinks everything so the whole set takes seconds."""

    step_sizes: tuple[int, ...]
    step_warmup: int
    step_repetitions: dict[int, int]
    mesa_sizes: tuple[int, ...]
    mesa_repetitions: int
    scale_consumers: int
    scale_steps: int
    degree_consumers: int
    degrees: tuple[int, ...]
    degree_repetitions: int
    sweep_runs: int
    sweep_consumers: int
    sweep_steps: int
    sweep_repetitions: int
    cpu_loop_count: int
    small_consumers: int
    small_steps: int
    small_repetitions: int
    engine_bass_runs: int
    engine_bass_steps: int
    engine_sweep_runs: int
    engine_sweep_steps: int
    engine_sweep_consumers: int
    big_consumers: int
    big_steps: int
    big_kinds: tuple[str, ...]


FULL = Sizes(
    step_sizes=(10_000, 100_000, 1_000_000),
    step_warmup=20,
    step_repetitions={10_000: 100, 100_000: 40, 1_000_000: 12},
    mesa_sizes=(10_000, 100_000),
    mesa_repetitions=5,
    scale_consumers=1_000_000,
    scale_steps=365,
    degree_consumers=100_000,
    degrees=(4, 10, 40),
    degree_repetitions=20,
    sweep_runs=960,  # about half a minute in one process (192 until the step got five times faster)
    sweep_consumers=1_000,
    sweep_steps=60,
    sweep_repetitions=3,
    cpu_loop_count=30_000_000,
    small_consumers=10_000,
    small_steps=365,
    small_repetitions=7,
    engine_bass_runs=2_000,
    engine_bass_steps=13,
    engine_sweep_runs=1_000,
    engine_sweep_steps=90,
    engine_sweep_consumers=3_000,
    big_consumers=10_000_000,
    big_steps=15,
    big_kinds=("barabasi_albert", "watts_strogatz", "erdos_renyi", "sbm", "ring", "complete"),
)

QUICK = Sizes(
    step_sizes=(300, 1_000),
    step_warmup=3,
    step_repetitions={300: 5, 1_000: 5},
    mesa_sizes=(300,),
    mesa_repetitions=3,
    scale_consumers=2_000,
    scale_steps=10,
    degree_consumers=1_000,
    degrees=(4, 10),
    degree_repetitions=5,
    sweep_runs=2,
    sweep_consumers=200,
    sweep_steps=3,
    sweep_repetitions=1,
    cpu_loop_count=100_000,
    small_consumers=1_000,
    small_steps=20,
    small_repetitions=2,
    engine_bass_runs=4,
    engine_bass_steps=3,
    engine_sweep_runs=4,
    engine_sweep_steps=3,
    engine_sweep_consumers=300,
    big_consumers=3_000,
    big_steps=3,
    big_kinds=("watts_strogatz", "barabasi_albert", "complete"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that every benchmark runs")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"run only these: {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for latest.md and latest.json (default: %(default)s)")
    parser.add_argument(
        "--merge", action="store_true",
        help="keep the other benchmarks' figures already in --out's latest.json (each keeps its own machine description)",
    )  # fmt: skip
    parser.add_argument("--scale-down", type=float, default=1.0, metavar="F",
                        help="run F times the engine benchmark's batches (on a loaded machine; the report says so)")  # fmt: skip
    parser.add_argument("--big-kinds", nargs="+", metavar="KIND", help="network kinds for ten_million (default: all)")
    parser.add_argument("--big-steps", type=int, metavar="N", help="steps per ten_million run (default: 15)")
    args = parser.parse_args(argv)
    chosen = set(args.only or BENCHMARKS)
    sizes = QUICK if args.quick else FULL
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"benchmarks: error: --out {out}: cannot create the folder ({error.strerror})", file=sys.stderr)
        return 2

    command = " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)])
    results: dict[str, object] = {"quick": args.quick, "command": command, "machine": machine_description()}
    started = time.perf_counter()
    if "step_cost" in chosen or "growth" in chosen:
        results["step_cost"] = [
            _progress(f"step cost at {n:,} consumers", step_cost, n, 10, sizes.step_warmup, sizes.step_repetitions[n])
            for n in sizes.step_sizes
        ]
    if "mesa" in chosen:
        results["mesa"] = [
            _progress(f"idiomatic Mesa at {n:,} consumers", mesa_comparison, n, sizes.step_warmup, sizes.mesa_repetitions)
            for n in sizes.mesa_sizes
        ]
    if "scale" in chosen:
        n, steps = sizes.scale_consumers, sizes.scale_steps
        results["scale"] = {
            "run": _progress(f"scale: {n:,} consumers, {steps} steps", scale_run, n, steps),
            "consumer_agents": _progress("scale: build, then make every consumer agent", scale_run, n, 0, True),
        }
    if "growth" in chosen:
        degree_rows = [
            _progress(
                f"growth: mean degree {k} at {sizes.degree_consumers:,} consumers",
                step_cost, sizes.degree_consumers, k, sizes.step_warmup, sizes.degree_repetitions,
            )  # fmt: skip
            for k in sizes.degrees
        ]
        results["growth"] = {
            "by_consumers": growth_summary(results["step_cost"]),
            "by_degree": {"rows": degree_rows, **growth_summary(degree_rows)},
        }
    if "small" in chosen:
        results["small"] = _progress(
            f"small models: {sizes.small_consumers:,} consumers, {sizes.small_steps} steps", small_models,
            sizes.small_consumers, sizes.small_steps, sizes.small_repetitions,
        )  # fmt: skip
    if "engine" in chosen:
        results["engine"] = _progress(
            "engine throughput", engine_throughput,
            max(2, round(sizes.engine_bass_runs * args.scale_down)), sizes.engine_bass_steps,
            max(2, round(sizes.engine_sweep_runs * args.scale_down)), sizes.engine_sweep_steps, sizes.engine_sweep_consumers,
        )  # fmt: skip
        results["engine"]["scale_down"] = args.scale_down
    if "ten_million" in chosen:
        results["ten_million"] = _progress(
            f"{sizes.big_consumers:,} consumers", ten_million, sizes.big_consumers, args.big_steps or sizes.big_steps,
            tuple(args.big_kinds or sizes.big_kinds),
        )  # fmt: skip
    if "sweep" in chosen:
        results["sweep"] = _progress(
            "sweep throughput", sweep_throughput, sizes.sweep_runs, sizes.sweep_consumers, sizes.sweep_steps,
            sizes.sweep_repetitions, sizes.cpu_loop_count,
        )  # fmt: skip
    results["elapsed_seconds"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]

    if args.merge and (out / "latest.json").is_file():
        results = _merged(json.loads((out / "latest.json").read_text(encoding="utf-8")), results, chosen)
    text = report.markdown(results)
    print(text)
    (out / "latest.json").write_text(json.dumps(_plain_json(results), indent=2) + "\n", encoding="utf-8")
    (out / "latest.md").write_text(text, encoding="utf-8")
    print(f"written: {out / 'latest.md'} and {out / 'latest.json'}", file=sys.stderr)
    return 0


def _merged(earlier: dict, new: dict, chosen: set[str]) -> dict:
    """``new`` on top of ``earlier``: the benchmarks not rerun keep their figures and their machine."""
    merged = dict(earlier)
    machines = dict(earlier.get("machines", {}))
    for name in BENCHMARKS:
        if name in earlier and name not in chosen:
            machines.setdefault(name, earlier["machine"])
    for key, value in new.items():
        merged[key] = value
    if "ten_million" in new and earlier.get("ten_million"):
        merged["ten_million"] = _spliced_rows(earlier["ten_million"], new["ten_million"], earlier["machine"], new["machine"])
    for name in chosen:
        machines[name] = new["machine"]
    merged["machines"] = machines
    # The commands accumulate, so the table says how each part was made.
    merged["command"] = f"{earlier.get('command', 'an earlier run')}; then {new.get('command', 'a later run')}"
    merged["elapsed_seconds"] = earlier.get("elapsed_seconds", 0.0) + new["elapsed_seconds"]
    return merged


def _spliced_rows(earlier: list[dict], new: list[dict], earlier_machine: dict, new_machine: dict) -> list[dict]:
    """Ten-million rows: a kind rerun (``--big-kinds``) replaces its row in place, the others stay.

    Each row carries the machine it was measured on (``machine``), since the rows of one table
    then come from several runs.
    """
    fresh = {row["kind"]: {**row, "machine": row.get("machine", new_machine)} for row in new}
    rows = [fresh.pop(row["kind"], None) or {**row, "machine": row.get("machine", earlier_machine)} for row in earlier]
    return rows + list(fresh.values())


def _plain_json(value):
    """NaN (a figure that could not be measured) becomes null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item) for item in value]
    return value


def _progress(label: str, function, *args):
    print(f"[benchmarks] {label} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = function(*args)
    print(f"[benchmarks] {label}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
