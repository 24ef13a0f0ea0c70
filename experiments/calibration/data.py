"""Observed series in, checked: one row per period, counts in the data's own units.

A calibration is only as good as the table it reads, and the usual mistakes in a sales
spreadsheet (a missing year, a duplicated month, a typo that makes a count negative, a column
named ``adoptors``) would otherwise surface as a strange fit. They are refused here with one
line naming the file, the column and the period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from funnelsim.errors import UsageError

#: Per-period series the model can be compared with, and the run-table column each maps to.
#: ``customers`` is the cumulative count at the end of the period; the others are per period.
MEASURES = {
    "adopters": "new_customers",
    "leads": "leads_created",
    "revenue": "revenue",
    "customers": "customers",
}
#: A per-firm column is ``<measure>.<firm name>``, e.g. ``adopters.Innovator``.
_FIRM_COLUMN = re.compile(r"^(?P<measure>[a-z_]+)\.(?P<firm>.+)$")


@dataclass(frozen=True)
class ObservedData:
    """A checked table: ``period`` (consecutive whole numbers) and one column per series."""

    table: pd.DataFrame
    origin: str

    @property
    def periods(self) -> np.ndarray:
        return self.table["period"].to_numpy(dtype=np.int64)

    @property
    def adopters(self) -> np.ndarray:
        return self.table["adopters"].to_numpy(dtype=float)

    @property
    def series(self) -> list[str]:
        """The observed columns other than ``period``."""
        return [c for c in self.table.columns if c != "period"]

    def head(self, count: int) -> ObservedData:
        """The first ``count`` periods (what a hold-out fit sees)."""
        return ObservedData(self.table.iloc[:count].reset_index(drop=True), self.origin)


def series_target(column: str) -> tuple[str, str | None]:
    """``"adopters"`` -> ``("new_customers", None)``; ``"leads.Acme"`` -> ``("leads_created", "Acme")``."""
    if column in MEASURES:
        return MEASURES[column], None
    match = _FIRM_COLUMN.match(column)
    if match and match["measure"] in MEASURES:
        return MEASURES[match["measure"]], match["firm"]
    raise KeyError(column)


def load_observed(source: str | Path | pd.DataFrame) -> ObservedData:
    """Read a CSV or Parquet file (or take a DataFrame) and check it; see :func:`check_observed`."""
    if isinstance(source, pd.DataFrame):
        return check_observed(source, "data")
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, comment="#", skipinitialspace=True)
    except (OSError, ValueError, ImportError) as error:  # ParserError and ArrowInvalid are ValueErrors
        message = " ".join(str(error).split())
        raise UsageError(f"{path}: cannot read it as {'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'} ({message})") from None
    return check_observed(table, str(path))


def check_observed(table: pd.DataFrame, origin: str = "data") -> ObservedData:
    """Refuse what would make a fit meaningless, with one line naming where.

    A ``period`` column of consecutive whole numbers (sorted, no gaps, no duplicates), an
    ``adopters`` column, only known series (``adopters``, ``leads``, ``revenue``, ``customers``,
    or ``<series>.<firm>``), and finite, non-negative numbers.
    """
    table = table.copy()
    table.columns = [str(c).strip() for c in table.columns]
    if "period" not in table.columns:
        raise UsageError(f"{origin}: no 'period' column (columns: {', '.join(table.columns) or 'none'})")
    for column in table.columns:
        if column == "period":
            continue
        try:
            series_target(column)
        except KeyError:
            raise UsageError(
                f"{origin}: unknown column '{column}'; expected period, {', '.join(MEASURES)} "
                "or <series>.<firm name>"
            ) from None
    if "adopters" not in table.columns:
        raise UsageError(f"{origin}: no 'adopters' column (new customers or unit sales per period)")
    if len(table) < 3:
        raise UsageError(f"{origin}: {len(table)} period(s); a fit needs at least 3")
    period = pd.to_numeric(table["period"], errors="coerce")
    bad = period.isna() | (period != np.round(period))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise UsageError(f"{origin}: period '{table['period'].iloc[row]}' (row {row + 1}) is not a whole number")
    period = period.astype(np.int64).to_numpy()
    steps = np.diff(period)
    if (steps == 0).any():
        row = int(np.flatnonzero(steps == 0)[0])
        raise UsageError(f"{origin}: period {period[row]} appears twice (rows {row + 1} and {row + 2})")
    if (steps < 0).any():
        row = int(np.flatnonzero(steps < 0)[0])
        raise UsageError(f"{origin}: periods are not sorted: {period[row + 1]} (row {row + 2}) comes after {period[row]}")
    if (steps > 1).any():
        row = int(np.flatnonzero(steps > 1)[0])
        raise UsageError(f"{origin}: gap in periods: {period[row]} is followed by {period[row + 1]}")
    table["period"] = period
    for column in table.columns:
        if column == "period":
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        missing = values.isna() | ~np.isfinite(values.fillna(0.0))
        if missing.any():
            row = int(np.flatnonzero(missing.to_numpy())[0])
            raise UsageError(f"{origin}: column '{column}', period {period[row]}: missing or not a number ('{table[column].iloc[row]}')")
        negative = values < 0
        if negative.any():
            row = int(np.flatnonzero(negative.to_numpy())[0])
            raise UsageError(f"{origin}: column '{column}', period {period[row]}: negative count {values.iloc[row]:g}")
        table[column] = values.astype(float)
    if table["adopters"].sum() <= 0:
        raise UsageError(f"{origin}: column 'adopters' is zero in every period; nothing to fit")
    return ObservedData(table.reset_index(drop=True), origin)
