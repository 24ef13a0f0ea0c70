"""The results as a Markdown table: the machine, each benchmark, and the targets met or not."""

from __future__ import annotations

import math

GIB = 2**30

#: Targets from the performance issue; checked against the figures, never asserted in tests.
STEP_RATIO_LIMIT = 3.0
STEP_RATIO_SIZES = (10_000, 100_000)
MESA_SPEEDUP_MIN = 100.0
MESA_SPEEDUP_SIZE = 100_000
PEAK_MEMORY_LIMIT_GIB = 4.0
BUILD_LIMIT_SECONDS = 60.0
LINEAR_SLOPE_MAX = 1.15  # "about linear" in log(step time) against log(edges)
EFFICIENCY_MIN = 0.8
YEAR_LIMIT_SECONDS = 0.4  # a baseline year at 10,000 consumers, on one core
BIG_PEAK_LIMIT_GIB = 8.0  # ten million consumers
DOMINATE_SHARE = 0.5  # worker start-up or result writing above this share of the wall time dominates


def markdown(results: dict) -> str:
    parts = ["# funnelsim performance benchmarks", ""]
    if results.get("quick"):
        parts += ["*Quick mode: tiny sizes, for checking that the benchmarks run. The targets apply to the full run.*", ""]
    parts += _machine(results["machine"])
    parts += _targets(results)
    if "step_cost" in results:
        parts += _step_cost(results["step_cost"])
    if "mesa" in results:
        parts += _mesa(results["mesa"])
    if "scale" in results:
        parts += _scale(results["scale"]) + _older(results, "scale")
    if "growth" in results:
        parts += _growth(results)
    if "sweep" in results:
        parts += _sweep(results["sweep"]) + _older(results, "sweep")
    if "small" in results:
        parts += _small(results["small"])
    if "engine" in results:
        parts += _engine(results["engine"])
    if "ten_million" in results:
        parts += _ten_million(results["ten_million"])
    command = results.get("command", "python -m benchmarks.run")
    parts += [f"Reproduce from the repository root: `{command}` ({results['elapsed_seconds'] / 60:.1f} minutes here).", ""]
    return "\n".join(parts)


def _machine(machine: dict) -> list[str]:
    return [
        "## Machine",
        "",
        "| cores | CPU | memory | Python | numpy | numba | scipy | Mesa | networkx | load average (start, end) | commit | date |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {machine['cpus']} | {machine['cpu_model']} | {machine['memory_gib']} GiB | {machine['python']} | "
        f"{machine['numpy']} | {machine.get('numba', 'none')} | {machine['scipy']} | {machine['mesa']} | {machine['networkx']} | "
        f"{_load(machine.get('load_average_at_start'))}, {_load(machine.get('load_average_at_end'))} | "
        f"{machine['git_commit']} | {machine['date']} |",
        "",
    ]


