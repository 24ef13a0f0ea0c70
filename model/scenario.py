"""The scenario: every parameter of a market, validated where it enters.

A scenario is a TOML file (or a built-in name, or a dict) checked against the pydantic schema
below. Every field has a default, a type and bounds; an unknown key, a wrong type, a value out of
bounds or an inconsistent combination raises :class:`ScenarioError` with one line that names the
field and the file. Nothing downstream re-checks what the schema already guarantees.

Defaults cite ``PARAMETERS.md`` in their descriptions where a published figure exists; the rest
say "placeholder".
"""

from __future__ import annotations

import copy
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: The four marketing channels, in the order used for arrays and table columns.
CHANNELS = ("email", "blogging", "media", "jingles")


class ScenarioError(ValueError):
    """A scenario that cannot be run. The message is one line naming the field and the source."""


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Count = Annotated[int, Field(ge=0)]
PositiveCount = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    """Base of every table: unknown keys and silent type coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


class Market(Section):
    consumers: PositiveCount = Field(2000, description="Number of consumers (network nodes).")
    steps: Count = Field(365, description="Steps a run lasts unless told otherwise.")
    step_unit: str = Field("day", description="What one step stands for; used in labels only.")
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
        description="Concentration of the Beta draws for susceptibility, talkativeness and threshold: "
        "higher is more alike (placeholder).",
    )
    awareness_decay: Probability = Field(
        0.03,
        description="Share of awareness lost per step: about a 3-week half-life for daily steps, "
        "inside the 2-5 week adstock half-lives practitioners report (PARAMETERS.md).",
    )
    forget_below: Probability = Field(
        0.01, description="Awareness under this counts as unaware and is reset to zero."
    )
    initial_awareness: Probability = Field(
        0.0, description="Share of consumers who already know each firm at step 0."
    )
    self_serve_rate: Probability = Field(
        0.01,
        description="Chance per step that a waiting lead buys without a salesperson (placeholder).",
    )
    lead_patience: PositiveCount = Field(
        30, description="Steps a lead waits in the queue before going cold and dropping back to aware."
    )
    lead_half_life: Positive = Field(
        14.0,
        description="Steps of waiting that halve a lead's chance to close; leads cool fast "
        "(Oldroyd, McElheran & Elkington 2011), the exact figure is a placeholder.",
    )
    lead_cooldown: Count = Field(
        30, description="Steps before a lost, cold or churned consumer can become a lead again."
    )
    churn_rate: Probability = Field(0.0, description="Chance per step that a customer leaves.")
    switch_rate: Probability = Field(
        0.05,
        description="Chance per step that a waiting lead weighs the firms again with the lead-formation choice "
        "and moves to the queue of a rival it now prefers (competition at the point of purchase; placeholder).",
    )
    referral_share: Probability = Field(
        0.1,
        description="Chance that a new customer refers each neighbour, when the firm has a referral package (placeholder).",
    )


class Network(Section):
    kind: Literal["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "ring", "sbm", "file"] = Field(
        "watts_strogatz", description="Network family; `complete` is handled without storing its edges."
    )
    k: PositiveCount = Field(
        10, description="Mean degree (Watts-Strogatz and ring: neighbours; Barabasi-Albert: 2 x edges per new node)."
    )
    p: Probability = Field(0.1, description="Watts-Strogatz rewiring probability.")
    blocks: PositiveCount = Field(4, description="Stochastic block model: number of equal communities.")
    mixing: Probability = Field(
        0.1, description="Stochastic block model: share of a consumer's ties that leave its community."
    )
    path: str | None = Field(None, description="Edge list (two columns) or GraphML file, for kind = 'file'.")
    format: Literal["auto", "edgelist", "graphml"] = Field(
        "auto", description="How to read `path`; auto decides by the file's ending."
    )

    @model_validator(mode="after")
    def _path_only_with_file(self) -> Network:
        if self.kind == "file" and not self.path:
            raise ValueError("path: kind = 'file' needs a path to an edge list or GraphML file")
        return self


class WordOfMouth(Section):
    form: Literal["contagion", "fraction"] = Field(
        "contagion",
        description="contagion: chance 1-(1-beta)^exposure; fraction: beta x exposure / degree "
        "(the network Bass form).",
    )
    beta: Probability = Field(0.05, description="Transmission chance per unit of exposure (placeholder).")
    aware_weight: NonNegative = Field(
        0.2, description="How much a merely aware consumer talks, relative to a fully satisfied customer."
    )
    lift: Probability = Field(0.3, description="Awareness gained by hearing: a <- a + lift (1 - a).")


class Email(Section):
    cost_per_send: NonNegative = Field(0.05, description="Cost of one email sent (placeholder).")
    lift: Probability = Field(0.02, description="Awareness lift of one email read.")
    bought_list_share: Probability = Field(
        0.02, description="Share of all consumers on a bought contact list from step 0."
    )
    unsubscribe_rate: Probability = Field(0.002, description="Chance an email makes its reader unsubscribe.")
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
    post_decay: Probability = Field(0.005, description="Share of the stock of posts that stops drawing readers each step.")
    in_market_bias: NonNegative = Field(
        5.0, description="How much likelier an in-market consumer is to find a post than one out of market."
    )
    lift: Probability = Field(0.15, description="Awareness lift of one read.")


class Media(Section):
    cost_per_thousand: Positive = Field(10.0, description="Cost per thousand impressions (placeholder).")
    lift: Probability = Field(0.1, description="Awareness lift of being reached in a step.")


class Jingles(Section):
    production_cost: NonNegative = Field(
        5000.0, description="One-off cost of making the jingle, paid from the jingle budget before any airtime."
    )
    cost_per_thousand: Positive = Field(15.0, description="Airtime cost per thousand impressions (placeholder).")
    lift: Probability = Field(0.1, description="Awareness lift of being reached in a step.")
    memorability: Probability = Field(
        0.5, description="Share by which awareness decays more slowly for a consumer who has heard the jingle."
    )


class Mix(Section):
    email: Probability = Field(0.25, description="Share of the promotion budget spent on email.")
    blogging: Probability = Field(0.25, description="Share spent on blogging (content).")
    media: Probability = Field(0.25, description="Share spent on media buys.")
    jingles: Probability = Field(0.25, description="Share spent on jingles (production, then airtime).")

    def shares(self) -> tuple[float, ...]:
        return tuple(getattr(self, channel) for channel in CHANNELS)


class Marketing(Section):
    budget_per_step: NonNegative = Field(500.0, description="Promotion spend per step, split by `mix`.")
    marketers: Count = Field(1, description="Marketers who run the campaigns; a budget needs at least one.")
    marketer_salary: NonNegative = Field(150.0, description="Pay per marketer per step.")
    mix: Mix = Field(default_factory=Mix, description="Share of the budget per channel; sums to 1.")
    targeting: Literal["random", "hubs", "segment"] = Field(
        "random",
        description="Whom media buys and jingles reach: anyone at random, well-connected consumers first "
        "(weighted by degree; Hinz et al. 2011), or only the community `target_segment` of a block-model network.",
    )
    target_segment: Count = Field(0, description="The community media and jingles reach when targeting = 'segment'.")
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
    salespeople: Count = Field(3, description="Salespeople, each working one lead at a time.")
    salary: NonNegative = Field(200.0, description="Pay per salesperson per step.")
    skill: Probability = Field(
        0.5, description="Mean base close chance of a salesperson on a fresh, keen lead (placeholder)."
    )
    cycle_steps: PositiveCount = Field(5, description="Steps a salesperson spends on one lead.")
    policy: Literal["fifo", "best_score", "newest"] = Field(
        "fifo", description="Which waiting lead an idle salesperson takes next."
    )
    discount: Probability = Field(0.0, description="Coupon: share taken off the price for every buyer.")
    commission: Probability = Field(
        0.0, description="Share of revenue paid to the salesperson who closes a sale."
    )
    commission_effort: NonNegative = Field(
        2.0,
        description="Close-chance gain per unit of commission rate (0.1 commission x 2.0 = 20% likelier; placeholder).",
    )
    commission_speedup: Probability = Field(
        0.3, description="Share by which a 10% commission shortens the sales cycle (placeholder)."
    )
    referral_reward: NonNegative = Field(
        0.0, description="Paid to a customer for each referred neighbour who buys; 0 means no referral package."
    )
    prospecting: bool = Field(
        True,
        description="Idle salespeople prospect: with no waiting lead they contact consumers who are nobody's "
        "lead or customer (cold outreach) until one agrees to a meeting, then work that prospect like a lead.",
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
    total_per_step: NonNegative = Field(..., description="Fixed budget per step for promotion and salespeople's pay.")
    marketing_share: Probability = Field(
        ..., description="Share of the total that buys promotion; the rest hires salespeople at `sales.salary`."
    )


class Firm(Section):
    name: str = Field(..., min_length=1, description="Name shown in tables and figures.")
    quality: Probability = Field(
        0.7, description="Product quality: satisfaction, word-of-mouth strength and close chances."
    )
    price: NonNegative = Field(100.0, description="List price.")
    unit_cost: NonNegative = Field(40.0, description="Cost of goods per sale.")
    coverage: Probability = Field(1.0, description="Place: share of consumers who can buy from the firm at all.")
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
    q: Probability = Field(..., description="Per-step word-of-mouth chance per unit of adopted fraction.")


class Scenario(Section):
    """A whole market: consumers, their network, word of mouth and the competing firms."""

    name: str = Field("custom", description="Short name of the scenario.")
    description: str = Field("", description="One line saying what the scenario is for.")
    market: Market = Field(default_factory=Market)
    network: Network = Field(default_factory=Network)
    word_of_mouth: WordOfMouth = Field(default_factory=WordOfMouth)
    firms: list[Firm] = Field(..., min_length=1, description="The competing firms (at most 16).")
    bass: Bass | None = Field(
        None,
        description="The Bass limit: when set, `market`, `word_of_mouth` and the one firm must be "
        "frictionless, and p and q set the media reach and word-of-mouth beta.",
    )

    @model_validator(mode="after")
    def _firms_are_distinct(self) -> Scenario:
        if len(self.firms) > 16:
            raise ValueError(f"firms: at most 16 firms, got {len(self.firms)}")
        names = [firm.name for firm in self.firms]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise ValueError(f"firms.{index}.name: '{name}' is used by another firm")
        return self

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


def bass_limit_requirements(scenario: Scenario) -> dict[str, Any]:
    """The settings under which the model is the Bass diffusion model, keyed by dotted field.

    Every consumer is in the market, reacts the same way, becomes a lead at the first touch and
    buys at once (self-serve with certainty, nobody priced out, no salespeople); awareness never
    fades; marketing is a media buy whose per-step reach is exactly ``bass.p``; word of mouth
    comes from customers only, with chance ``bass.q`` times the adopted share of neighbours on a
    complete graph.
    """
    assert scenario.bass is not None
    n = scenario.market.consumers
    media = scenario.firms[0].marketing.media if scenario.firms else Media()
    # A media buy of I impressions reaches each consumer with chance 1 - exp(-I / n).
    impressions = -math.log1p(-scenario.bass.p) * n if scenario.bass.p < 1 else float("inf")
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
        "network.kind": "complete",
        "word_of_mouth.form": "fraction",
        "word_of_mouth.beta": scenario.bass.q,
        "word_of_mouth.aware_weight": 0.0,
        "word_of_mouth.lift": 1.0,
        "firms": _Length(1),
        "firms.0.quality": 1.0,
        "firms.0.coverage": 1.0,
        "firms.0.price": _AtMost(scenario.market.willingness_to_pay),
        "firms.0.sales.salespeople": 0,
        "firms.0.sales.discount": 0.0,
        "firms.0.sales.referral_reward": 0.0,
        "firms.0.marketing.mix.media": 1.0,
        "firms.0.marketing.media.lift": 1.0,
        "firms.0.marketing.budget_per_step": _Close(impressions * media.cost_per_thousand / 1000.0),
    }


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
    data, origin, base_dir = _raw_data(source)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value, origin)
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("path"), str) and base_dir is not None:
        path = Path(network["path"]).expanduser()
        if not path.is_absolute():
            network["path"] = str((base_dir / path).resolve())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{origin}: {_first_problem(error)}") from None
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
    looks_like_file = path.suffix == ".toml" or "/" in text or path.exists()
    if not looks_like_file:
        if text not in builtin_names():
            raise ScenarioError(
                f"scenario '{text}': no such built-in scenario (built-ins: {', '.join(builtin_names())}) and no such file"
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
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the scenario file ({error})") from None
    data.setdefault("name", path.stem)
    return data, str(path), path.parent


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
        if model is None or part not in model.model_fields:
            raise ScenarioError(f"{origin}: override '{key}': no such setting '{where}'")
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
        return f"{location}: unknown setting"
    if problem["type"] == "missing":
        return f"{location}: required setting is missing"
    given = problem.get("input")
    shown = f" (got {given!r})" if not isinstance(given, (dict, list)) else ""
    return f"{location}: {message.lower()}{shown}"


def _check_network_file(scenario: Scenario, origin: str) -> None:
    if scenario.network.kind != "file":
        return
    from funnelsim.model.network import NetworkFileError, count_file_nodes

    try:
        nodes = count_file_nodes(scenario.network.path, scenario.network.format)
    except NetworkFileError as error:
        raise ScenarioError(f"{origin}: network.path: {error}") from None
    if "consumers" not in scenario.market.model_fields_set:
        scenario.market.consumers = nodes
    elif scenario.market.consumers != nodes:
        raise ScenarioError(
            f"{origin}: market.consumers is {scenario.market.consumers} but the network file has {nodes} nodes"
        )
