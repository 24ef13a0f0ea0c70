"""The scenario: every parameter of a market, validated where it enters.

A scenario is a TOML file (or a built-in name, or a dict) checked against the pydantic schema
below. Every field has a default, a type and bounds; an unknown key, a wrong type, a value out of
bounds or an inconsistent combination raises :class:`ScenarioError` with one line that names the
field and the file. Nothing downstream re-checks what the schema already guarantees.

Every default says where it comes from in its description: a published figure (cited), a lever
that is "off by default", a structural choice of the model, or "placeholder" (a plausible value
with no published figure behind it). docs/scenario-reference.md lists them all.
"""

from __future__ import annotations

import copy
import math
import tomllib
import warnings
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from funnelsim.agents.channel_codes import CHANNELS


class ScenarioError(ValueError):
    """A scenario that cannot be run. The message is one line naming the field and the source."""


class ScenarioDeprecationWarning(FutureWarning):
    """A scenario uses the old name of a renamed setting or choice. It still loads as before; the
    warning names the new spelling. (A FutureWarning, so Python shows it to users by default.)"""


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Count = Annotated[int, Field(ge=0)]
PositiveCount = Annotated[int, Field(ge=1)]

#: Bounds on absurd sizes, checked before anything is built (a billion Mesa agents or a 1 MB
#: firm name would exhaust memory or hang a figure legend long before failing on their own).
MAX_CONSUMERS = 100_000_000
MAX_STAFF = 100_000
MAX_MONEY = 1e12
MAX_NAME = 80
MAX_STEPS = 10_000_000  # a run keeps a row per step and firm: more cannot be held, let alone read