def target_checks(results: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, target, measured, met) for every target whose benchmark ran at the target's size."""
    checks: list[tuple[str, str, str, bool | None]] = []
    by_size = {row["consumers"]: row for row in results.get("step_cost", [])}
    for size in STEP_RATIO_SIZES:
        row = by_size.get(size)
        measured = f"{row['ratio']:.2f} x" if row else "not run"
        checks.append((f"1. step vs bare reference, {size:,}", f"<= {STEP_RATIO_LIMIT:g} x", measured, row["ratio"] <= STEP_RATIO_LIMIT if row else None))
    mesa = {row["consumers"]: row for row in results.get("mesa", [])}.get(MESA_SPEEDUP_SIZE)
    checks.append(
        (f"2. faster than idiomatic Mesa, {MESA_SPEEDUP_SIZE:,}", f">= {MESA_SPEEDUP_MIN:g} x",
         f"{mesa['speedup']:.0f} x" if mesa else "not run", mesa["speedup"] >= MESA_SPEEDUP_MIN if mesa else None)
    )  # fmt: skip
    scale = results.get("scale", {}).get("run")
    if scale:
        label = f"{scale['consumers']:,} consumers"
        peak = scale["peak_rss_bytes"] / GIB
        checks.append((f"3. peak memory, {label}", f"< {PEAK_MEMORY_LIMIT_GIB:g} GiB", f"{peak:.2f} GiB", peak < PEAK_MEMORY_LIMIT_GIB))
        checks.append((f"3. build time, {label}", f"< {BUILD_LIMIT_SECONDS:g} s", f"{scale['build_seconds']:.1f} s", scale["build_seconds"] < BUILD_LIMIT_SECONDS))
    growth = results.get("growth")
    if growth:
        for key, label in (("by_consumers", "consumers"), ("by_degree", "mean degree")):
            slope, reference = growth[key]["funnelsim_slope"], growth[key]["reference_slope"]
            checks.append(
                (f"4. growth with edges (by {label})", f"slope <= {LINEAR_SLOPE_MAX:g}",
                 f"{slope:.2f} (bare reference {reference:.2f})", slope <= LINEAR_SLOPE_MAX if math.isfinite(slope) else None)
            )  # fmt: skip
    sweep = results.get("sweep")
    if sweep:
        efficiency = sweep["parallel_efficiency"]
        checks.append(("5. parallel efficiency, 2 workers", f">= {EFFICIENCY_MIN:g}", f"{efficiency:.2f}", efficiency >= EFFICIENCY_MIN))
    small = results.get("small")
    if small:
        checks.append(
            (f"6. a baseline year, {small['consumers']:,} consumers, {small['steps']} steps (CPU time, one core)",
             f"< {YEAR_LIMIT_SECONDS:g} s", f"{small['year_cpu_seconds']:.2f} s", small["year_cpu_seconds"] < YEAR_LIMIT_SECONDS)
        )  # fmt: skip
    engine = results.get("engine")
    if engine:
        for key in ("calibration", "sweep"):
            batch = engine[key]
            worst = max(batch["startup_share"], batch["writing_share"])
            checks.append(
                (f"7. engine, {key} batch: start-up and writing shares", f"each < {DOMINATE_SHARE:g}",
                 f"{batch['startup_share']:.2f}, {batch['writing_share']:.3f}", worst < DOMINATE_SHARE)
            )  # fmt: skip
    for row in results.get("ten_million", []):
        if "error" in row:
            checks.append((f"8. {row['consumers']:,}, {row['kind']}", "builds and runs", "failed (see section 8)", False))
            continue
        label = f"{row['consumers']:,}, {row['kind']}"
        peak = max(row["peak_rss_bytes"], extrapolated_rss(row)) / GIB
        checks.append((f"8. build time, {label}", f"< {BUILD_LIMIT_SECONDS:g} s", f"{row['build_seconds']:.0f} s (CPU {row['build_cpu_seconds']:.0f} s)", row["build_seconds"] < BUILD_LIMIT_SECONDS))
        checks.append((f"8. peak memory over 365 steps, {label}", f"< {BIG_PEAK_LIMIT_GIB:g} GiB", f"{peak:.2f} GiB", peak < BIG_PEAK_LIMIT_GIB))
    return checks


def _small(small: dict) -> list[str]:
    lines = [
        "## 6. Small models",
        "",
        f"A `baseline` year: {small['consumers']:,} consumers, {small['steps']} steps, the table collected every step, "
        f"built, run and tabled from scratch; median of {small['repetitions']}, in alternation with a year of the bare "
        "reference on the same network. CPU time is this process's (one core), which a busy machine inflates less "
        "than wall time.",
        "",
        "| what | wall (s) | CPU (s) | fastest CPU (s) |",
        "| --- | --- | --- | --- |",
        f"| baseline year | {small['year_wall_seconds']:.3f} | {small['year_cpu_seconds']:.3f} | {small['year_cpu_min_seconds']:.3f} |",
        f"| bare reference year | {small['reference_year_wall_seconds']:.3f} | {small['reference_year_cpu_seconds']:.3f} | - |",
        "",
        f"The year costs {small['year_ratio_cpu']:.1f} times the bare reference's year (CPU time).",
        "",
        "Where the time goes (cProfile, one year; shares of the whole, the profiler's own overhead included):",
        "",
        "| phase | share |",
        "| --- | --- |",
    ]
    for phase in small["profile"]["phases"]:
        lines.append(f"| {phase['phase']} | {phase['share']:.0%} |")
    lines += ["", "Functions with the most time of their own (numpy and Cython calls are counted in their caller):", ""]
    lines += ["| function | share |", "| --- | --- |"]
    for entry in small["profile"]["top_own_time"]:
        lines.append(f"| `{entry['function']}` | {entry['share']:.0%} |")
    return lines + [""]


