"""Since you last looked: visits are kept, and only the partner's doings count."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from backend.models import Account, Consent, Entry, Membership, Plan, Revision
from tests.helpers import soup
from tests.web.steps import add, agree, answer, entry_id, talk_path


def membership(session, plan_id, name) -> Membership:
    session.expire_all()
    member = session.exec(
        select(Membership)
        .join(Account, col(Account.id) == Membership.account_id)
        .where(Membership.plan_id == uuid.UUID(plan_id), Account.display_name == name)
    ).one()
    session.commit()  # let go of SQLite's write lock before the next request
    return member


def looked(session, plan_id, name, *, ago: timedelta, previous=None) -> None:
    member = membership(session, plan_id, name)
    member.last_visit_at = datetime.now(UTC) - ago
    member.previous_visit_at = previous
    session.add(member)
    session.commit()


def counts(client, path) -> dict[str, int]:
    page = soup(client.get(f"{path}/since"))
    return {
        group.h2.contents[0].strip(): len(group.select(".news-items > li"))
        for group in page.select(".news-group")
    }


def test_opening_the_plan_is_a_visit_and_reloads_keep_the_list(partners, session):
    before = membership(session, partners.plan_id, "Sam")
    assert before.last_visit_at is None
    partners.sam.get(partners.path)
    first = membership(session, partners.plan_id, "Sam")
    assert first.last_visit_at is not None
    assert first.previous_visit_at is None
    two_hours = datetime.now(UTC) - timedelta(hours=2)
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    partners.sam.get(partners.path)
    moved = membership(session, partners.plan_id, "Sam")
    assert abs(moved.previous_visit_at - two_hours) < timedelta(seconds=5)
    assert datetime.now(UTC) - moved.last_visit_at < timedelta(minutes=1)
    partners.sam.get(partners.path)
    again = membership(session, partners.plan_id, "Sam")
    assert again.previous_visit_at == moved.previous_visit_at


def test_only_the_partners_doings_count(partners, session):
    p = partners.path
    mine = entry_id(add(partners.sam, p, "edge_responses", "Stay with me."))
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    looked(session, partners.plan_id, "Alex", ago=timedelta(hours=2))
    add(partners.alex, p, "signals", "lighthouse")
    partners.alex.post_form(
        f"{p}/entries/{mine}", {"text": "Stay with me, please.", "base_version": "1"}
    )
    other = entry_id(add(partners.sam, p, "feel_safe", "Saying when."))
    agree(partners.alex, p, other)
    partners.alex.post_form(f"{p}/notes", {"what_i_need": "A walk."})
    talk = talk_path(partners.alex, p)
    answer(partners.alex, talk, "share", what_happened="Shared.")
    # private things of Alex's never count for Sam
    add(partners.alex, p, "hot_buttons", "SENTINEL-PRIVATE", draft=True)
    partners.alex.post_form(
        f"{p}/notes", {"what_i_see": "SENTINEL-PRIVATE", "action": "draft"}
    )
    answer(partners.alex, talk_path(partners.sam, p), what_happened="SENTINEL-PRIVATE")
    found = counts(partners.sam, p)
    assert found == {
        "New in the plan": 1,
        "New wordings": 1,
        "Agreed, read or taken back": 1,
        "Reflective feedback": 1,
        "Talking it through": 2,
    }
    # the count on my plans and on the plan page is the list's own length
    assert "New since your last look: 6 things" in partners.sam.get("/").text
    assert "6 things" in soup(partners.sam.get(p)).select_one(".news-line a").text
    assert sum(counts(partners.sam, p).values()) == 6
    page = partners.sam.get(f"{p}/since")
    assert "SENTINEL" not in page.text
    assert "Stay with me, please." in page.text
    # Sam's own doings are not news for Sam; for Alex they are (both entries
    # came after Alex's last look, and so did the talk Sam started)
    assert counts(partners.alex, p) == {
        "New in the plan": 2,
        "Talking it through": 1,
    }


def test_the_plan_page_and_my_plans_lead_to_it(partners, session):
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    add(partners.alex, partners.path, "signals", "lighthouse")
    partners.alex.post_form(f"{partners.path}/notes", {"what_i_feel": "Glad."})
    home = soup(partners.sam.get("/")).find(
        "a", string="New since your last look: 2 things"
    )
    assert home["href"] == f"{partners.path}/since"
    plan = soup(partners.sam.get(partners.path))
    line = plan.select_one(".news-line a")
    # an invitation to look, not a tally to clear
    assert line.text == (
        "New from Alex since your last look: 2 things, whenever you'd like to see them"
    )
    assert line["href"] == f"{partners.path}/since"
    assert counts(partners.sam, partners.path) == {
        "New in the plan": 1,
        "Reflective feedback": 1,
    }


def test_after_a_new_look_old_news_is_gone(partners, session):
    # Alex wrote an entry two hours ago (a revision is never changed afterwards,
    # so it is written with that time rather than moved back)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    alex = membership(session, partners.plan_id, "Alex").account_id
    entry = Entry(
        plan_id=uuid.UUID(partners.plan_id),
        section="signals",
        text="lighthouse",
        created_by=alex,
        updated_by=alex,
        created_at=two_hours_ago,
        updated_at=two_hours_ago,
    )
    session.add(entry)
    session.flush()
    session.add(
        Revision(
            entry_id=entry.id,
            version=1,
            text="lighthouse",
            author_id=alex,
            created_at=two_hours_ago,
        )
    )
    session.flush()
    session.add(
        Consent(entry_id=entry.id, account_id=alex, version=1, given_at=two_hours_ago)
    )
    session.commit()
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=3))
    assert counts(partners.sam, partners.path) == {"New in the plan": 1}
    partners.sam.get(partners.path)  # this look begins: the list stays for it
    assert counts(partners.sam, partners.path) == {"New in the plan": 1}
    looked(
        session,
        partners.plan_id,
        "Sam",
        ago=timedelta(minutes=40),
        previous=datetime.now(UTC) - timedelta(hours=3),
    )
    page = soup(partners.sam.get(f"{partners.path}/since"))
    assert "Nothing new from Alex since then." in page.text
    assert not page.select(".news-group")


def test_a_shared_draft_counts_as_new(partners, session):
    eid = entry_id(
        add(partners.alex, partners.path, "hot_buttons", "Plans changing.", draft=True)
    )
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    assert counts(partners.sam, partners.path) == {}
    partners.alex.post_form(f"{partners.path}/entries/{eid}/share")
    assert counts(partners.sam, partners.path) == {"New in the plan": 1}


def test_since_fragment_for_live_refresh(partners):
    response = partners.sam.get(
        f"{partners.path}/since", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    block = soup(response).find(id="news_list")
    assert "sse:note" in block["hx-trigger"]


def test_since_tells_a_withdrawn_proposal_from_a_yes_taken_back(partners, session):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Call my sister."))
    agree(partners.alex, p, eid)
    other = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    agree(partners.alex, p, other)
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    partners.alex.post_form(
        f"{p}/entries/{eid}", {"text": "Call my brother.", "base_version": "1"}
    )
    partners.alex.post_form(f"{p}/entries/{eid}/withdraw-proposal")
    partners.alex.post_form(f"{p}/entries/{other}/delete", {"note": "Unused."})
    agree(partners.sam, p, other, version=2)
    # Alex's request, Sam's yes: taken out; then Alex takes a yes back elsewhere
    third = entry_id(add(partners.sam, p, "feel_safe", "Saying when."))
    agree(partners.alex, p, third)
    partners.alex.post_form(f"{p}/entries/{third}/withdraw", {"note": "Wait."})
    items = [
        li.get_text(" ", strip=True)
        for li in soup(partners.sam.get(f"{p}/since")).select(".news-items > li")
    ]
    assert any(i.startswith("Withdrew their proposed change to") for i in items)
    assert any(i.startswith("Took back their yes to “Saying when.”") for i in items)
    assert not any("Took back their yes to “Call my" in i for i in items)
    # the card reads as agreed again, in the words still in force
    card = soup(partners.sam.get(f"{p}/entries/{eid}", headers={"HX-Request": "true"}))
    assert card.select_one(".entry-text").text == "Call my sister."


def live_line(client, page):
    """What the open page's line says when it re-asks (as htmx does on a signal)."""
    url = page.find(id="news_line")["hx-get"]
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    return soup(response).get_text(" ", strip=True)


