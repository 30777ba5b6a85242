"""Cards are built once and kept by what they show (backend/plans/shelf.py).

A page, a card or a list made of kept cards must read exactly as one built
afresh, whatever either partner did in between; and a page that nothing changed
builds no card again.
"""

import random
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from backend import changes
from backend.changes import UntracedChange
from backend.crypto import keyring
from backend.models import Consent
from backend.plans import shelf as shelf_module
from backend.plans.shelf import Shelf
from tests.helpers import soup
from tests.web.steps import add, agree, entry_id
from tests.web.test_query_budget import counting
from tests.web.test_shown_tag import HTMX, same_page


def built_afresh(app, client, path, headers):
    """The same request, answered with nothing kept."""
    kept = app.state.shelf
    app.state.shelf = Shelf()
    try:
        return client.get(path, headers=headers)
    finally:
        app.state.shelf = kept


def builds(monkeypatch) -> list[str]:
    """The cards built (not taken from the shelf), by entry id, from now on."""
    built: list[str] = []
    fill = shelf_module.Shelving._fill

    def counted(self, page, plan):
        built.extend(str(v.id) for v in [*page.cards.values(), *page.removed])
        return fill(self, page, plan)

    monkeypatch.setattr(shelf_module.Shelving, "_fill", counted)
    return built


def test_kept_cards_read_as_built_afresh_after_anything_either_partner_does(
    app, partners
):
    """A random walk of both partners' changes; after each, every page, card
    and list either of them can ask for must read as if built from nothing."""
    p = partners.path
    people = {"sam": partners.sam, "alex": partners.alex}
    rng = random.Random(23)
    ids = [entry_id(add(partners.sam, p, "edge_responses", "We slow down."))]
    mine = [entry_id(add(partners.alex, p, "hot_buttons", "Being rushed."))]
    drafts: list[str] = []

    def some(found):
        return rng.choice(found) if found else ids[0]

    def agree_as_shown(c):
        """Say yes to the wording the card shows, if it asks for one."""
        eid = rng.choice(ids + mine)
        card = soup(c.get(f"{p}/entries/{eid}", headers=HTMX))
        version = card.find("input", attrs={"name": "version"})
        if version is not None:
            agree(c, p, eid, version=int(version["value"]))

    steps = [
        lambda c: ids.append(entry_id(add(c, p, "edge_responses", "Breathe."))),
        lambda c: mine.append(entry_id(add(c, p, "hot_buttons", "Shouting."))),
        lambda c: drafts.append(
            entry_id(add(c, p, "hot_buttons", "Not yet.", draft=True))
        ),
        lambda c: c.post_form(f"{p}/entries/{some(drafts)}/share", htmx=True),
        agree_as_shown,
        agree_as_shown,
        lambda c: c.post_form(f"{p}/entries/{rng.choice(ids)}/flag", {"note": "?"}),
        lambda c: c.post_form(f"{p}/entries/{rng.choice(ids)}/unflag"),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids + mine)}/withdraw", {"note": "Wait."}
        ),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids + mine)}",
            {"text": f"Slow {rng.random():.3f}.", "base_version": "1"},
        ),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids)}/links", {"target_id": rng.choice(mine)}
        ),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids)}/links/{rng.choice(mine)}/delete"
        ),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(ids + mine)}/delete", {"note": "Later."}
        ),
        lambda c: c.post_form(f"{p}/entries/{rng.choice(ids + mine)}/restore"),
        lambda c: c.post_form(
            f"{p}/entries/{rng.choice(mine)}/responses",
            {"response_text": "We stop and breathe."},
        ),
        lambda c: c.post_form("/account/name", {"display_name": rng.choice("ABC")}),
        lambda c: c.cookies.set("tz", rng.choice(["Europe/Paris", "Asia/Tokyo", ""])),
        lambda c: None,  # nothing changes: every card is taken from the shelf
    ]
    compared = 0
    for _ in range(45):
        rng.choice(steps)(people[rng.choice(list(people))])
        for name, client in people.items():
            paths = [
                (p, {}),
                (f"{p}/entries/{ids[0]}", HTMX),
                (f"{p}/entries/{ids[-1]}", HTMX),
                (f"{p}/entries/{mine[-1]}", HTMX),
                (f"{p}/sections/edge_responses?owner=shared", HTMX),
                (f"{p}/sections/removed", HTMX),
                # the counts line, and the agreed plan's counts, from kept cards
                (f"{p}/summary", HTMX),
                (f"{p}/agreed", {}),
            ]
            for path, headers in paths:
                kept = client.get(path, headers=headers)
                fresh = built_afresh(app, client, path, headers)
                assert kept.status_code == fresh.status_code, (name, path)
                assert same_page(kept.content) == same_page(fresh.content), (
                    name,
                    path,
                )
                compared += 1
    assert compared == 45 * 2 * 8
    assert len(app.state.shelf) > 0


