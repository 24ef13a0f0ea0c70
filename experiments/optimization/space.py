"""What an optimization searches: a fixed budget per step split between promotion and whole
salespeople, the channel mix, and the sales tactics, for one firm.

A candidate is a point of the search space's *coordinates* (what the optimizer samples, every
one a plain bounded number) turned into scenario overrides:

- ``marketing_share`` in [0, 1]: the firm's ``budget`` (:class:`~funnelsim.model.scenario.BudgetSplit`)
  buys promotion with that share of the fixed total and whole salespeople, at their salary, from
  the rest, so the budget and integer salespeople hold by construction;
- the channel mix as stick-breaking coordinates ``mix_stick_1 .. mix_stick_{K-1}`` in [0, 1],
  turned into K shares that always sum to 1. The k-th stick takes ``1 - (1 - u)^(1/(K-k))`` of
  what is left, the inverse distribution function of Beta(1, K-k), so uniform coordinates give a
  uniform (Dirichlet(1, ..., 1)) mix and no part of the simplex is favoured;
- ``discount``, ``commission``, ``referral_reward`` and any other firm setting a space file adds,
  each within its bounds.

The default space (:func:`default_space`) keeps the firm's current total (its ``budget`` if it
has one, else its promotion budget plus its salespeople's pay) and searches every channel and the
three tactics within the bounds in :data:`TACTIC_BOUNDS`. A space file (:func:`read_space_file`)
changes any of that.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnelsim.errors import UsageError
from funnelsim.model.scenario import CHANNELS, Scenario, ScenarioError, load_scenario
from funnelsim.suggest import did_you_mean

#: Default bounds of the sales tactics. Discounts beyond 30% and commissions beyond 20% of revenue
#: are rare in practice and only lose money in the model; the referral reward is bounded as a share
#: of the firm's price (see :func:`default_space`).
TACTIC_BOUNDS = {"discount": (0.0, 0.3), "commission": (0.0, 0.2)}
REFERRAL_REWARD_MAX_SHARE_OF_PRICE = 0.2
TACTIC_SETTINGS = {"discount": "sales.discount", "commission": "sales.commission", "referral_reward": "sales.referral_reward"}

#: Firm settings the space itself sets; a space file may not search or fix them directly.
CONTROLLED = ("budget", "marketing.budget_per_step", "marketing.mix", "sales.salespeople")

SPACE_KEYS = ("budget", "marketing_share", "mix", *TACTIC_SETTINGS, "settings")


@dataclass(frozen=True)
class Range:
    """One searched firm setting: ``setting`` (relative to the firm) between ``low`` and ``high``."""

    name: str
    setting: str
    low: float
    high: float
    integer: bool = False


@dataclass(frozen=True)
class Candidate:
    """One point of the space: the optimizer's coordinates, readable parameters and the overrides."""

    coords: dict[str, float]
    params: dict[str, Any]
    overrides: dict[str, Any]
    scenario: Scenario = field(repr=False)


