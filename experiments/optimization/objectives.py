"""What an optimization may maximize, and which firm it is for.

The objective is one per-firm summary measure (:func:`funnelsim.model.metrics.summarize`), taken
at the end of a run and averaged over replications. Only measures that are defined for every
candidate are allowed: ratios such as ``marketing_return`` or ``acquisition_cost`` are left out
because they are undefined (NaN) when their denominator is zero, e.g. at a marketing share of 0
or when nobody buys, and because maximizing a ratio rewards spending nothing.
"""

from __future__ import annotations

from funnelsim.errors import UsageError
from funnelsim.model.scenario import Scenario
from funnelsim.suggest import did_you_mean

#: Measures an optimization may maximize, with what each means.
OBJECTIVES = {
    "profit": "cumulative revenue minus every cost (goods, promotion, pay, commissions, rewards)",
    "revenue": "cumulative revenue",
    "customers": "customers at the end of the run",
    "market_share": "the firm's customers over all customers at the end (1 when it is alone)",
    "penetration": "the firm's customers over all consumers at the end",
    "new_customers": "cumulative new customers (counts repurchases after churn)",
    "revenue_sales": "cumulative revenue closed by salespeople",
}


def check_objective(name: str) -> str:
    """``name`` if it is an allowed objective, else a one-line :class:`UsageError`."""
    if name not in OBJECTIVES:
        raise UsageError(
            f"--objective {name}: not a measure that can be optimized{did_you_mean(name, OBJECTIVES)}; "
            f"choose one of {', '.join(OBJECTIVES)}"
        )
    return name


def resolve_firm(scenario: Scenario, firm: int | str) -> int:
    """The index of ``firm``, given as an index (int or digits) or a name."""
    names = [f.name for f in scenario.firms]
    text = str(firm).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if not 0 <= index < len(names):
            raise UsageError(
                f"--firm {text}: scenario '{scenario.name}' has firms 0..{len(names) - 1} ({', '.join(names)})"
            )
        return index
    if text in names:
        return names.index(text)
    raise UsageError(
        f"--firm {text}: no such firm in scenario '{scenario.name}'{did_you_mean(text, names)}; "
        f"firms: {', '.join(names)}"
    )
