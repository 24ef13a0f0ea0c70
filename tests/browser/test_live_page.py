"""The live page in a real browser: it renders, steps, rebuilds from its levers, and keeps tabs apart.

The server runs ``small_market.toml`` (300 consumers who already know both firms), where the
firm Acme's salespeople close their first deals within the first steps.
"""

from __future__ import annotations

from harness import ARTIFACTS, UPDATE_SECONDS
from playwright.sync_api import expect

CHARTS_ON_PAGE = 6  # network, funnel, market share, money, spend, lead queue


def test_page_renders_without_failed_requests_or_errors(open_page):
    live = open_page()
    expect(live.charts()).to_have_count(CHARTS_ON_PAGE, timeout=UPDATE_SECONDS * 1000)
    for chart in live.charts().all():  # ECharts drew into each container
        expect(chart.locator("canvas")).to_have_count(1, timeout=UPDATE_SECONDS * 1000)
    assert live.headline("step") == "0"
    assert live.page.get_by_text("small_market").count() > 0  # the served scenario's name
    live.step(3)
    ARTIFACTS.mkdir(exist_ok=True)
    live.page.screenshot(path=str(ARTIFACTS / "serve-page.png"))
    assert live.problems == []


def test_step_advances_the_counter_and_redraws_the_charts(open_page):
    live = open_page()
    funnel = live.charts().nth(1)
    expect(funnel.locator("canvas")).to_have_count(1, timeout=UPDATE_SECONDS * 1000)
    before = funnel.screenshot()
    live.step()
    assert live.headline("step") == "1"
    live.page.wait_for_timeout(300)  # let the browser paint the new chart
    assert funnel.screenshot() != before
    assert live.problems == []


def test_zero_salespeople_and_reset_keeps_sales_closed_customers_at_zero(open_page):
    live = open_page()
    live.step(4)
    closed_with_salespeople = live.headline_number("sales-closed")
    assert closed_with_salespeople > 0  # otherwise the check below would prove nothing

    live.slider_to_minimum("Salespeople")
    live.reset()
    live.step(4)
    assert live.headline_number("sales-closed") == 0
    assert live.slider("Salespeople").get_attribute("aria-valuenow") == "0"
    assert live.problems == []


def test_two_tabs_keep_separate_models(open_page):
    first = open_page()
    second = open_page(beside=first)
    first.step(3)
    assert second.headline("step") == "0"
    second.step()
    assert first.headline("step") == "3"
    assert second.headline("step") == "1"
    assert first.problems == [] and second.problems == []
