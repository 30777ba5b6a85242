"""Talking it through over HTTP: private answers, sharing, side by side, revising."""

import json

import pytest
from sqlmodel import select

from backend.models import Revision
from tests.helpers import soup
from tests.routes import all_routes, fill
from tests.web.steps import add, answer, entry_id, record_signals, start_talk, talk_path

ANSWERS = (
    "what_happened",
    "how_it_felt",
    "what_safety_means",
    "what_would_help",
    "what_to_change",
)


@pytest.fixture
def signals(app, monkeypatch):
    return record_signals(app, monkeypatch)


def test_plan_page_has_a_way_in(partners):
    page = soup(partners.sam.get(partners.path))
    link = page.find("a", string="Talk it through afterwards")
    assert link["href"] == f"{partners.path}/debriefs"


def test_start_a_talk_with_today_as_the_default(partners):
    page = soup(partners.sam.get(f"{partners.path}/debriefs"))
    day = page.find("input", {"name": "happened_on"})
    assert day["type"] == "date"
    assert day["value"]
    response = start_talk(partners.sam, partners.path, title="The night of the party")
    assert response.status_code == 303
    talk = soup(partners.alex.get(response.headers["location"]))
    assert talk.h1.text == "The night of the party"
    assert "12 March 2026" in talk.select_one(".talk-header .meta").text
    prompts = [label.text for label in talk.select("#my_answers label")]
    assert prompts == [
        "What happened, as I saw it",
        "How it felt for me, then and since",
        "What safety and shared responsibility mean for us now",
        "What will help us regain trust",
        "What I'd like us to change in our plan",
    ]


def test_start_with_htmx_redirects_and_a_bad_date_keeps_the_title(partners):
    ok = start_talk(partners.sam, partners.path, htmx=True)
    assert ok.status_code == 204
    assert "/debriefs/" in ok.headers["HX-Redirect"]
    bad = start_talk(partners.sam, partners.path, day="2999-01-01", title="Keep me")
    assert bad.status_code == 422
    form = soup(bad)
    assert "hasn't come yet" in form.text
    assert form.find("input", {"name": "title"})["value"] == "Keep me"
    assert form.find("input", {"name": "happened_on"})["value"] == "2999-01-01"
    garbled = start_talk(partners.sam, partners.path, day="soon", htmx=True)
    assert garbled.status_code == 422
    assert "<html" not in garbled.text


def test_saved_answers_stay_private_until_shared(partners, signals):
    talk = talk_path(partners.sam, partners.path)
    saved = answer(partners.sam, talk, what_happened="SENTINEL-EARLY")
    assert saved.status_code == 200
    assert "Only you can see these" in saved.text
    assert "SENTINEL-EARLY" in partners.sam.get(talk).text
    assert "SENTINEL-EARLY" not in partners.alex.get(talk).text
    # starting the talk is news; saving a private answer is not
    talk_id = talk.rsplit("/", 1)[1]
    assert [s[2] for s in signals if s[1] == "debrief"] == [{"id": talk_id}]
    shared = answer(partners.sam, talk, "share", what_happened="We left early.")
    assert "shared with Alex" in shared.text
    assert [s[2] for s in signals if s[1] == "debrief"] == [{"id": talk_id}] * 2
    side = soup(partners.alex.get(f"{talk}/shared", headers={"HX-Request": "true"}))
    assert side.find("section", id="shared_answers")
    assert "We left early." in side.text
    assert "Sam" in side.select_one(".answer-who").text


def test_answers_sit_side_by_side_with_their_writers_names(partners):
    talk = talk_path(partners.sam, partners.path)
    answer(partners.sam, talk, "share", what_to_change="More pauses.")
    answer(partners.alex, talk, "share", what_to_change="A word for me too.")
    for client in (partners.sam, partners.alex):
        pair = soup(client.get(talk)).select(".answer-pair")[-1]
        assert pair.h3.text == "What I'd like us to change in our plan"
        sides = [
            (a.select_one(".answer-who").get_text(strip=True), a.p.find_next("p").text)
            for a in pair.select(".answer")
        ]
        assert sides == [("Sam", "More pauses."), ("Alex", "A word for me too.")]


def test_shared_answers_can_still_change_and_the_partner_sees_it(partners, signals):
    talk = talk_path(partners.sam, partners.path)
    answer(partners.sam, talk, "share", how_it_felt="Cornered.")
    page = soup(partners.sam.get(talk))
    assert page.find("summary", string="Change my answers")
    assert "will see what you change" in page.text
    changed = answer(partners.sam, talk, how_it_felt="Cornered, then tired.")
    assert "Alex sees the new words" in changed.text
    assert len([s for s in signals if s[1] == "debrief"]) == 3  # start, share, change
    assert "Cornered, then tired." in partners.alex.get(talk).text


