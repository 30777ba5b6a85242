"""Starting a new plan from an earlier one: my words come back as mine, the
other person's only as a reference; a bad file changes nothing."""

import io
import json
import os
import uuid
import zipfile

import pytest
from sqlmodel import func, select

from backend.consent.versions import latest_version
from backend.export.pdf import render_pdf
from backend.export.plan_file import plan_json
from backend.models import Account, EarlierEntry, Entry, EntryLink, Plan
from backend.plans.importing import (
    MAX_BYTES,
    MAX_EXPORT_BYTES,
    MAX_MEMBERS,
    MAX_UNPACKED,
)
from tests.helpers import PASSWORD, soup
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


class QuickRenderer:
    """Stands in for the render workers: the download's PDFs are not read back."""

    def render(self, snapshot, **options) -> bytes:
        return b"%PDF-1.7 quick"

    def close(self) -> None:
        pass


def _download(client) -> bytes:
    response = client.get("/account/export")
    assert response.status_code == 200
    return response.content


def _sections(client, path: str) -> dict[str, str]:
    page = soup(client.get(path))
    return {s["id"]: s.get_text(" ", strip=True) for s in page.find_all("section")}


def test_the_whole_download_starts_a_plan_from_its_one_agreed_plan(
    partners, earlier, app, session
):
    app.state.pdf = QuickRenderer()
    started = _upload(partners.sam, _download(partners.sam), "mutual-mine.zip")
    assert started.status_code == 303
    sections = _sections(partners.sam, started.headers["location"])
    assert "SAM: I text our word." in sections["section-edge_responses"]
    assert "ALEX: no threats." in sections["earlier"]
    assert "ALEX:" not in sections["section-bottom_lines"]


def test_a_download_with_several_plans_asks_which_one(partners, earlier, app, session):
    app.state.pdf = QuickRenderer()
    p = partners.path
    # a second plan, agreed too
    second = partners.sam.post_form("/plans", {"title": "Weekends"})
    other = second.headers["location"]
    link = soup(partners.sam.post_form(f"{other}/invite")).find(
        "input", id="invite-link"
    )
    partners.alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}")
    agree(partners.alex, other, entry_id(add(partners.sam, other, "signals", "SAM: 2")))
    before = _count(session, Plan)

    asked = _upload(partners.sam, _download(partners.sam), "mutual-mine.zip")

    assert asked.status_code == 200
    assert _count(session, Plan) == before  # nothing yet: a choice first
    page = soup(asked)
    choices = page.select("form.import-choice")
    titles = [c.find("strong").text for c in choices]
    assert sorted(titles) == ["Us", "Weekends"]
    assert all("agreed" in c.p.get_text(" ") for c in choices)
    chosen = choices[titles.index("Us")]
    fields = {i["name"]: i.get("value", "") for i in chosen.find_all("input")}
    started = partners.sam.post(chosen["action"], data=fields)
    assert started.status_code == 303
    assert _count(session, Plan) == before + 1
    sections = _sections(partners.sam, started.headers["location"])
    assert "SAM: I text our word." in sections["section-edge_responses"]
    assert "ALEX: the blue mug." in sections["earlier"]
    assert "SAM: 2" not in " ".join(sections.values())
    assert p != started.headers["location"]


