"""The sweep file: what a parameter sweep varies, how, and what it keeps.

A sweep is a TOML file. It names a base scenario, the parameters to vary (dotted scenario keys,
each with a list of ``levels`` or a ``low``/``high`` range), optional ``[derived]`` settings
computed from them, a design, the replications per design point, the steps per run, the
outputs to keep and a seed::

    scenario = "baseline"            # built-in name or a path relative to this file
    steps = 180
    replications = 5
    seed = 20240601

    [fixed]                          # overrides applied to every run
    "market.consumers" = 2000

    [parameters]
    "firms.0.price" = { levels = [80, 100, 120] }
    marketing_share = { low = 0.0, high = 1.0, num = 11 }

    [derived]                        # pandas expressions over the parameters
    "firms.0.marketing.budget_per_step" = "1500 * marketing_share"

    [design]
    kind = "grid"                    # grid | latin_hypercube | sobol | morris

    [outputs]
    summary = ["profit", "revenue", "market_share"]
    timeseries = ["customers"]

This module only reads and checks the file's own shape; whether a key exists in the scenario
is checked against the scenario in :mod:`funnelsim.experiments.sweep_plan`.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from funnelsim.errors import UsageError
from funnelsim.experiments.engine import MAX_SEED

#: Design kinds and the SALib / scipy sampler behind each.
DESIGN_KINDS = ("grid", "latin_hypercube", "sobol", "morris")


#: One level of a parameter, kept as TOML gave it (strict: "yes" stays text, 1 stays an int).
Level = StrictBool | StrictInt | StrictFloat | StrictStr


class _Table(BaseModel):
    """Every table of the sweep file: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ParameterSpec(_Table):
    """One varied parameter: either a list of ``levels`` or a ``low``..``high`` range."""

    levels: list[Level] | None = Field(None, description="The values the parameter takes.")
    low: float | None = Field(None, description="Lower end of a range.")
    high: float | None = Field(None, description="Upper end of a range.")
    num: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Grid designs: how many evenly spaced values to take from the range."
    )

    @model_validator(mode="after")
    def _levels_or_range(self) -> ParameterSpec:
        has_range = self.low is not None or self.high is not None
        if self.levels is not None and has_range:
            raise ValueError("give either levels or low/high, not both")
        if self.levels is None and not has_range:
            raise ValueError("give levels = [...] or low = ... and high = ...")
        if self.levels is not None:
            if not self.levels:
                raise ValueError("levels is empty, so the design would be empty")
            kinds = {_level_kind(level) for level in self.levels}
            if len(kinds) > 1:
                raise ValueError(f"levels mix {' and '.join(sorted(kinds))} values")
            if self.num is not None:
                raise ValueError("num only applies to a low/high range")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a range needs both low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self

    @property
    def is_range(self) -> bool:
        return self.levels is None

    def span(self) -> tuple[float, float]:
        """``(low, high)`` of a range parameter (the validator sets both whenever ``levels`` is not)."""
        if self.low is None or self.high is None:
            raise ValueError("a parameter with levels has no low/high range")
        return self.low, self.high


def _level_kind(level: Any) -> str:
    if isinstance(level, bool):
        return "true/false"
    if isinstance(level, (int, float)):
        return "number"
    return "text"


#: The design kinds a sweep file may ask for. ``"single"`` is the one-point design of ``funnelsim
#: run`` (:func:`funnelsim.experiments.sweep_plan.make_run_plan`), which varies nothing and so is
#: built by the engine, never read from a file.
FILE_DESIGNS = ("grid", "latin_hypercube", "sobol", "morris")


class DesignSpec(_Table):
    kind: Literal["grid", "latin_hypercube", "sobol", "morris", "single"] = Field(
        ..., description="grid: every combination; latin_hypercube: scipy's qmc; sobol, morris: SALib."
    )
    samples: Annotated[int, Field(ge=0)] | None = Field(
        None,
        description="latin_hypercube: number of points; sobol: SALib's base sample N (a power of two), "
        "giving N(2D+2) points with second-order indices or N(D+2) without; morris: trajectories N, "
        "giving N(D+1) points.",
    )
    second_order: bool = Field(True, description="sobol: also estimate second-order indices.")
    levels: Annotated[int, Field(ge=2)] = Field(4, description="morris: grid levels per parameter.")

    @field_validator("kind", mode="before")
    @classmethod
    def _a_file_design(cls, kind: Any) -> Any:
        if kind not in FILE_DESIGNS:
            from funnelsim.suggest import did_you_mean

            raise ValueError(f"input should be {', '.join(map(repr, FILE_DESIGNS))} (got {kind!r}){did_you_mean(str(kind), FILE_DESIGNS)}")
        return kind

    @model_validator(mode="after")
    def _samples_where_needed(self) -> DesignSpec:
        if self.kind == "grid":
            if self.samples is not None:
                raise ValueError("a grid takes no samples: its size is the product of the parameters' values")
        elif self.samples is None:
            raise ValueError(f"a {self.kind} design needs samples = N")
        elif self.samples == 0:
            raise ValueError("samples = 0 makes an empty design")
        return self


