"""funnelsim: an agent-based simulation of how marketing and sales turn a population into customers.

The public entry points are re-exported here so that a user writes
``from funnelsim import load_scenario, MarketModel``. Everything but the scenario loader is
imported on first use: it pulls in Mesa, pandas, scipy or Optuna, which commands such as
``funnelsim scenarios`` or a bad-input error never need.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("funnelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

from funnelsim.model.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

#: Public names imported on first use, and the module each comes from.
_LAZY = {
    "MarketModel": "funnelsim.model.market",
    "compare": "funnelsim.experiments.compare",
    "optimize": "funnelsim.experiments.optimization",
}

__all__ = ["Scenario", "ScenarioError", "load_scenario", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'funnelsim' has no attribute '{name}'")
