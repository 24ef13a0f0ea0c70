"""``funnelsim studies``, and shrinking a study from the command line.

The built-in studies are the sweep files in ``experiments/studies/``; each says in its
``description`` what it asks, and that line is what ``funnelsim studies`` prints, so the list can
never fall behind the files.

A study is sized for an answer, which can take an hour on a laptop. :func:`shrink` makes a
smaller version of it without copying the file: ``--replications R`` sets the replications per
design point, ``--samples N`` the size of a sampled design (Latin hypercube points, Sobol base
sample, Morris trajectories) and ``--runs N`` picks the largest such study of at most N runs (fewer
samples for a sampled design, fewer replications for a grid).
"""

from __future__ import annotations

import argparse
import math
import sys

from funnelsim.errors import UsageError


def register(subparsers) -> None:
    from funnelsim.cli.arguments import add_command

    studies = add_command(
        subparsers,
        "studies",
        help="list the built-in studies (sweep files) with what each asks",
        description="List the built-in studies, one line each: name, design, runs, and what it asks. "
        "Run one with `funnelsim sweep NAME`; shrink it with --runs, --samples or --replications.",
        examples=["funnelsim studies", "funnelsim sweep budget_split --runs 200 --out results/split"],
    )
    studies.set_defaults(handler=studies_command)


def studies_command(args: argparse.Namespace) -> int:
    for line in study_lines():
        print(line)
    return 0


def study_lines() -> list[str]:
    """One line per built-in study: name, design and size, and its description."""
    from funnelsim.cli.sweep import built_in_studies
    from funnelsim.experiments.sweep_spec import parse_sweep_text

    rows = []
    for name, path in sorted(built_in_studies().items()):
        text = path.read_text(encoding="utf-8")
        try:
            spec = parse_sweep_text(text, origin=str(path))
        except UsageError as error:  # a broken built-in is a bug; say so rather than hide the list
            rows.append((name, "?", f"cannot be read: {error}"))
            continue
        runs = run_count(spec)
        size = f"{spec.design.kind}, {runs:,} runs"
        rows.append((name, size, spec.description or _first_comment(text)))
    name_width = max(len(row[0]) for row in rows)
    size_width = max(len(row[1]) for row in rows)
    return [f"{name.ljust(name_width)}  {size.ljust(size_width)}  {about}" for name, size, about in rows]


def _first_comment(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def design_points(spec, samples: int | None = None) -> int:
    """Points of the design (at ``samples`` if given); a grid's count before integer rounding
    merges repeated values, so it is an upper bound there."""
    design = spec.design
    samples = design.samples if samples is None else samples
    dimensions = len(spec.parameters)
    if design.kind == "grid":
        counts = [len(p.levels) if not p.is_range else p.num for p in spec.parameters.values()]
        return math.prod(counts)
    if design.kind == "latin_hypercube":
        return samples
    if design.kind == "sobol":
        return samples * ((2 * dimensions + 2) if design.second_order else (dimensions + 2))
    return samples * (dimensions + 1)  # morris: trajectories of D + 1 points


def run_count(spec) -> int:
    return design_points(spec) * spec.replications


def add_shrink_options(parser: argparse.ArgumentParser) -> None:
    """The options of :func:`shrink`, for ``funnelsim sweep``."""
    # --replications is one of sweep's own settings (funnelsim.cli.arguments); --runs fits the design to it.
    group = parser.add_argument_group("shrinking a study (without copying its file)")
    size = group.add_mutually_exclusive_group()
    size.add_argument(
        "--samples", type=int, metavar="N", dest="shrink_samples",
        help="design size instead of the file's: Latin hypercube points, Sobol base sample (a power of two) "
        "or Morris trajectories",
    )
    size.add_argument(
        "--runs", type=int, metavar="N", dest="shrink_runs",
        help="at most N runs: the largest sample size that fits (sampled designs) or the most replications "
        "that fit (grids)",
    )


def shrink(spec, runs: int | None = None, samples: int | None = None, replications: int | None = None):
    """``spec`` with fewer (or more) replications or samples; the file itself is untouched.

    Raises
    ------
    UsageError
        When a value is not positive, a grid is given ``samples``, or not even one replication of
        the smallest design fits in ``runs``.
    """
    if runs is None and samples is None and replications is None:
        return spec
    for option, value in (("--runs", runs), ("--samples", samples), ("--replications", replications)):
        if value is not None and value < 1:
            raise UsageError(f"{option} {value}: needs at least 1")
    design = spec.design
    if samples is not None and design.kind == "grid":
        raise UsageError(
            f"--samples {samples}: a grid's size is the product of its parameters' values; use --runs or --replications"
        )
    if samples is not None and design.kind == "sobol" and samples & (samples - 1):
        raise UsageError(f"--samples {samples}: a Sobol design needs a power of two (e.g. {_power_below(samples)})")
    reps = replications if replications is not None else spec.replications
    if runs is not None:
        if design.kind == "grid":
            points = design_points(spec)
            if points > runs:
                raise UsageError(f"--runs {runs}: the grid alone has {points} points; shrink it in a copy of the file")
            reps = min(reps, runs // points)
        else:
            samples = _largest_samples(spec, runs // reps)
            if samples < 1:
                smallest = design_points(spec, 1) * reps
                raise UsageError(
                    f"--runs {runs}: the smallest {design.kind} design takes {smallest} runs at {reps} replications"
                    + (" (fewer with --replications 1)" if reps > 1 else "")
                )
    update: dict = {"replications": reps}
    if samples is not None:
        update["design"] = design.model_copy(update={"samples": samples})
    shrunk = spec.model_copy(update=update)
    print(
        f"shrunk: {design_points(shrunk)} points x {reps} replications = {run_count(shrunk)} runs "
        f"(the file has {run_count(spec)})",
        file=sys.stderr,
    )
    return shrunk


def _largest_samples(spec, points: int) -> int:
    per_sample = design_points(spec, 1)
    samples = points // per_sample
    if spec.design.kind == "sobol" and samples >= 1:
        samples = _power_below(samples)
    return samples


def _power_below(number: int) -> int:
    return 1 << (max(1, number).bit_length() - 1)

