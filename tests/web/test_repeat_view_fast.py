"""A repeat view answered at the door (backend.repeat), before the app runs.

It must answer 304 exactly where the app would answer 304 and write nothing,
with the same headers, and hand everything else to the app untouched.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import col, select

from backend import changes
from backend.auth import sessions
from backend.auth.tokens import digest
from backend.models import AuthSession, Membership
from backend.repeat import RepeatViews
from backend.web import SHOWN_TAG
from tests.web.steps import add, entry_id
from tests.web.test_query_budget import counting
from tests.web.test_shown_tag import HTMX, again, tag_of

TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def door(app) -> RepeatViews:
    """The app's outermost layer, once its middleware is built."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    layer = app.middleware_stack
    while not isinstance(layer, RepeatViews):
        layer = layer.app
    return layer


def statements(asked: list[str]) -> list[str]:
    return [s for s in asked if not s.lstrip().upper().startswith(TRANSACTION)]


@pytest.fixture
def seen(partners, app):
    """Alex has seen the plan page and a card, and holds the tags they were given."""
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    card = f"{p}/entries/{eid}"
    partners.alex.get(p)  # the first look is recorded, and raises the stamp
    return {
        "page": (p, tag_of(partners.alex, p), {}),
        "card": (card, tag_of(partners.alex, card, **HTMX), HTMX),
        "eid": eid,
        "door": door(app),
    }


def hash_of(client) -> str:
    return digest(client.cookies["mutual_sid"])


def session_row(session, client) -> AuthSession:
    session.expire_all()
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_of(client))
    ).one()
    session.commit()  # SQLite: the test's write session lets go of the lock
    return row


def age_session(session, client, **delta) -> None:
    row = session_row(session, client)
    for field, back in delta.items():
        setattr(row, field, getattr(row, field) - back)
    session.add(row)
    session.commit()


@pytest.mark.parametrize("view", ["page", "card"])
def test_a_repeat_view_is_answered_at_the_door_as_the_app_answers_it(
    partners, seen, view
):
    path, tag, headers = seen[view]
    layer = seen["door"]
    with counting() as asked:
        fast = again(partners.alex, path, tag, **headers)
    assert fast.status_code == 304
    assert layer.answered == 1
    # one statement: the session, its account, the membership and the stamp
    assert len(statements(asked)) == 1, asked
    assert statements(asked)[0].lstrip().upper().startswith("SELECT")
    layer.enabled = False
    slow = again(partners.alex, path, tag, **headers)
    assert slow.status_code == 304
    assert layer.answered == 1
    assert fast.content == slow.content == b""
    assert list(fast.headers.multi_items()) == list(slow.headers.multi_items())
    assert fast.headers["etag"] == tag
    assert fast.headers["cache-control"] == "no-store"


def test_a_view_answered_at_the_door_counts_on_the_idle_clock(partners, seen, session):
    path, tag, headers = seen["card"]
    row = session_row(session, partners.alex)
    before = sessions.last_request(row.token_hash, row.last_seen_at)
    assert again(partners.alex, path, tag, **headers).status_code == 304
    assert seen["door"].answered == 1
    # remembered as the app remembers a request between written touches
    assert sessions.last_request(row.token_hash, row.last_seen_at) > before


def test_the_door_answers_with_strict_transport_security_over_https(settings):
    https = settings.model_copy(update={"cookie_secure": True})
    layer = RepeatViews(None, settings=https, secret="s")
    assert (b"strict-transport-security", b"max-age=63072000; includeSubDomains") in (
        layer.after_tag
    )
    plain = RepeatViews(None, settings=settings, secret="s")
    assert b"strict-transport-security" not in dict(plain.after_tag)