def test_what_reaches_my_open_page_live_is_not_counted_again(partners, session):
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    add(partners.alex, partners.path, "signals", "lighthouse")
    add(partners.alex, partners.path, "signals", "harbour")
    page = soup(partners.sam.get(partners.path))  # Sam opens the plan
    assert "2 things" in page.select_one(".news-line").text
    # both are on the page together: Alex's new words reach Sam's page live
    add(partners.alex, partners.path, "signals", "lantern")
    assert "2 things" in live_line(partners.sam, page)
    add(partners.alex, partners.path, "feel_safe", "a walk")
    assert "2 things" in live_line(partners.sam, page)
    # seen stays seen: a reload, the list and my plans count only the first two
    again = soup(partners.sam.get(partners.path))
    assert "2 things" in again.select_one(".news-line").text
    assert counts(partners.sam, partners.path) == {"New in the plan": 2}
    home = soup(partners.sam.get("/")).select_one(".plan-card").get_text(" ")
    assert "New since your last look: 2 things" in home


def test_what_came_while_my_page_was_closed_is_still_new(partners, session):
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    add(partners.alex, partners.path, "signals", "lighthouse")
    page = soup(partners.sam.get(partners.path))
    assert "1 thing," in page.select_one(".news-line").text
    live_line(partners.sam, page)
    # Sam's page closed; Alex goes on writing
    add(partners.alex, partners.path, "signals", "harbour")
    again = soup(partners.sam.get(partners.path))
    assert "2 things" in again.select_one(".news-line").text


