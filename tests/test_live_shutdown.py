"""A real `mutual serve` with an open live stream stops at once on SIGTERM.

uvicorn waits for every answer to finish before it stops, and a live stream never
finishes by itself: the server ends it (backend.live.serving), so the browser
reconnects and the process exits well before uvicorn's own time limit (3 s), which
would cancel the stream instead and log an error.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from backend.migrate import upgrade
from tests.conftest import TEST_SECRET
from tests.test_processes import Browser
from tests.web.test_live import OpenPage

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_open_stream_ends_and_the_server_stops_promptly(tmp_path):
    database = f"sqlite:///{tmp_path / 'mutual.db'}"
    upgrade(database)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MUTUAL_DATABASE_URL": database,
        "MUTUAL_SECRET_KEY": TEST_SECRET,
        "MUTUAL_BASE_URL": "http://127.0.0.1",
        "MUTUAL_LOG_LEVEL": "info",
        "MUTUAL_RATE_LIMITS": "false",
        "MUTUAL_ARGON2_TIME_COST": "1",
        "MUTUAL_ARGON2_MEMORY_KIB": "1024",
        "MUTUAL_ARGON2_PARALLELISM": "1",
    }
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    page = None
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server exited while starting"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.05)
        with Browser(base_url=url, timeout=10) as sam:
            sam.sign_up("Sam")
            path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
            page = OpenPage(url, sam, path)

        asked = time.monotonic()
        server.send_signal(signal.SIGTERM)
        page.sock.settimeout(5)
        rest = b""
        while chunk := page.sock.recv(4096):
            rest += chunk
        ended = time.monotonic() - asked
        server.wait(10)
        stopped = time.monotonic() - asked
    finally:
        if page is not None:
            page.close()
        if server.poll() is None:
            server.kill()
            server.wait(5)
        log = server.stderr.read().decode() if server.stderr else ""
        if server.stderr:
            server.stderr.close()
    assert rest.endswith(b"0\r\n\r\n"), rest  # the stream's own end, not a cut
    assert ended < 2
    assert stopped < 2.5, log
    assert server.returncode in {0, -signal.SIGTERM}, log  # uvicorn passes it on
    assert "timeout graceful shutdown exceeded" not in log
    assert "Exception in ASGI application" not in log
