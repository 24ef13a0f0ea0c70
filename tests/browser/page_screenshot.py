"""Take the README's screenshot of the live page: the baseline market, a price cut made while it
runs (so the charts show the mark), and a consumer hovered (so its tooltip shows).

    python tests/browser/page_screenshot.py --consumers 2000 --out docs/images/serve.png

Needs what the browser tests need (``scripts/install-browser-deps.sh``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import harness
from measure_step_time import write_scenario
from playwright.sync_api import expect, sync_playwright


def wait_for_step(live: harness.LivePage, step: int) -> None:
    while live.headline_number("step") < step:
        live.server.check_alive()
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=2000)
    parser.add_argument("--change-at", type=int, default=40, help="step at which Loudmouth's price is cut")
    parser.add_argument("--until", type=int, default=90, help="step at which the screenshot is taken")
    parser.add_argument("--out", type=Path, default=Path("docs/images/serve.png"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        scenario = write_scenario(Path(folder), args.consumers)
        server = harness.start_server(scenario, Path(folder) / "serve.log")
        try:
            with sync_playwright() as playwright:
                browser = harness.launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1400, "height": 1480})
                live = harness.LivePage(page, server).open()
                live.wait_for(live.charts().nth(5).locator("canvas"))
                live.page.get_by_role("button", name="▶").click()
                wait_for_step(live, args.change_at)
                for _ in range(5):  # a price cut of five slider steps, one redraw each
                    before = live.slider("Price").get_attribute("aria-valuenow")
                    live.slider("Price").focus()
                    live.page.keyboard.press("ArrowLeft")
                    expect(live.slider("Price")).not_to_have_attribute("aria-valuenow", before, timeout=30_000)
                wait_for_step(live, args.until)  # the price changed while the model ran
                live.page.get_by_role("button", name="❚❚").click()
                live.page.wait_for_timeout(2000)
                live.hover_first_consumer()
                page.wait_for_timeout(500)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
                print(f"screenshot: {args.out} at step {live.headline('step')}")
                if live.problems:
                    print("problems seen by the page:", *live.problems, sep="\n  ")
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
