"""What the live stream itself does, over a real server: its head, its pings, its
lifetime, and giving back its place when the browser goes or stops reading."""

import asyncio
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from backend.headers import SECURITY_HEADERS
from backend.live import stream as live_stream
from backend.live.broker import Broker, StreamBudget
from backend.live.stream import LiveStream, StreamStalled
from tests.web.steps import add
from tests.web.test_live import (
    OpenPage,
    Stream,
    live_url,
    open_stream,
    serve,
    show_presence,
)

__all__ = ["live_url", "serve"]  # fixtures, used by name


def wait_for_count(app, count: int, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while app.state.broker.count() != count:
        assert time.monotonic() < deadline, (
            f"{app.state.broker.count()} streams open, not {count}"
        )
        time.sleep(0.02)


def test_the_stream_head_carries_the_pages_headers_and_is_never_compressed(
    partners, live_url, app
):
    cookies = dict(partners.alex.cookies)
    with httpx.Client(cookies=cookies, timeout=10) as http:
        page = http.get(f"{live_url}{partners.path}")
        assert page.headers["content-encoding"] == "gzip"  # pages are compressed
        with http.stream(
            "GET",
            f"{live_url}{partners.path}/events",
            headers={"Accept-Encoding": "gzip"},
        ) as response:
            assert response.status_code == 200
            head = response.headers
            lines = response.iter_lines()
            assert next(lines) == "event: hello"
    for name in SECURITY_HEADERS:
        assert head[name] == page.headers[name], name
    assert head["content-type"] == "text/event-stream; charset=utf-8"
    assert head["cache-control"] == "no-store"
    assert head["x-accel-buffering"] == "no"
    assert "content-encoding" not in head
    wait_for_count(app, 0)


def test_a_head_request_gets_the_head_and_gives_its_place_back(partners, live_url, app):
    response = httpx.head(
        f"{live_url}{partners.path}/events",
        cookies=dict(partners.alex.cookies),
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert (
        response.headers["content-security-policy"]
        == SECURITY_HEADERS["Content-Security-Policy"]
    )
    assert response.content == b""
    wait_for_count(app, 0)


def test_an_idle_stream_is_pinged(partners, live_url, monkeypatch):
    monkeypatch.setattr(live_stream, "PING_SECONDS", 0.2)
    page = OpenPage(live_url, partners.alex, partners.path)
    try:
        page.sock.settimeout(5)
        seen = b""
        while seen.count(b": ping") < 2:
            chunk = page.sock.recv(4096)
            assert chunk, "the stream ended"
            seen += chunk
        assert b"event:" not in seen  # nothing happened, so no signal: pings only
    finally:
        page.close()


@pytest.mark.real_engine
def test_a_closed_page_gives_its_place_back_and_is_seen_to_go(partners, serve, app):
    url = serve(streams_per_account=1)
    show_presence(partners.sam, partners.path)
    alex_stream = open_stream(url, partners, "alex")
    sam_page = OpenPage(url, partners.sam, partners.path)
    try:
        sam_id = alex_stream.next("presence")  # Sam's page, announced
        refused = Stream(f"{url}{partners.path}/events", partners.sam.cookies)
        assert refused.next("closed") == ""
        assert refused.status == 429  # one stream each here
        refused.close()
        sam_page.close()  # the tab closes
        assert alex_stream.next(f"presence-{sam_id}") == sam_id
        wait_for_count(app, 1)
        again = open_stream(url, partners, "sam")  # the place is free again
        again.close()
    finally:
        sam_page.close()
        alex_stream.close()


@pytest.mark.real_engine
def test_a_stream_ends_when_its_lifetime_is_up(partners, serve, app):
    url = serve(sse_max_seconds=1)
    started = time.monotonic()
    stream = open_stream(url, partners, "alex")
    try:
        stream.until("closed", timeout=5)  # the browser reconnects, authorised afresh
        assert time.monotonic() - started >= 0.9
        wait_for_count(app, 0)
    finally:
        stream.close()


def test_a_browser_that_stops_reading_is_dropped_and_stops_counting(monkeypatch):
    monkeypatch.setattr(live_stream, "PING_SECONDS", 0.05)
    monkeypatch.setattr(live_stream, "SEND_SECONDS", 0.2)
    broker = Broker()
    plan_id = uuid.uuid4()
    sent: list[bytes] = []

    async def frozen_send(message):
        if len(sent) == 2:  # the head and hello went; then nothing more does
            await asyncio.Event().wait()  # the browser's buffers are full
        sent.append(message.get("body", b""))

    async def never_gone():
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def main() -> float:
        budget = StreamBudget(total=10, per_account=1, per_address=10)
        listener = await broker.open(plan_id, uuid.uuid4(), budget=budget)

        async def on_close() -> None:
            await broker.close(plan_id, listener)

        stream = LiveStream(listener, lifetime=60, on_close=on_close)
        await stream.open(frozen_send)
        started = time.monotonic()
        with pytest.raises(StreamStalled):
            await asyncio.wait_for(stream.serve(never_gone, frozen_send), 5)
        return time.monotonic() - started

    # in a thread of its own: a browser test before it may leave Playwright's
    # loop running on this one
    with ThreadPoolExecutor(1) as apart:
        took = apart.submit(asyncio.run, main()).result(timeout=30)
    assert sent == [b"", live_stream.HELLO]
    assert took < 2
    assert broker.count() == 0


STAMPED = r"/events\?stamp=(\d+)"


def _next_event(lines) -> str:
    for line in lines:
        if line.startswith("event: ") and line != "event: ping":
            return line.removeprefix("event: ")
    raise AssertionError("the stream ended")


def test_a_change_made_before_the_stream_opened_reaches_the_page(partners, live_url):
    """Between a page being built and its stream listening, a change is told to
    no one; the page says which stamp it was built at, and the stream begins by
    telling it to fetch itself again if the plan has changed since."""
    cookies = dict(partners.alex.cookies)
    with httpx.Client(cookies=cookies, timeout=10) as http:
        built = re.search(
            r"/events\?stamp=(\d+)", http.get(f"{live_url}{partners.path}").text
        )
        assert built, "the page names its stamp to its stream"
        add(partners.sam, partners.path, "signals", "A blue heart.")  # no stream yet
        events = f"{live_url}{partners.path}/events"
        with http.stream("GET", f"{events}?stamp={built[1]}") as response:
            lines = response.iter_lines()
            assert _next_event(lines) == "hello"
            assert _next_event(lines) == "plan"
        # a page built after the change has nothing to catch up on
        now = re.search(
            r"/events\?stamp=(\d+)", http.get(f"{live_url}{partners.path}").text
        )
        with http.stream("GET", f"{events}?stamp={now[1]}") as response:
            lines = response.iter_lines()
            assert _next_event(lines) == "hello"
            add(partners.sam, partners.path, "signals", "A green heart.")
            assert _next_event(lines) == "entry"
