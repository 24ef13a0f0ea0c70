"""The live page's features in a real browser, one test each: what a user sees and can do.

The server runs ``small_market.toml`` (300 consumers, firms Acme and Rival; see its header).
"""

from __future__ import annotations

import re
import time

from harness import UPDATE_SECONDS
from playwright.sync_api import expect

WAIT = UPDATE_SECONDS * 1000


def _marks(option: dict) -> list[dict]:
    return [mark for one in option["series"] for mark in (one.get("markLine") or {}).get("data", [])]


def _eventually(read, seconds: float = UPDATE_SECONDS):
    """``read()`` once it gives something truthy (the browser applies a new option a moment
    after the step counter moves), or its last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def _select(live, label: str, option: str) -> None:
    """Choose ``option`` in the select labelled ``label``, as a user does: open it, click."""
    live.page.get_by_role("button", name=re.compile("^" + re.escape(label))).first.click()
    live.page.get_by_role("option", name=option).click()


def test_tab_has_a_real_title_and_nothing_covers_the_last_chart_at_900_px(open_page):
    live = open_page(width=900)
    assert live.page.title() == "funnelsim: small_market"
    expect(live.page.get_by_text("runs on Solara")).to_have_count(0)
    # Below 960 px Solara shows the levers as a drawer over the page; a click beside it closes it.
    live.page.mouse.click(880, 500)
    live.page.wait_for_timeout(800)  # the drawer slides away
    last = live.charts().last
    last.evaluate("el => el.scrollIntoView({block: 'end'})")
    live.page.wait_for_timeout(300)
    box = last.bounding_box()
    # The chart's own lower right corner, where Solara's banner used to sit.
    on_top = live.page.evaluate(
        "([x, y]) => { const charts = document.querySelectorAll('.solara-echarts');"
        " const el = document.elementFromPoint(x, y);"
        " return charts[charts.length - 1].contains(el) ? 'chart' : (el ? el.outerHTML.slice(0, 200) : 'nothing'); }",
        [box["x"] + box["width"] - 40, box["y"] + box["height"] - 12],
    )
    assert on_top == "chart"
    assert live.problems == []


def test_description_follows_the_chosen_network_and_hubs_draw_a_ball_not_a_star(open_page):
    live = open_page()
    description = live.page.locator(".funnelsim-description")
    expect(description).to_contain_text("300 consumers on a small world (Watts-Strogatz) network")
    consumers = live.slider("Consumers")
    consumers.focus()
    for _ in range(3):  # 300 -> 600 consumers, more than the 400 the network view draws
        consumers.press("ArrowRight")
    expect(consumers).to_have_attribute("aria-valuenow", "600", timeout=WAIT)
    _select(live, "Network", "hubs (Barabasi-Albert)")
    expect(live.page.get_by_text("Market levers changed")).to_be_visible(timeout=WAIT)
    live.reset()
    expect(description).to_contain_text("600 consumers on a hubs (Barabasi-Albert) network", timeout=WAIT)
    expect(description).not_to_contain_text("small world")
    subtitle = live.chart_option(0)["title"][0]["subtext"]
    assert subtitle.startswith("400 of 600 consumers: a ball around one")
    assert live.problems == []


def test_mix_shares_always_sum_to_100_percent(open_page):
    live = open_page()
    shares = [live.slider(f"{channel} share") for channel in ("Email", "Blogging", "Media", "Jingles")]
    live.slider_to_minimum("Email share")
    expect(shares[1]).not_to_have_attribute("aria-valuenow", "0.25", timeout=WAIT)
    values = [float(slider.get_attribute("aria-valuenow")) for slider in shares]
    assert values[0] == 0
    assert abs(sum(values) - 1) < 1e-6
    assert sorted(values[1:]) == [0.33, 0.33, 0.34]  # equal before, so (as near as whole percents go) after
    expect(live.page.get_by_text("Blogging share: 34%")).to_be_visible()
    expect(live.page.locator(".funnelsim-mix-note")).to_contain_text("always sum to 100%")
    assert live.problems == []


def test_play_interval_slider_shows_its_value(open_page):
    live = open_page()
    expect(live.page.get_by_text("Play interval: 200 ms per step")).to_be_visible()
    slider = live.slider("Play interval")
    slider.focus()
    slider.press("ArrowRight")
    expect(live.page.get_by_text("Play interval: 220 ms per step")).to_be_visible(timeout=WAIT)


def test_a_firm_lever_acts_on_the_running_model_and_the_charts_mark_when(open_page):
    live = open_page()
    live.step(2)
    price = live.slider("Price")
    before = price.get_attribute("aria-valuenow")
    price.focus()
    price.press("ArrowRight")
    expect(price).not_to_have_attribute("aria-valuenow", before, timeout=WAIT)
    expect(live.page.get_by_text("act from the next step")).to_be_visible(timeout=WAIT)
    expect(live.page.get_by_text("press Reset")).to_have_count(0)
    live.step()
    assert live.headline("step") == "3"  # the model went on; it was not rebuilt
    expect(live.page.get_by_text("act from the next step")).to_have_count(0, timeout=WAIT)
    for index in range(1, 6):  # every time chart carries the mark at the step of the change
        marks = _eventually(lambda index=index: _marks(live.chart_option(index)))
        assert marks, index
        assert marks[0]["xAxis"] == 2
        assert "Acme: price ($) 90 → " in marks[0]["name"]
    assert live.problems == []


def test_hovering_a_consumer_shows_its_state(open_page):
    live = open_page()
    live.step()
    text = live.hover_first_consumer()
    assert re.search(r"consumer \d+", text)
    for part in ("stage:", "awareness of Acme:", "needs the product:", "willing to pay: $", "ties:"):
        assert part in text, text


def test_run_table_downloads_as_csv(open_page, tmp_path):
    live = open_page()
    live.step(2)
    with live.page.expect_download(timeout=WAIT) as download:
        live.page.get_by_role("button", name=re.compile("Download the run table")).click()
    path = tmp_path / "run.csv"
    download.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("step,firm,")
    assert len(lines) == 1 + 3 * 2  # steps 0-2, two firms
    assert download.value.suggested_filename.endswith(".csv")


def test_a_chart_downloads_as_png(open_page, tmp_path):
    live = open_page()
    chart = live.charts().nth(2)
    chart.scroll_into_view_if_needed()
    # The toolbox exists only once ECharts has made the chart (a moment after the page): clicking
    # its corner before that clicks nothing.
    assert live.chart_option(2) is not None
    live.page.wait_for_timeout(300)
    box = chart.bounding_box()
    # ECharts' save-as-image button: the toolbox at the top right (right 6 px, 5 px padding, 14 px icon).
    x, y = box["x"] + box["width"] - 6 - 5 - 7, box["y"] + 5 + 7
    live.page.mouse.move(x, y)
    with live.page.expect_download(timeout=WAIT) as download:
        live.page.mouse.click(x, y)
    path = tmp_path / "chart.png"
    download.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert download.value.suggested_filename == "market-share.png"


def test_about_panel_gives_the_step_order_and_what_each_lever_means(open_page):
    live = open_page()
    live.page.get_by_text("About this model").click()
    expect(live.page.get_by_text("Word of mouth: aware consumers")).to_be_visible(timeout=WAIT)
    # the lever's meaning is the schema's own description of the setting
    expect(live.page.get_by_text(re.compile(r"Salespeople, each working one lead at a time"))).to_be_visible()


def test_steps_per_second_readout_while_playing(open_page):
    live = open_page()
    assert live.headline("speed") == "not running"
    live.page.get_by_role("button", name="▶").click()
    expect(live.page.locator(".funnelsim-headline-speed .funnelsim-headline-value")).to_have_text(
        re.compile(r"^\d+\.\d steps/s$"), timeout=WAIT
    )
    live.page.get_by_role("button", name="❚❚").click()
    assert live.headline_number("speed") > 0
    assert live.problems == []
