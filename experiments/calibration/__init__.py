"""Calibration: fit the Bass model and the agent-based model to a market's own sales, and forecast.

- :mod:`.data` reads and checks the observed table;
- :mod:`.bass_nls` fits p, q, m by nonlinear least squares (the quick answer);
- :mod:`.bass_keys` turns fitted values into scenario overrides the loader accepts;
- :mod:`.abc_fit` fits scenario keys by ABC-SMC (pyabc) through the engine's runs;
- :mod:`.forecast` and :mod:`.figures` make the band, the forecast table and the figure;
- :mod:`.outputs` writes the results folder; :mod:`.command` is ``funnelsim calibrate``.
"""

__all__ = ["CalibrationResult", "calibrate"]


def __getattr__(name: str):
    # Imported on first use: ``funnelsim --help`` loads this package's command module and must
    # not pay for scipy, pandas and matplotlib.
    if name in __all__:
        from funnelsim.experiments.calibration import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
