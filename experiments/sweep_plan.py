"""The sweep plan: a checked sweep file turned into design points and run tasks.

This is where the sweep file meets the scenario: the base scenario is loaded once (with the
``[fixed]`` overrides) and resolved to a plain dict that every task carries, so workers on other
machines never need the driver's files. Each parameter is either a scenario setting (its type
decides whether range values are rounded) or a study variable used by a ``[derived]`` expression.
Design points are checked against the scenario schema before anything runs, so a bad key or an
out-of-bounds value stops the sweep with one line instead of failing every run.

Runs are numbered ``run_id = point_id * replications + replication``; replication ``r`` of every
design point draws its random numbers from ``SeedSequence(seed, spawn_key=(r,))``
(:func:`funnelsim.experiments.engine.replication_stream`), whatever order runs finish in: the
same stream at every point (common random numbers), so differences between points are paired.

``funnelsim run`` is a one-point plan (:func:`make_run_plan`): the same tasks, executors, loop and
results folder as a sweep.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from funnelsim.errors import UsageError
from funnelsim.experiments.designs import Design, build_design
from funnelsim.experiments.engine import replication_stream
from funnelsim.experiments.expressions import ExpressionError, evaluate_expression
from funnelsim.experiments.sweep_spec import SweepSpec, toml_key
from funnelsim.model.scenario import Scenario, get_dotted, looks_like_path
from funnelsim.suggest import did_you_mean

#: The run function used when a sweep file names none.
DEFAULT_RUN_FUNCTION = "funnelsim.experiments.run_functions:run_market_model"

#: Points checked against the scenario schema before a sweep starts. Beyond this the rows where
#: a parameter takes its smallest or largest value are still checked; any other bad point
#: becomes a failed run with the scenario's message.
MAX_POINTS_CHECKED = 5000


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs, picklable, sent to whichever worker runs it."""

    run_id: int
    point_id: int
    replication: int
    seed: int  # the sweep's seed
    parameters: dict[str, Any]  # the design's values, by parameter name
    overrides: dict[str, Any]  # scenario overrides: varied settings and derived ones
    scenario: Scenario  # the validated base scenario (a file network travels parsed, not as a path)
    steps: int
    summary_measures: tuple[str, ...] | None  # None keeps every measure
    timeseries_columns: tuple[str, ...] = ()

    def seed_sequence(self) -> np.random.SeedSequence:
        """This run's stream: replication r's, the same at every point, machine and order."""
        return replication_stream(self.seed, self.replication)


@dataclass
class SweepPlan:
    spec: SweepSpec
    sweep_path: str
    seed: int
    run_function: str
    base_scenario: dict[str, Any]  # the validated base as plain data, for the manifest
    base: Scenario  # the same, validated, as tasks carry it
    design: Design
    derived: pd.DataFrame  # point_id and one column per derived setting
    scenario_parameters: list[str]  # parameters that are scenario settings (the rest are study variables)
    steps: int
    measures: list[str] | None = None  # the measure columns of the results; None: found from the first runs
    _parameters: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _overrides: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def n_points(self) -> int:
        return len(self.design.points)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.spec.replications

    def point_table(self) -> pd.DataFrame:
        """Design points with their derived settings and unit coordinates (``design.parquet``)."""
        table = self.design.table()
        if len(self.derived.columns) > 1:
            table = table.merge(self.derived, on="point_id")
        return table

    def overrides_of(self, point_id: int) -> dict[str, Any]:
        return self._overrides[point_id]

    def task(self, run_id: int) -> RunTask:
        point_id, replication = divmod(run_id, self.spec.replications)
        outputs = self.spec.outputs
        return RunTask(
            run_id=run_id,
            point_id=point_id,
            replication=replication,
            seed=self.seed,
            parameters=self._parameters[point_id],
            overrides=self._overrides[point_id],
            scenario=self.base,
            steps=self.steps,
            summary_measures=tuple(outputs.summary) if outputs.summary is not None else None,
            timeseries_columns=tuple(outputs.timeseries),
        )

    def tasks(self, skip: np.ndarray | None = None) -> Iterator[RunTask]:
        """Tasks in run id order, made lazily so a million runs never sit in memory at once."""
        for run_id in range(self.n_runs):
            if skip is None or not skip[run_id]:
                yield self.task(run_id)


