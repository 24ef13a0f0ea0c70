"""`funnelsim studies` and shrinking a study from the command line (`sweep --runs/--samples/--replications`)."""

from __future__ import annotations

import re
import tomllib

import pytest

from funnelsim.cli import build_parser, main
from funnelsim.cli.studies import run_count, shrink
from funnelsim.cli.sweep import built_in_studies
from funnelsim.errors import UsageError
from funnelsim.experiments.sweep_plan import make_plan
from funnelsim.experiments.sweep_spec import read_sweep_file


def test_studies_lists_every_built_in_study_with_its_description(capsys):
    assert main(["studies"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    studies = built_in_studies()
    assert len(lines) == len(studies) >= 9
    for line, (name, path) in zip(lines, sorted(studies.items())):
        description = tomllib.loads(path.read_text(encoding="utf-8"))["description"]
        assert line.startswith(name + " ") and line.endswith(description)


def test_sweep_help_points_at_the_list_instead_of_naming_some(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "funnelsim studies" in text
    assert "--runs" in text and "--samples" in text and "--replications" in text


@pytest.mark.parametrize(
    "name, options, runs",
    [
        # Sobol without second order: N (D + 2) points; D = 4, 2 replications -> 12 runs per N,
        # so 100 runs fit N = 8 (a power of two) = 96 runs.
        ("sensitivity", {"runs": 100}, 96),
        ("sensitivity", {"samples": 4, "replications": 1}, 24),
        # Morris: N (D + 1) points; D = 8 -> 9 per trajectory.
        ("screening", {"runs": 40}, 36),
        # A grid keeps its points and loses replications: budget_split has 66 points.
        ("budget_split", {"runs": 140}, 132),
        ("budget_split", {"replications": 1}, 66),
    ],
)
def test_a_shrunk_study_has_the_runs_its_plan_makes(name, options, runs):
    path = built_in_studies()[name]
    spec, _ = read_sweep_file(path)
    small = shrink(spec, **options)
    assert run_count(small) == runs
    assert make_plan(small, path, seed=1).n_runs == runs
    assert read_sweep_file(path)[0] == spec  # the file is untouched


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("budget_split", {"samples": 4}, "a grid's size is the product"),
        ("budget_split", {"runs": 10}, "the grid alone has 66 points"),
        ("sensitivity", {"samples": 6}, "needs a power of two (e.g. 4)"),
        ("sensitivity", {"runs": 11}, "smallest sobol design takes 12 runs"),
        ("sensitivity", {"replications": 0}, "--replications 0: needs at least 1"),
    ],
)
def test_a_shrink_that_cannot_be_made_is_refused(name, options, message):
    spec, _ = read_sweep_file(built_in_studies()[name])
    with pytest.raises(UsageError, match=re.escape(message)):
        shrink(spec, **options)


def test_a_shrunk_sweep_runs_and_records_its_size(tmp_path, capsys):
    import json

    out = tmp_path / "screen"
    code = main(["sweep", "screening", "--runs", "9", "--serial", "--quiet", "--out", str(out)])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_runs"] == 9 and manifest["design"]["samples"] == 1
    assert "shrunk: 9 points x 1 replications = 9 runs (the file has 90)" in capsys.readouterr().err
