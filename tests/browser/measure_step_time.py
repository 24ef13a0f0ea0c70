"""Measure one Step of the live page in a real browser, redraw included (not a test: a figure for the README).

Starts ``funnelsim serve`` on the baseline scenario at the given population, opens the page in
headless Chromium, and times clicks on Step: from the click until the step counter shows the new
step and the browser has painted two more frames (so the charts' new data is drawn). It does
this for steps near the start and again after playing to a later step, when the charts carry
more history. Prints medians and the slowest step; optionally saves a screenshot.

    python tests/browser/measure_step_time.py --consumers 2000 --screenshot docs/images/serve.png
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import harness  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from funnelsim import load_scenario  # noqa: E402

#: Clicks Step inside the page and resolves with the milliseconds until the step counter shows
#: the new step and every chart has finished drawing its new data (ECharts' "finished" event),
#: plus one painted frame (every chart changes on every step: the time axes grow, and the network
#: chart names the step). Timing inside the page leaves out Playwright's own round trips.
TIMED_STEP = """async ([want, echartsUrl]) => {
  const echarts = await new Promise(done => requirejs([echartsUrl], done));
  const charts = [...document.querySelectorAll('.solara-echarts')].map(el => echarts.getInstanceByDom(el));
  let unfinished = new Set(charts);
  const onFinished = chart => () => unfinished.delete(chart);
  const handlers = charts.map(chart => { const h = onFinished(chart); chart.on('finished', h); return h; });
  const shown = () => document.querySelector('.funnelsim-headline-step .funnelsim-headline-value');
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim().toLowerCase() === 'step');
  const frame = () => new Promise(done => requestAnimationFrame(done));
  const started = performance.now();
  button.click();
  while (!shown() || shown().innerText.trim() !== want || unfinished.size > 0) {
    if (performance.now() - started > 20000) throw new Error(`step ${want} not drawn within 20 s`);
    await frame();
  }
  await frame();
  const elapsed = performance.now() - started;
  charts.forEach((chart, i) => chart.off('finished', handlers[i]));
  return elapsed;
}"""


def write_scenario(folder: Path, consumers: int) -> Path:
    """The built-in baseline scenario with another population, as a file to serve."""
    text = (resources.files("funnelsim.model") / "scenarios" / "baseline.toml").read_text()
    text, replaced = re.subn(r"(?m)^consumers\s*=.*$", f"consumers = {consumers}", text, count=1)
    if not replaced:
        text = text.replace("[market]\n", f"[market]\nconsumers = {consumers}\n", 1)
    path = folder / f"baseline_{consumers}.toml"
    path.write_text(text)
    assert load_scenario(path).market.consumers == consumers
    return path


def time_steps(live: harness.LivePage, count: int) -> list[float]:
    """Seconds per step, each until the browser painted the redrawn page."""
    seconds = []
    for _ in range(count):
        target = int(live.headline_number("step")) + 1
        echarts_url = live.page.evaluate("() => `${window.solara.cdn}/echarts@5.4.0/dist/echarts.js`")
        elapsed_ms = live.page.evaluate(TIMED_STEP, [f"{target:,}", echarts_url])
        seconds.append(elapsed_ms / 1000)
        live.page.wait_for_timeout(200)  # let the server finish sending before the next click
    return seconds


def play_until(live: harness.LivePage, step: int) -> None:
    """Play to at least ``step``, pause, and wait until the page has caught up with the model."""
    live.page.get_by_role("button", name="▶").click()
    while live.headline_number("step") < step:
        live.server.check_alive()
        time.sleep(0.5)
    live.page.get_by_role("button", name="❚❚").click()
    shown, steady_since = live.headline("step"), time.monotonic()
    while time.monotonic() - steady_since < 3.0:  # the counter stood still for 3 s
        live.server.check_alive()
        time.sleep(0.25)
        if live.headline("step") != shown:
            shown, steady_since = live.headline("step"), time.monotonic()


def describe(label: str, seconds: list[float]) -> str:
    ms = sorted(1000 * value for value in seconds)
    return f"{label}: median {statistics.median(ms):.0f} ms, slowest {ms[-1]:.0f} ms over {len(ms)} steps"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20, help="steps timed at each point")
    parser.add_argument("--late-step", type=int, default=360, help="play to this step before the second timing")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the page here at the end")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        scenario = write_scenario(Path(folder), args.consumers)
        server = harness.start_server(scenario, Path(folder) / "serve.log")
        try:
            with sync_playwright() as playwright:
                browser = harness.launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                live = harness.LivePage(page, server).open()
                live.wait_for(live.charts().nth(5).locator("canvas"))
                time_steps(live, 2)  # warm up
                early = time_steps(live, args.steps)
                play_until(live, args.late_step)
                late = time_steps(live, args.steps)
                print(f"funnelsim serve, baseline scenario at {args.consumers:,} consumers, headless Chromium")
                print(describe("steps 3 onwards", early))
                print(describe(f"steps after {args.late_step}", late))
                if args.screenshot:  # tall enough to show all six charts
                    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.set_viewport_size({"width": 1400, "height": 1480})
                    page.wait_for_timeout(1500)  # the charts follow their containers' new size
                    page.screenshot(path=str(args.screenshot))
                    print(f"screenshot: {args.screenshot}")
                if live.problems:
                    print("problems seen by the page:", *live.problems, sep="\n  ")
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
