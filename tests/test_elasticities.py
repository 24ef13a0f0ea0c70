"""The ``elasticities`` study: its arithmetic, its errors, and the calibrated baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from funnelsim.cli import main
from funnelsim.errors import UsageError
from funnelsim.experiments.elasticities import PUBLISHED, measure_elasticities, paired_elasticity


def test_paired_elasticity_is_the_arc_elasticity_per_replication():
    low = np.array([100.0, 200.0])
    # Customers proportional to budget^0.2: the arc estimate recovers 0.2 exactly.
    high = low * (1.1 / 0.9) ** 0.2
    assert np.allclose(paired_elasticity(low, high, 0.1), 0.2)
    assert paired_elasticity([50.0], [50.0], 0.1)[0] == 0.0
    with pytest.raises(UsageError, match="no customers"):
        paired_elasticity([0.0, 10.0], [5.0, 12.0], 0.1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"replications": 1}, "at least 2 replications"),
        ({"change": 1.5}, "change must be between 0 and 1"),
        ({"settings": ("loudness",)}, "unknown setting 'loudness'"),
        ({"firms": [7]}, "no firm 7"),
    ],
)
def test_bad_requests_fail_before_any_run(arguments, message):
    with pytest.raises(UsageError, match=message):
        measure_elasticities("baseline", **arguments)


def test_the_command_reports_bad_input_in_one_line(capsys):
    assert main(["elasticities", "--replications", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "at least 2 replications" in err


def test_sweep_elasticities_points_to_its_own_command(capsys):
    assert main(["sweep", "elasticities"]) == 2
    assert "funnelsim elasticities" in capsys.readouterr().err


def test_baseline_elasticities_have_the_right_sign_and_lie_in_the_published_ranges():
    """Quick form of the README's measurement: the baseline over one year, Loudmouth only, 6
    paired replications instead of 20. The tolerance is the measured spread: the 99% Student t
    interval of the estimate must overlap the published range, and the estimate must have the
    published sign. (The README's 20-replication values, with the seeds used here, sit inside
    both ranges; this test fails if a change moves them clearly out.)"""
    table = measure_elasticities("baseline", firms=[0], replications=6, seed=0, confidence=0.99)
    rows = table.set_index("setting")
    advertising, price = rows.loc["advertising"], rows.loc["price"]
    assert advertising["estimate"] > 0 > price["estimate"]
    for name, row in (("advertising", advertising), ("price", price)):
        low, high = PUBLISHED[name]
        assert row["low"] <= high and row["high"] >= low, f"{name}: {row['estimate']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"
        assert math.isfinite(row["std"]) and row["replications"] == 6
