"""Rate limits on signing in, signing up and joining a plan: calm, and nothing happens.

Every limit is counted in the database, so it holds across processes and
restarts. A limited request changes nothing, says when to try again, and keeps
what the person typed. (The limits on password resets are in test_reset.py.)
"""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, update
from sqlmodel import col, select

from backend.auth import ratelimit
from backend.auth.tokens import digest, email_key, sign
from backend.main import create_app
from backend.models import Account, AuthSession, Invite, Membership, RateEvent
from tests.helpers import PASSWORD, Client, soup


@pytest.fixture
def limited(settings, engine):
    return create_app(settings.model_copy(update={"rate_limits": True}), engine=engine)


def _browser(app, address: str) -> Client:
    """A browser at its own network address."""
    browser = Client(app)
    browser._transport.client = (address, 50000)
    return browser


def _sid(response) -> str | None:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith("mutual_sid="):
            return value
    return None


def _count(session, model) -> int:
    """How many rows now; the transaction ends at once, so the app can write."""
    session.expire_all()
    number = session.exec(select(func.count()).select_from(model)).one()
    session.commit()
    return number


def _age_attempts(session, **delta) -> None:
    """Move every counted attempt back in time, as if the clock had moved on."""
    session.exec(update(RateEvent).values(at=col(RateEvent.at) - timedelta(**delta)))
    session.commit()


def _assert_calm_429(response, *, email: str | None = None, window: int):
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= window
    page = soup(response)
    message = page.select_one(".form-error").text
    assert "Please wait" in message
    assert "Nothing you typed has been lost" in message
    if email is not None:
        assert page.find("input", {"name": "email"})["value"] == email
    assert _sid(response) is None


@pytest.fixture(autouse=True)
def pauses(monkeypatch) -> list[float]:
    """The pauses sign-in took, counted instead of waited through."""
    waited: list[float] = []
    monkeypatch.setattr(ratelimit, "pause", waited.append)
    return waited


@pytest.fixture
def sam(client):
    return client.sign_up("Sam", email="sam@example.org")


def test_sign_in_is_limited_per_network_address(sam, limited, session):
    browser = _browser(limited, "203.0.113.1")
    for number in range(10):
        response = browser.sign_in(f"someone{number}@example.org", "not it at all")
        assert response.status_code == 422
    before = _count(session, AuthSession)
    response = browser.sign_in("sam@example.org")
    _assert_calm_429(response, email="sam@example.org", window=60)
    assert _count(session, AuthSession) == before
    assert browser.get("/account").status_code == 303
    # someone else, somewhere else, is not held up
    assert _browser(limited, "203.0.113.2").sign_in("sam@example.org").status_code == (
        303
    )