def make_plan(spec: SweepSpec, sweep_path: str | Path, seed: int) -> SweepPlan:
    """Resolve the scenario, sample the design, compute derived settings and check every point."""
    from funnelsim import load_scenario
    from funnelsim.model.scenario import ScenarioError

    where = str(sweep_path)
    source = _scenario_source(spec.scenario, Path(sweep_path).parent)
    try:
        validated = load_scenario(source, overrides=spec.fixed)
    except ScenarioError as error:
        raise UsageError(f"{where}: scenario: {error}") from None
    base = validated.to_dict()

    scenario_parameters, integer_parameters = _classify_parameters(spec, base, where)
    from funnelsim.experiments.limits import check_run_count, design_size

    check_run_count(design_size(spec) * spec.replications, where)  # before sampling the design
    design = build_design(spec.parameters, spec.design, seed, frozenset(integer_parameters), where=f"{where}: design")
    derived = _derived_settings(spec, design, base, where)

    parameters = [
        {name: _native(value) for name, value in row.items()}
        for row in design.points.drop(columns="point_id").to_dict(orient="records")
    ]
    overrides = []
    for point_id, values in enumerate(parameters):
        point = {name: _native(values[name], _lookup(base, name)) for name in scenario_parameters}
        for key in spec.derived:
            point[key] = _native(derived.at[point_id, key])
        overrides.append(point)

    _check_points(overrides, design, validated, where)
    steps = spec.steps if spec.steps is not None else int(base["market"]["steps"])
    run_function = spec.run_function or DEFAULT_RUN_FUNCTION
    load_run_function(run_function, where)
    measures = list(spec.outputs.summary) if spec.outputs.summary is not None else None
    if run_function == DEFAULT_RUN_FUNCTION:
        from funnelsim.experiments.run_functions import check_output_names

        measures = check_output_names(validated, overrides[0], spec.outputs.summary, spec.outputs.timeseries, where)
    return SweepPlan(
        spec=spec,
        sweep_path=where,
        seed=seed,
        run_function=run_function,
        base_scenario=base,
        base=validated,
        design=design,
        derived=derived,
        scenario_parameters=scenario_parameters,
        steps=steps,
        measures=measures,
        _parameters=parameters,
        _overrides=overrides,
    )


def make_run_plan(scenario: Scenario, replications: int, seed: int, steps: int, timeseries: tuple[str, ...]) -> SweepPlan:
    """``funnelsim run`` as a plan: one design point (the scenario as given), ``replications``
    runs of it, every summary measure and the ``timeseries`` columns kept."""
    from funnelsim.experiments.run_functions import check_output_names
    from funnelsim.experiments.sweep_spec import DesignSpec, OutputsSpec

    # Built without validation: a one-point plan varies nothing, which a sweep file may not do.
    spec = SweepSpec.model_construct(
        description=f"funnelsim run {scenario.name}",
        scenario=scenario.name,
        steps=steps,
        replications=replications,
        seed=seed,
        run_function=None,
        fixed={},
        parameters={},
        derived={},
        design=DesignSpec.model_construct(kind="single", samples=None, second_order=False, levels=0),
        outputs=OutputsSpec.model_construct(summary=None, timeseries=list(timeseries)),
    )
    design = Design(kind="single", points=pd.DataFrame({"point_id": np.array([0], dtype=np.int64)}), unit_sample=None)
    return SweepPlan(
        spec=spec,
        sweep_path="",
        seed=seed,
        run_function=DEFAULT_RUN_FUNCTION,
        base_scenario=scenario.to_dict(),
        base=scenario,
        design=design,
        derived=pd.DataFrame({"point_id": design.points["point_id"]}),
        scenario_parameters=[],
        steps=steps,
        measures=check_output_names(scenario, {}, None, list(timeseries), scenario.name),
        _parameters=[{}],
        _overrides=[{}],
    )


#: Entry-point group under which installed packages offer run functions to sweep files.
RUN_FUNCTION_ENTRY_POINTS = "funnelsim.run_functions"


def check_run_function_allowed(reference: str, where: str, allowed_modules: Sequence[str] = ()) -> str:
    """Refuse a sweep file's ``run_function`` that nobody but the file vouches for.

    A sweep file is data: importing the module it names would run that module's code. Allowed
    are funnelsim's own run function, functions that installed packages register under the
    ``funnelsim.run_functions`` entry-point group (by entry-point name or by its
    ``module:function`` value), and modules the person running passes with
    ``--allow-run-function MODULE``. Returns the ``module:function`` reference to import.
    """
    from importlib.metadata import entry_points

    if reference == DEFAULT_RUN_FUNCTION:
        return reference
    registered = {entry.name: entry.value for entry in entry_points(group=RUN_FUNCTION_ENTRY_POINTS)}
    if reference in registered:
        return registered[reference]
    if reference in registered.values():
        return reference
    module_name = reference.partition(":")[0]
    if module_name and module_name in set(allowed_modules):
        return reference
    raise UsageError(
        f"{where}: run_function '{reference}': not allowed; a sweep file cannot import code by itself "
        f"(pass --allow-run-function {module_name or 'MODULE'} if you trust it, or register it under the "
        f"'{RUN_FUNCTION_ENTRY_POINTS}' entry point)"
    )


def largest_point_scenarios(plan: SweepPlan) -> list[Scenario]:
    """The scenarios at the design points with the largest value of each numeric setting: the
    candidates for the largest memory footprint, checked without building every point."""
    from funnelsim import load_scenario

    rows = {0}
    overrides = pd.DataFrame(plan._overrides)
    for name in overrides.columns:
        column = pd.to_numeric(overrides[name], errors="coerce")
        if column.notna().any():
            rows.add(int(column.idxmax()))
    return [plan.base] + [load_scenario(plan.base, overrides=plan._overrides[row]) for row in sorted(rows)]


