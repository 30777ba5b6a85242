"""Live updates over a real server: signals without words, re-fetched per viewer."""

import json
import queue
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from tests.helpers import soup
from tests.web.test_entries import add, entry_id


@pytest.fixture
def live_url(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


class Stream:
    """Reads one SSE stream in a thread and queues its events."""

    def __init__(self, url: str, cookies) -> None:
        self.events: queue.Queue = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(cookies=dict(cookies), timeout=10)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()

    def _run(self, url: str) -> None:
        try:
            self._read(url)
        except httpx.HTTPError:
            if not self._stop.is_set():
                self.events.put(("error", ""))

    def _read(self, url: str) -> None:
        with self._client.stream("GET", url) as response:
            self.status = response.status_code
            if response.status_code != 200:
                self.events.put(("closed", ""))
                return
            kind = None
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind:
                    self.events.put((kind, line.split(":", 1)[1].strip()))
                    kind = None

    def next(self, kind: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {kind!r} event within {timeout} s"
            got, data = self.events.get(timeout=remaining)
            if got == kind:
                return data

    def close(self) -> None:
        self._stop.set()
        self._client.close()


def test_an_edit_reaches_the_partner_as_a_signal_without_words(partners, live_url):
    alex_stream = Stream(f"{live_url}{partners.path}/events", partners.alex.cookies)
    try:
        alex_stream.next("hello")
        sam = httpx.Client(base_url=live_url, cookies=dict(partners.sam.cookies))
        token = partners.sam.csrf()
        words = "When I go quiet, sit with me. SENTINEL-WORDS"
        response = sam.post(
            f"{partners.path}/entries",
            data={"csrf_token": token, "section": "edge_responses", "text": words},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        data = alex_stream.next("entry")
        assert "SENTINEL" not in data
        signal = json.loads(data)
        assert set(signal) == {"id", "section", "owner"}
        assert signal["section"] == "edge_responses"
        fetched = partners.alex.get(
            f"{partners.path}/entries/{signal['id']}", headers={"HX-Request": "true"}
        )
        card = soup(fetched)
        assert words in card.select_one(".entry-text").text
        assert card.find("button", string="Agree")  # rendered for Alex, not Sam
        sam.close()
    finally:
        alex_stream.close()


def test_consent_changes_are_signalled(partners, live_url):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    sam_stream = Stream(f"{live_url}{partners.path}/events", partners.sam.cookies)
    try:
        sam_stream.next("hello")
        partners.alex.post_form(
            f"{partners.path}/entries/{eid}/agree", {"version": "1"}, htmx=True
        )
        assert json.loads(sam_stream.next("entry"))["id"] == eid
    finally:
        sam_stream.close()


def test_private_drafts_are_never_signalled(partners, live_url):
    alex_stream = Stream(f"{live_url}{partners.path}/events", partners.alex.cookies)
    try:
        alex_stream.next("hello")
        add(partners.sam, partners.path, "reactions", "quiet", draft=True)
        add(partners.sam, partners.path, "signals", "public")
        signal = json.loads(alex_stream.next("entry"))
        assert signal["section"] == "signals"
    finally:
        alex_stream.close()


def test_presence_is_signalled(partners, live_url):
    sam_stream = Stream(f"{live_url}{partners.path}/events", partners.sam.cookies)
    try:
        sam_stream.next("hello")
        alex_stream = Stream(f"{live_url}{partners.path}/events", partners.alex.cookies)
        alex_stream.next("hello")
        sam_stream.next("presence")
        here = partners.sam.get(
            f"{partners.path}/presence", headers={"HX-Request": "true"}
        )
        assert "Alex is here now" in soup(here).get_text(" ")
        alex_stream.close()
    finally:
        sam_stream.close()


def test_a_non_partner_cannot_open_the_stream(partners, live_url, make_client):
    casey = make_client().sign_up("Casey")
    stream = Stream(f"{live_url}{partners.path}/events", casey.cookies)
    try:
        assert stream.next("closed") == ""
        assert stream.status == 404
    finally:
        stream.close()


def test_signed_out_stream_is_refused(partners, live_url):
    response = httpx.get(f"{live_url}{partners.path}/events", timeout=5)
    assert response.status_code == 401


def test_stamps_catch_a_reconnected_page_up(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    before = partners.alex.get(f"{partners.path}/stamps").json()["entries"]
    partners.sam.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "harbour", "base_version": "1"},
        htmx=True,
    )
    after = partners.alex.get(f"{partners.path}/stamps").json()["entries"]
    assert [e["id"] for e in after] == [eid]
    assert before[0]["stamp"] != after[0]["stamp"]
    assert "harbour" not in str(after)