def _engine(engine: dict) -> list[str]:
    lines = [
        "## 7. Engine throughput",
        "",
        "Many small runs through `funnelsim.experiments.engine.evaluate`, in this process and on a local pool of two "
        "workers (wall time from the call to its return, worker start-up included). Parallel efficiency: the pool's "
        "rate over twice the in-process rate. Start-up: opening a two-worker pool until both have imported funnelsim; "
        "writing: the summary table to Parquet.",
        "",
    ]
    if engine.get("scale_down", 1.0) != 1.0:
        lines += [f"*Batches scaled down to {engine['scale_down']:g} of the issue's sizes: the machine was too loaded to run them whole.*", ""]
    lines += [
        "| batch | scenario | consumers | steps | runs | in process: runs/s | 2 workers: runs/s per core | efficiency | start-up share | writing share |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in ("calibration", "sweep"):
        b = engine[key]
        lines.append(
            f"| {key} | {b['scenario']} | {b['consumers']:,} | {b['steps']} | {b['runs']:,} | {b['in_process_runs_per_second']:.1f} | "
            f"{b['two_workers_runs_per_second_per_core']:.1f} | {b['parallel_efficiency']:.2f} | {b['startup_share']:.2f} | {b['writing_share']:.3f} |"
        )
    if all("in_process_cpu_seconds_per_run" in engine[key] for key in ("calibration", "sweep")):
        lines += [
            "",
            "CPU time per run (this process and the workers together), which other processes on a shared machine do "
            "not inflate; its ratio is the pool's efficiency in work (1: the pool adds no CPU time to a run):",
            "",
            "| batch | in process: CPU s per run | 2 workers: CPU s per run | runs per CPU second | CPU efficiency |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in ("calibration", "sweep"):
            b = engine[key]
            lines.append(
                f"| {key} | {b['in_process_cpu_seconds_per_run']:.3f} | {b['two_workers_cpu_seconds_per_run']:.3f} | "
                f"{1 / b['in_process_cpu_seconds_per_run']:.1f} | {b['cpu_efficiency']:.2f} |"
            )
    return lines + [""]


def extrapolated_rss(row: dict, steps: int = 365) -> float:
    """Resident memory after ``steps`` steps if it kept growing as it did after the first steps (bytes)."""
    measured = row.get("step_rss_bytes") or [0]
    growth = row.get("rss_growth_per_step_bytes", 0.0)
    growth = max(growth, 0.0) if math.isfinite(growth) else 0.0
    return measured[-1] + growth * max(steps - len(measured), 0)


def _step_range(rows: list[dict]) -> str:
    """The runs' step count, or its range when kinds were rerun at another length (see each row's steps)."""
    counts = sorted({row["steps"] for row in rows if "steps" in row}) or [0]
    return f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]} (steps column)"


def _ten_million(rows: list[dict]) -> list[str]:
    lines = [
        "## 8. Ten million consumers",
        "",
        f"`baseline` at {rows[0]['consumers']:,} consumers, mean degree 10, on every network kind (the complete graph "
        f"in its implicit form), {_step_range(rows)} steps with the table collected every step, each in a fresh process. "
        "Peak memory is the kernel's VmHWM for the whole process; memory growth is the least-squares slope of the "
        "resident set after each step from the third on, and the 365-step figure extends that line (a "
        "pessimistic guess: the table itself grows by one row per firm per step, a few hundred bytes). The peak "
        "over a 365-step run is the larger of the measured peak (the build's, here) and that figure.",
        "",
        "| network | steps | edges | build wall (s) | build CPU (s) | load average during build | mean step (s) | RSS after build (GiB) "
        "| peak RSS (GiB) | growth per step (MiB) | RSS after 365 steps, extended (GiB) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['kind']} | - | - | failed: {row['error']} | | | | | | | |")
            continue
        # The 1-minute load average before and after the build (rows from before it was recorded: -).
        load = " to ".join(f"{value:.1f}" for value in row.get("build_load_average", [])) or "-"
        lines.append(
            f"| {row['kind']} | {row['steps']} | {row['edges']:,} | {row['build_seconds']:.0f} | {row['build_cpu_seconds']:.0f} | {load} | "
            f"{row['step_seconds_mean']:.2f} | {row['rss_after_build_bytes'] / GIB:.2f} | {row['peak_rss_bytes'] / GIB:.2f} | "
            f"{row['rss_growth_per_step_bytes'] / 2**20:.2f} | {extrapolated_rss(row) / GIB:.2f} |"
        )
    return lines + [""]