def test_a_page_nothing_changed_builds_no_card_again(app, partners, monkeypatch):
    p = partners.path
    first = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    second = entry_id(add(partners.sam, p, "hot_buttons", "Being rushed."))
    partners.alex.get(p)
    built = builds(monkeypatch)
    partners.alex.get(p)
    assert built == [], "every card was kept"
    # the partner rewords one entry: that card alone is built again
    partners.sam.post_form(
        f"{p}/entries/{second}", {"text": "Being hurried.", "base_version": "1"}
    )
    page = partners.alex.get(p)
    assert built == [second]
    assert "Being hurried." in page.text
    assert f"entry-{first}" in page.text
    # linking the two builds both: each card shows the other
    built.clear()
    partners.sam.post_form(f"{p}/entries/{first}/links", {"target_id": second})
    partners.alex.get(p)
    assert sorted(built) == sorted([first, second])


def test_the_card_a_write_answers_with_is_kept_for_the_writers_own_page(
    app, partners, monkeypatch
):
    """The writer's page asks for the card again on the signal its own write
    sent: that card is the one the write answered with, kept, and it reads as
    one built afresh. A card that says something of its own answer (a refusal)
    is not kept."""
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    card = f"{p}/entries/{eid}"
    built = builds(monkeypatch)
    for writer, write in [
        (
            partners.sam,
            lambda c: c.post_form(
                card, {"text": "We slow right down.", "base_version": "1"}, htmx=True
            ),
        ),
        (partners.alex, lambda c: agree(c, p, eid, version=2)),
    ]:
        built.clear()
        answer = write(writer)
        assert answer.status_code == 200
        assert built == [eid]
        again = writer.get(card, headers=HTMX)
        assert built == [eid], "the writer's own card was built again"
        fresh = built_afresh(app, writer, card, HTMX)
        assert same_page(again.content) == same_page(fresh.content)
        assert same_page(answer.content) == same_page(fresh.content)
    assert "We slow right down." in fresh.text
    # a refused yes (to a wording no longer shown) says why, and is not kept
    monkeypatch.setattr(app.state, "shelf", Shelf())
    built.clear()
    refused = agree(partners.alex, p, eid, version=1)
    assert refused.status_code >= 400
    assert built == []
    assert partners.alex.get(card, headers=HTMX).status_code == 200
    assert built == [eid], "the next look found the refusal kept"


def test_a_kept_card_asks_nothing_of_its_wordings_or_yeses(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    card = f"{p}/entries/{eid}"
    partners.alex.get(card, headers=HTMX)
    with counting() as asked:
        assert partners.alex.get(card, headers=HTMX).status_code == 200
    opened = [s.lstrip().lower()[:20] for s in asked]
    assert not [s for s in opened if s.startswith("select revision.")], asked
    assert not [s for s in opened if s.startswith("select consent.")], asked


def test_each_response_fills_its_own_token_into_kept_cards(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    tokens = []
    for _ in range(2):
        page = soup(partners.alex.get(p))
        body = re.search(r'"X-CSRF-Token": "([^"]+)"', page.body["hx-headers"])
        assert body is not None
        card = page.find("article", id=f"entry-{eid}")
        fields = {
            i["value"] for i in card.find_all("input", attrs={"name": "csrf_token"})
        }
        assert fields == {body.group(1)}, "the card's forms carry this page's token"
        tokens.append(body.group(1))
    assert tokens[0] != tokens[1]
    # and a form from a kept card works
    assert agree(partners.alex, p, eid).status_code == 200


def test_a_kept_card_is_not_used_once_its_words_have_turned(app, partners, monkeypatch):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    partners.sam.post_form(f"{p}/entries/{eid}/flag", {"note": "Soon?"})
    agree(partners.alex, p, eid)
    partners.alex.post_form(f"{p}/entries/{eid}/withdraw", {"note": "Wait."})
    partners.sam.get(p)  # "took back the yes just now": it turns within a minute
    shelf = app.state.shelf
    with shelf._lock:
        kept = dict(shelf._kept)
    turning = {k: v for k, v in kept.items() if v.until is not None}
    assert turning, "a card that says 'just now' says when that turns"
    assert all(
        v.until <= datetime.now(UTC) + timedelta(seconds=60) for v in turning.values()
    )
    # a minute on: the card is built again, not taken from the shelf
    with shelf._lock:
        for k, v in turning.items():
            shelf._kept[k] = replace(v, until=datetime.now(UTC) - timedelta(seconds=1))
    built = builds(monkeypatch)
    partners.sam.get(p)
    assert eid in built


def test_a_bulk_change_to_what_cards_show_must_say_which_cards(session):
    # an invitation's plans said, and no card: a yes changed in bulk is refused
    changes.touch(session, [], entries=())
    with pytest.raises(UntracedChange):
        session.exec(update(Consent).values(withdraw_note=None))
    changes.touch(session, [], entries=[uuid.uuid4()])
    session.exec(update(Consent).values(withdraw_note=None))  # said: allowed


def test_words_taken_away_are_not_kept(app, partners):
    p = partners.path
    add(partners.alex, p, "hot_buttons", "Being rushed.")
    partners.sam.get(p)
    assert len(app.state.shelf) > 0
    assert keyring().held() > 0
    partners.alex.post_form(f"{p}/leave", {"confirm": "1"})
    assert len(app.state.shelf) == 0
    assert keyring().held() == 0  # nor the words of any token opened
    assert "Being rushed." not in partners.sam.get(p).text