@pytest.mark.parametrize("view", ["page", "card"])
def test_a_partners_change_is_built_afresh(partners, seen, view):
    path, tag, headers = seen[view]
    partners.sam.post_form(
        f"{partners.path}/entries/{seen['eid']}",
        {"text": "We slow right down.", "base_version": "1"},
    )
    response = again(partners.alex, path, tag, **headers)
    assert response.status_code == 200
    assert "We slow right down." in response.text
    assert seen["door"].answered == 0


@pytest.mark.parametrize(
    "ended",
    [
        {"last_seen_at": timedelta(minutes=31), "created_at": timedelta(minutes=31)},
        {"created_at": timedelta(hours=13)},
    ],
    ids=["idle", "absolute"],
)
@pytest.mark.parametrize("view", ["page", "card"])
def test_an_ended_session_is_never_answered_unchanged(
    partners, seen, session, ended, view
):
    path, tag, headers = seen[view]
    age_session(session, partners.alex, **ended)
    response = again(partners.alex, path, tag, **headers)
    assert response.status_code != 304
    assert seen["door"].answered == 0
    if view == "page":
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_a_signed_out_session_is_never_answered_unchanged(partners, seen, session):
    path, tag, headers = seen["page"]
    session.delete(session_row(session, partners.alex))
    session.commit()
    response = again(partners.alex, path, tag, **headers)
    assert response.status_code == 303
    assert seen["door"].answered == 0


@pytest.mark.parametrize("view", ["page", "card"])
def test_a_touch_due_goes_on_to_the_app_which_writes_it(partners, seen, session, view):
    path, tag, headers = seen[view]
    age_session(session, partners.alex, last_seen_at=timedelta(minutes=2))
    before = session_row(session, partners.alex).last_seen_at
    response = again(partners.alex, path, tag, **headers)
    assert response.status_code == 304  # the app's own: nothing shown changed
    assert seen["door"].answered == 0
    assert session_row(session, partners.alex).last_seen_at > before
    # written: the next repeat view is the door's again
    assert again(partners.alex, path, tag, **headers).status_code == 304
    assert seen["door"].answered == 1


@pytest.mark.parametrize("view", ["page", "card"])
def test_a_stolen_tag_gets_a_stranger_404(partners, seen, make_client, view):
    path, tag, headers = seen[view]
    stranger = make_client().sign_up()
    assert again(stranger, path, tag, **headers).status_code == 404
    assert seen["door"].answered == 0


@pytest.mark.parametrize("view", ["page", "card"])
def test_a_partner_no_more_gets_404_with_their_own_tag(partners, seen, session, view):
    path, tag, headers = seen[view]
    alex = session_row(session, partners.alex).account_id
    # gone without raising the stamp, so only the membership says no
    changes.touch(session, [])
    session.exec(delete(Membership).where(col(Membership.account_id) == alex))
    session.commit()
    assert again(partners.alex, path, tag, **headers).status_code == 404
    assert seen["door"].answered == 0


def test_a_look_due_to_be_recorded_builds_the_page(partners, seen, session):
    path, tag, _ = seen["page"]
    alex = session_row(session, partners.alex).account_id
    back = datetime.now(UTC) - timedelta(minutes=2)
    # set back without raising the stamp: the tag stands but for the look
    changes.touch(session, [])
    session.exec(
        update(Membership)
        .where(col(Membership.account_id) == alex)
        .values(last_visit_at=back)
    )
    session.commit()
    response = again(partners.alex, path, tag)
    assert response.status_code == 200
    assert seen["door"].answered == 0
    session.expire_all()
    member = session.exec(select(Membership).where(Membership.account_id == alex)).one()
    assert member.last_visit_at > back + timedelta(minutes=1)


@pytest.mark.parametrize("view", ["page", "card"])
def test_another_session_of_the_same_person_gets_its_own_page(
    partners, seen, make_client, view
):
    path, tag, headers = seen[view]
    elsewhere = make_client()
    assert elsewhere.sign_in(partners.alex.email).status_code == 303
    assert again(elsewhere, path, tag, **headers).status_code == 200
    assert seen["door"].answered == 0
    # nothing changed: the tag still stands for the session it was given to
    assert again(partners.alex, path, tag, **headers).status_code == 304
    assert seen["door"].answered == 1


