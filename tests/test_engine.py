"""The engine behind compare, calibrate and optimize: paired streams, same results anywhere."""

import numpy as np
import pytest

from funnelsim import ScenarioError
from funnelsim.experiments.engine import evaluate

SMALL = {"market.consumers": 400, "market.steps": 20}


def test_points_share_replication_streams():
    """Two identical points are the same runs: common random numbers make their difference zero."""
    result = evaluate("baseline", [SMALL, SMALL], replications=3, seed=5)
    customers = result.measure("customers", firm=0)
    assert customers.shape == (2, 3)
    np.testing.assert_array_equal(customers[0], customers[1])
    assert len(set(customers[0])) > 1  # replications differ from each other


def test_pool_gives_the_same_numbers_as_this_process():
    serial = evaluate("baseline", [SMALL], replications=2, seed=9, timeseries=["customers"])
    pooled = evaluate("baseline", [SMALL], replications=2, seed=9, timeseries=["customers"], workers=2)
    assert serial.summary.equals(pooled.summary)
    assert serial.timeseries.equals(pooled.timeseries)


def test_extra_replications_extend_without_rerunning():
    both = evaluate("baseline", [SMALL], replications=2, seed=3).measure("profit", firm="Closer")
    second = evaluate("baseline", [SMALL], replications=1, seed=3, first_replication=1).measure("profit", firm="Closer")
    assert both[0, 1] == second[0, 0]


def test_a_bad_point_stops_before_any_run():
    with pytest.raises(ScenarioError, match="market.consumers"):
        evaluate("baseline", [SMALL, {"market.consumers": -1}])
