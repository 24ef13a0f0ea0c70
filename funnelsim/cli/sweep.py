"""``funnelsim sweep`` and ``funnelsim analyze``: the command line of research sweeps.

``sweep`` checks everything it can before it starts (the sweep file, the scenario, every design
point, the output folder, the scheduler), so bad input ends with one line and exit code 2 and
nothing written. Then it runs the sweep on a local process pool, in this process (``--serial``)
or on an existing Dask cluster (``--scheduler``), streaming results into the output folder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from importlib import resources
from pathlib import Path

from funnelsim.cli.arguments import (
    MEANINGS,
    add_command,
    add_max_runs_argument,
    add_output_arguments,
    add_replications_argument,
    add_seed_argument,
    add_set_argument,
    add_steps_argument,
    add_workers_arguments,
    check_run_arguments,
    fresh_seed,
)
from funnelsim.cli.studies import add_shrink_options, shrink
from funnelsim.errors import UsageError
from funnelsim.experiments.provenance import command_line, now_utc

#: Exit codes: 0 all runs ok, 1 some runs failed or the sweep was cut short, 2 bad input.
EXIT_OK, EXIT_RUNS_FAILED = 0, 1


def register(subparsers) -> None:
    sweep = add_command(
        subparsers,
        "sweep",
        help="run a parameter sweep (grid, Latin hypercube, Sobol, Morris) on this machine or a Dask cluster",
        description="Run every run of a sweep file and stream the results to Parquet files in --out "
        "(read them with funnelsim.load_results). Exit code 0 when every run succeeded, 1 when some failed, "
        "2 for bad input.",
        examples=[
            "funnelsim sweep budget_split --workers 2 --set market.consumers=1000 --out results/split",
            "funnelsim sweep ./my-sweep.toml --runs 200 --seed 7 --out results/mine",
        ],
    )
    sweep.add_argument(
        "sweep_file", metavar="SWEEP.toml", help="the sweep file, or the name of a built-in study (list them with `funnelsim studies`)"
    )
    add_set_argument(sweep, extra="on top of the sweep file's fixed settings")
    add_steps_argument(sweep, default="the sweep file's steps")
    add_replications_argument(sweep, None, default_text="the sweep file's", extra="per design point")
    add_seed_argument(sweep, default_text="the sweep file's, else a fresh one, recorded")
    where = add_workers_arguments(sweep)
    where.add_argument("--serial", action="store_true", help="run in this process, one run after another")
    add_max_runs_argument(sweep)
    # A sweep writes tables only (`funnelsim analyze` draws); --no-figures is accepted so that the
    # same flags work on run and sweep.
    add_output_arguments(sweep, overwrite=False, default="results/<sweep file name>")
    sweep.add_argument("--resume", action="store_true", help="finish the sweep already in --out, skipping finished runs")
    sweep.add_argument(
        "--connect-timeout", type=float, default=10.0, metavar="SECONDS", help="how long to try reaching --scheduler"
    )
    sweep.add_argument(
        "--batch-size", type=int, default=200, metavar="N", help="runs per Parquet part file (written sooner when runs are slow)"
    )
    sweep.add_argument(
        "--allow-run-function", action="append", default=[], metavar="MODULE",
        help="let the sweep file's run_function come from MODULE (a sweep file cannot import code on its own)",
    )
    add_shrink_options(sweep)
    sweep.set_defaults(handler=run_sweep_command)

    analyze = add_command(
        subparsers,
        "analyze",
        help="tables, sensitivity indices and figures from a sweep's results",
        description="Summarize a sweep folder: mean and spread per design point, Sobol or Morris indices "
        "(SALib), and figures, written to DIR/analysis.",
        examples="funnelsim analyze results/split --output profit --heatmap firms.0.price marketing_share",
    )
    analyze.add_argument("directory", metavar="DIR", help="a sweep's output folder")
    analyze.add_argument(
        "--output",
        metavar="MEASURE",
        help="measure to draw and report, e.g. 'Firm A.profit' or just 'profit' for the first firm "
        "(default: the sweep's first summary output)",
    )
    analyze.add_argument(
        "--heatmap",
        nargs=2,
        metavar=("ROWS", "COLUMNS"),
        help="the two parameters of the heat map (default: the sweep's first two)",
    )
    analyze.add_argument("--no-figures", action="store_true", help=MEANINGS["--no-figures"])
    analyze.set_defaults(handler=run_analyze_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    if not args.resume:
        return _run_sweep(args)
    from funnelsim.experiments.results_store import damaged_folder

    out = args.out or f"results/{Path(args.sweep_file).stem}"
    with damaged_folder(out, advice="; it cannot be resumed"):
        return _run_sweep(args)


def _run_sweep(args: argparse.Namespace) -> int:
    from funnelsim.experiments.executors import open_executor
    from funnelsim.experiments.results_store import ResultsStore, check_new_directory, read_design, read_manifest
    from funnelsim.experiments.sweep_plan import check_run_function_allowed, load_run_function, make_plan
    from funnelsim.experiments.sweep_runner import SweepAborted, run_sweep
    from funnelsim.experiments.sweep_spec import read_sweep_file

    check_run_arguments(args)
    if args.batch_size < 1:
        raise UsageError(f"--batch-size {args.batch_size}: needs at least 1 run per part")
    sweep_path = resolve_sweep_path(args.sweep_file)
    spec, sweep_text = read_sweep_file(sweep_path)
    spec = _with_command_line_settings(spec, args, sweep_path)
    # --replications is one of the settings above; --runs then fits the design to it.
    # Said even with --quiet: the study that runs is not the file's.
    spec = shrink(spec, runs=args.shrink_runs, samples=args.shrink_samples)
    out = Path(args.out) if args.out else Path("results") / sweep_path.stem
    from funnelsim.experiments.limits import check_run_count, design_size

    # Counted from the settings, before the design is sampled or a folder made.
    check_run_count(design_size(spec) * spec.replications, str(sweep_path), args.max_runs)
    if spec.run_function:
        check_run_function_allowed(spec.run_function, str(sweep_path), args.allow_run_function)

    manifest = None
    if args.resume:
        manifest = read_manifest(out)
        seed = int(manifest["seed"])
    else:
        check_new_directory(out)
        seed = spec.seed if spec.seed is not None else fresh_seed()
    plan = make_plan(spec, sweep_path, seed)
    if manifest is not None:
        _check_same_sweep(manifest, plan, sweep_text, out)
        if not (out / "design.parquet").exists() or len(read_design(out)) != plan.n_points:
            raise UsageError(f"{out}: design.parquet does not match the sweep file")
    run_function = load_run_function(plan.run_function, str(sweep_path))
    from funnelsim.experiments.limits import check_largest_fits
    from funnelsim.experiments.sweep_plan import largest_point_scenarios

    if not args.scheduler:
        parallel = 1 if args.serial else (args.workers or os.cpu_count() or 1)
        check_largest_fits(largest_point_scenarios(plan), min(parallel, plan.n_runs), str(sweep_path))

    with open_executor(
        workers=args.workers,
        scheduler=args.scheduler,
        serial=args.serial,
        connect_timeout=args.connect_timeout,
        run_function=spec.run_function,
    ) as handle:
        if manifest is None:
            store = ResultsStore.create(
                out, _manifest(plan, sweep_text, handle.description), plan.point_table(), sweep_text, plan.measures
            )
        else:
            store = ResultsStore.reopen(out)
            store.update_manifest(resumed=[*store.manifest.get("resumed", []), {"command": command_line(), "at": now_utc()}])
        with store:
            _say(
                args,
                f"sweep {sweep_path.name}: {plan.n_points} points x {spec.replications} replications = "
                f"{plan.n_runs} runs ({spec.design.kind}) on {handle.description} -> {out}",
            )
            try:
                outcome = run_sweep(plan, store, handle, run_function, batch_size=args.batch_size, progress=not args.quiet)
                if outcome.remaining == 0:
                    store.update_manifest(finished_at=now_utc())
            except OSError as error:
                name = f" ({error.filename})" if error.filename else ""
                print(
                    f"funnelsim sweep: stopped: {error.strerror or error}{name}; finished runs are saved in {out}, "
                    f"rerun with --resume when the problem is fixed",
                    file=sys.stderr,
                )
                return EXIT_RUNS_FAILED
            except SweepAborted as error:
                print(f"funnelsim sweep: stopped: {error}; finished runs are saved, rerun with --resume", file=sys.stderr)
                return EXIT_RUNS_FAILED
            except KeyboardInterrupt:
                print(
                    f"finished runs are saved in {out}; to finish the sweep: "
                    f"funnelsim sweep {args.sweep_file} --out {out} --resume",
                    file=sys.stderr,
                )
                raise

    if outcome.finished_before:  # said even with --quiet: it explains why fewer runs ran
        print(f"resumed: {outcome.finished_before} runs were already done", file=sys.stderr)
    if outcome.failed_total or not args.quiet:
        print(
            f"done: {outcome.finished} of {outcome.total} runs, {outcome.finished - outcome.failed_total} ok, "
            f"{outcome.failed_total} failed; results in {out}",
            file=sys.stderr,
        )
    if outcome.failed_total:
        print(
            f"failed runs have status = 'failed' with their error and traceback in {out / 'runs'}",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    return EXIT_OK


def _say(args: argparse.Namespace, message: str) -> None:
    """A progress message on stderr, unless --quiet."""
    if not args.quiet:
        print(message, file=sys.stderr)


def run_analyze_command(args: argparse.Namespace) -> int:
    from funnelsim.experiments.results_store import damaged_folder

    with damaged_folder(args.directory):
        return _analyze(args)


def _check_run_ids(directory: Path) -> None:
    """Every stored run id must be one the manifest's design has: an edited or mixed-up table
    would otherwise be analysed as if it belonged to this sweep."""
    from funnelsim.experiments.results_store import read_manifest, read_runs

    n_runs = int(read_manifest(directory)["n_runs"])
    ids = read_runs(directory, columns=["run_id"])["run_id"]
    if len(ids) and not (0 <= ids.min() and ids.max() < n_runs):
        raise UsageError(
            f"{directory}: damaged or edited results folder (run ids {ids.min()} to {ids.max()}, "
            f"but the sweep has runs 0 to {n_runs - 1})"
        )


def _analyze(args: argparse.Namespace) -> int:
    from funnelsim.experiments.analysis import analyze_sweep
    from funnelsim.experiments.results_store import read_manifest

    kind = read_manifest(args.directory).get("kind")
    if kind != "sweep":
        hint = "; `funnelsim report` redraws a run's figures" if kind == "run" else ""
        raise UsageError(f"{args.directory}: not a sweep's results folder (kind {kind!r}){hint}")
    _check_run_ids(Path(args.directory))

    pair = tuple(args.heatmap) if args.heatmap else None
    report = analyze_sweep(Path(args.directory), output=args.output, figures=not args.no_figures, heatmap_pair=pair)
    print(report.text())
    return EXIT_OK


def resolve_sweep_path(argument: str) -> Path:
    """A sweep file's path (it must look like one: ``./name`` or ``name.toml``), or the file of a
    built-in study named without ``.toml``; a file named like a built-in never hides it."""
    from funnelsim.model.scenario import looks_like_path
    from funnelsim.suggest import did_you_mean

    if looks_like_path(argument):
        return Path(argument)
    studies = built_in_studies()
    if argument in studies:
        return studies[argument]
    if argument == "elasticities":
        # Not a sweep file: it pairs runs and computes intervals, so it has its own command.
        raise UsageError("elasticities: run it with 'funnelsim elasticities [SCENARIO]' (see --help)")
    hint = f"; for the file, write ./{argument}" if Path(argument).exists() else ""
    raise UsageError(
        f"{argument}: no such built-in study{did_you_mean(argument, studies)} "
        f"(built-ins: {', '.join(sorted(studies))}){hint}"
    )


def built_in_studies() -> dict[str, Path]:
    """The example sweeps that ship with funnelsim, by name."""
    folder = resources.files("funnelsim.experiments") / "studies"
    return {entry.name.removesuffix(".toml"): Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml")}


def _with_command_line_settings(spec, args: argparse.Namespace, sweep_path: Path):
    """The sweep file's spec with --set, --steps, --replications and --seed on top; checked again."""
    from funnelsim.cli.arguments import parse_set_options
    from funnelsim.experiments.sweep_spec import SweepSpec, first_problem

    changes: dict = {}
    if args.set:
        changes["fixed"] = {**spec.fixed, **parse_set_options(args.set)}
    for name in ("steps", "replications", "seed"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if not changes:
        return spec
    from pydantic import ValidationError

    try:
        return SweepSpec.model_validate({**spec.model_dump(exclude_none=True), **changes})
    except ValidationError as error:  # the settings are the options' names: "--steps: ..."
        raise UsageError(f"--{first_problem(error)}") from None


def _manifest(plan, sweep_text: str, where: str) -> dict:
    from funnelsim.experiments.engine import SEED_RULE
    from funnelsim.experiments.provenance import environment

    spec = plan.spec
    return {
        "kind": "sweep",
        "command": command_line(),
        "started_at": now_utc(),
        "finished_at": None,
        "executor": where,
        "environment": environment(),
        "sweep_file": str(Path(plan.sweep_path).resolve()),
        "sweep_sha256": _sha256(sweep_text),
        "description": spec.description,
        "seed": plan.seed,
        "seed_rule": SEED_RULE,
        "run_id": "point_id * replications + replication",
        "replications": spec.replications,
        "steps": plan.steps,
        "n_points": plan.n_points,
        "n_runs": plan.n_runs,
        "run_function": plan.run_function,
        "design": spec.design.model_dump(),
        "parameters": {name: parameter.model_dump(exclude_none=True) for name, parameter in spec.parameters.items()},
        "scenario_parameters": plan.scenario_parameters,
        "derived": spec.derived,
        "fixed": spec.fixed,
        "outputs": spec.outputs.model_dump(),
        "base_scenario": plan.base_scenario,
    }


def _check_same_sweep(manifest: dict, plan, sweep_text: str, out: Path) -> None:
    """Resume only the sweep that made the folder: same file, same resolved scenario, same runs."""
    if manifest.get("sweep_sha256") != _sha256(sweep_text):
        raise UsageError(
            f"--resume: {out} was made by a different sweep file ({manifest.get('sweep_file')}); "
            "use that file or another --out"
        )
    if manifest.get("base_scenario") != plan.base_scenario:
        raise UsageError(f"--resume: the base scenario changed since {out} was started; use another --out")
    if manifest.get("n_runs") != plan.n_runs:
        raise UsageError(f"--resume: {out} holds a sweep of {manifest.get('n_runs')} runs, this one has {plan.n_runs}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
