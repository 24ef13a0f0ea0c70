"""Paired comparisons: is scenario B better than scenario A, by how much, and how sure is that?

Both scenarios run over the same replications through :func:`funnelsim.experiments.engine.evaluate`,
so replication ``r`` of A and replication ``r`` of B draw from the same random stream (common
random numbers). The question is then asked of the per-replication differences
``d_r = B_r - A_r``: their mean is the difference, and a paired t interval on them
(``scipy.stats.t``) says how well it is known. When a change leaves the two runs' random draws in
step (a price, a budget, a probability), common random numbers make the two runs of a replication
move together, the differences vary much less than either side does, and fewer replications
resolve a difference. A change in how many random numbers are drawn (more salespeople, each with a
drawn skill) lets the streams drift apart and the gain fades; the paired interval is valid either way.

Precision
---------
A requested precision is a target half-width for each difference's confidence interval:

- ``"5%"`` (relative): half-width at most 5% of the measure's level, the larger of ``|mean A|``
  and ``|mean B|``; one setting fits measures in different units (customers, money, ratios);
- ``5000`` (absolute): half-width at most 5,000 in the measure's own units; only sensible for one
  measure, so it is given per measure, ``{"profit": 5000}`` (``--precision profit=5000``).

Without a precision, :attr:`Comparison.table`'s ``replications_needed`` answers "how many
replications until the interval excludes zero if the difference stays as measured", that is, the
precision is the difference itself.

Replications needed come from the paired variance: the smallest ``n`` with
``t_{1-alpha/2, n-1} s / sqrt(n) <= h`` for the sample standard deviation ``s`` of the differences
and the target half-width ``h``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from funnelsim.errors import UsageError
from funnelsim.model.scenario import Scenario, ScenarioError, load_scenario

#: The headline measures compared by default (the summary columns `funnelsim run` prints).
HEADLINE_MEASURES = (
    "customers",
    "market_share",
    "revenue",
    "profit",
    "acquisition_cost",
    "marketing_return",
    "sales_return",
)

#: Replications of the first round of ``replications="auto"``, and its default cap.
AUTO_START = 5
AUTO_CAP = 100

#: Columns of :attr:`Comparison.table`, in order.
TABLE_COLUMNS = (
    "firm",
    "measure",
    "a_mean",
    "b_mean",
    "diff",
    "lo",
    "hi",
    "significant",
    "p_value",
    "sd_diff",
    "replications",
    "precision",
    "replications_needed",
)


@dataclass(frozen=True)
class Precision:
    """A target half-width: ``relative`` (a share of the measure's level) or ``absolute`` (units)."""

    value: float
    relative: bool

    def half_width(self, a_mean: float, b_mean: float) -> float:
        """The target half-width for a measure at these levels (NaN when it has no level)."""
        if not self.relative:
            return self.value
        level = max(abs(a_mean), abs(b_mean))
        return self.value * level if level > 0 else math.nan

    def __str__(self) -> str:
        return f"{100 * self.value:g}%" if self.relative else f"{self.value:g}"


PrecisionSetting = Precision | float | str | Mapping[str, Precision | float | str] | None


def parse_precision(text: str | float | Precision, where: str = "precision") -> Precision:
    """``"5%"`` -> relative 0.05; ``"5000"`` or ``5000`` -> absolute 5000. Must be positive."""
    if isinstance(text, Precision):
        return text
    raw = str(text).strip()
    relative = raw.endswith("%")
    number = raw.removesuffix("%").strip()
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"{where} {raw!r}: expected a number or a percentage such as 5%") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{where} {raw!r}: must be a positive number")
    return Precision(value / 100.0 if relative else value, relative)


