"""Accounts and server-side sessions."""

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.auth.passwords import OWASP_FLOOR_MEMORY_KIB, OWASP_FLOOR_TIME_COST, Hasher
from backend.auth.tokens import digest
from backend.config import Settings
from backend.models import Account, AuthSession
from tests.helpers import PASSWORD, soup


def sid(client) -> str:
    return client.cookies.get("mutual_sid")


def test_sign_up_signs_in_and_shows_my_plans(client):
    client.sign_up("Sam")
    page = soup(client.get("/"))
    assert page.h1.text == "My plans"
    assert "Sam" in page.find("header").text


def test_sign_up_keeps_what_was_typed_on_error(client):
    response = client.post_form(
        "/signup",
        {"email": "not an email", "display_name": "Alex", "password": "short"},
    )
    assert response.status_code == 422
    page = soup(response)
    assert page.find("input", {"name": "display_name"})["value"] == "Alex"
    assert page.find("input", {"name": "email"})["value"] == "not an email"
    errors = " ".join(p.text for p in page.select(".field-error"))
    assert "email address" in errors
    assert "12 characters" in errors


@pytest.mark.parametrize(
    "password", ["password1234", "qwerty123456", "iloveyou2024!!", "aaaaaaaaaaaaaa"]
)
def test_common_passwords_are_refused(client, password):
    response = client.post_form(
        "/signup", {"email": "a@example.org", "display_name": "A", "password": password}
    )
    assert response.status_code == 422
    assert "easy to guess" in response.text


def test_emails_are_case_insensitive(client, make_client):
    client.sign_up(email="Sam@Example.org")
    other = make_client()
    response = other.sign_in("sam@EXAMPLE.org")
    assert response.status_code == 303
    again = make_client().post_form(
        "/signup",
        {"email": "SAM@example.org", "display_name": "S", "password": PASSWORD},
    )
    assert again.status_code == 422
    assert "already have one" in again.text


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_client):
    client.sign_up(email="sam@example.org")
    stranger = make_client()
    wrong = stranger.sign_in("sam@example.org", "not the right password")
    unknown = stranger.sign_in("nobody@example.org", "not the right password")
    assert wrong.status_code == unknown.status_code == 422
    assert soup(wrong).select_one(".form-error").text == (
        soup(unknown).select_one(".form-error").text
    )


def test_sign_up_never_says_an_email_is_taken(client, make_client):
    client.sign_up(email="sam@example.org")
    taken = make_client().post_form(
        "/signup",
        {"email": "Sam@example.org", "display_name": "Robin", "password": PASSWORD},
    )
    weak = make_client().post_form(
        "/signup",
        {"email": "robin@example.org", "display_name": "Robin", "password": "short"},
    )
    assert taken.status_code == weak.status_code == 422
    page = soup(taken)
    assert page.select_one(".form-error").text == (
        soup(weak).select_one(".form-error").text
    )
    assert "already" not in " ".join(p.text for p in page.select(".field-error"))
    assert "taken" not in taken.text
    # what was typed is kept, all but the password
    assert page.find("input", {"name": "display_name"})["value"] == "Robin"
    assert page.find("input", {"name": "email"})["value"] == "Sam@example.org"


def test_sign_in_rotates_the_session(client, make_client):
    client.sign_up(email="sam@example.org")
    before = sid(client)
    client.post_form("/logout")
    assert client.sign_in("sam@example.org").status_code == 303
    assert sid(client)
    assert sid(client) != before


