"""funnelsim: an agent-based simulation of how marketing and sales turn a population into customers.

The public entry points are re-exported here so that a user writes
``from funnelsim import load_scenario, MarketModel``. ``MarketModel`` is imported on first use:
it pulls in Mesa, pandas and scipy, which commands such as ``funnelsim scenarios`` or a bad-input
error never need.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("funnelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

from funnelsim.model.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["MarketModel", "calibrate", "Scenario", "ScenarioError", "load_scenario", "__version__"]


def __getattr__(name: str):
    if name == "MarketModel":
        from funnelsim.model.market import MarketModel

        return MarketModel
    if name == "calibrate":
        from funnelsim.experiments.calibration import calibrate

        return calibrate
    raise AttributeError(f"module 'funnelsim' has no attribute '{name}'")
