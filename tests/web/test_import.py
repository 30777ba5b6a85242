"""Starting a new plan from an earlier one: my words come back as mine, the
other person's only as a reference; a bad file changes nothing."""

import json
import uuid

import pytest
from sqlmodel import func, select

from backend.consent.versions import latest_version
from backend.export.pdf import render_pdf
from backend.export.plan_file import plan_json
from backend.models import Account, EarlierEntry, Entry, EntryLink, Plan
from backend.plans.importing import MAX_BYTES
from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


@pytest.fixture
def earlier(partners, session):
    """Sam and Alex agreed a plan; its plan file, as the PDF carries it."""
    p = partners.path
    hot = entry_id(add(partners.sam, p, "hot_buttons", "SAM: being told to calm down."))
    agree(partners.alex, p, hot)
    mine = entry_id(add(partners.sam, p, "edge_responses", "SAM: I text our word."))
    partners.sam.post_form(f"{p}/entries/{mine}/links", {"target_id": hot}, htmx=True)
    agree(partners.alex, p, mine)
    theirs = entry_id(add(partners.alex, p, "bottom_lines", "ALEX: no threats."))
    agree(partners.sam, p, theirs)
    shared = entry_id(add(partners.alex, p, "signals", "ALEX: the blue mug."))
    agree(partners.sam, p, shared)
    session.expire_all()
    found = plan_json(latest_version(session, uuid.UUID(partners.plan_id)).snapshot)
    session.commit()  # the app's writes wait for no open test transaction
    return found


def _upload(client, content: bytes, name: str = "plan.json"):
    return client.post(
        "/import",
        data={"csrf_token": client.csrf()},
        files={"file": (name, content, "application/octet-stream")},
    )


def _count(session, table) -> int:
    counted = session.exec(select(func.count()).select_from(table)).one()
    session.commit()
    return counted


def test_my_words_come_back_as_mine_theirs_only_as_a_reference(
    partners, earlier, make_client, session
):
    started = _upload(partners.sam, earlier)
    assert started.status_code == 303
    new = started.headers["location"]
    page = soup(partners.sam.get(new))
    sections = {s["id"]: s.get_text(" ", strip=True) for s in page.find_all("section")}
    assert "SAM: being told to calm down." in sections["section-hot_buttons"]
    assert "SAM: I text our word." in sections["section-edge_responses"]
    # the other person's words: in "from our earlier plan", nowhere else
    assert "ALEX: no threats." in sections["earlier"]
    assert "ALEX: the blue mug." in sections["earlier"]
    for key, text in sections.items():
        if key != "earlier":
            assert "ALEX:" not in text, key
    # mine, written by me; and the response still answers the hot button
    plan_id = uuid.UUID(new.rsplit("/", 1)[1])
    sam = session.exec(select(Account).where(Account.email == partners.sam.email)).one()
    entries = session.exec(select(Entry).where(Entry.plan_id == plan_id)).all()
    links = session.exec(select(EntryLink).where(EntryLink.plan_id == plan_id)).all()
    session.commit()
    assert len(entries) == 2
    assert {(e.created_by, e.text[:4]) for e in entries} == {(sam.id, "SAM:")}
    by_id = {e.id: e.section for e in entries}
    assert [(by_id[k.response_id], by_id[k.target_id]) for k in links] == [
        ("edge_responses", "hot_buttons")
    ]


def test_a_new_partner_sees_the_reference_never_as_their_words(
    earlier, partners, make_client
):
    new = _upload(partners.sam, earlier).headers["location"]
    link = soup(partners.sam.post_form(f"{new}/invite")).find("input", id="invite-link")
    robin = make_client().sign_up("Robin")
    robin.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}")
    page = soup(robin.get(new))
    reference = page.find(id="earlier")
    assert "ALEX: no threats." in reference.text
    assert "Robin" not in reference.text
    assert "From our earlier plan" in reference.text
    assert not reference.find("form")  # read-only: nothing to change or agree to
    robin_column = page.find_all(class_="partner-2")
    assert all("ALEX:" not in c.text for c in robin_column)


@pytest.mark.slow
def test_the_agreed_pdf_starts_a_new_plan_too(partners, earlier, session):
    pdf = render_pdf(json.loads(earlier) | _as_snapshot(json.loads(earlier)))
    started = _upload(partners.sam, pdf, "mutual-plan.pdf")
    assert started.status_code == 303
    assert "SAM: I text our word." in partners.sam.get(started.headers["location"]).text


def _as_snapshot(document: dict) -> dict:
    """A snapshot from a plan file, enough to print it again."""
    return {
        "plan": {"id": "x", "title": document["title"]},
        "version": document["agreed_version"],
        "created_at": document["made_at"],
        "partners": document["partners"],
        "entries": [
            {
                **e,
                "version": 1,
                "first_author_name": e["author_name"],
                "agreed": True,
                "consents": e["agreed_by"],
            }
            for e in document["entries"]
        ],
        "taken_back": [],
    }


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "Please choose a file"),
        (b"not json at all", "isn't a plan Mutual can read"),
        (b"\xff\xfe\x00garbage", "isn't a plan Mutual can read"),
        (b"[" * 100_000, "isn't a plan Mutual can read"),
        (json.dumps({"format": "mutual-plan", "version": 2}).encode(), "isn't a plan"),
        (b"%PDF-1.7\n%broken beyond repair", "isn't a plan Mutual can read"),
        (b"x" * (MAX_BYTES + 1), "larger than any plan"),
    ],
)
def test_a_bad_file_gets_a_plain_reason_and_changes_nothing(
    partners, session, content, says
):
    before = (
        _count(session, Plan),
        _count(session, Entry),
        _count(session, EarlierEntry),
    )
    refused = _upload(partners.sam, content)
    assert refused.status_code == 422
    assert says in soup(refused).find(class_="field-error").text
    after = (
        _count(session, Plan),
        _count(session, Entry),
        _count(session, EarlierEntry),
    )
    assert after == before


@pytest.mark.slow
def test_a_pdf_without_a_plan_inside_says_so(partners, session):
    from tests.unit.test_pdf import realistic_snapshot

    card = render_pdf(realistic_snapshot(), card=True)
    refused = _upload(partners.sam, card, "card.pdf")
    assert refused.status_code == 422
    assert "doesn't carry a plan" in soup(refused).find(class_="field-error").text


def test_the_form_works_without_javascript(client):
    page = soup(client.sign_up("Sam").get("/import"))
    form = page.find("form", action="/import")
    assert form["method"] == "post"
    assert form["enctype"] == "multipart/form-data"
    assert form.find("input", type="file")["name"] == "file"
