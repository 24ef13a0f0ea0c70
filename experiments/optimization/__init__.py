"""Optimization of a firm's budget split: how much of a fixed budget per step goes to marketing,
over which channels, how many salespeople the rest buys, and which sales tactics, with the odds
that the answer is right.

Modules, one job each: :mod:`.objectives` (what may be maximized, which firm), :mod:`.space`
(what is searched), :mod:`.constraints` (what every candidate must meet), :mod:`.search` (the
Optuna loop over common random numbers, with resume), :mod:`.trial_store` (the working folder),
:mod:`.selection` (the winner and its uncertainty), :mod:`.figures`, :mod:`.outputs`,
:mod:`.api` (:func:`optimize`) and :mod:`.command` (``funnelsim optimize``).
"""

from funnelsim.experiments.optimization.api import OptimizationResult, optimize

__all__ = ["OptimizationResult", "optimize"]