def precision_by_measure(setting: PrecisionSetting, measures: Sequence[str]) -> dict[str, Precision | None]:
    """Each measure's target: one relative precision for all, or a per-measure mapping."""
    if setting is None:
        return {measure: None for measure in measures}
    if isinstance(setting, Mapping):
        unknown = [name for name in setting if name not in measures]
        if unknown:
            raise UsageError(f"precision for {unknown[0]!r}: not a compared measure (compared: {', '.join(measures)})")
        return {m: (parse_precision(setting[m], f"precision {m}=") if m in setting else None) for m in measures}
    precision = parse_precision(setting)
    if not precision.relative and len(measures) > 1:
        raise UsageError(
            f"precision {setting}: an absolute precision is in one measure's units; give it per measure "
            "(e.g. profit=5000) or as a share of the level (e.g. 5%)"
        )
    return {measure: precision for measure in measures}


def replications_needed(sd: float, half_width: float, confidence: float = 0.95, cap: int = 1_000_000) -> float:
    """Smallest ``n >= 2`` with ``t_{(1+confidence)/2, n-1} sd / sqrt(n) <= half_width``.

    NaN when the target is undefined (no level, or a zero target with a non-zero spread).
    """
    if not (math.isfinite(sd) and math.isfinite(half_width)) or half_width < 0:
        return math.nan
    if sd == 0:
        return 2.0
    if half_width == 0:
        return math.nan
    tail = (1 + confidence) / 2

    def wide(n: int) -> bool:
        return stats.t.ppf(tail, n - 1) * sd / math.sqrt(n) > half_width

    # The half-width falls as n grows: find the first n where it is narrow enough by doubling,
    # then bisecting (a few dozen quantiles, even for a cap of a million).
    low, high = 1, 2  # wide(low) holds (n = 1 has no interval), high is the candidate
    while high < cap and wide(high):
        low, high = high, min(cap, 2 * high)
    if wide(high):
        return float(cap)
    while high - low > 1:
        middle = (low + high) // 2
        if wide(middle):
            low = middle
        else:
            high = middle
    return float(high)


