"""Which of the market's placeholders matter most? The ranking the robustness screen tries.

Many settings of the market are placeholders: plausible values with no published figure behind
them (the scenario reference says which). A study's finding that rests on them is only as good as
its indifference to them, and the robustness screen (:mod:`funnelsim.experiments.robustness`)
halves and doubles the placeholders that matter most. This module names them, in two steps,
both built-in studies run through the sweep machinery (``funnelsim sweep``, SALib's indices as
``funnelsim analyze`` computes them):

1. ``placeholder_screening``: a Morris screen of every placeholder of the market, its network and
   word of mouth, each from half to twice its ``baseline`` value (cheap: D + 1 runs per
   trajectory). Each placeholder's mu* is divided by the largest mu* for the same outcome, so
   outcomes in money and in customers weigh alike, and the placeholder's score is its largest
   share over the outcomes.
2. ``placeholders``: a Sobol study of the Morris screen's top few (and a control that cannot
   matter), whose total-order indices ST rank them. A placeholder's score is its largest ST over
   the outcomes: one that steers any conclusion counts.

The outcomes are those the studies conclude about: customers, profit and market share of each
firm. The ranking is written to ``placeholder_ranking.csv`` beside this module (one row per
placeholder and outcome, plus a ``rank``), which the robustness screen reads; regenerate it with

    python -m funnelsim.experiments.placeholders --workers 2

(eight minutes of CPU: about five on two free cores), which also says when the Sobol study's parameters are no longer
the Morris screen's top few, so the study file needs its parameters updated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

#: The file the robustness screen reads.
RANKING = Path(__file__).resolve().parent / "placeholder_ranking.csv"
SCREEN_STUDY, SOBOL_STUDY = "placeholder_screening", "placeholders"
#: The outcomes the ranking is over (each for every firm).
OUTCOMES = ("customers", "profit", "market_share")
#: The control parameter of both studies: Closer airs no jingles in the baseline.
CONTROL = "firms.1.marketing.jingles.lift"


def outcome_indices(indices: pd.DataFrame) -> pd.DataFrame:
    """The rows of a SALib index table (``funnelsim analyze``'s) for the ranked outcomes."""
    bare = indices["measure"].str.split(".").str[-1]
    return indices[bare.isin(OUTCOMES)].copy()


def rank(indices: pd.DataFrame, column: str, *, normalize: bool = False) -> pd.DataFrame:
    """One row per parameter: its score (largest ``column`` over the outcomes), the outcome where
    it is largest, and its rank (1 = most influential). With ``normalize`` each outcome's values
    are divided by that outcome's largest first (Morris mu* is in the outcome's units)."""
    table = outcome_indices(indices)
    values = table[column].astype(float)
    if normalize:
        values = values / table.groupby("measure")[column].transform("max").astype(float)
    table = table.assign(score=values)
    best = table.loc[table.groupby("parameter")["score"].idxmax(), ["parameter", "score", "measure"]]
    best = best.rename(columns={"measure": "largest_for"}).sort_values("score", ascending=False)
    best.insert(0, "rank", range(1, len(best) + 1))
    return best.reset_index(drop=True)


def ranking_table(sobol: pd.DataFrame) -> pd.DataFrame:
    """The file's table: every (parameter, outcome) ST with its confidence, and the parameter's rank."""
    ranks = rank(sobol, "ST").set_index("parameter")
    table = outcome_indices(sobol)[["parameter", "measure", "ST", "ST_conf", "S1", "S1_conf"]]
    table.insert(0, "rank", table["parameter"].map(ranks["rank"]).astype(int))
    return table.sort_values(["rank", "measure"]).reset_index(drop=True)


def read_ranking(path: Path = RANKING) -> pd.DataFrame:
    """The ranking as written by :func:`main` (one row per placeholder and outcome)."""
    return pd.read_csv(path)


def top_placeholders(count: int = 3, path: Path = RANKING) -> tuple[str, ...]:
    """The ``count`` most influential placeholders by Sobol total-order index, the control left out."""
    ranking = read_ranking(path)
    order = ranking.drop_duplicates("parameter").sort_values("rank")["parameter"]
    return tuple(name for name in order if name != CONTROL)[:count]


def _run_study(name: str, folder: Path, workers: int) -> pd.DataFrame:
    """Run a built-in study with ``funnelsim sweep`` into ``folder`` (finishing it with ``--resume``
    if the folder holds part of it already) and return its SALib indices."""
    from funnelsim.cli import main as cli
    from funnelsim.experiments.analysis import load_sweep, sensitivity_indices

    resume = ["--resume"] if (folder / "manifest.json").exists() else []
    code = cli(["sweep", name, "--out", str(folder), "--workers", str(workers), "--quiet", *resume])
    if code != 0:
        raise SystemExit(f"funnelsim sweep {name} failed (exit {code})")
    indices, skipped = sensitivity_indices(load_sweep(folder))
    for note in skipped:
        print(f"{name}: {note}", file=sys.stderr)
    if indices is None:
        raise SystemExit(f"{name}: no indices")
    return indices


def sobol_parameters() -> list[str]:
    """The parameters of the ``placeholders`` study file, control included."""
    from funnelsim.cli.sweep import built_in_studies
    from funnelsim.experiments.sweep_spec import read_sweep_file

    spec, _ = read_sweep_file(built_in_studies()[SOBOL_STUDY])
    return list(spec.parameters)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m funnelsim.experiments.placeholders", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(RANKING), help="where to write the ranking (default: beside this module)")
    parser.add_argument(
        "--keep", metavar="DIR",
        help="keep the two sweep folders under DIR, and finish (not rerun) those already there (default: a temporary folder)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.keep or scratch)
        morris = rank(_run_study(SCREEN_STUDY, root / SCREEN_STUDY, args.workers), "mu_star", normalize=True)
        print("Morris screen (largest mu* over the outcomes, as a share of the outcome's largest):", file=sys.stderr)
        print(morris.to_string(index=False, float_format=lambda v: f"{v:.3f}"), file=sys.stderr)
        varied = [name for name in sobol_parameters() if name != CONTROL]
        top = [name for name in morris["parameter"] if name != CONTROL][: len(varied)]
        if set(top) != set(varied):
            print(
                f"note: the Morris top {len(varied)} are {', '.join(top)}; the `{SOBOL_STUDY}` study varies "
                f"{', '.join(varied)}: update its [parameters] and run this again",
                file=sys.stderr,
            )
        sobol = _run_study(SOBOL_STUDY, root / SOBOL_STUDY, args.workers)
    table = ranking_table(sobol)
    print("Sobol total-order indices (rank by the largest ST over the outcomes):", file=sys.stderr)
    print(rank(sobol, "ST").to_string(index=False, float_format=lambda v: f"{v:.3f}"), file=sys.stderr)
    out = Path(args.out)
    temporary = out.with_name(f".{out.name}.tmp")
    table.to_csv(temporary, index=False, float_format="%.4f")
    temporary.replace(out)
    print(f"wrote {out}; the robustness screen tries {', '.join(top_placeholders(3, out))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