def _targets(results: dict) -> list[str]:
    lines = ["## Targets", "", "| benchmark | target | measured | met |", "| --- | --- | --- | --- |"]
    for what, target, measured, met in target_checks(results):
        lines.append(f"| {what} | {target} | {measured} | {_met(met)} |")
    return lines + [""]


def _step_cost(rows: list[dict]) -> list[str]:
    lines = [
        "## 1. Step cost against the bare reference",
        "",
        "Baseline scenario (two firms), Watts-Strogatz k = 10, p = 0.1, after "
        f"{rows[0]['warmup_steps']} warm-up steps. Reference: one sparse product over the same CSR "
        "adjacency plus one Bernoulli draw per consumer, timed in alternation with the model.",
        "",
        "| consumers | edges | funnelsim step (ms) | reference step (ms) | ratio | ratio of CPU times | repetitions |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['consumers']:,} | {row['edges']:,} | {_ms(row['funnelsim_step'])} | {_ms(row['reference_step'])} | "
            f"{row['ratio']:.2f} | {_number(row.get('ratio_cpu', math.nan))} | {row['funnelsim_step']['repetitions']} |"
        )
    return lines + ["", "Times are wall-time medians (min-max in brackets); the ratio of CPU times uses the medians of "
                    "this process's CPU time per step, which other processes on a busy machine do not inflate.", ""]


