"""What `funnelsim serve` tells a user who serves beyond this machine, and how long dropped
sessions live (unit level; the browser tests cover the running page), and how the server stops."""

import signal
import socket
import subprocess
import sys
import time

import pytest

from funnelsim.viz import server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_serves_quietly(host):
    assert server.exposure_warning(host, 8765) is None


def test_wildcard_host_warns_and_lists_addresses_a_browser_can_open():
    warning = server.exposure_warning("0.0.0.0", 8765)
    assert warning is not None and "no login" in warning and "\n" not in warning
    # 0.0.0.0 is not an address anybody can open: the warning lists the real ones instead
    assert "http://0.0.0.0" not in warning
    assert "http://127.0.0.1:8765/" in warning
    for address in server.reachable_urls("0.0.0.0", 8765):
        host = address.split("//")[1].rsplit(":", 1)[0].strip("[]")
        assert socket.inet_pton(socket.AF_INET, host)


def test_a_named_outside_address_warns_with_itself():
    assert "http://192.0.2.7:8765/" in server.exposure_warning("192.0.2.7", 8765)


def test_dropped_sessions_are_culled_within_minutes_not_a_day():
    environment = server.server_environment("baseline")
    assert environment["SOLARA_KERNEL_CULL_TIMEOUT"] == server.SESSION_CULL_TIMEOUT
    import solara.util

    assert solara.util.parse_timedelta(server.SESSION_CULL_TIMEOUT) <= 5 * 60


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_the_page_server_stops_on_ctrl_c_or_kill_with_one_line_and_no_traceback(tmp_path, stop):
    port = server.free_port("127.0.0.1")
    process = subprocess.Popen(
        [sys.executable, "-m", "funnelsim", "serve", "--port", str(port), "--set", "market.consumers=200"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "funnelsim serve: stopped" in stderr
