"""Fixtures for the browser tests: one ``funnelsim serve`` per module and one headless Chromium.

The tests need Debian's Chromium and the local copy of Solara's front-end files (this machine
cannot reach the CDN); ``scripts/install-browser-deps.sh`` installs both. Without them the
tests are skipped with that instruction, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the harness module beside this file

import harness  # noqa: E402

from funnelsim.viz import assets  # noqa: E402

SMALL_MARKET = Path(__file__).parent / "small_market.toml"


def _missing_requirements() -> str | None:
    if os.environ.get("FUNNELSIM_SKIP_BROWSER"):
        return os.environ["FUNNELSIM_SKIP_BROWSER"]
    if harness.chromium_path() is None:
        return "Chromium is not installed"
    if not assets.is_filled():
        return f"the Solara asset cache {assets.cache_dir()} is not filled"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _missing_requirements()
    if missing:
        message = f"{missing}: run scripts/install-browser-deps.sh"
        if os.environ.get("CI") and not os.environ.get("FUNNELSIM_SKIP_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = harness.launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def live_server(browser, tmp_path_factory):
    """``funnelsim serve`` on the small test market, stopped by its process id afterwards."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    server = harness.start_server(SMALL_MARKET, log)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_page(browser, live_server):
    """Open the live page in a browser tab and wait for its Step button.

    Each call opens a new browser window (context); ``beside=page`` opens a second tab in the
    window of an open page instead, sharing its cookies as tabs do.
    """
    contexts = []

    def opener(beside: harness.LivePage | None = None, width: int = 1400) -> harness.LivePage:
        if beside is not None:
            context = beside.page.context
        else:
            context = browser.new_context(viewport={"width": width, "height": 1000}, accept_downloads=True)
            contexts.append(context)
        return harness.LivePage(context.new_page(), live_server).open()

    yield opener
    for context in contexts:
        context.close()