class OutputsSpec(_Table):
    # default= by keyword: type checkers read a positional default as a required field.
    summary: list[str] | None = Field(
        default=None,
        description="End-of-run measures to keep per firm (columns of model.summary()); all when left out. "
        "The first is the one analyze draws unless told otherwise.",
    )
    timeseries: list[str] = Field(
        default_factory=list,
        description="Per-step columns of model.run() to keep per firm; none when left out.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> OutputsSpec:
        if self.summary is not None and not self.summary:
            raise ValueError("summary = [] keeps nothing; leave it out to keep every measure")
        return self


class SweepSpec(_Table):
    """A whole sweep file, checked for shape. Paths in it are relative to the file."""

    description: str = Field("", description="One line saying what the sweep asks.")
    scenario: str = Field(..., min_length=1, description="Base scenario: a built-in name or a TOML file.")
    steps: Annotated[int, Field(ge=1, le=10_000_000)] | None = Field(
        None, description="Steps per run; the scenario's market.steps when left out."
    )
    replications: Annotated[int, Field(ge=1)] = Field(1, description="Runs per design point, each with its own seed.")
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = Field(
        None, description="Entropy of every run's SeedSequence; a fresh one is drawn and recorded when left out."
    )
    run_function: str | None = Field(
        None,
        description="'module:function' that runs one task; funnelsim's model when left out. "
        "Must be importable on every worker.",
    )
    fixed: dict[str, Any] = Field(default_factory=dict, description="Overrides applied to every run.")
    parameters: dict[str, ParameterSpec] = Field(..., description="The parameters to vary, in order.")
    derived: dict[str, str] = Field(
        default_factory=dict, description="Scenario keys computed from the parameters by a pandas expression."
    )
    design: DesignSpec
    outputs: OutputsSpec = Field(default_factory=OutputsSpec)

    @model_validator(mode="after")
    def _something_to_vary(self) -> SweepSpec:
        if not self.parameters:
            raise ValueError("parameters: no parameters to vary, so the design would be empty")
        for key in self.derived:
            if key in self.parameters:
                raise ValueError(f"derived.{toml_key(key)}: is also a parameter")
        for key in self.fixed:
            if key in self.parameters or key in self.derived:
                raise ValueError(f"fixed.{toml_key(key)}: is also varied; keep it in one place")
        if self.design.kind == "grid":
            for name, parameter in self.parameters.items():
                if parameter.is_range and parameter.num is None:
                    raise ValueError(
                        f"parameters.{toml_key(name)}: a grid needs num = how many values to take from the range"
                    )
        return self


def read_sweep_file(path: str | Path) -> tuple[SweepSpec, str]:
    """Read and check a sweep file; return the spec and the file's text (kept in the manifest).

    Raises :class:`UsageError` with one line naming the file and the field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: sweep file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read the sweep file ({error})") from None
    return parse_sweep_text(text, origin=str(path)), text


def parse_sweep_text(text: str, origin: str = "sweep") -> SweepSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{origin}: not valid TOML ({error})") from None
    except RecursionError:
        raise UsageError(f"{origin}: not valid TOML (nested too deeply)") from None
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as error:
        raise UsageError(f"{origin}: {first_problem(error)}") from None


def first_problem(error: ValidationError) -> str:
    """The first problem of a sweep file's validation, as ``location: message`` in the file's terms."""
    problem = error.errors()[0]
    # Union members add their type name to the location; it only confuses the reader.
    parts = [str(part) for part in problem["loc"] if not _is_type_tag(part)]
    location = ".".join(toml_key(part) for part in parts)
    message = problem["msg"].removeprefix("Value error, ")
    if parts[:2] == ["design", "levels"]:
        message = f"a Morris design needs at least 2 grid levels per parameter (got {problem.get('input')!r})"
    elif "levels" in parts and parts[0] == "parameters":
        message = f"a level must be a number, text or true/false (got {problem.get('input')!r})"
    elif problem["type"] == "model_type" and len(parts) == 2 and parts[0] == "parameters":
        message = "expected { levels = [...] } or { low = ..., high = ... }"
    elif problem["type"] == "extra_forbidden":
        message = "unknown setting"
    elif problem["type"] == "missing":
        message = "required setting is missing"
    elif problem["type"] != "value_error":
        given = problem.get("input")
        if not isinstance(given, (dict, list)):
            shown = repr(given) if len(repr(given)) <= 60 else f"{repr(given)[:60]}..."
            message = f"{message.lower()} (got {shown})"
    return f"{location}: {message}" if location else message


def toml_key(name: str) -> str:
    """A key as TOML spells it: a dotted scenario key inside a table is quoted."""
    return f'"{name}"' if "." in name or " " in name else name


def _is_type_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part in {"bool", "int", "float", "str"} or part.startswith(("function-", "constrained-"))
    )
