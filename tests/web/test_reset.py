"""Forgotten passwords: a single-use link, mailed through a real local SMTP server."""

import logging
import re
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import select

from backend.auth.reset import operator_reset_link
from backend.auth.tokens import digest
from backend.main import create_app
from backend.models import AuthSession, PasswordReset, RateEvent
from tests.helpers import PASSWORD, Client, soup

NEW_PASSWORD = "a slow walk along the river"
LINK = re.compile(r"http://testserver/reset/([A-Za-z0-9_-]+)")


def same_page(response) -> str:
    """The page without its CSRF token, which is spelled anew for every response."""
    return re.sub(r"[0-9a-f]{128}", "TOKEN", response.text)


class Mailbox:
    """An SMTP handler that keeps what it is sent and counts the conversations."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.conversations = 0
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            message_from_bytes(envelope.original_content, policy=policy.default)
        )
        return "250 Message accepted"

    async def handle_QUIT(self, server, session, envelope) -> str:
        self.conversations += 1
        return "221 Bye"

    def link(self, index: int = -1) -> str:
        body = self.messages[index].get_body(preferencelist=("plain",))
        match = LINK.search(body.get_content())
        assert match, "no reset link in the mail"
        return match.group(0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox():
    box = Mailbox()
    box.port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def settings(settings, mailbox):
    """The suite's settings, with mail going to the local SMTP sink."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port}
    )


@pytest.fixture
def sam(client):
    return client.sign_up("Sam", email="sam@example.org")


def _path(link: str) -> str:
    return link.removeprefix("http://testserver")


def _ask(browser, email="sam@example.org"):
    return browser.post_form("/forgot", {"email": email})


def _reset(browser, path, password=NEW_PASSWORD):
    return browser.post_form(path, {"password": password})


def _sid(response) -> str | None:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith("mutual_sid="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def _read(session, query) -> list:
    """Rows as they are now; the transaction ends at once, so the app can write."""
    session.expire_all()
    rows = list(session.exec(query).all())
    session.commit()
    return rows


def _sessions_of(session) -> int:
    return _read(session, select(func.count()).select_from(AuthSession))[0]


def test_login_page_links_to_forgot(client):
    link = soup(client.get("/login")).find("a", string="Forgot your password?")
    assert link["href"] == "/forgot"


def test_mail_arrives_with_a_link_that_works_once(sam, make_client, mailbox):
    browser = make_client()
    response = _ask(browser)
    assert response.status_code == 200
    assert "If there is an account for that address" in response.text
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == "sam@example.org"
    assert mail["From"] == "Mutual <mutual@localhost>"
    path = _path(mailbox.link())

    page = browser.get(path)
    assert page.status_code == 200
    form = soup(page).find("form", id="reset_form")
    assert form["action"] == path
    done = _reset(browser, path)
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    assert _sid(done)
    assert soup(browser.get("/")).h1.text == "My plans"

    again = make_client()
    assert again.get(path).status_code == 410
    second = _reset(again, path, "yet another long password here")
    assert second.status_code == 410
    assert "expired or has already been used" in second.text
    assert soup(second).find("a", string="Ask for a new link")["href"] == "/forgot"
    assert _sid(second) is None


def test_new_password_works_and_the_old_one_does_not(sam, make_client, mailbox):
    browser = make_client()
    _ask(browser)
    assert _reset(browser, _path(mailbox.link())).status_code == 303
    assert make_client().sign_in("sam@example.org", PASSWORD).status_code == 422
    assert make_client().sign_in("sam@example.org", NEW_PASSWORD).status_code == 303


def test_a_reset_ends_every_session_of_the_account(sam, make_client, mailbox, session):
    laptop = make_client()
    assert laptop.sign_in("sam@example.org").status_code == 303
    assert laptop.get("/account").status_code == 200
    browser = make_client()
    _ask(browser)
    done = _reset(browser, _path(mailbox.link()))
    assert done.status_code == 303
    assert sam.get("/account").status_code == 303
    assert laptop.get("/account").status_code == 303
    assert browser.get("/account").status_code == 200
    rows = _read(session, select(AuthSession))
    assert [row.token_hash for row in rows] == [digest(_sid(done))]


def test_a_used_link_ends_the_other_links_of_the_account(sam, make_client, mailbox):
    browser = make_client()
    _ask(browser)
    _ask(browser)
    first, second = _path(mailbox.link(0)), _path(mailbox.link(1))
    assert first != second
    assert _reset(browser, second).status_code == 303
    assert make_client().get(first).status_code == 410


def test_an_expired_link_is_refused(sam, make_client, mailbox, session):
    browser = make_client()
    _ask(browser)
    path = _path(mailbox.link())
    (row,) = _read(session, select(PasswordReset))
    row.expires_at -= timedelta(minutes=31)
    session.add(row)
    session.commit()
    page = browser.get(path)
    assert page.status_code == 410
    assert "Ask for a new link" in page.text
    assert _reset(browser, path).status_code == 410
    assert make_client().sign_in("sam@example.org", PASSWORD).status_code == 303


def test_links_last_the_configured_minutes(sam, make_client, mailbox, session):
    _ask(make_client())
    (row,) = _read(session, select(PasswordReset))
    lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30, seconds=1)


