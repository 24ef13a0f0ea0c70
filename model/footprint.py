"""How much memory a run will need, known before anything is built.

A billion consumers or a billion salespeople are valid numbers to pydantic, and the model would
spend half a minute growing towards a MemoryError (or the machine's swap) before failing. The
estimate here is a linear model of what a run holds: per consumer (state arrays, per firm), per
network tie (the CSR adjacency and the builder's transient copy), per agent (a Mesa agent per
salesperson and marketer). Its constants were measured with ``tracemalloc`` on this code
(``tests/test_footprint.py`` checks that the estimate stays above the measured peak and within
a small factor of it), so it is a guard against absurd requests, not a profiler.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from funnelsim.errors import UsageError

if TYPE_CHECKING:
    from funnelsim.model.scenario import Scenario

#: Bytes per consumer, per consumer and firm, per directed network tie, per Mesa agent.
BYTES_PER_CONSUMER = 200
BYTES_PER_CONSUMER_AND_FIRM = 48
BYTES_PER_TIE = 32
BYTES_PER_AGENT = 1500

#: Share of the machine's available memory one run may plan to use.
SAFE_SHARE = 0.8


def run_bytes(scenario: Scenario) -> int:
    """Estimated peak bytes of one run of ``scenario`` (a validated Scenario)."""
    consumers = scenario.market.consumers
    firms = len(scenario.firms)
    kind = scenario.network.kind
    if kind == "complete":
        ties = 0  # word of mouth is mean-field: no edges are stored
    elif kind == "file":
        ties = 2 * consumers * max(scenario.network.k, 1)
    else:
        ties = consumers * max(scenario.network.k, 1)
    agents = sum(firm.sales.salespeople + firm.marketing.marketers for firm in scenario.firms)
    return (
        consumers * (BYTES_PER_CONSUMER + BYTES_PER_CONSUMER_AND_FIRM * firms)
        + ties * BYTES_PER_TIE
        + agents * BYTES_PER_AGENT
    )


def available_bytes() -> int:
    """Memory the machine can give now (MemAvailable on Linux, physical memory elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(scenario: Scenario, parallel_runs: int = 1, where: str = "scenario") -> int:
    """Refuse, in one line, a run (or ``parallel_runs`` at once) that cannot fit in memory.

    Returns the estimate in bytes. Nothing has been built or written when this raises.
    """
    needed = run_bytes(scenario) * max(1, parallel_runs)
    available = available_bytes()
    if needed > SAFE_SHARE * available:
        runs = f"{parallel_runs} runs at once" if parallel_runs > 1 else "one run"
        raise UsageError(
            f"{where}: market.consumers = {scenario.market.consumers:,} with {len(scenario.firms)} firm(s) on a "
            f"{scenario.network.kind} network needs about {_gib(needed)} for {runs}; this machine has "
            f"{_gib(available)} available (use fewer consumers, a sparser network or fewer --workers)"
        )
    return needed


def _gib(count: int) -> str:
    return f"{count / 2**30:,.1f} GiB"
