"""A repeat view is answered from the plan's stamp, before anything is built.

The tag of a plan page or a card names the plan's stamp (raised by every change
to what its pages show), the session, the reader's zone and the address, and
when its words next turn with time. These tests hold it to never standing for a
page that would read differently.
"""

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from backend import changes
from backend.changes import UntracedChange
from backend.models import Entry
from backend.web import SHOWN_TAG, ago
from tests.web.steps import add, agree, entry_id
from tests.web.test_query_budget import counting

HTMX = {"HX-Request": "true"}
# what differs between two responses of the same page: the masked CSRF token
# and when the page was opened
FRESH = re.compile(rb'(csrf_token" value="|X-CSRF-Token": ")[^"]*|opened=[^"&]*')


def same_page(body: bytes) -> bytes:
    return FRESH.sub(b"", body)


def tag_of(client, path, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.headers["etag"]


def again(client, path, tag, **headers):
    return client.get(path, headers={"If-None-Match": tag, **headers})


def reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_a_repeat_view_asks_almost_nothing_of_the_database(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    card = f"{p}/entries/{eid}"
    partners.alex.get(p)  # the first look is noted, and raises the stamp
    page_tag = tag_of(partners.alex, p)
    card_tag = tag_of(partners.alex, card, **HTMX)
    with counting() as page_asked:
        assert again(partners.alex, p, page_tag).status_code == 304
    with counting() as card_asked:
        assert again(partners.alex, card, card_tag, **HTMX).status_code == 304
    # one, at the door: the session, its membership of the plan and the last
    # look, the plan's stamp (backend.repeat)
    assert len(reads(card_asked)) == 1, card_asked
    assert len(reads(page_asked)) == 1, page_asked


OTHER_DOES = {
    "rewords": lambda c, p, eid: c.post_form(
        f"{p}/entries/{eid}", {"text": "We slow right down.", "base_version": "1"}
    ),
    "agrees": lambda c, p, eid: agree(c, p, eid),
    "asks to talk": lambda c, p, eid: c.post_form(
        f"{p}/entries/{eid}/flag", {"note": "Soon?"}
    ),
    "takes a yes back": lambda c, p, eid: (
        agree(c, p, eid),
        c.post_form(f"{p}/entries/{eid}/withdraw", {"note": "Not yet."}),
    ),
    "changes their name": lambda c, p, eid: c.post_form(
        "/account/name", {"display_name": "Alexandra"}
    ),
    "adds an entry": lambda c, p, eid: add(c, p, "hot_buttons", "Being rushed."),
    "sends feedback": lambda c, p, eid: c.post_form(
        f"{p}/feedback", {"action": "send", "what_i_see": "A story."}
    ),
    "suggests a day to look again": lambda c, p, eid: c.post_form(
        f"{p}/revisit",
        {"revisit_by": str(datetime.now(UTC).date() + timedelta(days=30))},
    ),
    "leaves": lambda c, p, eid: c.post_form(f"{p}/leave", {"confirm": "1"}),
}


@pytest.mark.parametrize("change", OTHER_DOES)
def test_what_the_partner_does_is_never_answered_unchanged(partners, change):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    partners.sam.get(p)
    before = partners.sam.get(p)
    OTHER_DOES[change](partners.alex, p, eid)
    after = partners.sam.get(p)
    assert same_page(after.content) != same_page(before.content), "shows a change"
    assert again(partners.sam, p, before.headers["etag"]).status_code == 200


def test_a_bulk_change_must_say_which_plans_it_changes(session):
    with pytest.raises(UntracedChange):
        session.exec(update(Entry).values(removed_note=None))
    changes.touch(session, [])
    session.exec(update(Entry).values(removed_note=None))  # said: allowed


def test_a_tag_runs_out_when_words_on_the_page_turn_with_time(partners):
    p = partners.path
    partners.sam.post_form(f"{p}/revisit/request")
    partners.sam.get(p)
    tag = tag_of(partners.sam, p)
    found = SHOWN_TAG.fullmatch(tag)
    assert found
    until = datetime.fromtimestamp(int(found["until"]), UTC)
    # "You asked just now": a minute later it says "1 minute ago"
    assert until <= datetime.now(UTC) + timedelta(seconds=60)
    assert again(partners.sam, p, tag).status_code == 304
    ran_out = f'W/"{found["key"]}.{int(datetime.now(UTC).timestamp()) - 1}"'
    assert again(partners.sam, p, ran_out).status_code == 200


def test_relative_words_say_when_they_turn():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    cases = [
        (timedelta(seconds=10), "just now", timedelta(seconds=60)),
        (timedelta(minutes=5, seconds=3), "5 minutes ago", timedelta(minutes=6)),
        (timedelta(hours=2), "2 hours ago", timedelta(hours=3)),
        (timedelta(days=6, hours=1), "6 days ago", timedelta(days=7)),
    ]
    for elapsed, words, turns_after in cases:
        with changes.watching():
            assert ago(now - elapsed, now) == words
            assert changes.soonest() == now - elapsed + turns_after
    with changes.watching():
        ago(now - timedelta(days=30), now)  # a date: it never turns
        assert changes.soonest() is None


def test_an_invitation_running_out_ends_the_tag(client):
    sam = client.sign_up("Sam")
    p = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    sam.post_form(f"{p}/invite")
    sam.get(p)
    tag = tag_of(sam, p)
    until = datetime.fromtimestamp(int(SHOWN_TAG.fullmatch(tag)["until"]), UTC)
    # the page turns at midnight (UTC) at the latest, and the invitation lasts days
    assert until <= changes.day_after(datetime.now(UTC).date())


def test_a_tag_never_stands_for_a_page_that_reads_differently(partners):
    """A random walk of both partners' changes; after each, every tag given out
    is asked again, and a 304 must stand for what a full view shows now."""
    p = partners.path
    people = {"sam": partners.sam, "alex": partners.alex}
    rng = random.Random(16)
    ids = [entry_id(add(partners.sam, p, "edge_responses", "We slow down."))]
    seen: dict[tuple[str, str], tuple[str, bytes]] = {}
    unchanged = []

    def look(name, path, headers):
        client = people[name]
        kept = seen.get((name, path))
        if kept is not None:
            repeat = again(client, path, kept[0], **headers)
            if repeat.status_code == 304:
                fresh = client.get(path, headers=headers)
                assert same_page(fresh.content) == kept[1], (name, path)
                unchanged.append(path)
                return
            assert repeat.status_code == 200
        response = client.get(path, headers=headers)
        seen[(name, path)] = (response.headers["etag"], same_page(response.content))

    steps = [
        lambda c: ids.append(entry_id(add(c, p, "edge_responses", "Breathe."))),
        lambda c: add(c, p, "hot_buttons", "Being rushed."),
        lambda c: agree(c, p, rng.choice(ids), version=rng.randint(1, 2)),
        lambda c: c.post_form(f"{p}/entries/{rng.choice(ids)}/flag", {"note": "?"}),
        lambda c: c.post_form(f"{p}/entries/{rng.choice(ids)}/unflag"),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids)}/withdraw", {"note": "Wait."}
        ),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids)}",
            {"text": f"Slow {rng.random():.3f}.", "base_version": "1"},
        ),
        lambda c: c.post_form(f"{p}/presence", {"show": rng.choice(["1", ""])}),
        lambda c: c.post_form("/account/name", {"display_name": rng.choice("ABC")}),
        lambda c: None,  # nothing changes: the tags must stand
    ]
    for _ in range(40):
        rng.choice(steps)(people[rng.choice(list(people))])
        for name in people:
            look(name, p, {})
            look(name, f"{p}/entries/{ids[0]}", HTMX)
            look(name, f"{p}/entries/{ids[-1]}", HTMX)
    assert len(unchanged) > 40, "the walk asked again of pages that had not changed"
