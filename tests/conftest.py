"""Shared fixtures for the model's tests."""

from __future__ import annotations

import pytest

from funnelsim import Scenario, load_scenario


def _small_baseline(overrides: dict | None = None, consumers: int = 300, steps: int = 30) -> Scenario:
    """The baseline scenario at a quick size, with dotted-key overrides on top."""
    settings = {"market.consumers": consumers, "market.steps": steps}
    settings.update(overrides or {})
    return load_scenario("baseline", settings)


@pytest.fixture
def small_baseline():
    return _small_baseline