def test_after_erasure_my_download_still_brings_my_words_back_as_mine(
    partners, earlier, app, make_client, session
):
    """An account made again with the same address: the download says which
    words were its person's, though the account's id is new."""
    app.state.pdf = QuickRenderer()
    download = _download(partners.sam)
    assert (
        partners.sam.post_form("/account/delete", {"password": PASSWORD}).status_code
        == 303
    )
    again = make_client().sign_up("Sam", email=partners.sam.email)
    started = _upload(again, download, "mutual-mine.zip")
    assert started.status_code == 303
    sections = _sections(again, started.headers["location"])
    assert "SAM: being told to calm down." in sections["section-hot_buttons"]
    assert "SAM:" not in sections["earlier"]
    assert "ALEX: no threats." in sections["earlier"]
    # someone else holding the same file gets every word only as a reference
    robin = make_client().sign_up("Robin")
    other = _upload(robin, download, "mutual-mine.zip")
    sections = _sections(robin, other.headers["location"])
    assert "SAM: being told to calm down." in sections["earlier"]
    assert [k for k, text in sections.items() if "SAM:" in text] == ["earlier"]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _lying_size(good: bytes) -> bytes:
    """The export padded past its cap, its headers claiming it is tiny."""
    data = bytearray(_zip({"mutual-export.json": good + b" " * MAX_EXPORT_BYTES}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = (len(good)).to_bytes(4, "little")
    return bytes(data)


# each spoils a real download: without its check, the zip would be taken
SPOILED = {
    "no-export": lambda good: _zip({"export.json": good}),
    "twice": lambda good: _zip({"mutual-export.json": good, "plans/../x": good}),
    "climbs": lambda good: _zip({"mutual-export.json": good, "../../etc/x": b""}),
    "nested": lambda good: _zip({"mutual-export.json": good, "plans/a/b.json": b""}),
    "folder": lambda good: _zip({"mutual-export.json": good, "plans/": b""}),
    "absolute": lambda good: _zip({"/mutual-export.json": good}),
    "stranger": lambda good: _zip({"mutual-export.json": good, "run.sh": b"x"}),
    "too-many": lambda good: _zip(
        {"mutual-export.json": good}
        | {f"plans/p{n}.pdf": b"" for n in range(MAX_MEMBERS)}
    ),
    # a member unpacking past the cap from a few kilobytes, though never read
    "bomb": lambda good: _zip(
        {"mutual-export.json": good, "plans/p.pdf": b"\0" * (MAX_UNPACKED + 1)}
    ),
    "export-too-large": lambda good: _zip(
        {"mutual-export.json": good + b" " * MAX_EXPORT_BYTES}
    ),
    "lying-size": _lying_size,
    "not-utf8": lambda good: _zip({"mutual-export.json": b"\xff" + good}),
    "other-format": lambda good: _zip(
        {"mutual-export.json": good.replace(b'"mutual-export"', b'"other"', 1)}
    ),
    "cut-short": lambda good: _zip({"mutual-export.json": good})[:-30],
}


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED.keys())
def test_a_bad_zip_gets_a_plain_reason_and_changes_nothing(
    partners, earlier, app, session, spoil
):
    app.state.pdf = QuickRenderer()
    download = zipfile.ZipFile(io.BytesIO(_download(partners.sam)))
    good = download.read("mutual-export.json")
    before = (_count(session, Plan), _count(session, Entry))
    refused = _upload(partners.sam, spoil(good), "mutual-mine.zip")
    assert refused.status_code == 422
    said = soup(refused).find(class_="field-error").text
    assert "isn't a download from Mutual that can be read" in said
    assert (_count(session, Plan), _count(session, Entry)) == before
    # the unspoiled export is taken
    taken = _upload(partners.sam, _zip({"mutual-export.json": good}), "mine.zip")
    assert taken.status_code == 303


def test_a_download_with_nothing_agreed_says_so(partners, app, session):
    app.state.pdf = QuickRenderer()
    add(partners.sam, partners.path, "signals", "Not agreed yet")
    refused = _upload(partners.sam, _download(partners.sam), "mutual-mine.zip")
    assert refused.status_code == 422
    assert "holds no agreed plan" in soup(refused).find(class_="field-error").text


def test_a_download_larger_than_a_form_can_still_be_brought_back(client):
    """Every other form stops at 256 KiB; a download with its printed plans is
    larger, and /import takes it."""
    client.sign_up("Robin")
    padding = zipfile.ZipInfo("plans/padding.pdf")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(padding, os.urandom(600 * 1024))
    sent = _upload(client, buffer.getvalue(), "mutual-export.zip")
    # read and refused for what it holds (no mutual-export.json), not its size
    assert sent.status_code == 422
    assert "larger than" not in sent.text
    assert "more text than Mutual can take" not in sent.text
    too_big = client.post_form("/plans", {"title": "x" * (300 * 1024)})
    assert too_big.status_code == 413
