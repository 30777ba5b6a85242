"""Being seen as "here now": each person's choice, per plan, off until chosen."""

import time
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from backend.db import utc_now
from backend.live.postgres import PostgresBroker
from backend.models import Account, LiveStream, Membership
from tests.helpers import soup
from tests.web.test_entries import add, entry_id
from tests.web.test_live import OpenPage, live_url, open_stream, show_presence

__all__ = ["live_url"]  # a fixture, used by name


def choice(client, path):
    return soup(client.get(path)).find(id="presence_choice")


def test_presence_is_off_until_a_person_turns_it_on(partners):
    form = choice(partners.sam, partners.path)
    assert "Alex doesn't see when you're here." in form.text
    assert form.find("button").text == "Let Alex see when I'm here"
    turned = partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    assert turned.status_code == 303  # a plain form works without JavaScript
    assert turned.headers["location"] == f"{partners.path}#presence_choice"
    form = choice(partners.sam, partners.path)
    assert "Alex can see when you're here." in form.text
    assert form.find("button").text == "Stop showing it"
    # one person's choice is theirs alone
    assert (
        "Sam doesn't see when you're here." in choice(partners.alex, partners.path).text
    )


def test_the_choice_is_per_plan(partners):
    partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    other = partners.sam.post_form("/plans", {"title": "Another"}).headers["location"]
    link = soup(partners.sam.post_form(f"{other}/invite")).find(
        "input", id="invite-link"
    )
    partners.alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}")
    assert "Alex doesn't see" in choice(partners.sam, other).text
    assert "Alex can see" in choice(partners.sam, partners.path).text


def test_turning_it_off_again_with_htmx_returns_the_choice(partners):
    partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    off = partners.sam.post_form(f"{partners.path}/presence", {"show": ""}, htmx=True)
    assert off.status_code == 200
    assert "<html" not in off.text
    assert (
        "Alex doesn't see when you're here."
        in soup(off).find(id="presence_choice").text
    )


def test_before_a_partner_joins_there_is_nothing_to_choose(client):
    sam = client.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    assert choice(sam, path) is None


# ---------------------------------------------------------------- on the stream


def here_line(client, path) -> str:
    return client.get(f"{path}/presence", headers={"HX-Request": "true"}).text


def until_gone(app, count: int) -> None:
    """Wait until the server has closed streams down to `count` still open."""
    deadline = time.monotonic() + 5
    while app.state.broker.count() > count:
        assert time.monotonic() < deadline, "the closed stream stayed open"
        time.sleep(0.02)


def no_presence_until_a_marker(partners, stream, words: str) -> None:
    """Alex adds something; nothing about being here reached Sam before it."""
    marker = entry_id(add(partners.alex, partners.path, "signals", words))
    seen = stream.until(f"entry-{marker}")
    assert not [kind for kind, _ in seen if kind.startswith("presence")]


def test_turned_on_with_the_page_open_its_closing_is_seen(partners, live_url, app):
    """The stale "here now": a page opened before the choice, closed after it."""
    sam_stream = open_stream(live_url, partners, "sam")
    alex_stream = OpenPage(live_url, partners.alex, partners.path)
    try:
        assert "is here now" not in here_line(partners.sam, partners.path)
        show_presence(partners.alex, partners.path)
        assert sam_stream.next("presence") == "{}"  # the choice, naming no one
        assert "Alex is here now" in here_line(partners.sam, partners.path)
        # the page that was already open stays open, and its closing is told
        alex_stream.close()
        alex_id = sam_stream.next("presence")
        assert sam_stream.next(f"presence-{alex_id}") == alex_id
        assert "is here now" not in here_line(partners.sam, partners.path)
    finally:
        alex_stream.close()
        sam_stream.close()


def test_turned_off_with_the_page_open_its_closing_tells_nobody(
    partners, live_url, app
):
    """Sentinel: chosen at opening, taken back, then the page closes."""
    show_presence(partners.alex, partners.path)
    sam_stream = open_stream(live_url, partners, "sam")
    alex_stream = OpenPage(live_url, partners.alex, partners.path)
    try:
        alex_id = sam_stream.next("presence")  # Alex's page, announced
        assert "Alex is here now" in here_line(partners.sam, partners.path)
        show_presence(partners.alex, partners.path, show="")
        assert sam_stream.next("presence") == "{}"
        assert "is here now" not in here_line(partners.sam, partners.path)
        alex_stream.close()
        until_gone(app, 1)
        no_presence_until_a_marker(partners, sam_stream, "lantern")
        assert alex_id not in here_line(partners.sam, partners.path)
    finally:
        alex_stream.close()
        sam_stream.close()


def test_never_chosen_a_page_comes_and_goes_unannounced(partners, live_url, app):
    """Sentinel: with presence off, opening and closing say nothing to Sam."""
    sam_stream = open_stream(live_url, partners, "sam")
    try:
        OpenPage(live_url, partners.alex, partners.path).close()
        until_gone(app, 1)
        no_presence_until_a_marker(partners, sam_stream, "harbour")
        for path in (f"{partners.path}/presence", partners.path):
            page = partners.sam.get(path, headers={"HX-Request": "true"})
            assert "is here now" not in page.text
    finally:
        sam_stream.close()


# a process's streams outliving it exist only with several processes: PostgreSQL
@pytest.mark.real_engine
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_streams_left_by_a_dead_process_are_seen_to_go_only_if_chosen(
    partners, real_engine, db_url
):
    """A process that died leaves its streams' rows to expire; clearing them
    tells the plan's pages only of someone who chose to be seen as here."""
    show_presence(partners.alex, partners.path)  # Sam never chose it
    plan_id = uuid.UUID(partners.plan_id)
    told: list[tuple[uuid.UUID, str, str]] = []

    class Recording(PostgresBroker):
        def publish(self, plan_id: uuid.UUID, kind: str, *, id: str = "") -> None:
            told.append((plan_id, kind, id))

    with Session(real_engine) as session:
        people = {
            account.display_name: account.id
            for account in session.exec(
                select(Account)
                .join(Membership, col(Membership.account_id) == Account.id)
                .where(Membership.plan_id == plan_id)
            )
        }
        long_ago = utc_now() - timedelta(minutes=5)
        for account_id in people.values():
            session.add(
                LiveStream(plan_id=plan_id, account_id=account_id, expires_at=long_ago)
            )
        session.commit()

    Recording(real_engine, db_url).renew()

    assert told == [(plan_id, "presence", str(people["Alex"]))]
    with Session(real_engine) as session:
        assert session.exec(select(LiveStream)).all() == []
