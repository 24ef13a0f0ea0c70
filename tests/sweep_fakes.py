"""Test-only run functions for the sweep tests, importable by pool and Dask workers.

Workers find this module because the tests put this folder on their ``sys.path`` / ``PYTHONPATH``.
Each function takes a :class:`funnelsim.experiments.sweep_plan.RunTask` like the real run function.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np


def linear_response(task):
    """profit = 4 * quality + 2 * in_market_share + noise; ``firms.0.coverage`` has no effect at all."""
    rng = np.random.default_rng(task.seed_sequence())
    quality = task.overrides["firms.0.quality"]
    share = task.overrides["market.in_market_share"]
    _coverage = task.overrides["firms.0.coverage"]  # deliberately unused
    return {"Firm A.profit": 4.0 * quality + 2.0 * share + 0.01 * rng.standard_normal()}


def fail_on_high_price(task):
    """Raises for one price level, so a sweep has a deliberately failing point."""
    price = task.overrides["firms.0.price"]
    if price > 150:
        raise ValueError(f"price {price} is too high for this test")
    rng = np.random.default_rng(task.seed_sequence())
    return {"Firm A.profit": price * rng.uniform()}


def slow_draw(task):
    """A run that takes a little while, so a driver can be killed while runs are in flight."""
    time.sleep(0.05)
    rng = np.random.default_rng(task.seed_sequence())
    return {"Firm A.profit": float(rng.uniform()), "Firm A.customers": int(rng.integers(100))}


def swallow_interrupt(task):
    """Run 1 meets a Ctrl-C inside code that swallows it and fails instead, as numba's compiler does
    when the interrupt lands in its ctypes callback from LLVM."""
    if task.run_id == 1 and not os.environ.get("FUNNELSIM_TEST_NO_INTERRUPT"):
        try:
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.1)  # the handler runs here at the latest
        except KeyboardInterrupt:
            raise RuntimeError("no compiled object yet (the interrupt was swallowed)") from None
    rng = np.random.default_rng(task.seed_sequence())
    return {"Firm A.profit": float(rng.uniform())}


def die_once(task):
    """Kills its own worker process the first time run 3 is tried (a marker file remembers)."""
    marker = Path(os.environ["FUNNELSIM_TEST_MARKER_DIR"]) / f"died-{task.run_id}"
    if task.run_id == 3 and not marker.exists():
        marker.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    rng = np.random.default_rng(task.seed_sequence())
    return {"Firm A.profit": float(rng.uniform())}
