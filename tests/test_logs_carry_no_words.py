"""What people write never reaches the logs, from a real server over HTTP.

Two partners fill every field a person can fill, each with a word of its own,
and send a few things that fail; then everything the server logged (uvicorn's
access and error logs, the app's own `mutual` logger, and whatever reached the
terminal) is searched for each of those words.
"""

import itertools
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from backend.live.serving import server_config
from backend.logs import install_log_filters
from tests.helpers import PASSWORD, soup

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "mutual")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged_server(app, settings) -> Iterator[tuple[str, Collect]]:
    """A real server with the access log on, as `mutual serve` runs it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    install_log_filters()
    config = server_config(
        app,
        settings,
        host="127.0.0.1",
        port=port,
        log_level="debug",
        access_log=True,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    collect = Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    for name in LOGGERS:
        logging.getLogger(name).addHandler(collect)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", collect
    server.should_exit = True
    thread.join(10)
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(collect)


class Browser(httpx.Client):
    """One person's browser against the real server."""

    def __init__(self, url: str) -> None:
        super().__init__(base_url=url, timeout=10, follow_redirects=False)

    def csrf(self) -> str:
        body = soup(self.get("/never")).body
        return json.loads(body["hx-headers"])["X-CSRF-Token"]

    def post_form(self, path: str, data: dict | None = None, *, htmx: bool = True):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.post(
            path, data={"csrf_token": self.csrf(), **(data or {})}, headers=headers
        )


@pytest.mark.real_engine
@pytest.mark.slow
def test_nothing_a_person_writes_is_logged(logged_server, capfd):
    url, collect = logged_server
    numbers = itertools.count(1)
    words: list[str] = []

    def word() -> str:
        words.append(f"Sentinel{next(numbers)}x{secrets.token_hex(6)}")
        return words[-1]

    def ok(response, *codes):
        assert response.status_code in (codes or (200, 303)), response.text[:300]
        return response

    sam, alex = Browser(url), Browser(url)
    for person, email in ((sam, "sam@example.org"), (alex, "alex@example.org")):
        ok(
            person.post_form(
                "/signup",
                {"email": email, "display_name": word(), "password": PASSWORD},
                htmx=False,
            )
        )
    p = ok(sam.post_form("/plans", {"title": word()}, htmx=False)).headers["location"]
    link = soup(ok(sam.post_form(f"{p}/invite", htmx=False))).find(
        "input", id="invite-link"
    )
    ok(alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}", htmx=False))

    def add(text: str) -> str:
        card = soup(
            ok(sam.post_form(f"{p}/entries", {"section": "signals", "text": text}))
        )
        return card.find("article", class_="entry")["id"].removeprefix("entry-")

    taken_back = add(word())
    ok(alex.post_form(f"{p}/entries/{taken_back}/agree", {"version": "1"}))
    ok(alex.post_form(f"{p}/entries/{taken_back}/withdraw", {"note": word()}))
    flagged = add(word())
    ok(alex.post_form(f"{p}/entries/{flagged}/flag", {"note": word()}))
    removed = add(word())
    edit = {"text": word(), "base_version": "1"}
    ok(sam.post_form(f"{p}/entries/{removed}", edit))
    ok(alex.post_form(f"{p}/entries/{removed}/delete", {"note": word()}))

    parts = {"what_i_see": word(), "what_i_feel": word(), "what_i_need": word()}
    sent = ok(sam.post_form(f"{p}/notes", {"action": "send", **parts}, htmx=False))
    root = sent.headers["location"].rsplit("#thread-", 1)[1]
    ok(alex.post_form(f"{p}/notes/{root}/replies", {"action": "send", "body": word()}))

    talk = ok(
        sam.post_form(
            f"{p}/debriefs", {"happened_on": "2026-03-12", "title": word()}, htmx=False
        )
    ).headers["location"]
    answers = {
        "what_happened": word(),
        "how_it_felt": word(),
        "what_safety_means": word(),
        "what_would_help": word(),
        "what_to_change": word(),
    }
    ok(sam.post_form(f"{talk}/answers", {"action": "save", **answers}))

    # what fails is not logged either
    too_long = word() + " it goes on" * 3000
    failed = sam.post_form(f"{p}/entries", {"section": "signals", "text": too_long})
    assert failed.status_code >= 400
    failed = sam.post_form(f"{p}/notes/{root}/replies", {"body": word() * 400})
    assert failed.status_code >= 400
    stranger = Browser(url)
    wrong = {"email": "sam@example.org", "password": word()}
    assert stranger.post_form("/login", wrong, htmx=False).status_code >= 400
    bad_signup = {"email": word(), "display_name": word(), "password": "x"}
    assert stranger.post_form("/signup", bad_signup, htmx=False).status_code >= 400

    # the words are in the plan: the search below is looking at the right things
    assert words[2] in sam.get(p).text
    for person in (sam, alex, stranger):
        person.close()

    access = [line for line in collect.lines if line.startswith("uvicorn.access")]
    assert any("POST" in line and "/entries" in line for line in access)
    out, err = capfd.readouterr()
    logged = "\n".join(collect.lines) + out + err
    assert [w for w in words if w.lower() in logged.lower()] == []
