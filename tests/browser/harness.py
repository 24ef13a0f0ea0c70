"""Start ``funnelsim serve`` and drive its page in headless Chromium (shared by tests and scripts).

The server runs as its own process on a free loopback port and is stopped by its process id.
While waiting for the page, the harness checks that the server process is still alive, so a
crash shows its log instead of a time-out.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

REPOSITORY = Path(__file__).resolve().parents[2]
ARTIFACTS = REPOSITORY / "test-artifacts"

#: Chromium flags for a headless run as root on a machine without internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

#: Seconds to wait for the server to answer and for the page's Step button.
STARTUP_SECONDS = 120
#: Seconds to wait for the page to show the result of a click.
UPDATE_SECONDS = 30

#: Part of the notice the page shows while the levers differ from the running model.
PENDING_NOTICE = "press Reset to rebuild"


def chromium_path() -> str | None:
    """Debian's Chromium (or the one ``FUNNELSIM_CHROMIUM`` names); Playwright cannot fetch its own here."""
    return os.environ.get("FUNNELSIM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerDied(RuntimeError):
    pass


@dataclass
class LiveServer:
    """A ``funnelsim serve`` process on 127.0.0.1."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServerDied(f"funnelsim serve exited with {self.process.returncode}:\n{self.log_tail()}")

    def wait_until_listening(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"funnelsim serve did not listen on port {self.port} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server by its process id: SIGTERM, then SIGKILL if it does not go."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def start_server(scenario: str | Path, log_path: Path) -> LiveServer:
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "funnelsim", "serve", str(scenario), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LiveServer(process, port, log_path)
    try:
        server.wait_until_listening()
    except BaseException:
        server.stop()
        raise
    return server


@dataclass
class LivePage:
    """One browser tab on the live page, with every failed request and page error it saw."""

    page: Page
    server: LiveServer
    problems: list[str] = field(default_factory=list)

    def open(self) -> LivePage:
        page = self.page
        page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400 and self.problems.append(f"HTTP {response.status}: {response.url}"))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.goto(self.server.url)
        self.wait_for(page.get_by_role("button", name="Step", exact=True))
        return self

    def wait_for(self, locator, timeout: float = STARTUP_SECONDS) -> None:
        """Wait for ``locator`` to be visible, checking every second that the server is alive."""
        deadline = time.monotonic() + timeout
        while True:
            self.server.check_alive()
            try:
                locator.first.wait_for(state="visible", timeout=1000)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise

    def headline(self, key: str) -> str:
        return self.page.locator(f".funnelsim-headline-{key} .funnelsim-headline-value").inner_text().strip()

    def headline_number(self, key: str) -> float:
        return float(re.sub(r"[^0-9.\-]", "", self.headline(key)))

    def expect_step(self, step: int) -> None:
        expect(self.page.locator(".funnelsim-headline-step .funnelsim-headline-value")).to_have_text(
            f"{step:,}", timeout=UPDATE_SECONDS * 1000
        )

    def step(self, times: int = 1) -> None:
        """Press Step ``times`` times, each time waiting for the step counter to move."""
        for _ in range(times):
            before = int(self.headline_number("step"))
            self.page.get_by_role("button", name="Step", exact=True).click()
            self.expect_step(before + 1)

    def reset(self) -> None:
        """Press Reset and wait for the rebuilt model: step 0, and no lever change left pending."""
        self.page.get_by_role("button", name="Reset", exact=True).click()
        self.expect_step(0)
        expect(self.page.get_by_text(PENDING_NOTICE)).to_have_count(0, timeout=UPDATE_SECONDS * 1000)

    def slider(self, label_start: str):
        return self.page.get_by_role("slider", name=re.compile("^" + re.escape(label_start)))

    def slider_to_minimum(self, label_start: str) -> None:
        """Move a slider to its lowest value with the keyboard, as a user could."""
        slider = self.slider(label_start)
        slider.focus()
        slider.press("Home")
        expect(slider).to_have_attribute("aria-valuenow", slider.get_attribute("aria-valuemin"), timeout=UPDATE_SECONDS * 1000)

    def charts(self):
        return self.page.locator(".solara-echarts")

    def chart_option(self, index: int) -> dict:
        """The option ECharts is drawing in chart ``index`` (its own instance, as JSON), once
        the chart exists (ECharts is loaded and the chart made a moment after the page)."""
        return self._poll(CHART_OPTION, index)

    def _poll(self, script: str, argument=None):
        deadline = time.monotonic() + UPDATE_SECONDS
        while True:
            value = self.page.evaluate(script, argument)
            if value is not None or time.monotonic() > deadline:
                return value
            self.page.wait_for_timeout(250)

    def hover_first_consumer(self) -> str:
        """Move the mouse onto a drawn consumer of the network chart; the tooltip's text."""
        network = self.charts().nth(0)
        network.scroll_into_view_if_needed()
        point = self._poll(FIRST_POINT)
        box = network.bounding_box()
        self.page.mouse.move(box["x"] + point[0], box["y"] + point[1])
        tooltip = self.page.locator(".funnelsim-tooltip")
        expect(tooltip).to_be_visible(timeout=UPDATE_SECONDS * 1000)
        return tooltip.inner_text()


#: Resolves with ECharts' own module (the page loads it with RequireJS from the offline cache).
_ECHARTS = "await new Promise(done => requirejs([`${window.solara.cdn}/echarts@5.4.0/dist/echarts.js`], done))"

CHART_OPTION = f"""async (index) => {{
  const echarts = {_ECHARTS};
  const chart = echarts.getInstanceByDom(document.querySelectorAll('.solara-echarts')[index]);
  return chart ? JSON.parse(JSON.stringify(chart.getOption())) : null;
}}"""

#: Pixel position, inside the network chart, of the first consumer of the first non-empty stage.
FIRST_POINT = f"""async () => {{
  const echarts = {_ECHARTS};
  const chart = echarts.getInstanceByDom(document.querySelectorAll('.solara-echarts')[0]);
  if (!chart) return null;
  const series = chart.getOption().series;
  const index = series.findIndex(s => s.type === 'scatter' && s.data.length > 0);
  if (index < 0) return null;
  const item = series[index].data[0];
  const value = Array.isArray(item) ? item : item.value;
  return chart.convertToPixel({{seriesIndex: index}}, [value[0], value[1]]);
}}"""


def launch_chromium(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
