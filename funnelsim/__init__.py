"""funnelsim: an agent-based simulation of how marketing and sales turn a population into customers.

The public entry points are re-exported here so that a user writes
``from funnelsim import load_scenario, MarketModel, load_results``. ``MarketModel`` and
``load_results`` are imported on first use:
it pulls in Mesa, pandas and scipy, which commands such as ``funnelsim scenarios`` or a bad-input
error never need.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("funnelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

from funnelsim.model.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["MarketModel", "Scenario", "ScenarioError", "load_results", "load_scenario", "__version__"]


def __getattr__(name: str):
    if name == "MarketModel":
        from funnelsim.model.market import MarketModel

        return MarketModel
    if name == "load_results":
        from funnelsim.experiments.results import load_results

        return load_results
    raise AttributeError(f"module 'funnelsim' has no attribute '{name}'")