def test_an_unknown_link_gets_the_same_calm_page(sam, make_client, mailbox):
    browser = make_client()
    _ask(browser)
    used = _path(mailbox.link())
    _reset(browser, used)
    unknown = make_client().get("/reset/not-a-real-token")
    spent = make_client().get(used)
    assert unknown.status_code == spent.status_code == 410
    assert soup(unknown).find("main").text == soup(spent).find("main").text


def test_only_the_hash_of_the_token_is_stored(sam, make_client, mailbox, session):
    _ask(make_client())
    token = _path(mailbox.link()).rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, url-safe base64
    (row,) = _read(session, select(PasswordReset))
    assert row.token_hash == digest(token)
    assert token not in repr(row)


def test_unknown_address_gets_the_same_answer_and_no_mail(sam, make_client, mailbox):
    browser = make_client()
    known = _ask(browser, "sam@example.org")
    unknown = _ask(browser, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert same_page(known) == same_page(unknown)
    assert [m["To"] for m in mailbox.messages] == ["sam@example.org"]
    # both asked the mail server something, so both take about as long
    assert mailbox.conversations == 2


def test_the_address_is_matched_like_at_sign_in(sam, make_client, mailbox):
    _ask(make_client(), "  SAM@Example.org ")
    assert [m["To"] for m in mailbox.messages] == ["sam@example.org"]


def test_an_address_that_is_not_one_is_kept_to_fix(make_client, mailbox):
    response = _ask(make_client(), "sam at example")
    assert response.status_code == 422
    page = soup(response)
    assert page.find("input", {"name": "email"})["value"] == "sam at example"
    assert "email address" in page.select_one(".field-error").text
    assert mailbox.conversations == 0


def test_a_weak_new_password_keeps_the_link(sam, make_client, mailbox, session):
    browser = make_client()
    _ask(browser)
    path = _path(mailbox.link())
    response = _reset(browser, path, "short")
    assert response.status_code == 422
    page = soup(response)
    assert "12 characters" in page.select_one(".field-error").text
    assert not page.find("input", {"name": "password"}).get("value")
    assert "short" not in page.find("form", id="reset_form").decode()
    assert _sid(response) is None
    assert _read(session, select(PasswordReset))[0].used_at is None
    assert _reset(browser, path).status_code == 303


def test_the_reset_form_works_as_an_htmx_fragment(sam, make_client, mailbox):
    browser = make_client()
    _ask(browser)
    response = browser.post_form(
        _path(mailbox.link()), {"password": "short"}, htmx=True
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'id="reset_form"' in response.text


@pytest.mark.real_engine
def test_two_racing_posts_use_a_link_once(sam, make_client, mailbox):
    _ask(make_client())
    path = _path(mailbox.link())
    browsers = [make_client() for _ in range(2)]
    tokens = [b.csrf() for b in browsers]
    start = threading.Barrier(2)
    results: list[int] = []

    def post(browser, token, password):
        start.wait()
        response = browser.post(path, data={"csrf_token": token, "password": password})
        results.append(response.status_code)

    threads = [
        threading.Thread(target=post, args=(b, t, f"{NEW_PASSWORD} number {i}"))
        for i, (b, t) in enumerate(zip(browsers, tokens, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [303, 410]


def test_both_forms_need_their_csrf_token(sam, make_client, mailbox, session):
    browser = make_client()
    _ask(browser)
    path = _path(mailbox.link())
    stranger = make_client()
    forgot = stranger.post("/forgot", data={"email": "sam@example.org"})
    reset = stranger.post(path, data={"password": NEW_PASSWORD})
    assert forgot.status_code == reset.status_code == 403
    assert len(mailbox.messages) == 1
    assert _read(session, select(PasswordReset))[0].used_at is None
    assert _sid(reset) is None


def test_reset_pages_are_not_cached_and_send_no_referrer(sam, make_client, mailbox):
    browser = make_client()
    _ask(browser)
    page = browser.get(_path(mailbox.link()))
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


@pytest.mark.real_engine
def test_the_operator_link_works(sam, make_client, settings, mailbox):
    link = operator_reset_link(settings, "Sam@Example.org")
    assert link is not None
    assert LINK.fullmatch(link)
    browser = make_client()
    assert browser.get(_path(link)).status_code == 200
    assert _reset(browser, _path(link)).status_code == 303
    assert make_client().sign_in("sam@example.org", NEW_PASSWORD).status_code == 303
    assert make_client().get(_path(link)).status_code == 410
    assert mailbox.messages == []


def test_the_operator_link_needs_an_account(engine, settings):
    assert operator_reset_link(settings, "nobody@example.org") is None


def test_without_mail_the_page_says_how_to_get_a_link(settings, engine):
    plain = settings.model_copy(update={"smtp_host": None})
    browser = Client(create_app(plain, engine=engine))
    for response in (browser.get("/forgot"), _ask(browser)):
        assert response.status_code == 200
        text = soup(response).find("main").text
        assert "no mail set up" in text
        assert "mutual reset-link EMAIL" in text
        assert soup(response).find("form", action="/forgot") is None


def test_a_mail_server_that_is_down_gets_the_same_answer(
    sam, make_client, settings, engine, caplog
):
    down = settings.model_copy(update={"smtp_port": _free_port()})
    browser = Client(create_app(down, engine=engine))
    with caplog.at_level(logging.WARNING, logger="mutual"):
        known = _ask(browser, "sam@example.org")
        unknown = _ask(browser, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert same_page(known) == same_page(unknown)
    assert "we have sent a link" in known.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "not sent" in logged
    assert "example.org" not in logged
    assert "/reset/" not in logged


# rate limits


@pytest.fixture
def limited(settings, engine):
    return create_app(settings.model_copy(update={"rate_limits": True}), engine=engine)


def _browser(app, address: str) -> Client:
    """A browser at its own network address."""
    browser = Client(app)
    browser._transport.client = (address, 50000)
    return browser


def _assert_calm_429(response, email: str | None = None):
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    page = soup(response)
    message = page.select_one(".form-error").text
    assert "Please wait" in message
    assert "Nothing you typed has been lost" in message
    if email is not None:
        assert page.find("input", {"name": "email"})["value"] == email
    assert _sid(response) is None


def test_forgot_is_limited_per_address_of_the_asker(sam, limited, mailbox):
    browser = _browser(limited, "203.0.113.7")
    for number in range(5):
        assert _ask(browser, f"someone{number}@example.org").status_code == 200
    response = _ask(browser, "sam@example.org")
    _assert_calm_429(response, "sam@example.org")
    assert mailbox.messages == []
    assert _ask(_browser(limited, "203.0.113.8")).status_code == 200
    assert len(mailbox.messages) == 1


def test_forgot_limit_per_email_does_not_tell_who_has_an_account(
    sam, limited, mailbox, session
):
    answers = {}
    for number, email in enumerate(("sam@example.org", "nobody@example.org")):
        browser = _browser(limited, f"203.0.113.{number + 1}")
        for _ in range(3):
            assert _ask(browser, email).status_code == 200
        answers[email] = _ask(_browser(limited, f"198.51.100.{number + 1}"), email)
    known, unknown = answers["sam@example.org"], answers["nobody@example.org"]
    _assert_calm_429(known, "sam@example.org")
    _assert_calm_429(unknown, "nobody@example.org")
    assert soup(known).select_one(".form-error").text == (
        soup(unknown).select_one(".form-error").text
    )
    assert len(mailbox.messages) == 3
    buckets = " ".join(_read(session, select(RateEvent.bucket)))
    assert "example.org" not in buckets


def test_reset_posts_are_limited_per_address(sam, limited, mailbox, session):
    browser = _browser(limited, "203.0.113.9")
    _ask(browser)
    path = _path(mailbox.link())
    for _ in range(10):
        assert _reset(browser, path, "short").status_code == 422
    before = _sessions_of(session)
    response = _reset(browser, path)
    _assert_calm_429(response)
    assert soup(response).find("form", id="reset_form")["action"] == path
    assert _sessions_of(session) == before
    assert _read(session, select(PasswordReset))[0].used_at is None
    assert _browser(limited, "203.0.113.10").sign_in("sam@example.org").status_code == (
        303
    )


def test_guessing_links_is_limited(limited):
    browser = _browser(limited, "203.0.113.11")
    for number in range(10):
        assert _reset(browser, f"/reset/guess{number}").status_code == 410
    _assert_calm_429(_reset(browser, "/reset/guess-eleven"))