@dataclass(frozen=True)
class SearchSpace:
    """The space searched for firm ``firm``; see the module docstring."""

    firm: int
    total_per_step: float
    marketing_share: tuple[float, float]  # low == high holds it fixed
    channels: tuple[str, ...]  # channels the mix is searched over; () keeps the scenario's mix
    ranges: tuple[Range, ...]
    fixed: dict[str, Any]  # firm-relative settings held fixed

    # -- the optimizer's coordinates ---------------------------------------------------------

    def coordinate_bounds(self) -> dict[str, tuple[float, float, bool]]:
        """Every coordinate the optimizer samples: name -> (low, high, integer)."""
        bounds: dict[str, tuple[float, float, bool]] = {}
        low, high = self.marketing_share
        if high > low:
            bounds["marketing_share"] = (low, high, False)
        for k in range(1, len(self.channels)):
            bounds[f"mix_stick_{k}"] = (0.0, 1.0, False)
        for item in self.ranges:
            bounds[item.name] = (item.low, item.high, item.integer)
        return bounds

    def distributions(self) -> dict[str, Any]:
        """The coordinates as Optuna distributions (imported here: Optuna is an optional extra)."""
        from optuna.distributions import FloatDistribution, IntDistribution

        return {
            name: IntDistribution(int(low), int(high)) if integer else FloatDistribution(low, high)
            for name, (low, high, integer) in self.coordinate_bounds().items()
        }

    # -- from coordinates to a scenario -----------------------------------------------------

    def mix(self, coords: dict[str, float]) -> dict[str, float]:
        """Stick-breaking: K-1 coordinates in [0, 1] -> K non-negative shares summing to 1."""
        shares = {}
        left = 1.0
        count = len(self.channels)
        for k, channel in enumerate(self.channels[:-1], start=1):
            u = min(max(float(coords[f"mix_stick_{k}"]), 0.0), 1.0)
            take = left * (1.0 - (1.0 - u) ** (1.0 / (count - k)))
            shares[channel] = take
            left -= take
        shares[self.channels[-1]] = max(left, 0.0)
        return shares

    def overrides(self, coords: dict[str, float]) -> dict[str, Any]:
        """Dotted scenario overrides for a point of the coordinates."""
        prefix = f"firms.{self.firm}."
        low, high = self.marketing_share
        share = float(coords["marketing_share"]) if high > low else low
        out: dict[str, Any] = {
            prefix + "budget.total_per_step": float(self.total_per_step),
            prefix + "budget.marketing_share": share,
        }
        if self.channels:
            mix = self.mix(coords)
            for channel in CHANNELS:
                out[prefix + f"marketing.mix.{channel}"] = float(mix.get(channel, 0.0))
        for setting, value in self.fixed.items():
            out[prefix + setting] = value
        for item in self.ranges:
            value = coords[item.name]
            out[prefix + item.setting] = int(value) if item.integer else float(value)
        return out

    def candidate(self, coords: dict[str, float], base: Scenario) -> Candidate:
        """The candidate at ``coords``: its scenario is validated, and the readable parameters
        include what the budget split derives (promotion budget, whole salespeople)."""
        overrides = self.overrides(coords)
        scenario = load_scenario(base, overrides)
        firm = scenario.firms[self.firm]
        params: dict[str, Any] = {"marketing_share": overrides[f"firms.{self.firm}.budget.marketing_share"]}
        params["marketing_budget_per_step"] = firm.marketing.budget_per_step
        params["salespeople"] = firm.sales.salespeople
        for channel in CHANNELS:
            params[f"mix.{channel}"] = getattr(firm.marketing.mix, channel)
        for item in self.ranges:
            params[item.name] = overrides[f"firms.{self.firm}.{item.setting}"]
        return Candidate(dict(coords), params, overrides, scenario)

    def describe(self) -> dict[str, Any]:
        """The space as plain data, for the manifest and best.json (and to check a resume)."""
        return {
            "firm": self.firm,
            "total_per_step": self.total_per_step,
            "marketing_share": list(self.marketing_share),
            "mix_channels": list(self.channels),
            "ranges": [
                {"name": r.name, "setting": r.setting, "low": r.low, "high": r.high, "integer": r.integer}
                for r in self.ranges
            ],
            "fixed": dict(self.fixed),
        }


# ---------------------------------------------------------------------------------------------
# Building a space


def current_total(scenario: Scenario, firm: int) -> float:
    """The firm's budget per step as the scenario has it: its budget split's total if it has one,
    else what it spends on promotion plus its salespeople's pay."""
    settings = scenario.firms[firm]
    if settings.budget is not None:
        return settings.budget.total_per_step
    return settings.marketing.budget_per_step + settings.sales.salespeople * settings.sales.salary


def default_space(scenario: Scenario, firm: int) -> SearchSpace:
    """The firm's current total per step; marketing share in [0, 1]; every channel; the three
    tactics within :data:`TACTIC_BOUNDS` (referral reward up to 20% of the price)."""
    settings = scenario.firms[firm]
    ranges = [Range(name, TACTIC_SETTINGS[name], low, high) for name, (low, high) in TACTIC_BOUNDS.items()]
    ranges.append(
        Range("referral_reward", TACTIC_SETTINGS["referral_reward"], 0.0, REFERRAL_REWARD_MAX_SHARE_OF_PRICE * settings.price)
    )
    return _checked(
        scenario,
        firm,
        current_total(scenario, firm),
        (0.0, 1.0),
        CHANNELS,
        ranges,
        {},
        origin=f"firm '{settings.name}'",
    )