def test_sharing_nothing_is_refused_and_text_is_kept(partners):
    talk = talk_path(partners.sam, partners.path)
    response = answer(partners.sam, talk, "share", what_happened="   ")
    assert response.status_code == 422
    assert "at least one of them before sharing" in response.text
    long = answer(partners.sam, talk, how_it_felt="word " * 1000)
    assert long.status_code == 422
    kept = soup(long).find("textarea", {"name": "how_it_felt"}).text
    assert kept.strip() == ("word " * 1000).strip()


def test_plain_form_posts_redirect(partners):
    talk = talk_path(partners.sam, partners.path)
    response = answer(partners.sam, talk, htmx=False, what_happened="Quietly.")
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{talk}?said=saved")
    page = soup(partners.sam.get(response.headers["location"]))
    assert "Only you can see these" in page.select_one(".flash").text


def test_a_talk_of_another_plan_is_not_found(partners, make_client):
    other = make_client().sign_up("Casey")
    their_plan = other.post_form("/plans", {"title": "Theirs"}).headers["location"]
    their_talk = talk_path(other, their_plan)
    talk_id = their_talk.rsplit("/", 1)[1]
    assert partners.sam.get(f"{partners.path}/debriefs/{talk_id}").status_code == 404
    assert partners.sam.get(f"{partners.path}/debriefs/nonsense").status_code == 404


def test_revise_the_plan_with_the_talk_pinned(partners, session):
    talk = talk_path(partners.sam, partners.path, title="The party")
    talk_id = talk.rsplit("/", 1)[1]
    page = soup(partners.sam.get(talk))
    assert not page.find("a", string="Revise the plan")
    answer(partners.sam, talk, "share", what_to_change="Ten minutes' pause.")
    link = soup(partners.alex.get(talk)).find("a", string="Revise the plan")
    assert link["href"] == f"{partners.path}?debrief={talk_id}#pinned_debrief"
    plan = soup(partners.alex.get(f"{partners.path}?debrief={talk_id}"))
    pinned = plan.find(id="pinned_debrief")
    assert "Ten minutes' pause." in pinned.text
    assert "Revising after the talk on 12 March" in pinned.h2.text
    forms = plan.select("form.add-form")
    assert forms
    for form in forms:
        assert form.find("input", {"name": "debrief_id"})["value"] == talk_id
    added = partners.alex.post_form(
        f"{partners.path}/entries",
        {"section": "signals", "text": "ten minutes", "debrief_id": talk_id},
    )
    assert added.headers["location"].startswith(f"{partners.path}?debrief={talk_id}#")
    eid = added.headers["location"].rsplit("#entry-", 1)[1]
    revision = session.exec(select(Revision)).one()
    session.commit()
    assert str(revision.debrief_id) == talk_id
    card = soup(partners.sam.get(partners.path)).find(id=f"entry-{eid}")
    mark = card.select_one(".after-talk a")
    assert mark.text == "Changed after the talk on 12 March"
    assert mark["href"] == talk
    changes = soup(partners.sam.get(talk)).find(id="led_to")
    assert "ten minutes" in changes.text
    assert "Added by" in changes.text
    assert "Alex" in changes.text


def test_edits_while_pinned_carry_the_talk(partners, session):
    talk = talk_path(partners.sam, partners.path)
    talk_id = talk.rsplit("/", 1)[1]
    answer(partners.sam, talk, "share", what_to_change="Reword it.")
    eid = entry_id(add(partners.sam, partners.path, "feel_safe", "Saying when."))
    card = soup(partners.sam.get(f"{partners.path}/entries/{eid}?debrief={talk_id}"))
    menu = card.select_one("details.card-more .more-slot a")
    assert menu["href"].endswith(f"/more?debrief={talk_id}")
    edit = soup(partners.sam.get(menu["href"])).find("a", string="Edit")
    assert edit["href"].endswith(f"/edit?debrief={talk_id}")
    editor = soup(partners.sam.get(edit["href"], headers={"HX-Request": "true"}))
    assert editor.find("input", {"name": "debrief_id"})["value"] == talk_id
    response = partners.sam.post_form(
        f"{partners.path}/entries/{eid}",
        {
            "text": "Saying when we'll be back.",
            "base_version": "1",
            "debrief_id": talk_id,
        },
    )
    assert (
        response.headers["location"] == f"{partners.path}?debrief={talk_id}#entry-{eid}"
    )
    versions = {r.version: r.debrief_id for r in session.exec(select(Revision)).all()}
    session.commit()
    assert versions[1] is None
    assert str(versions[2]) == talk_id


def test_a_talk_from_elsewhere_or_unshared_is_ignored(partners, make_client, session):
    mine = talk_path(partners.sam, partners.path)  # nothing shared in it yet
    other = make_client().sign_up("Casey")
    their_plan = other.post_form("/plans", {"title": "Theirs"}).headers["location"]
    theirs = talk_path(other, their_plan)
    answer(other, theirs, "share", what_happened="CASEY-ONLY")
    for talk in (mine, theirs):
        talk_id = talk.rsplit("/", 1)[1]
        page = partners.sam.get(f"{partners.path}?debrief={talk_id}")
        assert page.status_code == 200
        assert not soup(page).find(id="pinned_debrief")
        assert "CASEY-ONLY" not in page.text
        added = partners.sam.post_form(
            f"{partners.path}/entries",
            {"section": "signals", "text": f"x {talk_id}", "debrief_id": talk_id},
        )
        assert added.status_code == 303
        assert "debrief=" not in added.headers["location"]
    assert all(r.debrief_id is None for r in session.exec(select(Revision)).all())
    session.commit()