def test_a_forwarded_for_header_does_not_dodge_the_limit(sam, limited):
    browser = _browser(limited, "203.0.113.3")
    for number in range(10):
        response = browser.post_form(
            "/login",
            {"email": "sam@example.org", "password": "not it at all"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
        assert response.status_code == 422
    response = browser.post_form(
        "/login",
        {"email": "sam@example.org", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert response.status_code == 429


def test_sign_in_is_limited_per_account_from_one_address(sam, limited, session):
    browser = _browser(limited, "203.0.113.9")
    for _ in range(10):
        assert browser.sign_in("sam@example.org", "not it at all").status_code == 422
    # the address's own minute has passed
    session.exec(delete(RateEvent).where(col(RateEvent.bucket).startswith("login:ip:")))
    session.commit()
    before = _count(session, AuthSession)
    response = browser.sign_in("SAM@example.org")
    _assert_calm_429(response, email="SAM@example.org", window=15 * 60)
    assert _count(session, AuthSession) == before
    assert browser.get("/account").status_code == 303
    # another account from the same place is not held up
    alex = Client(limited).sign_up("Alex", email="alex@example.org")
    assert _browser(limited, "203.0.113.9").sign_in(alex.email).status_code == 303
    # and the limit passes
    _age_attempts(session, minutes=16)
    assert browser.sign_in("sam@example.org").status_code == 303


def test_someone_guessing_elsewhere_cannot_lock_the_owner_out(sam, limited, pauses):
    attacker = _browser(limited, "10.0.0.66")
    answers = [
        attacker.sign_in("sam@example.org", f"guess {n}").status_code for n in range(30)
    ]
    assert answers.count(422) == 10
    assert answers.count(429) == 20
    # more guessers, one try each from many places
    for number in range(20):
        guesser = _browser(limited, f"198.51.100.{number}")
        assert guesser.sign_in("sam@example.org", "guess").status_code == 422
    owner = _browser(limited, "10.0.0.9")
    assert owner.sign_in("sam@example.org").status_code == 303
    assert owner.get("/account").status_code == 200
    # the account only got slower to try, and never by more than a few seconds
    assert 0 < pauses[-1] <= 3


def test_failed_sign_ins_to_one_account_slow_it_down_step_by_step(sam, limited, pauses):
    for number in range(9):
        guesser = _browser(limited, f"198.51.100.{number}")
        guesser.sign_in("sam@example.org", "guess")
    assert pauses[:5] == [0, 0, 0, 0, 0]
    assert pauses[5:] == sorted(pauses[5:])
    assert pauses[5] > 0
    assert pauses[-1] > pauses[5]
    # a different account is not slowed by it
    alex = Client(limited).sign_up("Alex", email="alex@example.org")
    _browser(limited, "198.51.100.200").sign_in(alex.email)
    assert pauses[-1] == 0


def test_sign_up_is_limited_per_network_address(limited, session):
    for number in range(10):
        browser = _browser(limited, "203.0.113.60")
        browser.sign_up(email=f"person-{number}@example.org")
    before = _count(session, Account)
    browser = _browser(limited, "203.0.113.60")
    response = browser.post_form(
        "/signup",
        {"email": "robin@example.org", "display_name": "Robin", "password": PASSWORD},
    )
    _assert_calm_429(response, email="robin@example.org", window=60 * 60)
    assert soup(response).find("input", {"name": "display_name"})["value"] == "Robin"
    assert not soup(response).find("input", {"name": "password"}).get("value")
    assert _count(session, Account) == before
    assert browser.get("/account").status_code == 303
    other = _browser(limited, "203.0.113.61")
    assert other.sign_up(email="robin@example.org").email == "robin@example.org"


def test_joining_a_plan_is_limited_per_network_address(sam, limited, session):
    plan = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    link = soup(sam.post_form(f"{plan}/invite")).find("input", id="invite-link")
    token = link["value"].rsplit("/", 1)[1]
    alex = _browser(limited, "203.0.113.70").sign_up("Alex")
    for number in range(10):
        assert alex.post_form(f"/invite/guess-{number}").status_code == 409
    response = alex.post_form(f"/invite/{token}")
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert "Please wait" in soup(response).find("main").text
    assert _count(session, Membership) == 1
    session.expire_all()
    assert session.exec(select(Invite.used_at)).one() is None
    session.commit()
    _age_attempts(session, minutes=2)
    assert alex.post_form(f"/invite/{token}").headers["location"] == plan


def test_limits_can_be_turned_off(settings, sam, make_client):
    assert settings.rate_limits is False
    browser = make_client()
    for _ in range(12):
        assert browser.sign_in("sam@example.org", "not it at all").status_code == 422
    assert browser.sign_in("sam@example.org").status_code == 303


def _buckets(session) -> list[str]:
    session.expire_all()
    found = list(session.exec(select(RateEvent.bucket)).all())
    session.commit()
    return found


def test_no_count_holds_an_address_and_erasure_clears_mine(limited, session):
    """Counts are kept under a keyed hash of the sender's address and of the
    email address, never an address or its plain hash; deleting an account from
    that address clears every count kept under it."""
    address = "203.0.113.77"
    plain = digest(address)
    email = "robin@example.org"
    plain_email = digest(email)
    keyed_email = email_key(limited.state.secret, email)
    keyed = sign(limited.state.secret, f"address:{address}")
    browser = _browser(limited, address).sign_up("Robin", email="robin@example.org")
    for _ in range(3):
        assert browser.sign_in("robin@example.org", "not it").status_code == 422
    counted = _buckets(session)
    assert len([b for b in counted if keyed in b]) >= 4  # sign-up, the sign-ins
    assert [b for b in counted if keyed_email in b]  # the failed sign-ins
    assert [b for b in counted if address in b or plain in b] == []
    assert [b for b in counted if email in b or plain_email in b] == []

    deleted = browser.post_form("/account/delete", {"password": PASSWORD})

    assert deleted.status_code == 303
    left = _buckets(session)
    assert [b for b in left if address in b or plain in b or keyed in b] == []
    assert [b for b in left if keyed_email in b] == []
    # and limits still count for everyone else, from anywhere
    other = _browser(limited, "203.0.113.78")
    for number in range(10):
        assert other.sign_in(f"x{number}@example.org", "no").status_code == 422
    assert other.sign_in("x@example.org", "no").status_code == 429
