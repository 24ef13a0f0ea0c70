"""The levers the live page offers, their bounds, and how they turn into scenario overrides.

Every lever is a slider or a select, so a value outside its bounds cannot be entered. Bounds
are fixed by the kind of setting (a share lies in [0, 1]) or scaled from the scenario the page
started from (a price slider reaches three times the consumers' median willingness to pay),
so they stay sensible for any scenario. Nothing here imports Solara: the page draws these
levers, and the tests check them without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from funnelsim.model.scenario import CHANNELS, Firm, Scenario


@dataclass(frozen=True)
class Lever:
    """One slider: its keyword, label, bounds and the step it moves by."""

    name: str
    label: str
    minimum: float
    maximum: float
    step: float
    integer: bool = False
    unit: str = ""

    def clamp(self, value: float) -> float | int:
        """``value`` moved into the bounds and onto the slider's grid of steps."""
        value = min(max(float(value), self.minimum), self.maximum)
        snapped = self.minimum + round((value - self.minimum) / self.step) * self.step
        snapped = min(snapped, self.maximum)
        if self.integer:
            return int(round(snapped))
        return round(snapped, _decimals(self.step))

    def bound(self, value: float) -> float | int:
        """``value`` moved into the bounds only: a scenario's own value keeps its precision."""
        value = min(max(value, self.minimum), self.maximum)
        return int(round(value)) if self.integer else float(value)

    def format(self, value: float) -> str:
        """The value as the page shows it next to the label (off-grid values keep 3 digits)."""
        on_grid = math.isclose(self.clamp(value), value, rel_tol=0, abs_tol=1e-9)
        if self.unit == "%":
            return f"{100 * value:.0f}%" if on_grid else f"{100 * value:.3g}%"
        if self.integer:
            return f"{int(value):,}"
        if not on_grid:
            return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{value:,.{_decimals(self.step)}f}"


def _decimals(step: float) -> int:
    """Digits after the point that a step needs (0.05 -> 2, 10 -> 0)."""
    if step >= 1:
        return 0
    return max(0, -math.floor(math.log10(step) + 1e-9))