def _mesa(rows: list[dict]) -> list[str]:
    lines = [
        "## 2. Against idiomatic Mesa",
        "",
        "The same word-of-mouth rule, one agent per consumer on `mesa.discrete_space.Network`, each "
        "looking at its neighbours, scheduled with `shuffle_do`; word of mouth only, against "
        "funnelsim's full step. Garbage is collected before each timed step and the collector paused "
        "during it (Mesa's garbage would otherwise be collected during funnelsim's step); both steps "
        "then start with cold caches, which slows funnelsim's array step more than Mesa's.",
        "",
        "| consumers | funnelsim full step (ms) | Mesa word-of-mouth step (ms) | funnelsim faster by |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(f"| {row['consumers']:,} | {_ms(row['funnelsim_step'])} | {_ms(row['mesa_step'])} | {row['speedup']:.0f} x |")
    return lines + [""]


def _scale(scale: dict) -> list[str]:
    run, agents = scale["run"], scale["consumer_agents"]
    return [
        "## 3. Scale",
        "",
        f"{run['consumers']:,} consumers ({run['edges']:,} edges), baseline firms, {run['steps']} steps, data "
        "collected every step, in a fresh process; peak resident memory as the kernel reports it (VmHWM). "
        "Consumer agents are made the first time anyone looks at the model's agents; the second row is a "
        "fresh process that builds the model and then looks.",
        "",
        "| what | build (s) | making consumer agents (s) | run (s) | mean step (s) | peak RSS (GiB) |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| build and run | {run['build_seconds']:.1f} | - | {run['run_seconds']:.1f} | "
        f"{run['step_seconds_mean']:.3f} | {run['peak_rss_bytes'] / GIB:.2f} |",
        f"| build, then look at `model.agents` ({agents['agents']:,} agents) | {agents['build_seconds']:.1f} | "
        f"{agents['agents_seconds']:.1f} | - | - | {agents['peak_rss_bytes'] / GIB:.2f} |",
        "",
    ]


def _growth(results: dict) -> list[str]:
    growth = results["growth"]
    lines = [
        "## 4. Growth with edges",
        "",
        "Median step against the number of edges; the slope is that of log(time) against log(edges) "
        "(1 = linear). From benchmark 1 by consumers (k = 10), and at fixed consumers by mean degree.",
        "",
        "| series | consumers | mean degree | edges | funnelsim step (ms) | reference step (ms) | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for series, rows in (("consumers", results["step_cost"]), ("degree", growth["by_degree"]["rows"])):
        for row in rows:
            lines.append(
                f"| by {series} | {row['consumers']:,} | {row['k']} | {row['edges']:,} | {row['funnelsim_step']['median'] * 1000:.2f} | "
                f"{row['reference_step']['median'] * 1000:.2f} | {row['ratio']:.2f} |"
            )
    lines += [
        "",
        f"Slope by consumers: funnelsim {growth['by_consumers']['funnelsim_slope']:.2f}, bare reference "
        f"{growth['by_consumers']['reference_slope']:.2f}. By mean degree: funnelsim "
        f"{growth['by_degree']['funnelsim_slope']:.2f}, bare reference {growth['by_degree']['reference_slope']:.2f}.",
        "",
    ]
    return lines


def _sweep(sweep: dict) -> list[str]:
    lines = [
        "## 5. Sweep throughput",
        "",
        f"{sweep['runs']} runs of the baseline scenario at {sweep['consumers']:,} consumers and {sweep['steps']} steps, "
        "through `run_sweep` and the Parquet results store (as `funnelsim sweep` does); wall time from opening the "
        f"executor to closing it, median of {sweep['repetitions']} for the worker pools (the in-process sweep, run once, "
        "is the baseline of the overhead).",
        "",
        "| executor | wall (s) | runs per second | time inside runs (s) |",
        "| --- | --- | --- | --- |",
    ]
    for name, label in (("serial", "this process"), ("one_worker", "1 worker process"), ("two_workers", "2 worker processes")):
        sample = sweep[name]
        lines.append(f"| {label} | {sample['wall_seconds']:.2f} | {sample['runs_per_second']:.2f} | {sample['run_seconds_total']:.2f} |")
    lines += [
        "",
        f"Parallel efficiency on 2 workers: {sweep['parallel_efficiency']:.2f}. Executor overhead per run on 1 worker: "
        f"{sweep['overhead_per_run_seconds'] * 1000:.0f} ms beyond the runs' own time "
        f"({sweep['overhead_vs_serial_per_run_seconds'] * 1000:+.0f} ms per run against running them in this process).",
        "",
    ]
    ceiling = sweep.get("machine_parallel_ceiling")
    if ceiling is not None:
        lines += [
            f"The machine's own ceiling at the time: two copies of a plain Python loop ran at a parallel efficiency of "
            f"{ceiling:.2f} (wall time of one alone over that of two together; 1 would be two full cores).",
            "",
        ]
    startup = sweep.get("worker_startup_seconds")
    if startup:
        lines += [
            f"Starting the workers, once per sweep, takes {startup['one_worker']:.1f} s for one and "
            f"{startup['two_workers']:.1f} s for two (a fresh interpreter importing funnelsim each): "
            f"{startup['one_worker'] / sweep['runs'] * 1000:.0f} ms of the overhead per run above. Leaving it out, the "
            f"efficiency on 2 workers is {_number(sweep['steady_parallel_efficiency'])}, which a longer sweep approaches.",
            "",
        ]
    return lines


def _older(results: dict, name: str) -> list[str]:
    """A note under a section kept from an earlier run (``--merge``), with its own commit and date."""
    machine = results.get("machines", {}).get(name)
    if not machine or machine.get("git_commit") == results["machine"].get("git_commit"):
        return []
    return [f"*Not rerun: measured at commit {machine.get('git_commit')} on {machine.get('date')}, load average "
            f"{_load(machine.get('load_average_at_start'))} at the start.*", ""]


def _ms(timing: dict) -> str:
    return f"{timing['median'] * 1000:.2f} ({timing['min'] * 1000:.2f}-{timing['max'] * 1000:.2f})"


def _number(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "n/a"


def _met(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "**no**")


def _load(values) -> str:
    return "/".join(f"{value:g}" for value in values) if values else "?"