def load_run_function(reference: str, where: str = "sweep") -> Callable:
    """Import ``'module:function'``; a module-level function, so it pickles by reference."""
    if ":" not in reference:
        from importlib.metadata import entry_points

        registered = {entry.name: entry.value for entry in entry_points(group=RUN_FUNCTION_ENTRY_POINTS)}
        reference = registered.get(reference, reference)
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"{where}: run_function '{reference}': expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"{where}: run_function '{reference}': cannot import {module_name} ({error})") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise UsageError(f"{where}: run_function '{reference}': {module_name} has no function {attribute}")
    return function


def _scenario_source(scenario: str, sweep_dir: Path) -> str:
    """A scenario that looks like a file is found next to the sweep file; a name is a built-in."""
    if not looks_like_path(scenario):
        return scenario
    path = Path(scenario).expanduser()
    return str(path if path.is_absolute() else (sweep_dir / path).resolve())


_MISSING = object()


def _lookup(scenario: dict[str, Any], dotted: str) -> Any:
    """The base value at a dotted key, or _MISSING when the scenario has no such setting."""
    return get_dotted(scenario, dotted, _MISSING)


def _classify_parameters(spec: SweepSpec, base: dict[str, Any], where: str) -> tuple[list[str], list[str]]:
    """Split parameters into scenario settings and study variables; find integer settings."""
    expressions = " ".join(spec.derived.values())
    scenario_parameters, integer_parameters = [], []
    for name, parameter in spec.parameters.items():
        value = _lookup(base, name)
        if value is _MISSING or isinstance(value, (dict, list)):
            if not _is_used_in(name, expressions):
                what = (
                    "is a table, not a setting"
                    if value is not _MISSING
                    else f"no such setting in the scenario{did_you_mean(name, _dotted_keys(base))}"
                )
                raise UsageError(
                    f"{where}: parameters.{toml_key(name)}: {what}, and no [derived] expression uses it"
                )
            continue
        scenario_parameters.append(name)
        if parameter.is_range:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(
                    f"{where}: parameters.{toml_key(name)}: a low/high range needs a numeric setting, "
                    f"but the scenario has {value!r}; use levels = [...]"
                )
            if isinstance(value, int):
                integer_parameters.append(name)
    for key in spec.derived:
        if _lookup(base, key) is _MISSING:
            raise UsageError(
                f"{where}: derived.{toml_key(key)}: no such setting in the scenario{did_you_mean(key, _dotted_keys(base))}"
            )
    return scenario_parameters, integer_parameters


def _dotted_keys(node: Any, prefix: str = "") -> list[str]:
    """Every setting of a resolved scenario as a dotted key (``firms.0.price``)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = ((str(index), value) for index, value in enumerate(node))
    else:
        return [prefix]
    keys = []
    for key, value in items:
        keys.extend(_dotted_keys(value, f"{prefix}.{key}" if prefix else str(key)))
    return keys


def _is_used_in(name: str, expressions: str) -> bool:
    return f"`{name}`" in expressions or re.search(rf"(?<![\w.`]){re.escape(name)}(?![\w.`])", expressions) is not None


def _derived_settings(spec: SweepSpec, design: Design, base: dict[str, Any], where: str) -> pd.DataFrame:
    """Evaluate each ``[derived]`` expression over the whole design (bounded arithmetic, no code)."""
    derived = pd.DataFrame({"point_id": design.points["point_id"]})
    columns = {str(name): design.points[name].to_numpy() for name in design.points.columns if is_numeric_dtype(design.points[name])}
    for key, expression in spec.derived.items():
        try:
            values = evaluate_expression(expression, columns)
        except ExpressionError as error:
            raise UsageError(f"{where}: derived.{toml_key(key)}: cannot evaluate '{expression[:80]}' ({error})") from None
        target = _lookup(base, key)
        derived[key] = [_native(value, target, round_to_int=True) for value in values]
    return derived


def _check_points(overrides: list[dict[str, Any]], design: Design, validated: Scenario, where: str) -> None:
    from funnelsim import load_scenario
    from funnelsim.model.scenario import ScenarioError

    rows = set(range(min(len(overrides), MAX_POINTS_CHECKED)))
    for name in design.parameter_names:
        column = design.points[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            rows.update((int(column.idxmin()), int(column.idxmax())))
    for point_id in sorted(rows):
        try:
            load_scenario(validated, overrides=overrides[point_id])
        except ScenarioError as error:
            shown = ", ".join(f"{key}={value!r}" for key, value in overrides[point_id].items())
            message = str(error).removeprefix(f"scenario '{validated.name}': ")
            raise UsageError(f"{where}: design point {point_id} ({shown}): {message}") from None


def _native(value: Any, like: Any = None, round_to_int: bool = False) -> Any:
    """A plain Python value for a scenario setting like ``like``: the schema is strict, so no numpy
    scalars, and an int where it wants an int. Only computed values are rounded; a level of 2.5
    for an integer setting is left for the schema to reject."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(like, bool) or isinstance(value, bool):
        return value
    if isinstance(like, int) and isinstance(value, float) and np.isfinite(value):
        if round_to_int or value.is_integer():
            return int(round(value))
    if isinstance(like, float) and isinstance(value, int):
        return float(value)
    return value
