"""Sweep designs: which parameter points a sweep runs.

Every design is sampled in the unit cube first (one column per parameter, values in [0, 1]),
by scipy's ``qmc`` (Latin hypercube) or SALib (Sobol/Saltelli, Morris), never by hand. The unit
coordinates are then mapped to parameter values: a range to ``low + u (high - low)`` (rounded
when the scenario setting is an integer), a list of levels to the level whose slice of [0, 1)
holds ``u``. Keeping the unit sample lets SALib's analyzers see exactly the matrix its samplers
made. A grid has no unit sample: it is every combination of the parameters' values.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from funnelsim.errors import UsageError
from funnelsim.experiments.sweep_spec import DesignSpec, ParameterSpec

#: Column prefix of the unit coordinates in the design table (dotted keys never contain "::").
UNIT_PREFIX = "unit::"


@dataclass(frozen=True)
class Design:
    """The design points, in the order SALib expects them, with ``point_id`` 0..P-1."""

    kind: str
    points: pd.DataFrame  # point_id, then one column per parameter
    unit_sample: np.ndarray | None  # P x D matrix in [0, 1], for SALib's analyzers

    @property
    def parameter_names(self) -> list[str]:
        return [column for column in self.points.columns if column != "point_id"]

    def table(self) -> pd.DataFrame:
        """Points with their unit coordinates, as stored in ``design.parquet``."""
        if self.unit_sample is None:
            return self.points
        unit = pd.DataFrame(
            self.unit_sample, columns=[UNIT_PREFIX + name for name in self.parameter_names]
        )
        return pd.concat([self.points, unit], axis=1)


def salib_problem(names: list[str]) -> dict:
    """The SALib problem: every parameter on [0, 1], because designs are sampled in the unit cube."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def build_design(
    parameters: dict[str, ParameterSpec],
    design: DesignSpec,
    seed: int,
    integer_parameters: frozenset[str] = frozenset(),
    where: str = "design",
) -> Design:
    """Sample the design. ``integer_parameters`` are ranges whose values are rounded to int.

    Raises :class:`UsageError` when the sampler rejects the request (for example a Sobol size
    SALib refuses) or the design comes out empty.
    """
    names = list(parameters)
    if design.kind == "grid":
        points = _grid(parameters, integer_parameters)
        unit = None
    else:
        unit = _unit_sample(names, design, seed, where)
        points = pd.DataFrame(
            {
                name: _from_unit(unit[:, column], parameters[name], name in integer_parameters)
                for column, name in enumerate(names)
            }
        )
    if len(points) == 0:
        raise UsageError(f"{where}: the design has no points")
    points.insert(0, "point_id", np.arange(len(points), dtype=np.int64))
    return Design(kind=design.kind, points=points, unit_sample=unit)


def _grid(parameters: dict[str, ParameterSpec], integer_parameters: frozenset[str]) -> pd.DataFrame:
    value_lists = []
    for name, parameter in parameters.items():
        if parameter.levels is not None:
            value_lists.append(list(parameter.levels))
        else:
            assert parameter.num is not None, "SweepSpec requires num for every range of a grid"
            values = np.linspace(*parameter.span(), parameter.num)
            if name in integer_parameters:
                # Rounding a fine range of an integer setting repeats values; run each once.
                values = np.unique(np.rint(values)).astype(np.int64)
            value_lists.append([value.item() for value in values])
    rows = list(itertools.product(*value_lists))
    return pd.DataFrame(rows, columns=list(parameters)) if rows else pd.DataFrame(columns=list(parameters))


def _unit_sample(names: list[str], design: DesignSpec, seed: int, where: str) -> np.ndarray:
    # The design has its own stream: the root SeedSequence of the sweep's seed. Runs use its
    # children (spawn_key=(run_id,)), so the two never share random numbers.
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    problem = salib_problem(names)
    with warnings.catch_warnings():
        # SALib and scipy only warn when a Sobol size breaks the sequence's balance; treat it
        # as the refusal it is, so a sweep never runs a design its analysis cannot use.
        warnings.simplefilter("error", UserWarning)
        try:
            if design.kind == "latin_hypercube":
                return qmc.LatinHypercube(d=len(names), rng=rng).random(design.samples)
            if design.kind == "sobol":
                from SALib.sample import sobol

                return sobol.sample(problem, design.samples, calc_second_order=design.second_order, seed=rng)
            if design.kind == "morris":
                from SALib.sample import morris

                return morris.sample(problem, design.samples, num_levels=design.levels, seed=rng)
        except (ValueError, UserWarning) as error:
            message = " ".join(str(error).split())
            raise UsageError(f"{where}: {design.kind} sampler rejects samples = {design.samples}: {message}") from None
    raise UsageError(f"{where}: unknown design kind '{design.kind}'")


def _from_unit(unit: np.ndarray, parameter: ParameterSpec, integer: bool) -> list:
    if parameter.levels is None:
        low, high = parameter.span()
        values = low + unit * (high - low)
        if integer:
            return [int(value) for value in np.rint(values)]
        return [float(value) for value in values]
    count = len(parameter.levels)
    indices = np.minimum((unit * count).astype(np.int64), count - 1)
    return [parameter.levels[index] for index in indices]
