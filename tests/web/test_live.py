"""Live updates over a real server: signals without words, re-fetched per viewer."""

import asyncio
import json
import queue
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from backend.live.budget import RequestBudget
from backend.live.serving import server_config
from backend.main import create_app
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
        self.events.put(("closed", ""))  # the server ended the stream

    def next(self, kind: str, timeout: float = 5.0) -> str:
        return self.until(kind, timeout)[-1][1]

    def until(self, kind: str, timeout: float = 5.0) -> list[tuple[str, str]]:
        """Every event up to and including the first named `kind`."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {kind!r} event within {timeout} s: {seen}"
            seen.append(self.events.get(timeout=remaining))
            if seen[-1][0] == kind:
                return seen

    def close(self) -> None:
        self._stop.set()
        self._client.close()


class OpenPage:
    """One open page's stream on a bare socket: closing it is closing the tab,
    which the server hears at once."""

    def __init__(self, live_url: str, client, path: str) -> None:
        url = httpx.URL(live_url)
        cookie = "; ".join(f"{k}={v}" for k, v in dict(client.cookies).items())
        self.sock = socket.create_connection((url.host, url.port), timeout=10)
        self.sock.sendall(
            f"GET {path}/events HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
            f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        seen = b""
        while b"event: hello" not in seen:
            chunk = self.sock.recv(4096)
            assert chunk, f"the stream ended before it listened: {seen!r}"
            seen += chunk
        assert seen.startswith(b"HTTP/1.1 200")

    def close(self) -> None:
        self.sock.close()


def open_stream(live_url, partners, who):
    stream = Stream(f"{live_url}{partners.path}/events", getattr(partners, who).cookies)
    stream.next("hello")  # sent once the stream listens
    return stream


def show_presence(client, path, show="1"):
    response = client.post_form(f"{path}/presence", {"show": show}, htmx=True)
    assert response.status_code == 200
    return response


def lists_of(client, path, section):
    """The ids of one personal section's lists on this viewer's page: mine first."""
    page = soup(client.get(f"{path}?all=1"))
    return [el["id"] for el in page.select(f"[id^=list-{section}-]")]


def test_an_added_entry_reaches_the_partner_as_signals_without_words(
    partners, live_url
):
    alex_stream = open_stream(live_url, partners, "alex")
    try:
        words = "When I go quiet, sit with me. SENTINEL-WORDS"
        response = add(partners.sam, partners.path, "edge_responses", words)
        assert response.status_code == 200
        eid = entry_id(response)
        seen = alex_stream.until("section-edge_responses")
        assert seen == [
            ("entry", eid),
            (f"entry-{eid}", eid),
            ("section", "edge_responses"),
            ("section-edge_responses", "edge_responses"),
        ]
        assert "SENTINEL" not in str(seen)
        # the card re-fetches itself through the ordinary GET, rendered for Alex
        card = soup(
            partners.alex.get(
                f"{partners.path}/entries/{eid}", headers={"HX-Request": "true"}
            )
        )
        assert words in card.select_one(".entry-text").text
        assert card.find("button", string="Agree")  # for Alex, not Sam
        assert card.article["hx-trigger"] == f"sse:entry-{eid}"
    finally:
        alex_stream.close()


def test_an_edit_signals_the_card_and_not_its_section(partners, live_url):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    alex_stream = open_stream(live_url, partners, "alex")
    try:
        partners.sam.post_form(
            f"{partners.path}/entries/{eid}",
            {"text": "harbour", "base_version": "1"},
            htmx=True,
        )
        partners.sam.post_form(f"{partners.path}/entries/{eid}/delete", htmx=True)
        partners.sam.post_form(f"{partners.path}/entries/{eid}/restore", htmx=True)
        seen = alex_stream.until("section")
        assert seen == [("entry", eid), (f"entry-{eid}", eid)] * 3 + [
            ("section", "signals")
        ]
    finally:
        alex_stream.close()


def test_consent_changes_are_signalled(partners, live_url):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    sam_stream = open_stream(live_url, partners, "sam")
    try:
        partners.alex.post_form(
            f"{partners.path}/entries/{eid}/agree", {"version": "1"}, htmx=True
        )
        assert sam_stream.next(f"entry-{eid}") == eid
    finally:
        sam_stream.close()


def test_private_drafts_are_never_signalled_until_shared(partners, live_url):
    alex_stream = open_stream(live_url, partners, "alex")
    try:
        draft = entry_id(
            add(partners.sam, partners.path, "reactions", "quiet", draft=True)
        )
        public = entry_id(add(partners.sam, partners.path, "signals", "public"))
        assert alex_stream.until("section")[0] == ("entry", public)
        partners.sam.post_form(f"{partners.path}/entries/{draft}/share", htmx=True)
        seen = alex_stream.until("section-reactions")
        assert (f"entry-{draft}", draft) in seen
    finally:
        alex_stream.close()


def test_presence_is_signalled_once_chosen(partners, live_url):
    show_presence(partners.alex, partners.path)
    sam_stream = open_stream(live_url, partners, "sam")
    try:
        alex_stream = open_stream(live_url, partners, "alex")
        alex_id = sam_stream.next("presence")
        assert sam_stream.next(f"presence-{alex_id}") == alex_id
        here = partners.sam.get(
            f"{partners.path}/presence", headers={"HX-Request": "true"}
        )
        assert "Alex is here now" in soup(here).get_text(" ")
        alex_stream.close()
    finally:
        sam_stream.close()


def test_with_presence_off_nothing_tells_of_the_partner_being_here(partners, live_url):
    """Sentinel: off until chosen, and off again when taken back."""
    sam_stream = open_stream(live_url, partners, "sam")
    alex_stream = open_stream(live_url, partners, "alex")
    try:
        # a signal of Alex's own making, to be sure the stream has caught up
        eid = entry_id(add(partners.alex, partners.path, "signals", "lantern"))
        seen = sam_stream.until(f"entry-{eid}")
        assert not [kind for kind, _ in seen if kind.startswith("presence")]
        for path in (f"{partners.path}/presence", partners.path):
            page = partners.sam.get(path, headers={"HX-Request": "true"})
            assert "is here now" not in page.text
        # Alex turns it on with the page open: the line follows the choice
        show_presence(partners.alex, partners.path)
        assert sam_stream.next("presence") == "{}"  # names no one
        here = partners.sam.get(
            f"{partners.path}/presence", headers={"HX-Request": "true"}
        )
        assert "Alex is here now" in here.text
        # and off again: the line goes with it
        show_presence(partners.alex, partners.path, show="")
        assert sam_stream.next("presence") == "{}"
        gone = partners.sam.get(
            f"{partners.path}/presence", headers={"HX-Request": "true"}
        )
        assert "is here now" not in gone.text
        # with it off, a new stream of Alex's is announced to nobody
        again = open_stream(live_url, partners, "alex")
        again.close()
        other = entry_id(add(partners.alex, partners.path, "signals", "harbour"))
        seen = sam_stream.until(f"entry-{other}")
        assert not [kind for kind, _ in seen if kind.startswith("presence")]
    finally:
        alex_stream.close()
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


def test_a_section_list_shows_each_viewer_what_they_may_see(partners):
    sam_list, alex_list = lists_of(partners.sam, partners.path, "reactions")
    add(partners.sam, partners.path, "reactions", "DRAFT-SENTINEL", draft=True)
    add(partners.sam, partners.path, "reactions", "I go quiet.")
    owner = sam_list.removeprefix("list-reactions-")
    url = f"{partners.path}/sections/reactions?owner={owner}"
    mine = partners.sam.get(url, headers={"HX-Request": "true"})
    theirs = partners.alex.get(url, headers={"HX-Request": "true"})
    assert "<html" not in mine.text
    assert soup(mine).find(id=sam_list).select(".entry-text")[0].text == (
        "DRAFT-SENTINEL"
    )
    assert [t.text for t in soup(theirs).select(f"#{sam_list} .entry-text")] == [
        "I go quiet."
    ]
    assert "DRAFT-SENTINEL" not in theirs.text
    assert soup(theirs).find(id=sam_list)["hx-trigger"] == "sse:section-reactions"
    # Alex's own list: empty, and it says so
    empty = partners.alex.get(
        f"{partners.path}/sections/reactions?owner={alex_list.removeprefix('list-reactions-')}",
        headers={"HX-Request": "true"},
    )
    assert "Nothing here yet" in empty.text
    for wrong in ("/sections/nowhere", f"/sections/reactions?owner={partners.plan_id}"):
        response = partners.sam.get(
            partners.path + wrong, headers={"HX-Request": "true"}
        )
        assert response.status_code == 404


def test_the_summary_line_is_counted_by_the_server(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    url = f"{partners.path}/summary"
    line = soup(partners.alex.get(url, headers={"HX-Request": "true"})).p
    assert line.get_text(" ", strip=True).startswith(
        "0 agreed · 1 for you to look at, when you're ready · 0 with Sam"
    )
    partners.alex.post_form(
        f"{partners.path}/entries/{eid}/agree", {"version": "1"}, htmx=True
    )
    line = soup(partners.alex.get(url, headers={"HX-Request": "true"})).p
    assert line.get_text(" ", strip=True).startswith(
        "1 agreed · nothing for you just now"
    )
    assert line.find("a", string="read the agreed plan")
    assert line["hx-trigger"] == "sse:entry"


def test_an_editor_is_told_of_a_newer_wording_beside_it(partners):
    eid = entry_id(add(partners.sam, partners.path, "edge_responses", "Call Jo."))
    editor = soup(
        partners.alex.get(
            f"{partners.path}/entries/{eid}/edit", headers={"HX-Request": "true"}
        )
    )
    slot = editor.find(attrs={"hx-trigger": f"sse:entry-{eid}"})
    assert slot["role"] == "status"
    url = slot["hx-get"]
    assert url.endswith("?since=1")
    assert partners.alex.get(url, headers={"HX-Request": "true"}).text.strip() == ""
    partners.sam.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "Call Jo or Priya.", "base_version": "1"},
        htmx=True,
    )
    told = soup(partners.alex.get(url, headers={"HX-Request": "true"}))
    assert told.get_text(" ", strip=True).startswith(
        "Sam changed this while you were editing. Your words are safe"
    )
    assert "Call Jo or Priya." not in told.text  # until asked for
    show = told.find("button", string="Show me the new wording")["hx-get"]
    peek = soup(partners.alex.get(show, headers={"HX-Request": "true"}))
    assert peek.select_one(".peek .entry-text").text == "Call Jo or Priya."
    # the writer's own save is not news to them
    assert partners.sam.get(url, headers={"HX-Request": "true"}).text.strip() == ""


def test_signing_out_ends_that_sign_ins_streams(partners, live_url, make_client):
    alex_stream = open_stream(live_url, partners, "alex")
    sam_stream = open_stream(live_url, partners, "sam")
    try:
        assert partners.alex.post_form("/logout").status_code == 303
        alex_stream.until("closed")
        # the partner's stream is untouched and still hears the plan
        eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
        assert sam_stream.next("entry") == eid
    finally:
        alex_stream.close()
        sam_stream.close()


def test_signing_out_everywhere_ends_every_stream(partners, live_url):
    first = open_stream(live_url, partners, "alex")
    try:
        partners.alex.post_form("/account/sign-out-everywhere")
        first.until("closed")
    finally:
        first.close()


def test_leaving_a_plan_ends_the_leavers_streams_of_it(partners, live_url):
    alex_stream = open_stream(live_url, partners, "alex")
    sam_stream = open_stream(live_url, partners, "sam")
    try:
        left = partners.alex.post_form(f"{partners.path}/leave")
        assert left.status_code == 303
        seen = alex_stream.until("closed")
        assert all(kind != "entry" for kind, _ in seen)
        reopened = Stream(f"{live_url}{partners.path}/events", partners.alex.cookies)
        try:
            assert reopened.next("closed") == ""
            assert reopened.status == 404
        finally:
            reopened.close()
        assert sam_stream.next("plan")
    finally:
        alex_stream.close()
        sam_stream.close()


@pytest.fixture
def serve(app):
    """Serve the app as `mutual serve` does (backend.live.serving), with some
    settings changed first; the URL."""
    servers = []

    def start(target=None, **changes) -> str:
        target = target or app
        target.state.settings = target.state.settings.model_copy(update=changes)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = server_config(
            target,
            target.state.settings,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


def half_open(url: str, count: int) -> list[socket.socket]:
    """Sockets that send half a request line and then wait, as a slow attacker does."""
    port = int(url.rsplit(":", 1)[1])
    opened = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /heal")
        opened.append(sock)
    return opened


def save_over_http(url: str, client, path: str, text: str) -> httpx.Response:
    with httpx.Client(base_url=url, cookies=dict(client.cookies), timeout=10) as http:
        page = http.get(path)
        assert page.status_code == 200
        token = json.loads(soup(page).body["hx-headers"])["X-CSRF-Token"]
        return http.post(
            f"{path}/entries",
            data={"csrf_token": token, "section": "signals", "text": text},
            headers={"HX-Request": "true"},
        )


@pytest.mark.real_engine
@pytest.mark.slow
def test_full_streams_and_half_open_sockets_never_starve_pages(
    partners, serve, make_client
):
    url = serve(
        streams_total=20,
        streams_per_account=10,
        streams_per_address=40,
        request_header_seconds=60,
    )
    streams = []
    sockets = []
    try:
        for who in ("sam", "alex"):
            streams += [open_stream(url, partners, who) for _ in range(10)]
        # one more of Sam's own is over the account's budget
        extra = Stream(f"{url}{partners.path}/events", partners.sam.cookies)
        assert extra.next("closed") == ""
        assert extra.status == 429
        extra.close()
        # someone else's first stream finds the whole stream budget used
        casey = make_client().sign_up("Casey")
        casey_plan = casey.post_form("/plans", {"title": "Mine"}).headers["location"]
        busy = Stream(f"{url}{casey_plan}/events", casey.cookies)
        assert busy.next("closed") == ""
        assert busy.status == 503
        busy.close()
        sockets = half_open(url, 250)
        # pages and saves have a budget of their own
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        saved = save_over_http(url, partners.alex, partners.path, "Still here.")
        assert saved.status_code == 200
        # and the open streams still carry the news
        assert streams[0].next("entry") == entry_id(saved)
    finally:
        for sock in sockets:
            sock.close()
        for stream in streams:
            stream.close()


@pytest.mark.real_engine
def test_streams_from_one_address_are_capped(partners, serve):
    url = serve(streams_per_address=3)
    streams = [open_stream(url, partners, "sam") for _ in range(3)]
    try:
        refused = Stream(f"{url}{partners.path}/events", partners.alex.cookies)
        assert refused.next("closed") == ""
        assert refused.status == 429
        refused.close()
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.real_engine
def whole_answer(conn: socket.socket) -> bytes:
    """One HTTP answer read to the end of its body: its head and its body may
    come in separate reads."""

    def more() -> bytes:
        found = conn.recv(4096)
        assert found, "closed before the answer was whole"
        return found

    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += more()
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    assert length is not None
    while len(body) < int(length.group(1)):
        body += more()
    return head + b"\r\n\r\n" + body


def test_a_socket_that_never_finishes_its_request_is_dropped(serve):
    url = serve(request_header_seconds=0.5)
    slow = half_open(url, 1)[0]
    started = time.monotonic()
    try:
        slow.settimeout(5)
        assert slow.recv(100) == b""  # closed by the server
    finally:
        slow.close()
    assert time.monotonic() - started < 3
    # a whole request is answered as usual
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    # and a kept-alive connection whose next request stalls is closed too
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as kept:
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert whole_answer(kept).startswith(b"HTTP/1.1 200")
        kept.sendall(b"GET /heal")
        started = time.monotonic()
        assert kept.recv(100) == b""
        assert time.monotonic() - started < 3  # sooner than the keep-alive pause


@pytest.mark.real_engine
def test_a_body_that_stops_arriving_gets_408_not_a_stuck_request(
    serve, settings, engine
):
    impatient = settings.model_copy(update={"request_body_seconds": 0.5})
    url = serve(create_app(impatient, engine=engine))
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        slow.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\nemail=a"
        )
        answer = slow.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


def test_ordinary_requests_past_their_budget_wait_then_hear_busy():
    release = threading.Event()

    async def slow_app(scope, receive, send):
        while not release.is_set():
            await asyncio.sleep(0.01)
        await PlainTextResponse("ok")(scope, receive, send)

    budget = RequestBudget(slow_app, limit=1, wait=0.3)
    answers = {}

    def get(path: str) -> None:
        answers[path] = TestClient(budget).get(path)

    holder = threading.Thread(target=get, args=("/plans/p",))
    holder.start()
    deadline = time.monotonic() + 5
    while budget.running < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stream = threading.Thread(target=get, args=("/plans/p/events",))
    stream.start()
    busy = TestClient(budget).get("/plans/p/summary")
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert "nothing you wrote has been lost" in busy.text
    time.sleep(0.4)  # past the wait: a stream is not counted, so it is still running
    release.set()
    holder.join(5)
    stream.join(5)
    assert answers["/plans/p"].status_code == 200
    assert answers["/plans/p/events"].status_code == 200
    assert budget.running == 0


def test_a_live_part_keeps_listening_while_it_is_replaced():
    """A part of the page that fetches itself again on a live signal must not
    be swapped whole (plain outerHTML): the new element listens only once it
    has settled, and a signal that comes in that while (on a slow phone, two
    changes close together) was lost, leaving the older answer showing. Such
    parts morph, which keeps the element and its listener, or swap their
    inside. `tests/browser/test_live.py` shows the lost signal in a browser."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    tag = re.compile(r"<[a-z]+\b[^>]*hx-trigger=\"[^\"]*sse:[^>]*>")
    swap = re.compile(r'hx-swap="([^"]*)"')
    checked = 0
    for path in templates.rglob("*.html"):
        for found in tag.finditer(path.read_text()):
            element = found.group(0)
            how = swap.search(element)
            assert how, (path.name, element[:80])
            checked += 1
            assert how.group(1) in {"morph:outerHTML", "innerHTML"}, (
                path.name,
                element[:80],
            )
    assert checked >= 10
