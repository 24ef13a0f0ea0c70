"""'Did you mean ...?' for a misspelt name, from the standard library's difflib."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(name: str, choices: Iterable[str], count: int = 3) -> list[str]:
    """The known names closest to ``name`` (difflib's ratio of at least 0.6), best first."""
    return difflib.get_close_matches(str(name), [str(choice) for choice in choices], n=count, cutoff=0.6)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest known name, or ``""`` when none is close."""
    matches = close_matches(name, choices, count=1)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