class Section(BaseModel):
    """Base of every table: unknown keys and silent type coercions are errors."""

    # allow_inf_nan=False: an infinite or NaN budget is refused here in one line instead of
    # failing later inside a random draw or an int conversion.
    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True, allow_inf_nan=False)

    #: The table's name in warnings, e.g. "network" or "marketing".
    table: ClassVar[str] = ""
    #: Settings renamed so that one thing has one name: old key -> new key. A scenario that uses
    #: the old key still loads, with a :class:`ScenarioDeprecationWarning` naming the new one.
    renamed_keys: ClassVar[dict[str, str]] = {}
    #: Choices renamed likewise: key -> {old value: new value}.
    renamed_values: ClassVar[dict[str, dict[str, str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        """Read a renamed key or choice under its new name, warning that the old one is deprecated."""
        if not isinstance(data, dict) or not (cls.renamed_keys or cls.renamed_values):
            return data
        data = dict(data)
        for old, new in cls.renamed_keys.items():
            if old in data:
                if new in data:
                    raise ValueError(f"{old}: renamed {new}, which is also given: keep only {new}")
                warn_renamed(f"{cls.table}.{old}", f"{cls.table}.{new}")
                data[new] = data.pop(old)
        for key, renames in cls.renamed_values.items():
            value = data.get(key)
            if isinstance(value, str) and value in renames:
                warn_renamed(f'{cls.table}.{key} = "{value}"', f'{cls.table}.{key} = "{renames[value]}"')
                data[key] = renames[value]
        return data


#: Where the scenario being validated comes from, for warnings (validators are not told).
_ORIGIN: ContextVar[str] = ContextVar("scenario_origin", default="scenario")


def warn_renamed(old: str, new: str, origin: str | None = None) -> None:
    """Warn that a scenario uses the old name of a renamed setting, naming the new one."""
    warnings.warn(
        f"{origin or _ORIGIN.get()}: setting {old} is deprecated: write {new} (the old name still works for now)",
        ScenarioDeprecationWarning,
        stacklevel=3,
    )


class Market(Section):
    consumers: Annotated[int, Field(ge=1, le=MAX_CONSUMERS)] = Field(
        2000, description="Number of consumers (network nodes); the model's size, a choice, not a market figure."
    )
    steps: Annotated[int, Field(ge=0, le=MAX_STEPS)] = Field(365, description="Steps a run lasts unless told otherwise (a year of days: a choice).")
    step_unit: str = Field("day", description="What one step stands for; used in labels only (a structural choice).")
    currency: str = Field(
        "$", min_length=1, description="Symbol or code money is shown in, e.g. $, € or EUR; used in labels only (a choice)."
    )
    in_market_share: Probability = Field(
        0.3, description="Share of consumers who need the product (placeholder)."
    )
    willingness_to_pay: Positive = Field(
        120.0, description="Median willingness to pay, in currency (placeholder)."
    )
    willingness_to_pay_spread: NonNegative = Field(
        0.4, description="Log-normal sigma of willingness to pay; 0 makes everyone equal (placeholder)."
    )
    price_scale: NonNegative = Field(
        0.07,
        description="Spread of price acceptance relative to willingness to pay: a consumer accepts the paid "
        "price with chance 1 / (1 + exp((price / wtp - 1) / price_scale)), so every consumer responds to a "
        "price change; 0 is a sharp cut-off at wtp. Calibrated so that the baseline's price elasticity of "
        "customers lies inside the published range (mean -2.62 of 1,851 estimates, Bijmolt, van Heerde & "
        "Pieters 2005); see the `elasticities` study.",
    )
    susceptibility: Probability = Field(
        0.5, description="Mean chance-scale at which a consumer takes in word of mouth (placeholder)."
    )
    talkativeness: Probability = Field(
        0.5, description="Mean strength with which a consumer passes word of mouth on (placeholder)."
    )
    interest_threshold: Probability = Field(
        0.5, description="Mean awareness a consumer needs before becoming a lead (placeholder)."
    )
    heterogeneity: Positive = Field(
        4.0,
        description="Concentration of the Beta draws for susceptibility, talkativeness and interest threshold: "
        "higher is more alike (placeholder).",
    )
    awareness_decay: Probability = Field(
        0.03,
        description="Share of awareness lost per step: about a 3-week half-life for daily steps, inside the "
        "2-5 week adstock half-lives practitioners report (low authority); faster than the 6-9 months in which "
        "90% of advertising's effect is gone in Leone (1995).",
    )
    forget_below: Probability = Field(
        0.01, description="Awareness under this is forgotten: reset to zero (placeholder)."
    )
    recall_threshold: Probability = Field(
        0.5,
        description="Awareness is the chance a consumer recognises the firm when prompted (aided recall); the "
        "funnel counts a consumer as aware from this chance on: 0.5 is 'more likely than not to recognise it' "
        "(a convention, placeholder).",
    )
    initial_awareness: Probability = Field(
        0.0, description="Share of consumers who already know each firm at step 0 (off by default)."
    )
    self_serve_rate: Probability = Field(
        0.003,
        description="Chance per step that a waiting lead buys without a salesperson (placeholder).",
    )
    lead_patience: PositiveCount = Field(
        30,
        description="Mean steps a lead waits in the queue before going cold and dropping back to aware; each "
        "lead's own patience is drawn (see delay_cv) (placeholder).",
    )
    lead_half_life: Positive = Field(
        0.17,
        description="Steps of waiting that halve a lead's chance to close: about 4 hours for daily steps. Leads "
        "contacted within an hour are over 60 times likelier to qualify than after a day (Oldroyd, McElheran & "
        "Elkington 2011), and 0.5 ** (1 / 0.17) = 1/59.",
    )
    lead_freshness_floor: Probability = Field(
        0.0167,
        description="Least share of a fresh lead's chance to close that a lead keeps however long it waited: "
        "the freshness factor is max(floor, 0.5 ** (wait / lead_half_life)), which reaches the floor after "
        "about a day at the default half-life. Leads contacted within an hour were about 60 times likelier to "
        "qualify than those contacted after 24 hours or more (Oldroyd, McElheran & Elkington 2011), so a late "
        "lead still converts at about 1/60 of the first hour's rate; 0 lets a waiting lead cool to nothing.",
    )
    lead_cooldown: Count = Field(
        30,
        description="Mean steps before a lost, cold or churned consumer can become a lead again; drawn per "
        "event (see delay_cv) (placeholder).",
    )
    churn_rate: Probability = Field(0.0, description="Chance per step that a customer leaves (off by default).")
    delay_cv: NonNegative = Field(
        1.0,
        description="Coefficient of variation of each lead's patience and each cooldown, drawn per event from a "
        "gamma distribution with the configured mean (1: exponential, the memoryless patience of the Erlang-A "
        "queue, Garnett, Mandelbaum & Reiman 2002; 0: fixed delays, which make echo cycles).",
    )
    switch_rate: Probability = Field(
        0.05,
        description="Chance per step that a waiting lead weighs the firms again with the lead-formation choice "
        "and moves to the queue of a rival it now prefers (competition at the point of purchase; placeholder).",
    )
    referral_share: Probability = Field(
        0.1,
        description="Chance that a new customer refers each neighbour, when the firm has a referral package (placeholder).",
    )


class NetworkSettings(Section):
    """The social network consumers talk over: its family and the family's parameters."""

    # The settings only; the network built from them is a funnelsim.model.network.Network.

    table = "network"
    renamed_keys = {"blocks": "communities"}

    kind: Literal["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "ring", "sbm", "file"] = Field(
        "watts_strogatz",
        description="Network family; `complete` is handled without storing its edges. The default is a "
        "small world: clustered like acquaintances, with short paths (Watts & Strogatz 1998).",
    )
    k: PositiveCount = Field(
        10,
        description="Mean degree (Watts-Strogatz and ring: neighbours; Barabasi-Albert: 2 x edges per new node) "
        "(placeholder).",
    )
    p: Probability = Field(
        0.1, description="Watts-Strogatz rewiring probability: 0.1 is inside the small-world range of Watts & Strogatz (1998)."
    )
    communities: PositiveCount = Field(
        4,
        description="Stochastic block model (`sbm`): number of equal communities, the groups a firm can target "
        "(formerly `blocks`; placeholder).",
    )
    mixing: Probability = Field(
        0.1, description="Stochastic block model (`sbm`): share of a consumer's ties that leave its community (placeholder)."
    )
    path: str | None = Field(None, description="Edge list (two columns) or GraphML file, for kind = 'file'.")
    format: Literal["auto", "edgelist", "graphml"] = Field(
        "auto", description="How to read `path`; auto decides by the file's ending."
    )
    # The parsed file of a ``file`` network (funnelsim.model.network.NetworkFile), read once by
    # load_scenario and carried with the scenario (it pickles), so no run, worker or remote
    # machine reads the path again.
    _loaded: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _path_only_with_file(self) -> NetworkSettings:
        if self.kind == "file" and not self.path:
            raise ValueError("path: kind = 'file' needs a path to an edge list or GraphML file")
        return self


class WordOfMouth(Section):
    form: Literal["contagion", "fraction"] = Field(
        "contagion",
        description="contagion: chance 1-(1-beta)^exposure; fraction: beta x exposure / degree "
        "(the network Bass form); a structural choice.",
    )
    beta: Probability = Field(0.05, description="Transmission chance per unit of exposure (placeholder).")
    aware_weight: NonNegative = Field(
        0.2,
        description="How much a merely aware consumer talks, relative to a fully satisfied customer (placeholder).",
    )
    lift: Probability = Field(0.3, description="Awareness gained by hearing: a <- a + lift (1 - a) (placeholder).")


class Email(Section):
    cost_per_send: NonNegative = Field(0.05, description="Cost of one email sent (placeholder).")
    lift: Probability = Field(0.02, description="Awareness lift of one email read (placeholder).")
    bought_list_share: Probability = Field(
        0.02, description="Share of all consumers on a bought contact list from step 0 (placeholder)."
    )
    unsubscribe_rate: Probability = Field(
        0.002, description="Chance an email makes its reader unsubscribe (placeholder)."
    )
    fatigue: NonNegative = Field(
        0.01,
        description="Extra unsubscribe chance per email for every email per list member per step: mailing "
        "everyone daily adds 1% per email to the base rate (overuse; placeholder).",
    )


class Blogging(Section):
    cost_per_post: NonNegative = Field(300.0, description="Cost of writing one post (placeholder).")
    reach_per_post: NonNegative = Field(
        5.0, description="Expected readers per step that one post in the stock brings (placeholder)."
    )
    post_decay: Probability = Field(
        0.005, description="Share of the stock of posts that stops drawing readers each step (placeholder)."
    )
    in_market_bias: NonNegative = Field(
        5.0, description="How much likelier an in-market consumer is to find a post than one out of market (placeholder)."
    )
    lift: Probability = Field(0.15, description="Awareness lift of one read (placeholder).")


class Media(Section):
    cost_per_thousand: Positive = Field(10.0, description="Cost per thousand impressions (placeholder).")
    lift: Probability = Field(0.1, description="Awareness lift of being reached in a step (placeholder).")


class Jingles(Section):
    production_cost: NonNegative = Field(
        5000.0,
        description="One-off cost of making the jingle, paid from the jingle budget before any airtime (placeholder).",
    )
    cost_per_thousand: Positive = Field(15.0, description="Airtime cost per thousand impressions (placeholder).")
    lift: Probability = Field(0.1, description="Awareness lift of being reached in a step (placeholder).")
    memorability: Probability = Field(
        0.5,
        description="Share by which awareness decays more slowly for a consumer who has heard the jingle (placeholder).",
    )


class Mix(Section):
    email: Probability = Field(0.25, description="Share of the promotion budget spent on email (equal shares: placeholder).")
    blogging: Probability = Field(0.25, description="Share spent on blogging (content) (placeholder).")
    media: Probability = Field(0.25, description="Share spent on media buys (placeholder).")
    jingles: Probability = Field(0.25, description="Share spent on jingles (production, then airtime) (placeholder).")

    def shares(self) -> tuple[float, ...]:
        return tuple(getattr(self, channel) for channel in CHANNELS)


class Marketing(Section):
    table = "marketing"
    renamed_keys = {"target_segment": "target_community"}
    renamed_values = {"targeting": {"segment": "community"}}

    budget_per_step: Annotated[float, Field(ge=0.0, le=MAX_MONEY)] = Field(500.0, description="Promotion spend per step, split by `mix` (placeholder).")
    marketers: Annotated[int, Field(ge=0, le=MAX_STAFF)] = Field(
        1, description="Marketers who run the campaigns; a budget needs at least one (placeholder)."
    )
    marketer_salary: NonNegative = Field(150.0, description="Pay per marketer per step (placeholder).")
    mix: Mix = Field(default_factory=Mix, description="Share of the budget per channel; sums to 1.")
    targeting: Literal["random", "hubs", "community"] = Field(
        "random",
        description="Whom media buys and jingles reach: anyone at random, well-connected consumers first "
        "(weighted by degree; Hinz et al. 2011), or only the community `target_community` of an `sbm` network "
        "(`community` was formerly `segment`).",
    )
    target_community: Count = Field(
        0,
        description="The community media and jingles reach when targeting = 'community' (formerly "
        "`target_segment`; a choice, used only then).",
    )
    email: Email = Field(default_factory=Email)
    blogging: Blogging = Field(default_factory=Blogging)
    media: Media = Field(default_factory=Media)
    jingles: Jingles = Field(default_factory=Jingles)

    @model_validator(mode="after")
    def _mix_and_staff(self) -> Marketing:
        total = sum(self.mix.shares())
        if self.budget_per_step > 0 and not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"mix: channel shares sum to {total:g}, not 1")
        if self.budget_per_step > 0 and self.marketers == 0:
            raise ValueError("marketers: a marketing budget needs at least one marketer to spend it")
        return self


class Sales(Section):
    salespeople: Annotated[int, Field(ge=0, le=MAX_STAFF)] = Field(3, description="Salespeople, each working one lead at a time (placeholder).")
    salary: NonNegative = Field(200.0, description="Pay per salesperson per step (placeholder).")
    skill: Probability = Field(
        0.5, description="Mean base close chance of a salesperson on a fresh, keen lead (placeholder)."
    )
    cycle_steps: PositiveCount = Field(
        5, description="Mean steps a salesperson spends on one lead; drawn per deal (see cycle_cv) (placeholder)."
    )
    cycle_cv: NonNegative = Field(
        0.5,
        description="Coefficient of variation of the sales cycle, drawn per deal (gamma, at least one step, "
        "mean `cycle_steps`); 0 makes every cycle the same length (placeholder).",
    )
    policy: Literal["fifo", "best_score", "newest"] = Field(
        "fifo", description="Which waiting lead an idle salesperson takes next (first come, first served: a choice)."
    )
    discount: Probability = Field(0.0, description="Coupon: share taken off the price for every buyer (off by default).")
    commission: Probability = Field(
        0.0, description="Share of revenue paid to the salesperson who closes a sale (off by default)."
    )
    commission_effort: NonNegative = Field(
        2.0,
        description="Close-chance gain per unit of commission rate (0.1 commission x 2.0 = 20% likelier; placeholder).",
    )
    commission_speedup: Probability = Field(
        0.3, description="Share by which a 10% commission shortens the sales cycle (placeholder)."
    )
    referral_reward: NonNegative = Field(
        0.0,
        description="Paid to a customer for each referred neighbour who buys; 0 means no referral package (off by default).",
    )
    prospecting: bool = Field(
        True,
        description="Idle salespeople prospect: with no waiting lead they contact consumers who are nobody's "
        "lead or customer (cold outreach) until one agrees to a meeting, then work that prospect like a lead. On by default (a choice: "
        "salespeople without leads do prospect; turn it off to see sales that only work marketing's leads).",
    )
    prospect_contacts: PositiveCount = Field(
        40,
        description="Cold contacts a prospecting salesperson makes per step: practitioner figures of 33-52 "
        "calls per salesperson per day (vendor reports, low authority; placeholder).",
    )
    prospect_response: Probability = Field(
        0.01,
        description="Chance that an in-market consumer who accepts the price agrees to a meeting when contacted "
        "cold (out-of-market consumers never do). With 30% in market this gives about 0.3% of contacts, "
        "the calls-to-appointments rate of Baylor University's Keller Center cold-calling study (2012: "
        "19 appointments from 6,264 calls); placeholder for other markets.",
    )


class BudgetSplit(Section):
    total_per_step: Annotated[float, Field(ge=0.0, le=MAX_MONEY)] = Field(..., description="Fixed budget per step for promotion and salespeople's pay.")
    marketing_share: Probability = Field(
        ..., description="Share of the total that buys promotion; the rest hires salespeople at `sales.salary`."
    )


class Firm(Section):
    name: str = Field(..., min_length=1, max_length=MAX_NAME, description="Name shown in tables and figures.")
    quality: Probability = Field(
        0.7, description="Product quality: satisfaction, word-of-mouth strength and close chances (placeholder)."
    )
    price: NonNegative = Field(100.0, description="List price (placeholder).")
    unit_cost: NonNegative = Field(40.0, description="Cost of goods per sale (placeholder).")
    coverage: Probability = Field(
        1.0, description="Place: share of consumers who can buy from the firm at all (everyone: limits off by default)."
    )
    marketing: Marketing = Field(default_factory=Marketing)
    sales: Sales = Field(default_factory=Sales)
    budget: BudgetSplit | None = Field(
        None,
        description="Split a fixed budget between marketing and sales: when set, it replaces "
        "`marketing.budget_per_step` and `sales.salespeople` (whole salespeople; the remainder is unspent).",
    )

    @model_validator(mode="after")
    def _apply_budget_split(self) -> Firm:
        if self.budget is None:
            return self
        total, share = self.budget.total_per_step, self.budget.marketing_share
        marketing_budget = total * share
        salespeople = int((total - marketing_budget) // self.sales.salary) if self.sales.salary > 0 else 0
        if self.sales.salary == 0 and share < 1:
            raise ValueError("sales.salary: a budget split needs a salary to turn money into salespeople")
        # Bypass validate_assignment's re-validation of the whole firm; values are in bounds by construction.
        object.__setattr__(self.marketing, "budget_per_step", marketing_budget)
        object.__setattr__(self.sales, "salespeople", salespeople)
        if marketing_budget > 0 and self.marketing.marketers == 0:
            raise ValueError("marketing.marketers: a marketing budget needs at least one marketer to spend it")
        total_mix = sum(self.marketing.mix.shares())
        if marketing_budget > 0 and not math.isclose(total_mix, 1.0, abs_tol=1e-6):
            raise ValueError(f"marketing.mix: channel shares sum to {total_mix:g}, not 1")
        return self


class Bass(Section):
    p: Probability = Field(..., description="Per-step chance that marketing reaches each consumer.")
    q: Probability = Field(
        ..., description="Per-step word-of-mouth chance per unit of adopted fraction of a consumer's neighbours."
    )


class Seeding(Section):
    share: Probability = Field(
        0.0,
        description="Share of consumers who are the firm's customers at step 0 (seeded; not counted as sales; "
        "off by default).",
    )
    by: Literal["random", "degree"] = Field(
        "random",
        description="Whom to seed: consumers at random, or the highest-degree consumers first (ties broken at "
        "random); seeding hubs can beat random seeding several times (Hinz, Skiera, Barrot & Becker 2011).",
    )
    firm: int | str = Field(0, description="The seeded firm: its index in `firms` or its name.")


class Scenario(Section):
    """A whole market: consumers, their network, word of mouth and the competing firms."""

    name: str = Field("custom", description="Short name of the scenario.")
    description: str = Field("", description="One line saying what the scenario is for.")
    market: Market = Field(default_factory=Market)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    word_of_mouth: WordOfMouth = Field(default_factory=WordOfMouth)
    firms: list[Firm] = Field(..., min_length=1, description="The competing firms (at most 16).")
    bass: Bass | None = Field(
        None,
        description="The Bass limit: when set, the loader derives the frictionless `market`, `word_of_mouth` "
        "and firm settings from p and q (media reach p per step, word-of-mouth beta q, on any network) and refuses "
        "a setting given a different value.",
    )
    seeding: Seeding = Field(
        default_factory=Seeding,
        description="Customers at step 0: a share of consumers start as one firm's customers, chosen at random "
        "or by degree, and talk from the first step (not counted as sales).",
    )

    @model_validator(mode="after")
    def _seeded_firm_exists(self) -> Scenario:
        seeded = self.seeding.firm  # an index or a name
        names = [f.name for f in self.firms]
        if isinstance(seeded, str) and seeded not in names:
            raise ValueError(f"seeding.firm: no firm is called '{seeded}' (firms: {', '.join(names)})")
        if isinstance(seeded, int) and not 0 <= seeded < len(self.firms):
            raise ValueError(f"seeding.firm: {seeded} is not a firm index (0 to {len(self.firms) - 1})")
        return self

    @model_validator(mode="before")
    @classmethod
    def _integers_fit_in_int64(cls, data: Any) -> Any:
        """Refuse an integer no array can hold, before numpy meets it (an OverflowError later)."""
        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    walk(value, f"{where}.{key}" if where else str(key))
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    walk(value, f"{where}.{index}")
            elif isinstance(node, int) and not isinstance(node, bool) and not -(2**63) <= node < 2**63:
                digits = len(str(abs(node))) if node.bit_length() < 10_000 else "over 3,000"
                raise ValueError(f"{where}: an integer of {digits} digits is too large (at most 2**63 - 1)")

        walk(data, "")
        return data

    @model_validator(mode="after")
    def _target_community_exists(self) -> Scenario:
        if self.network.kind != "sbm":
            return self
        for index, firm in enumerate(self.firms):
            marketing = firm.marketing
            if marketing.targeting == "community" and marketing.target_community >= self.network.communities:
                raise ValueError(
                    f"firms.{index}.marketing.target_community: {marketing.target_community} is not a community "
                    f"of the network (network.communities = {self.network.communities}: 0 to {self.network.communities - 1})"
                )
        return self

    def seeded_firm_index(self) -> int:
        """Index of the firm ``[seeding]`` names (by index or by name)."""
        seeded = self.seeding.firm
        return seeded if isinstance(seeded, int) else [f.name for f in self.firms].index(seeded)

    @model_validator(mode="after")
    def _firms_are_distinct(self) -> Scenario:
        if len(self.firms) > 16:
            raise ValueError(f"firms: at most 16 firms, got {len(self.firms)}")
        names = [firm.name for firm in self.firms]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise ValueError(f"firms.{index}.name: '{name}' is used by another firm")
        return self

    @model_validator(mode="before")
    @classmethod
    def _derive_bass_settings(cls, data: Any) -> Any:
        """With a ``[bass]`` table, fill in every setting the Bass limit needs that the scenario
        leaves unset (see :func:`bass_derived_settings`), so ``bass.p`` and ``bass.q`` are enough.
        A setting the scenario does set is kept, and checked after validation."""
        if not isinstance(data, dict) or not isinstance(data.get("bass"), dict):
            return data
        bass = data["bass"]
        p, q = bass.get("p"), bass.get("q")
        if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (p, q)):
            return data  # missing or mistyped: the schema says which
        data = dict(data)
        firms = data.get("firms")
        if firms is None or firms == []:
            data["firms"] = [{"name": "Innovator"}]
        market = data.get("market") if isinstance(data.get("market"), dict) else {}
        consumers = market.get("consumers", Market.model_fields["consumers"].default)
        cost = get_dotted(data, "firms.0.marketing.media.cost_per_thousand", Media.model_fields["cost_per_thousand"].default)
        if not isinstance(consumers, int) or not isinstance(cost, (int, float)):
            return data
        for dotted, value in bass_derived_settings(float(p), float(q), consumers, float(cost)).items():
            _raw_set_default(data, dotted, value)
        return data

    @model_validator(mode="after")
    def _bass_limit_is_frictionless(self) -> Scenario:
        if self.bass is None:
            return self
        for field, value in bass_limit_requirements(self).items():
            actual = _get_dotted(self, field)
            if not _same(actual, value):
                raise ValueError(f"{field}: the Bass limit needs {value!r}, got {actual!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as plain JSON-able data."""
        return self.model_dump(mode="json")


def bass_derived_settings(p: float, q: float, consumers: int, cost_per_thousand: float) -> dict[str, Any]:
    """The settings the loader derives from ``bass.p`` and ``bass.q``, keyed by dotted field.

    Every consumer is in the market, reacts the same way, becomes a lead at the first touch and
    buys at once (self-serve with certainty, no salespeople); awareness never fades; marketing is
    a media buy whose per-step reach is exactly ``p`` (``I`` impressions reach each of ``n``
    consumers with chance ``1 - exp(-I/n)``, so ``I = -ln(1 - p) n``); word of mouth comes from
    customers only, in the fraction form, so a consumer hears with chance ``q`` times the adopted
    share of their neighbours, on whatever network the scenario has.
    """
    impressions = -math.log1p(-p) * consumers if p < 1 else float("inf")
    return {
        "market.in_market_share": 1.0,
        "market.susceptibility": 1.0,
        "market.talkativeness": 1.0,
        "market.interest_threshold": 0.0,
        "market.awareness_decay": 0.0,
        "market.initial_awareness": 0.0,
        "market.self_serve_rate": 1.0,
        "market.churn_rate": 0.0,
        "market.willingness_to_pay_spread": 0.0,
        "market.price_scale": 0.0,
        "word_of_mouth.form": "fraction",
        "word_of_mouth.beta": q,
        "word_of_mouth.aware_weight": 0.0,
        "word_of_mouth.lift": 1.0,
        "firms.0.quality": 1.0,
        "firms.0.coverage": 1.0,
        "firms.0.sales.salespeople": 0,
        "firms.0.sales.discount": 0.0,
        "firms.0.sales.referral_reward": 0.0,
        "firms.0.marketing.mix.email": 0.0,
        "firms.0.marketing.mix.blogging": 0.0,
        "firms.0.marketing.mix.media": 1.0,
        "firms.0.marketing.mix.jingles": 0.0,
        "firms.0.marketing.media.lift": 1.0,
        "firms.0.marketing.budget_per_step": impressions * cost_per_thousand / 1000.0,
    }


def bass_limit_requirements(scenario: Scenario) -> dict[str, Any]:
    """The settings under which the model is the Bass diffusion model, keyed by dotted field:
    :func:`bass_derived_settings` (which the loader fills in) plus one firm priced within reach.

    The network is free: on the complete graph the model is the Bass model, on any other it is
    the network Bass model (a non-adopter's hazard ``p + q x adopted neighbours / degree``).
    """
    assert scenario.bass is not None
    n = scenario.market.consumers
    media = scenario.firms[0].marketing.media if scenario.firms else Media()
    derived = bass_derived_settings(scenario.bass.p, scenario.bass.q, n, media.cost_per_thousand)
    budget = derived.pop("firms.0.marketing.budget_per_step")
    return {
        **derived,
        "firms": _Length(1),
        "firms.0.price": _AtMost(scenario.market.willingness_to_pay),
        "firms.0.marketing.budget_per_step": _Close(budget),
    }


def get_dotted(data: Any, dotted: str, default: Any = None) -> Any:
    """A dotted key of raw scenario data (dicts and lists), or ``default`` where it is not set.

    The one walker over plain scenario data (sweep plans use it too)."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return default
    return node


def _raw_set_default(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted key of raw scenario data unless it is already set; make missing tables.
    Tables are copied on the way down, so the caller's data is never changed."""
    parts = dotted.split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            index = int(part)
            if index >= len(node) or not isinstance(node[index], dict):
                return
            node[index] = dict(node[index])
            node = node[index]
        elif isinstance(node, dict):
            child = node.get(part)
            if child is None:
                child = {}
            if isinstance(child, list):
                child = list(child)
            elif isinstance(child, dict):
                child = dict(child)
            else:
                return  # not a table: validation says so
            node[part] = child
            node = child
        else:
            return
    if isinstance(node, dict) and parts[-1] not in node:
        node[parts[-1]] = value


class _Length:
    def __init__(self, length: int):
        self.length = length

    def __repr__(self) -> str:
        return f"exactly {self.length}"


class _AtMost:
    def __init__(self, limit: float):
        self.limit = limit

    def __repr__(self) -> str:
        return f"a value at most {self.limit:g}"


class _Close:
    def __init__(self, target: float):
        self.target = target

    def __repr__(self) -> str:
        return f"{self.target:.6g} (media spend whose reach per step is bass.p)"


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, _Length):
        return len(actual) == wanted.length
    if isinstance(wanted, _AtMost):
        return actual <= wanted.limit
    if isinstance(wanted, _Close):
        return math.isclose(actual, wanted.target, rel_tol=1e-6)
    return actual == wanted


def _get_dotted(scenario: Scenario, dotted: str) -> Any:
    value: Any = scenario
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else getattr(value, part)
    return value


# --------------------------------------------------------------------------------------------
# Loading


def builtin_names() -> list[str]:
    """Names of the scenarios that ship with funnelsim."""
    folder = resources.files("funnelsim.model") / "scenarios"
    return sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml"))


def builtin_description(name: str) -> str:
    return _read_builtin(name).get("description", "")


def _read_builtin(name: str) -> dict[str, Any]:
    resource = resources.files("funnelsim.model") / "scenarios" / f"{name}.toml"
    return tomllib.loads(resource.read_text(encoding="utf-8"))


def load_scenario(
    source: str | Path | dict[str, Any] | Scenario,
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Load and validate a scenario.

    ``source`` is a path to a TOML file, the name of a built-in scenario, a dict, or a
    :class:`Scenario`. ``overrides`` maps dotted keys (``"firms.0.price"``) to new values and is
    applied before validation, so an override is checked like any other value. The network file
    of a ``file`` network is read here, so a missing or malformed file fails at load.
    """
    if isinstance(source, Scenario) and not overrides:
        return source  # already validated, network file and all: nothing to check again
    data, origin, base_dir = _raw_data(source)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, origin)
    if isinstance(source, Scenario) and source.bass is not None and isinstance(data.get("bass"), dict):
        data = _without_derived_bass_settings(data, source)  # still the Bass limit: derive afresh
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("path"), str) and base_dir is not None:
        path = Path(network["path"]).expanduser()
        if not path.is_absolute():
            network["path"] = str((base_dir / path).resolve())
    token = _ORIGIN.set(origin)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{origin}: {_first_problem(error)}") from None
    finally:
        _ORIGIN.reset(token)
    if isinstance(source, Scenario) and (scenario.network.path, scenario.network.format) == (
        source.network.path,
        source.network.format,
    ):
        scenario.network._loaded = source.network._loaded  # same file: keep what was read
    _check_network_file(scenario, origin)
    return scenario


def _raw_data(source: Any) -> tuple[dict[str, Any], str, Path | None]:
    if isinstance(source, Scenario):
        return source.to_dict(), f"scenario '{source.name}'", None
    if isinstance(source, dict):
        return copy.deepcopy(source), "scenario dict", None
    if not isinstance(source, (str, Path)):
        raise ScenarioError(f"scenario: expected a file path, a built-in name or a dict, got {type(source).__name__}")
    text = str(source)
    path = Path(text).expanduser()
    if not looks_like_path(source):
        if text not in builtin_names():
            from funnelsim.suggest import did_you_mean

            hint = f"; for the file, write ./{text}" if path.exists() else ""
            raise ScenarioError(
                f"scenario '{text}': no such built-in scenario{did_you_mean(text, builtin_names())} "
                f"(built-ins: {', '.join(builtin_names())}){hint}"
            )
        data = _read_builtin(text)
        data.setdefault("name", text)
        return data, f"built-in scenario '{text}'", None
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML ({error})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not valid TOML (nested too deeply)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the scenario file ({error})") from None
    data.setdefault("name", path.stem)
    return data, str(path), path.parent


def _without_derived_bass_settings(data: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """``data`` (a loaded scenario's, with overrides) without the settings the loader derived
    from the scenario's ``[bass]`` table, so that overriding ``bass.p`` or ``bass.q`` on a loaded
    scenario derives them afresh. Only values equal to the derived ones are dropped."""
    assert scenario.bass is not None
    media = scenario.firms[0].marketing.media
    derived = bass_derived_settings(scenario.bass.p, scenario.bass.q, scenario.market.consumers, media.cost_per_thousand)
    for dotted, value in derived.items():
        *path, last = dotted.split(".")
        node: Any = data
        for part in path:
            node = node[int(part)] if isinstance(node, list) else node.get(part, {})
        if isinstance(node, dict) and last in node:
            actual = node[last]
            same = math.isclose(actual, value, rel_tol=1e-9) if isinstance(value, float) and isinstance(actual, float) else actual == value
            if same:
                del node[last]
    return data
def looks_like_path(source: str | Path) -> bool:
    """A scenario argument names a file when it looks like one (``./baseline``, ``a.toml``,
    a ``Path``); anything else is a built-in name, even if a file of that name is here, so a
    stray file never silently replaces a built-in."""
    if isinstance(source, Path):
        return True
    text = str(source)
    return text.endswith(".toml") or "/" in text or text.startswith(("~", "."))


def describe_source(source: Any) -> str:
    """Which scenario an argument names, in words, for a command's output."""
    if isinstance(source, (str, Path)):
        return f"scenario file {source}" if looks_like_path(source) else f"built-in scenario '{source}'"
    return "scenario given as data"


def _set_dotted(data: dict[str, Any], key: str, value: Any, origin: str) -> None:
    """Set ``a.b.0.c`` in nested dicts and lists; the key must name a field the schema has."""
    parts = key.split(".")
    node: Any = data
    model: Any = Scenario
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{origin}: override '{key}': {where} is not an index of a list of {len(node)}")
            index = int(part)
            if last:
                node[index] = value
                return
            node = node[index]
            continue
        renamed = getattr(model, "renamed_keys", {}).get(part) if model is not None else None
        if renamed is not None and isinstance(node, dict):
            warn_renamed(where, ".".join([*parts[:depth], renamed]), origin)
            node.pop(part, None)  # the file's own old key gives way to the override
            part = renamed
        if model is None or part not in model.model_fields:
            from funnelsim.suggest import did_you_mean

            hint = did_you_mean(where, [".".join([*parts[:depth], name]) for name in model.model_fields]) if model else ""
            raise ScenarioError(f"{origin}: override '{key}': no such setting '{where}'{hint}")
        field = model.model_fields[part]
        if last:
            node[part] = value
            return
        model = _section_model(field.annotation)
        if part not in node or node[part] is None:
            if model is None:
                raise ScenarioError(f"{origin}: override '{key}': '{where}' has no entries to index")
            node[part] = {}
        elif not isinstance(node[part], (dict, list)):
            raise ScenarioError(f"{origin}: override '{key}': '{where}' is not a table")
        node = node[part]


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model behind a field's type: ``Mix``, ``list[Firm]`` -> Firm, ``Bass | None`` -> Bass."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _section_model(argument)
        if found is not None:
            return found
    return None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    location = ".".join(str(part) for part in problem["loc"])
    message = problem["msg"]
    if message.startswith("Value error, "):
        # Our own validators start with the field's name relative to the table they check.
        message = message.removeprefix("Value error, ")
        return f"{location}.{message}" if location else message
    if problem["type"] == "extra_forbidden":
        return f"{location}: unknown setting{_suggestion(problem['loc'])}"
    if problem["type"] == "missing":
        return f"{location}: required setting is missing"
    given = problem.get("input")
    shown = f" (got {_short(given)})" if not isinstance(given, (dict, list)) else ""
    return f"{location}: {message.lower()}{shown}"


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a megabyte of input stays one short line."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {len(str(abs(value))) if value.bit_length() < 10_000 else 'over 3,000'} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _suggestion(location: tuple) -> str:
    """'did you mean' for an unknown key: the closest field of the table it was found in."""
    from funnelsim.suggest import did_you_mean

    model: Any = Scenario
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model is not None else None
        model = _section_model(field.annotation) if field is not None else None
    return did_you_mean(str(location[-1]), model.model_fields) if model is not None else ""


def _check_network_file(scenario: Scenario, origin: str) -> None:
    if scenario.network.kind != "file":
        return
    from funnelsim.model.network import NetworkFileError, load_network_file

    if scenario.network._loaded is None:
        assert scenario.network.path is not None  # kind = "file" without a path is refused by NetworkSettings
        try:
            scenario.network._loaded = load_network_file(scenario.network.path, scenario.network.format)
        except NetworkFileError as error:
            raise ScenarioError(f"{origin}: network.path: {error}") from None
    nodes = scenario.network._loaded.nodes
    if "consumers" not in scenario.market.model_fields_set:
        scenario.market.consumers = nodes
    elif scenario.market.consumers != nodes:
        raise ScenarioError(
            f"{origin}: market.consumers is {scenario.market.consumers} but the network file has {nodes} nodes"
        )