def _nice_ceiling(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``value`` (for slider ends)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value - 1e-9:
            return float(factor * power)
    return float(10 * power)


def _nice_step(maximum: float, divisions: int = 100) -> float:
    """A 1, 2 or 5 step that splits [0, maximum] into about ``divisions`` stops."""
    raw = maximum / divisions
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw - 1e-12:
            return float(factor * power)
    return float(10 * power)


# --------------------------------------------------------------------------------------------
# Market-wide levers

#: Network kinds the page offers, in the order shown, with the label a user reads.
NETWORK_LABELS = {
    "watts_strogatz": "small world (Watts-Strogatz)",
    "barabasi_albert": "hubs (Barabasi-Albert)",
    "erdos_renyi": "random (Erdos-Renyi)",
    "ring": "ring lattice",
    "sbm": "communities (stochastic blocks)",
    "complete": "everyone knows everyone (complete)",
    "file": "from the scenario's network file",
}

POPULATION_MINIMUM = 100
POPULATION_MAXIMUM = 50_000


def population_lever(scenario: Scenario) -> Lever:
    top = max(POPULATION_MAXIMUM, scenario.market.consumers)
    return Lever("consumers", "Consumers", POPULATION_MINIMUM, top, 100, integer=True)


SEED_LEVER = Lever("seed", "Random seed", 0, 999, 1, integer=True)


def network_choices(scenario: Scenario) -> list[str]:
    """Labels of the network kinds offered; a file network only if the scenario has one."""
    kinds = [kind for kind in NETWORK_LABELS if kind != "file" or scenario.network.kind == "file"]
    return [NETWORK_LABELS[kind] for kind in kinds]


def network_kind(label: str) -> str:
    for kind, shown in NETWORK_LABELS.items():
        if shown == label:
            return kind
    raise ValueError(f"network: unknown choice {label!r}")


# --------------------------------------------------------------------------------------------
# Levers of one firm


def firm_levers(scenario: Scenario) -> list[Lever]:
    """The sliders for the chosen firm, with bounds scaled from the whole scenario."""
    firms = scenario.firms
    currency, step_unit = scenario.market.currency, scenario.market.step_unit
    top_price = _nice_ceiling(max(3 * scenario.market.willingness_to_pay, *(2 * f.price for f in firms)))
    top_budget = _nice_ceiling(max(1000.0, *(4 * f.marketing.budget_per_step for f in firms)))
    top_staff = int(max(30, *(3 * f.sales.salespeople for f in firms)))
    top_reward = _nice_ceiling(max(100.0, *(f.price for f in firms), *(2 * f.sales.referral_reward for f in firms)))
    levers = [
        Lever("price", f"Price ({currency})", 0.0, top_price, _nice_step(top_price)),
        Lever("quality", "Product quality", 0.0, 1.0, 0.05),
        Lever("budget", f"Marketing budget ({currency} per {step_unit})", 0.0, top_budget, _nice_step(top_budget)),
    ]
    levers += [Lever(f"mix_{channel}", f"{channel.capitalize()} share", 0.0, 1.0, 0.01, unit="%") for channel in CHANNELS]
    levers += [
        Lever("salespeople", "Salespeople", 0, top_staff, 1, integer=True),
        Lever("discount", "Discount", 0.0, 0.5, 0.05, unit="%"),
        Lever("commission", "Commission", 0.0, 0.3, 0.01, unit="%"),
        Lever("referral_reward", f"Referral reward ({currency})", 0.0, top_reward, _nice_step(top_reward)),
    ]
    return levers


#: Where each firm lever lives in the scenario, below ``firms.<index>.``.
FIRM_FIELDS = _FIRM_FIELDS = {
    "price": "price",
    "quality": "quality",
    "budget": "marketing.budget_per_step",
    **{f"mix_{channel}": f"marketing.mix.{channel}" for channel in CHANNELS},
    "salespeople": "sales.salespeople",
    "discount": "sales.discount",
    "commission": "sales.commission",
    "referral_reward": "sales.referral_reward",
}


def firm_setting(firm: Firm, dotted: str) -> Any:
    """A firm's setting by its dotted field name (``marketing.mix.email``)."""
    return attrgetter(dotted)(firm)


def firm_values(scenario: Scenario, firm: int) -> dict[str, float | int]:
    """The scenario's own settings for one firm, kept exact (a slider moves them onto its grid)."""
    levers = {lever.name: lever for lever in firm_levers(scenario)}
    settings = scenario.firms[firm]
    return {name: levers[name].bound(firm_setting(settings, field)) for name, field in _FIRM_FIELDS.items()}


@dataclass(frozen=True)
class Settings:
    """Everything the levers say: market-wide values and one dict of values per firm."""

    consumers: int
    network: str  # a kind, e.g. "watts_strogatz"
    seed: int
    firms: tuple[tuple[tuple[str, float | int], ...], ...]

    def firm(self, index: int) -> dict[str, float | int]:
        return dict(self.firms[index])

    def with_firm_value(self, index: int, name: str, value: float | int) -> Settings:
        firms = list(self.firms)
        firms[index] = tuple({**dict(firms[index]), name: value}.items())
        return Settings(self.consumers, self.network, self.seed, tuple(firms))

    def with_firm_values(self, index: int, values: dict[str, float | int]) -> Settings:
        firms = list(self.firms)
        firms[index] = tuple({**dict(firms[index]), **values}.items())
        return Settings(self.consumers, self.network, self.seed, tuple(firms))

    def same_market(self, other: Settings) -> bool:
        """True if only firm levers differ (those apply live; market levers need a Reset)."""
        return (self.consumers, self.network, self.seed) == (other.consumers, other.network, other.seed)

    def with_market(self, **changes: Any) -> Settings:
        values = {"consumers": self.consumers, "network": self.network, "seed": self.seed, **changes}
        return Settings(values["consumers"], values["network"], values["seed"], self.firms)


def initial_settings(scenario: Scenario, seed: int = 42) -> Settings:
    """The levers as the scenario sets them."""
    consumers = population_lever(scenario).bound(scenario.market.consumers)
    firms = tuple(tuple(firm_values(scenario, index).items()) for index in range(len(scenario.firms)))
    return Settings(int(consumers), scenario.network.kind, int(SEED_LEVER.clamp(seed)), firms)


def normalized_mix(values: dict[str, float | int]) -> dict[str, float]:
    """Channel weights scaled to shares that sum to 1 (equal shares when all are zero)."""
    weights = [float(values[f"mix_{channel}"]) for channel in CHANNELS]
    total = sum(weights)
    if total <= 0:
        return {channel: 1.0 / len(CHANNELS) for channel in CHANNELS}
    shares = [weight / total for weight in weights]
    shares[-1] = 1.0 - sum(shares[:-1])  # exact sum, whatever the rounding
    return dict(zip(CHANNELS, shares))


def rebalance_mix(values: dict[str, float | int], channel: str, share: float) -> dict[str, float]:
    """The four channel shares after one is moved to ``share``: the others are scaled so the
    shares still sum to 1, keeping their proportions (split equally if they were all zero).

    Shares are whole percents (what the sliders show), rounded by largest remainder so that
    they sum to exactly 100%.
    """
    percent = round(min(max(float(share), 0.0), 1.0) * 100)
    others = [other for other in CHANNELS if other != channel]
    rest = sum(float(values[f"mix_{other}"]) for other in others)
    weights = [float(values[f"mix_{other}"]) / rest if rest > 0 else 1.0 / len(others) for other in others]
    exact = [(100 - percent) * weight for weight in weights]
    whole = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(others)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in by_remainder[: 100 - percent - sum(whole)]:
        whole[i] += 1
    result = {f"mix_{channel}": percent / 100}
    result.update({f"mix_{other}": value / 100 for other, value in zip(others, whole)})
    return result


def mix_note(values: dict[str, float | int]) -> str:
    """What the page says under the mix sliders, naming the all-zero case instead of hiding it."""
    weights = [float(values[f"mix_{channel}"]) for channel in CHANNELS]
    if sum(weights) <= 0:
        return "All channel shares are 0%: the budget would be split equally (25% each)."
    return "Shares of the marketing budget; they always sum to 100% (moving one rescales the others)."


def lever_help(name: str) -> str:
    """What a lever means, from the schema's own description of the setting it moves."""
    from funnelsim.model.scenario import Market

    if name == "consumers":
        return Market.model_fields["consumers"].description or ""
    if name == "network":
        return "How consumers are connected; word of mouth travels along these ties."
    if name == "seed":
        return "Drives every random draw: the same levers and seed give the same run."
    section: Any = Firm
    *path, last = FIRM_FIELDS[name].split(".")
    for part in path:
        annotation = section.model_fields[part].annotation
        section = annotation
    return section.model_fields[last].description or ""


def overrides(scenario: Scenario, settings: Settings) -> dict[str, Any]:
    """Dotted overrides that turn ``scenario`` into what the levers say.

    Only settings that differ from the scenario are overridden, so a scenario's own values
    (and, in the Bass scenario, its exact limit) survive a Reset with untouched levers.
    """
    changes: dict[str, Any] = {}
    if settings.consumers != scenario.market.consumers and scenario.network.kind != "file":
        changes["market.consumers"] = int(settings.consumers)
    if settings.network != scenario.network.kind:
        changes["network.kind"] = settings.network
    for index, firm in enumerate(scenario.firms):
        wanted = settings.firm(index)
        original = firm_values(scenario, index)
        for name in ("price", "quality", "budget", "discount", "commission", "referral_reward"):
            if wanted[name] != original[name]:
                value = float(wanted[name])
                changes[f"firms.{index}.{_FIRM_FIELDS[name]}"] = value
        if wanted["salespeople"] != original["salespeople"]:
            changes[f"firms.{index}.sales.salespeople"] = int(wanted["salespeople"])
        if any(wanted[f"mix_{channel}"] != original[f"mix_{channel}"] for channel in CHANNELS):
            for channel, share in normalized_mix(wanted).items():
                changes[f"firms.{index}.marketing.mix.{channel}"] = share
        budget = float(wanted["budget"])
        if budget > 0 and firm.marketing.marketers == 0:
            changes[f"firms.{index}.marketing.marketers"] = 1  # a budget needs someone to spend it
    if changes and scenario.bass is not None:
        # Moving a lever leaves the exact Bass limit, whose checks would otherwise refuse it.
        changes["bass"] = None
    return changes