@pytest.mark.parametrize("view", ["page", "card"])
def test_another_zone_or_address_gets_its_own_page(partners, seen, view):
    path, tag, headers = seen[view]
    layer = seen["door"]
    assert again(partners.alex, f"{path}?debrief=x", tag, **headers).status_code == 200
    partners.alex.cookies.set("tz", "Europe/Berlin")
    assert again(partners.alex, path, tag, **headers).status_code == 200
    assert layer.answered == 0
    partners.alex.cookies.delete("tz")
    assert again(partners.alex, path, tag, **headers).status_code == 304
    assert layer.answered == 1


def test_what_is_not_a_repeat_view_passes_untouched(partners, seen, monkeypatch):
    path, tag, _ = seen["page"]
    card, card_tag, _ = seen["card"]
    layer = seen["door"]
    asked: list[tuple] = []  # each time the door went to the database
    answer = layer._answer
    monkeypatch.setattr(layer, "_answer", lambda *a: asked.append(a) or answer(*a))
    found = SHOWN_TAG.fullmatch(tag)
    ran_out = f'W/"{found["key"]}.{int(datetime.now(UTC).timestamp()) - 1}"'
    alex = partners.alex
    assert alex.head(path, headers={"If-None-Match": tag}).status_code == 304
    response = alex.post(path, headers={"If-None-Match": tag})
    assert response.status_code != 304
    assert again(alex, f"{path}/since", tag).status_code != 304
    shouted = path.upper().replace("/PLANS/", "/plans/")
    assert again(alex, shouted, tag).status_code == 200
    assert again(alex, f"{path}/", tag).status_code != 304
    assert again(alex, path, tag.replace("W/", "")).status_code == 200
    short = tag.replace(found["key"], found["key"][:31])
    assert again(alex, path, short).status_code == 200
    assert again(alex, path, ran_out).status_code == 200
    sized = again(alex, card, card_tag, **HTMX, **{"Content-Length": "0"})
    assert sized.status_code == 304  # the app's own
    assert partners.alex.get(path).status_code == 200  # no tag at all
    assert len(asked) == 0
    assert layer.answered == 0
    # and a repeat view of the card by the same browser is the door's
    assert again(alex, card, card_tag, **HTMX).status_code == 304
    assert len(asked) == 1


def test_a_failure_at_the_door_is_answered_by_the_app(partners, seen, monkeypatch):
    path, tag, _ = seen["page"]
    layer = seen["door"]

    def unreachable(*args):
        raise ConnectionError("the database is away")

    monkeypatch.setattr(layer, "_answer", unreachable)
    assert again(partners.alex, path, tag).status_code == 304
    assert layer.answered == 0


@pytest.mark.real_engine
def test_the_door_reads_through_the_pool_and_leaves_it_as_it_was(
    partners, seen, engine
):
    """As served: connections from the app's pool, not the tests' one; on
    PostgreSQL read outside a transaction, each given back as it was."""
    layer = seen["door"]
    for view in ("page", "card"):
        path, tag, headers = seen[view]
        assert again(partners.alex, path, tag, **headers).status_code == 304
    assert layer.answered == 2
    pooled = [engine.connect() for _ in range(engine.pool.checkedin())]
    try:
        for conn in pooled:
            assert conn.get_isolation_level() != "AUTOCOMMIT"
            driver = conn.connection.driver_connection
            if engine.dialect.name == "sqlite":
                assert driver.isolation_level is None  # BEGIN is backend.db's
            else:
                assert driver.autocommit is False
    finally:
        for conn in pooled:
            conn.close()
    # and the app's own writes still commit (and roll back) as before
    partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    assert again(partners.alex, *seen["page"][:2]).status_code == 200