def read_space_file(path: str | Path, scenario: Scenario, firm: int) -> SearchSpace:
    """A space file (TOML) on top of the default space; every problem is a one-line UsageError.

    Keys (all optional)::

        budget = 600.0                  # total per step to split (default: the firm's own)
        marketing_share = [0.2, 0.8]    # a range to search, or one number to hold it fixed
        mix = ["blogging", "media"]     # channels to split promotion over ([] keeps the scenario's mix)
        discount = [0.0, 0.2]           # likewise commission, referral_reward; a number fixes it
        [settings]                      # any other firm setting, relative to the firm
        price = [1500.0, 2500.0]        # a range of floats, of integers, or a fixed value
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--space {path}: no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML ({error})") from None
    for key in data:
        if key not in SPACE_KEYS:
            raise UsageError(f"{path}: unknown key '{key}'{did_you_mean(key, SPACE_KEYS)}; keys: {', '.join(SPACE_KEYS)}")
    default = default_space(scenario, firm)
    where = str(path)

    total = data.get("budget", default.total_per_step)
    if isinstance(total, bool) or not isinstance(total, int | float) or not total > 0:
        raise UsageError(f"{where}: budget: expected a positive number per step, got {total!r}")

    share = _range_or_value(data.get("marketing_share", list(default.marketing_share)), "marketing_share", where)
    if not 0.0 <= share[0] <= share[1] <= 1.0:
        raise UsageError(f"{where}: marketing_share: must lie within [0, 1], got {list(share)}")

    channels = data.get("mix", list(default.channels))
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise UsageError(f"{where}: mix: expected a list of channel names, e.g. [\"blogging\", \"media\"]")
    for channel in channels:
        if channel not in CHANNELS:
            raise UsageError(f"{where}: mix: unknown channel '{channel}'{did_you_mean(channel, CHANNELS)}; channels: {', '.join(CHANNELS)}")
    if len(set(channels)) != len(channels):
        raise UsageError(f"{where}: mix: a channel is listed twice")

    ranges: list[Range] = []
    fixed: dict[str, Any] = {}
    defaults = {r.name: r for r in default.ranges}
    for name, setting in TACTIC_SETTINGS.items():
        given = data.get(name, [defaults[name].low, defaults[name].high])
        _add(ranges, fixed, name, setting, given, where)
    extra = data.get("settings", {})
    if not isinstance(extra, dict):
        raise UsageError(f"{where}: settings: expected a table of firm settings, e.g. [settings] price = [90.0, 120.0]")
    for setting, given in extra.items():
        if setting.startswith(CONTROLLED) or setting in TACTIC_SETTINGS.values():
            raise UsageError(
                f"{where}: settings.{setting}: set by the space itself; use budget, marketing_share, mix, "
                "discount, commission or referral_reward"
            )
        _add(ranges, fixed, setting, setting, given, where)
    return _checked(scenario, firm, float(total), share, tuple(channels), ranges, fixed, origin=where)


def _range_or_value(given: Any, name: str, where: str) -> tuple[float, float]:
    if isinstance(given, bool):
        raise UsageError(f"{where}: {name}: expected [low, high] or a number, got {given!r}")
    if isinstance(given, int | float):
        return float(given), float(given)
    if (
        isinstance(given, list)
        and len(given) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in given)
    ):
        low, high = float(given[0]), float(given[1])
        if low > high:
            raise UsageError(f"{where}: {name}: low {given[0]} is above high {given[1]}")
        return low, high
    raise UsageError(f"{where}: {name}: expected [low, high] or a number, got {given!r}")


def _add(ranges: list[Range], fixed: dict[str, Any], name: str, setting: str, given: Any, where: str) -> None:
    if isinstance(given, str | bool):
        fixed[setting] = given  # a fixed non-numeric value, e.g. sales.policy = "newest"
        return
    low, high = _range_or_value(given, name, where)
    integer = isinstance(given, list) and all(isinstance(v, int) for v in given)
    if low == high:
        fixed[setting] = given if isinstance(given, int | float) else (int(low) if integer else low)
    else:
        ranges.append(Range(name, setting, low, high, integer))


def _checked(scenario, firm, total, share, channels, ranges, fixed, origin: str) -> SearchSpace:
    """The space, after checking that its corners are valid scenarios (so no trial fails later)."""
    settings = scenario.firms[firm]
    if not total > 0:
        raise UsageError(
            f"{origin}: firm '{settings.name}' has no budget to split (promotion and salespeople cost 0 per step); "
            "give one with budget = ... in a --space file"
        )
    if settings.sales.salary <= 0 and share[0] < 1:
        raise UsageError(f"{origin}: firm '{settings.name}' pays its salespeople nothing, so a budget cannot buy any")
    if settings.marketing.marketers == 0 and share[1] > 0:
        fixed = {"marketing.marketers": 1, **fixed}  # a promotion budget needs someone to spend it
    space = SearchSpace(firm, float(total), (float(share[0]), float(share[1])), tuple(channels), tuple(ranges), dict(fixed))
    for corner in ("low", "high"):
        coords: dict[str, float] = {}
        for name, (low, high, integer) in space.coordinate_bounds().items():
            value = low if corner == "low" else high
            coords[name] = int(value) if integer else value
        try:
            load_scenario(scenario, space.overrides(coords))
        except ScenarioError as error:
            message = str(error).split(": ", 1)[-1]
            raise UsageError(f"{origin}: the search space's {corner} corner is not a valid scenario ({message})") from None
    return space


def space_from_description(description: dict[str, Any]) -> SearchSpace:
    """The inverse of :meth:`SearchSpace.describe` (used when resuming)."""
    return SearchSpace(
        firm=int(description["firm"]),
        total_per_step=float(description["total_per_step"]),
        marketing_share=(float(description["marketing_share"][0]), float(description["marketing_share"][1])),
        channels=tuple(description["mix_channels"]),
        ranges=tuple(Range(**item) for item in description["ranges"]),
        fixed=dict(description["fixed"]),
    )