def test_a_private_draft_written_beside_a_talk_stays_private(partners):
    talk = talk_path(partners.sam, partners.path)
    talk_id = talk.rsplit("/", 1)[1]
    answer(partners.sam, talk, "share", what_to_change="Something.")
    partners.sam.post_form(
        f"{partners.path}/entries",
        {
            "section": "hot_buttons",
            "text": "SENTINEL-DRAFT-BESIDE",
            "draft": "1",
            "debrief_id": talk_id,
        },
    )
    assert "SENTINEL-DRAFT-BESIDE" in partners.sam.get(talk).text
    assert "SENTINEL-DRAFT-BESIDE" not in partners.alex.get(talk).text


def test_list_of_talks_says_who_has_shared_without_telling_drafts(partners):
    talk = talk_path(partners.sam, partners.path, title="Party")
    answer(partners.alex, talk, what_happened="Alex is still writing")
    answer(partners.sam, talk, "share", what_happened="Done.")
    sam_view = soup(partners.sam.get(f"{partners.path}/debriefs"))
    assert "Shared so far: Sam" in sam_view.select_one(".plan-card").text
    assert "Alex" not in sam_view.select_one(".plan-facts").text
    alex_view = soup(partners.alex.get(f"{partners.path}/debriefs"))
    assert "Your answers are saved privately" in alex_view.text
    fragment = partners.alex.get(
        f"{partners.path}/debriefs", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text
    assert 'id="debrief_list"' in fragment.text


def _every_get(app, client, values, extra_queries, *, needing=""):
    """GET every route of the app (except the endless event stream), as a page and
    as an htmx fragment, plus the query variants given per route name."""
    for route in all_routes(app):
        if "GET" not in route.methods or route.name == "live.events":
            continue
        if needing not in route.path:
            continue
        path = fill(route.path, values)
        for query in ("", *extra_queries.get(route.name, ())):
            for headers in ({}, {"HX-Request": "true"}):
                yield path + query, client.get(path + query, headers=headers)


def test_nothing_unshared_or_unsent_reaches_the_partner_anywhere(
    app, partners, signals
):
    """Invariant 8, by walking every GET route as Alex with Sam's private words in."""
    sam, alex, path = partners.sam, partners.alex, partners.path
    eid = entry_id(add(sam, path, "signals", "lighthouse"))
    talk = talk_path(sam, path, title="Together")
    answer(sam, talk, **dict.fromkeys(ANSWERS, "SENTINEL-ANSWER"))
    shared_talk = talk_path(alex, path)
    answer(alex, shared_talk, "share", what_happened="Alex shared this.")
    answer(sam, shared_talk, what_to_change="SENTINEL-ANSWER-TOO")
    sam.post_form(f"{path}/notes", {"what_i_feel": "SENTINEL-NOTE", "action": "draft"})
    sent = alex.post_form(f"{path}/notes", {"what_i_need": "A walk."})
    note = sent.headers["location"].rsplit("#thread-", 1)[1]
    sam.post_form(
        f"{path}/notes/{note}/replies", {"body": "SENTINEL-REPLY", "action": "draft"}
    )
    values = {
        "plan_id": partners.plan_id,
        "token": "not-a-token",
        "entry_id": eid,
        "target_id": eid,
        "debrief_id": talk.rsplit("/", 1)[1],
        "note_id": note,
        "key": "signals",
    }
    ids = [talk.rsplit("/", 1)[1], shared_talk.rsplit("/", 1)[1]]
    queries = {
        "plans.detail": [f"?debrief={i}" for i in ids],
        "entries.card": [f"?debrief={i}" for i in ids],
        "entries.edit_form": [f"?debrief={i}" for i in ids],
        "notes.list": [f"?debrief={ids[0]}", f"?entry={eid}"],
        "consent.agreed": ["?version=1"],
    }
    assert "SENTINEL-ANSWER" in sam.get(talk).text  # the writer does see them
    seen = 0
    for where, response in _every_get(app, alex, values, queries):
        assert "SENTINEL" not in response.text, where
        seen += 1
    for talk_id in ids:
        for where, response in _every_get(
            app, alex, {**values, "debrief_id": talk_id}, {}, needing="{debrief_id}"
        ):
            assert "SENTINEL" not in response.text, where
    assert seen > 40
    assert not [s for s in signals if "SENTINEL" in json.dumps(s)]
    # both talks were started (news to the partner); only the shared one more
    started_or_shared = [s[2]["id"] for s in signals if s[1] == "debrief"]
    assert sorted(started_or_shared) == sorted([ids[0], ids[1], ids[1]])
