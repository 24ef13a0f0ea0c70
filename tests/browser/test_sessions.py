"""The server forgets closed tabs: a model stops stepping when its session ends, and the memory
of closed sessions returns (a classroom of reloading browsers must not grow the server forever).

Uses its own ``funnelsim serve``, so the CPU and memory it reads are those of these sessions only.
"""

from __future__ import annotations

import time

import harness
import psutil
import pytest
from conftest import SMALL_MARKET

SESSIONS = 20
#: Server CPU seconds allowed over IDLE_SECONDS once every tab is closed. One model left playing
#: steps every 200 ms at ~20-50 ms a step here: 1-2 s of CPU over 8 s, well above this.
IDLE_SECONDS = 8.0
IDLE_CPU_SECONDS = 0.5
#: Resident memory the server may keep after SESSIONS sessions have come and gone. About 3.3 MB
#: stayed behind per session before sessions were culled and stopped (66 MB for 20).
RESIDUAL_MB = 40.0


@pytest.fixture(scope="module")
def own_server(browser, tmp_path_factory):
    server = harness.start_server(SMALL_MARKET, tmp_path_factory.mktemp("sessions") / "serve.log")
    try:
        yield server
    finally:
        server.stop()


def _open_and_close(browser, server, play: bool) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    live = harness.LivePage(context.new_page(), server).open()
    live.step()
    if play:
        live.page.get_by_role("button", name="▶", exact=True).click()  # Mesa's Play button
        live.page.wait_for_timeout(600)  # a few steps of its play loop
    live.page.close(run_before_unload=True)  # as a browser closing the tab: Solara says goodbye
    context.close()


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def test_closed_sessions_stop_their_models_and_give_their_memory_back(browser, own_server):
    server = psutil.Process(own_server.process.pid)
    _open_and_close(browser, own_server, play=False)  # warm up: imports, caches, first page
    time.sleep(2)
    baseline_mb = server.memory_info().rss / 2**20
    for session in range(SESSIONS):
        _open_and_close(browser, own_server, play=session % 2 == 0)  # half of them closed while playing
    time.sleep(2)
    own_server.check_alive()
    before = _cpu_seconds(server)
    time.sleep(IDLE_SECONDS)
    idle_cpu = _cpu_seconds(server) - before
    assert idle_cpu < IDLE_CPU_SECONDS, f"the server used {idle_cpu:.2f} s of CPU in {IDLE_SECONDS:.0f} s with no tab open"
    residual_mb = server.memory_info().rss / 2**20 - baseline_mb
    assert residual_mb < RESIDUAL_MB, f"{residual_mb:.0f} MB stayed behind after {SESSIONS} sessions"