def test_a_plain_visit_to_the_line_goes_to_the_list(partners):
    page = soup(partners.sam.get(partners.path))
    url = page.find(id="news_line")["hx-get"]
    plain = partners.sam.get(url)
    assert plain.status_code == 303
    assert plain.headers["location"] == f"{partners.path}/since"
    odd = partners.sam.get(
        f"{partners.path}/news?opened=yesterday", headers={"HX-Request": "true"}
    )
    assert odd.status_code == 200


def test_the_line_writes_the_seen_span_only_when_the_partners_doings_reached_it(
    partners, session
):
    """Asked again after my own change, or with nothing new, the open page's line
    writes nothing: no seen span, no new stamp on the plan. What the partner did
    while it was open is kept as seen, and stays seen after it closes."""
    looked(session, partners.plan_id, "Sam", ago=timedelta(hours=2))
    page = soup(partners.sam.get(partners.path))  # Sam opens the plan

    def span_and_stamp():
        member = membership(session, partners.plan_id, "Sam")
        plan = session.get(Plan, uuid.UUID(partners.plan_id))
        session.commit()
        return (member.seen_from, member.seen_to), plan.stamp

    add(partners.sam, partners.path, "signals", "my own words")
    before = span_and_stamp()
    assert before[0] == (None, None)
    assert live_line(partners.sam, page) == ""
    assert live_line(partners.sam, page) == ""
    assert span_and_stamp() == before
    # Alex's words reach Sam's open page: now the span is written
    add(partners.alex, partners.path, "signals", "lantern")
    assert live_line(partners.sam, page) == ""
    (seen_from, seen_to), _ = span_and_stamp()
    assert seen_from is not None
    assert seen_to is not None
    # Sam's own change after that writes nothing more
    add(partners.sam, partners.path, "signals", "more of my own")
    kept = span_and_stamp()
    live_line(partners.sam, page)
    assert span_and_stamp() == kept
    # and at the next look, what reached the open page is not new
    again = soup(partners.sam.get(partners.path))
    assert again.select_one(".news-line").get_text(strip=True) == ""
    assert counts(partners.sam, partners.path) == {}