def paired_statistics(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Mean difference ``b - a``, its paired t interval, p-value and spread over replications.

    Replications where either side is undefined (NaN, e.g. a return with no cost) are left out.
    Identical sides give exactly zero with a zero-width interval; a constant non-zero difference
    gives a zero-width interval at that difference (it is certain).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    a, b = a[both], b[both]
    n = int(a.size)
    result = {
        "a_mean": float(a.mean()) if n else math.nan,
        "b_mean": float(b.mean()) if n else math.nan,
        "diff": math.nan,
        "lo": math.nan,
        "hi": math.nan,
        "p_value": math.nan,
        "sd_diff": math.nan,
        "replications": n,
    }
    if n == 0:
        return result
    differences = b - a
    mean = float(differences.mean())
    result["diff"] = mean
    if n < 2:
        return result
    sd = float(differences.std(ddof=1))
    result["sd_diff"] = sd
    if sd == 0:
        result["lo"] = result["hi"] = mean
        result["p_value"] = 1.0 if mean == 0 else 0.0
        return result
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    result["lo"], result["hi"] = mean - half, mean + half
    result["p_value"] = float(stats.ttest_rel(b, a).pvalue)
    return result


@dataclass
class Comparison:
    """What :func:`compare` hands back.

    ``table`` has one row per (firm, measure) with the columns of :data:`TABLE_COLUMNS`;
    ``pairs`` one row per (side, replication, firm) with every summary measure, so any other
    measure can be compared afterwards with :func:`paired_statistics`.
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    replications: int
    seed: int
    confidence: float
    rounds: list[int] = field(default_factory=list)  # total replications after each round
    converged: bool | None = None  # auto: did every interval reach the precision before the cap?
    scenario: Scenario | None = field(default=None, repr=False)  # side A, for the figure's units


def compare(
    a: Scenario | str | dict[str, Any],
    b: Scenario | str | dict[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    overrides_a: Mapping[str, Any] | None = None,
    overrides_b: Mapping[str, Any] | None = None,
    replications: int | str = 10,
    precision: PrecisionSetting = None,
    max_replications: int = AUTO_CAP,
    measures: Sequence[str] = HEADLINE_MEASURES,
    confidence: float = 0.95,
    seed: int = 0,
    steps: int | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
    on_round: Callable[[Comparison], None] | None = None,
) -> Comparison:
    """Run scenarios ``a`` and ``b`` with common random numbers and compare their measures.

    Parameters
    ----------
    a, b
        Scenarios: built-in names, TOML files, dicts or :class:`~funnelsim.Scenario` objects.
    overrides
        Dotted-key settings applied to both sides (as ``--set``).
    overrides_a, overrides_b
        Settings applied to one side only, on top of ``overrides``; with ``a == b`` this compares
        a scenario with a variant of itself.
    replications
        Replications per side, or ``"auto"``: start with 5 and add replications in rounds
        (never rerunning earlier ones) until every interval's half-width reaches ``precision``
        or ``max_replications`` is reached.
    precision
        Target half-width of the intervals: ``"5%"`` of each measure's level, or a mapping of
        measure to a relative (``"5%"``) or absolute (``5000``) target. Needed for ``"auto"``.
    max_replications
        The cap of ``"auto"``.
    measures
        Summary measures to compare (default: the headline measures).
    confidence
        Confidence level of the intervals; a difference is significant when its interval
        excludes zero (a paired t test at level ``1 - confidence``).
    seed
        Replication ``r`` of both sides uses ``SeedSequence(seed, spawn_key=(r,))``.
    steps
        Steps per run (default: each scenario's ``market.steps``).
    workers, scheduler, progress
        Where runs execute and whether to show a progress bar, as in
        :func:`funnelsim.experiments.engine.evaluate`.
    on_round
        Called with the comparison so far after each round of ``"auto"``.

    Returns
    -------
    Comparison
        The per-(firm, measure) table of differences B - A and the per-replication pairs.

    Raises
    ------
    UsageError
        For bad options, scenarios with different numbers of firms or an unknown measure.
    ScenarioError
        For a bad scenario or setting, naming it, before any run starts.
    """
    from funnelsim.experiments.engine import evaluate
    from funnelsim.experiments.executors import open_executor

    if not 0 < confidence < 1:
        raise UsageError(f"confidence {confidence}: must be between 0 and 1")
    auto = isinstance(replications, str)
    if auto and replications != "auto":
        raise UsageError(f"replications {replications!r}: expected a whole number or 'auto'")
    if not auto and int(replications) < 2:
        raise UsageError(f"replications {replications}: needs at least 2 for an interval")
    if auto and max_replications < AUTO_START:
        raise UsageError(f"max replications {max_replications}: needs at least {AUTO_START}")
    if auto and precision is None:
        raise UsageError("replications 'auto' needs a precision to reach (e.g. 5%)")
    measures = list(measures)
    if not measures:
        raise UsageError("measures: name at least one measure to compare")
    targets = precision_by_measure(precision, measures)
    scenario_a = _load_side("A", a, overrides, overrides_a)
    scenario_b = _load_side("B", b, overrides, overrides_b)
    _check_comparable(scenario_a, scenario_b, measures)

    summaries: list[pd.DataFrame] = []
    done = 0
    rounds: list[int] = []
    goal = AUTO_START if auto else int(replications)
    # One executor for every round and both sides (a pool starts once); none for runs in this process.
    local = scheduler is None and (workers or 1) <= 1
    with nullcontext(None) if local else open_executor(workers=workers, scheduler=scheduler) as handle:
        while True:
            first, count = done, goal - done
            for side, scenario in (("A", scenario_a), ("B", scenario_b)):
                evaluation = evaluate(
                    scenario, replications=count, seed=seed, steps=steps, first_replication=first,
                    handle=handle, progress=progress, description=f"{side} reps {first + 1}-{goal}",
                )
                table = evaluation.summary.drop(columns="point_id")
                table.insert(0, "side", side)
                summaries.append(table)
            done = goal
            rounds.append(done)
            pairs = pd.concat(summaries, ignore_index=True)
            result = _table(pairs, measures, targets, confidence, scenario_a, scenario_b)
            comparison = Comparison(result, pairs, done, int(seed), confidence, list(rounds), scenario=scenario_a)
            if not auto:
                return comparison
            needed = result["replications_needed"].to_numpy(dtype=float)
            needed = needed[np.isfinite(needed)]
            wanted = int(needed.max()) if needed.size else done
            comparison.converged = wanted <= done
            if on_round is not None:
                on_round(comparison)
            if comparison.converged or done >= max_replications:
                return comparison
            # At most double per round: early estimates of the spread are rough, so do not
            # commit to a huge batch on the strength of five replications.
            goal = min(max_replications, max(done + 1, min(wanted, 2 * done)))


def _load_side(side: str, scenario, overrides, side_overrides) -> Scenario:
    """One side's scenario with the shared settings, then its own; errors say which side."""
    try:
        return load_scenario(scenario, {**(overrides or {}), **(side_overrides or {})})
    except ScenarioError as error:
        raise ScenarioError(f"{side}: {error}") from None


def _check_comparable(scenario_a: Scenario, scenario_b: Scenario, measures: Sequence[str]) -> None:
    if len(scenario_a.firms) != len(scenario_b.firms):
        raise UsageError(
            f"A ({scenario_a.name}) has {len(scenario_a.firms)} firms and B ({scenario_b.name}) has "
            f"{len(scenario_b.firms)}: firms are compared by position, so both need the same number"
        )
    known = summary_measures()
    unknown = [measure for measure in measures if measure not in known]
    if unknown:
        raise UsageError(f"measure {unknown[0]!r}: not a summary measure (known: {', '.join(known)})")


def summary_measures() -> list[str]:
    """The names of the per-firm summary measures (the columns of ``MarketModel.summary()``)."""
    from funnelsim.model.metrics import COLUMNS, summarize

    empty = pd.DataFrame({column: pd.Series(dtype=float) for column in ("step", "firm", *COLUMNS)})
    return [column for column in summarize(empty).columns if column not in ("firm", "steps")]


def _table(
    pairs: pd.DataFrame,
    measures: Sequence[str],
    targets: Mapping[str, Precision | None],
    confidence: float,
    scenario_a: Scenario,
    scenario_b: Scenario,
) -> pd.DataFrame:
    rows = []
    side_a, side_b = pairs[pairs["side"] == "A"], pairs[pairs["side"] == "B"]
    for index, (firm_a, firm_b) in enumerate(zip(scenario_a.firms, scenario_b.firms)):
        name = firm_a.name if firm_a.name == firm_b.name else f"{firm_a.name} / {firm_b.name}"
        mine_a = side_a[side_a["firm_index"] == index].set_index("replication").sort_index()
        mine_b = side_b[side_b["firm_index"] == index].set_index("replication").sort_index()
        for measure in measures:
            row: dict[str, Any] = {"firm": name, "measure": measure}
            row.update(paired_statistics(mine_a[measure].to_numpy(), mine_b[measure].to_numpy(), confidence))
            row["significant"] = bool(np.isfinite(row["lo"]) and (row["lo"] > 0 or row["hi"] < 0))
            target = targets[measure]
            if target is None:
                # No precision asked: how many to tell the measured difference from zero (none
                # can tell a difference of exactly zero).
                half_width, row["precision"] = abs(row["diff"]), "sign"
                resolvable = row["diff"] != 0
            else:
                half_width, row["precision"] = target.half_width(row["a_mean"], row["b_mean"]), str(target)
                resolvable = True
            needed = replications_needed(row["sd_diff"], half_width, confidence) if resolvable else math.nan
            row["replications_needed"] = needed
            rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