def test_session_cookie_attributes(client):
    response = client.post_form(
        "/signup", {"email": "c@example.org", "display_name": "C", "password": PASSWORD}
    )
    cookie = next(
        v
        for v in response.headers.get_list("set-cookie")
        if v.startswith("mutual_sid=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Max-Age" not in cookie  # ends with the browser


def test_https_base_url_uses_host_prefix_and_secure(settings, engine):
    from backend.main import create_app
    from tests.helpers import Client

    secure = settings.model_copy(update={"base_url": "https://testserver"})
    client = Client(create_app(secure, engine=engine))
    client.base_url = "https://testserver"
    response = client.get("/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-mutual_anon=")
    assert "Secure" in cookie
    assert "strict-transport-security" in response.headers


def test_only_the_token_hash_is_stored(client, session):
    client.sign_up()
    token = sid(client)
    rows = session.exec(select(AuthSession)).all()
    assert [row.token_hash for row in rows] == [digest(token)]
    assert len(token) >= 43  # 256 bits, url-safe base64


def test_sign_out_ends_the_session_on_the_server(client, make_client):
    client.sign_up()
    stolen = sid(client)
    client.post_form("/logout")
    thief = make_client()
    thief.cookies.set("mutual_sid", stolen)
    assert thief.get("/account").status_code == 303


def test_sign_out_everywhere(client, make_client):
    client.sign_up(email="sam@example.org")
    laptop = make_client()
    laptop.sign_in("sam@example.org")
    client.post_form("/account/sign-out-everywhere")
    assert laptop.get("/account").status_code == 303
    assert client.get("/account").status_code == 303


def test_password_change_ends_other_sessions_and_rotates_mine(client, make_client):
    client.sign_up(email="sam@example.org")
    before = sid(client)
    laptop = make_client()
    laptop.sign_in("sam@example.org")
    response = client.post_form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a new and gentle morning"},
    )
    assert response.status_code == 303
    assert sid(client) != before
    assert client.get("/account").status_code == 200
    assert laptop.get("/account").status_code == 303
    old = make_client()
    old.cookies.set("mutual_sid", before)
    assert old.get("/account").status_code == 303
    assert (
        make_client().sign_in("sam@example.org", "a new and gentle morning").status_code
        == 303
    )


def test_password_change_needs_the_current_password(client):
    client.sign_up()
    response = client.post_form(
        "/account/password",
        {
            "current_password": "wrong wrong wrong",
            "new_password": "a new and gentle morning",
        },
    )
    assert response.status_code == 422
    assert "not your current password" in response.text


def test_display_name_change(client):
    client.sign_up("Sam")
    client.post_form("/account/name", {"display_name": "  Samuel  "})
    assert "Samuel" in soup(client.get("/")).find("header").text


def _age_sessions(session, **delta):
    for row in session.exec(select(AuthSession)).all():
        row.last_seen_at -= timedelta(**delta)
        row.created_at -= timedelta(**delta)
        session.add(row)
    session.commit()


def test_idle_session_expires(client, session):
    client.sign_up()
    _age_sessions(session, minutes=31)
    assert client.get("/account").status_code == 303


def test_idle_clock_counts_from_the_last_request(client, session, monkeypatch):
    """A request every few seconds keeps a session, even between written touches."""
    from backend.auth import sessions

    client.sign_up()
    start = session.exec(select(AuthSession)).one().last_seen_at
    session.commit()
    at = {"now": start + timedelta(seconds=50)}
    monkeypatch.setattr(sessions, "utc_now", lambda: at["now"])
    assert client.get("/account").status_code == 200  # not yet written down
    at["now"] = start + timedelta(minutes=30, seconds=40)  # 29m50s after it
    assert client.get("/account").status_code == 200
    at["now"] += timedelta(minutes=30, seconds=1)
    assert client.get("/account").status_code == 303


def test_sign_out_clears_what_the_browser_kept(client):
    client.sign_up()
    response = client.post_form("/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'


@pytest.mark.parametrize("path", ["/", "/login", "/signup"])
def test_head_answers_like_get_without_a_body(client, path):
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["cache-control"] == get.headers["cache-control"]


def test_head_on_a_plan_page(partners, make_client):
    head = partners.sam.head(partners.path)
    assert head.status_code == 200
    assert head.content == b""
    assert "text/html" in head.headers["content-type"]
    # a stranger gets the same 404 as with GET
    stranger = make_client().sign_up()
    assert stranger.head(partners.path).status_code == 404


def test_absolute_session_lifetime(client, session):
    client.sign_up()
    for row in session.exec(select(AuthSession)).all():
        row.created_at -= timedelta(hours=12, minutes=1)
        session.add(row)
    session.commit()
    assert client.get("/account").status_code == 303


def test_expired_session_keeps_the_posted_text(client, session, make_client):
    client.sign_up(email="sam@example.org")
    token = client.csrf()
    _age_sessions(session, minutes=45)
    words = "When I go quiet, I need you to sit with me.\nNot fix it."
    response = client.post(
        "/plans",
        data={"csrf_token": token, "title": words},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/resume")
    login = client.get(response.headers["location"])
    assert "it will be waiting for you" in login.text
    form = soup(login).find("form", id="login_form")
    assert form["action"] == "/login?next=/resume"
    signed_in = client.post_form(
        form["action"], {"email": "sam@example.org", "password": PASSWORD}
    )
    assert signed_in.headers["location"] == "/resume"
    resume = soup(client.get("/resume"))
    form = resume.find("form", id="resume_form")
    assert form.find("textarea").text == words
    assert form["action"] == "/plans"


def test_saved_text_is_only_for_its_writer(client, session, make_client):
    client.sign_up(email="sam@example.org")
    token = client.csrf()
    _age_sessions(session, minutes=45)
    client.post("/plans", data={"csrf_token": token, "title": "private words"})
    other = make_client().sign_up(email="alex@example.org")
    other.cookies.set("mutual_saved", client.cookies.get("mutual_saved"))
    page = other.get("/resume")
    assert "private words" not in page.text


def test_hashing_meets_owasp_floor():
    hasher = Hasher(Settings(_env_file=None))
    time_cost, memory, _ = hasher.parameters
    assert memory >= OWASP_FLOOR_MEMORY_KIB
    assert time_cost >= OWASP_FLOOR_TIME_COST
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$")


def test_concurrent_hashing_is_bounded():
    import threading

    settings = Settings(
        _env_file=None,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        hash_concurrency=2,
    )
    hasher = Hasher(settings)
    running = 0
    most = 0
    lock = threading.Lock()
    real = hasher._hasher

    class Counting:
        def hash(self, password):
            return counting(password)

    def counting(password):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            import time

            time.sleep(0.02)
            return real.hash(password)
        finally:
            with lock:
                running -= 1

    hasher._hasher = Counting()
    threads = [threading.Thread(target=hasher.hash, args=("x" * 20,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2


def test_account_page_needs_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


def test_login_next_never_leaves_the_site(client):
    client.sign_up(email="sam@example.org")
    client.post_form("/logout")
    response = client.post_form(
        "/login?next=//evil.example/",
        {"email": "sam@example.org", "password": PASSWORD},
    )
    assert response.headers["location"] == "/"


def test_accounts_store_lowercase_email(client, session):
    client.sign_up(email="MiXeD@Example.ORG")
    assert session.exec(select(Account.email)).all() == ["mixed@example.org"]
