"""The calibration figure: observed adoptions against the fit and its band."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def plot_fit(table: pd.DataFrame, path: Path, title: str, fitted: pd.Series | None = None, level: float = 0.90) -> None:
    """Observed adoptions (filled: fitted, open: held out) inside the band; a line where the fit ends."""
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=110)
    axes.fill_between(table["period"], table["lo"], table["hi"], color="tab:blue", alpha=0.2, label=f"{level:.0%} band")
    axes.plot(table["period"], table["median"], color="tab:blue", label="median")
    if fitted is not None:
        axes.plot(fitted.index, fitted.to_numpy(), color="black", linestyle="--", linewidth=1, label="Bass least-squares fit")
    fit_rows = table[table["part"] == "fit"]
    held = table[table["part"] == "holdout"]
    axes.plot(fit_rows["period"], fit_rows["observed"], "o", color="black", label="observed (fitted)")
    if not held.empty:
        axes.plot(held["period"], held["observed"], "o", markerfacecolor="white", color="tab:red", label="observed (held out)")
    if len(fit_rows) < len(table):
        axes.axvline(fit_rows["period"].iloc[-1] + 0.5, color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("period")
    axes.set_ylabel("adopters per period (data units)")
    axes.set_title(title)
    axes.legend(frameon=False, fontsize="small")
    axes.set_ylim(bottom=0)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
