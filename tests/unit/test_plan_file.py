"""The plan file: its schema, its place inside the agreed PDF, and reading one
back from whatever bytes someone uploads (fuzzed)."""

import copy
import io
import json
import uuid
import zipfile
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlmodel import func, select

from backend.errors import FormError
from backend.export.pdf import render_pdf
from backend.export.plan_file import PLAN_FILE, plan_document, plan_json, validator
from backend.models import EarlierEntry, Entry, EntryLink, Plan
from backend.plans.importing import (
    MAX_ZIP_BYTES,
    read_plan_file,
    read_upload,
    start_from_file,
)
from tests.factories import make_account
from tests.unit.test_pdf import SAM, realistic_snapshot


def _document() -> dict:
    return plan_document(realistic_snapshot())


def test_a_plan_document_meets_its_schema():
    validator("mutual-plan").validate(_document())


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d.update(version=2),
        lambda d: d.update(format="something-else"),
        lambda d: d.update(surprise=True),
        lambda d: d["entries"][0].update(text="x" * 4001),
        lambda d: d["entries"][0].update(id="../../etc/passwd"),
        lambda d: d["partners"].extend(d["partners"]),  # a third partner
    ],
)
def test_the_schema_refuses_what_mutual_never_writes(spoil):
    document = _document()
    spoil(document)
    assert not validator("mutual-plan").is_valid(document)


def _attachments(pdf: bytes) -> dict:
    return dict(PdfReader(io.BytesIO(pdf)).attachments)


@pytest.mark.slow
def test_the_agreed_pdf_carries_its_plan_file_and_it_reads_back():
    snapshot = realistic_snapshot()
    pdf = render_pdf(snapshot)
    [carried] = _attachments(pdf)[PLAN_FILE]
    assert carried == plan_json(snapshot)
    assert read_plan_file(pdf) == plan_document(snapshot)


@pytest.mark.slow
def test_the_card_and_a_draft_carry_no_plan_file():
    snapshot = realistic_snapshot()
    assert _attachments(render_pdf(snapshot, card=True)) == {}
    assert _attachments(render_pdf(snapshot, draft=True)) == {}


def _valid_bytes() -> bytes:
    return json.dumps(_document()).encode()


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=50),
    st.sampled_from(["\x00", "\u202e", "x" * 5000, SAM, str(uuid.uuid4())]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def spoiled(draw) -> bytes:
    """A real plan file with one value anywhere in it replaced by something odd,
    or cut short, or random bytes."""
    kind = draw(st.sampled_from(["replace", "cut", "bytes", "pdf"]))
    raw = _valid_bytes()
    if kind == "cut":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "pdf":
        return b"%PDF-1.7\n" + draw(st.binary(max_size=2000))
    document = json.loads(raw)
    path = draw(st.sampled_from(list(_paths(document))[1:]))
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(ODD)
    return json.dumps(document).encode()


@settings(max_examples=300, deadline=None)
@given(spoiled())
def test_reading_any_bytes_gives_a_checked_plan_or_a_plain_reason(data):
    try:
        document = read_plan_file(data)
    except FormError as error:
        refused = error.errors
    else:
        validator("mutual-plan").validate(document)
        return
    assert set(refused) == {"file"}


def _counts(session) -> tuple[int, ...]:
    counts = tuple(
        session.exec(select(func.count()).select_from(table)).one()
        for table in (Plan, Entry, EarlierEntry, EntryLink)
    )
    session.commit()
    return counts


def test_a_hostile_file_changes_nothing_and_a_good_one_starts_a_plan(session):
    """Fuzzed against the database: every refused file leaves every table as it
    was; every accepted one makes exactly one new plan, with nothing agreed."""
    me = make_account(session, "Sam")

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(spoiled())
    def attempt(data):
        before = _counts(session)
        try:
            plan = start_from_file(session, data, account_id=me.id)
        except FormError:
            assert _counts(session) == before
            return
        after = _counts(session)
        assert after[0] == before[0] + 1
        assert plan.title

    attempt()


def test_my_words_come_back_mine_the_other_words_only_as_reference(session):
    me = make_account(session, "Sam")
    document = copy.deepcopy(_document())
    for partner in document["partners"]:
        if partner["id"] == SAM:
            partner["id"] = str(me.id)
    for item in document["entries"]:
        for key in ("owner_id", "author_id"):
            if item[key] == SAM:
                item[key] = str(me.id)
    plan = start_from_file(session, json.dumps(document).encode(), account_id=me.id)
    entries = session.exec(select(Entry).where(Entry.plan_id == plan.id)).all()
    earlier = session.exec(
        select(EarlierEntry).where(EarlierEntry.plan_id == plan.id)
    ).all()
    sams = {e["text"] for e in document["entries"] if e["author_id"] == str(me.id)}
    assert {e.text for e in entries} == sams
    assert all(e.created_by == me.id for e in entries)
    assert {e.text for e in earlier} == {
        e["text"] for e in document["entries"] if e["author_id"] != str(me.id)
    }


def _export_of_sam() -> dict:
    return copy.deepcopy(_one_export())


@cache
def _one_export() -> dict:
    """A download of Sam's with one agreed plan, listing Sam's words as Sam's."""
    document = _document()
    return {
        "format": "mutual-export",
        "version": 1,
        "exported_at": "2026-11-30T10:00:00+00:00",
        "account": {
            "display_name": "Sam",
            "email": "sam@example.org",
            "created_at": "2026-11-01T10:00:00+00:00",
        },
        "plans": [
            {
                "id": str(uuid.uuid4()),
                "title": document["title"],
                "named_by_me": True,
                "created_at": "2026-11-01T10:00:00+00:00",
                "joined_at": "2026-11-01T10:00:00+00:00",
                "entries": [
                    {
                        "id": e["id"],
                        "section": e["section"],
                        "section_title": e["section"],
                        "mine": e["owner_id"] == SAM,
                        "draft": False,
                        "removed_at": None,
                        "removed_note": None,
                        "wordings": [
                            {
                                "version": 1,
                                "kind": "wording",
                                "text": e["text"],
                                "note": None,
                                "written_at": e["written_at"],
                            }
                        ],
                    }
                    for e in document["entries"]
                    if e["author_id"] == SAM
                ],
                "yeses": [],
                "flags": [],
                "debriefs_started": [],
                "debrief_answers": [],
                "notes": [],
                "agreed_plan": document,
            }
        ],
    }


def _bundle(export: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # a fixed time, so the same members make the same bytes
        for name, content in {"mutual-export.json": export, **(extra or {})}.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, 30, 10, 0, 0)), content)
    return out.getvalue()


def test_a_download_says_which_words_were_mine_for_my_address_only():
    export = _export_of_sam()
    validator("mutual-export").validate(export)
    data = _bundle(json.dumps(export).encode())
    [choice] = read_upload(data, email="SAM@example.org").choices
    assert choice.me == SAM
    assert choice.document == export["plans"][0]["agreed_plan"]
    [stranger] = read_upload(data, email="robin@example.org").choices
    assert stranger.me is None


MEMBER_NAMES = st.one_of(
    st.sampled_from(
        ["mutual-export.json", "plans/a.pdf", "plans/a.json", "../x", "plans/", "a/b"]
    ),
    st.text(max_size=30),
)


@st.composite
def spoiled_zips(draw) -> bytes:
    """A real download's zip, spoiled: its export's values replaced, members
    added under any name, bytes flipped, or cut short."""
    kind = draw(st.sampled_from(["value", "member", "flip", "cut"]))
    export = _export_of_sam()
    if kind == "value":
        path = draw(st.sampled_from(list(_paths(export))[1:]))
        target = export
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = draw(ODD)
    data = _bundle(json.dumps(export).encode())
    if kind == "member":
        extra = draw(st.dictionaries(MEMBER_NAMES, st.binary(max_size=50), max_size=3))
        data = _bundle(json.dumps(export).encode(), extra)
    elif kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = (
            data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        )
    elif kind == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    return data


@settings(max_examples=300, deadline=None)
@given(spoiled_zips())
def test_reading_any_zip_gives_checked_plans_or_a_plain_reason(data):
    try:
        upload = read_upload(data, email="sam@example.org")
    except FormError as error:
        refused = error.errors
    else:
        refused = {}
    if refused:
        assert set(refused) == {"file"}
        return
    assert upload.choices
    for choice in upload.choices:
        validator("mutual-plan").validate(choice.document)
        assert choice.me is None or uuid.UUID(choice.me)


def test_a_zip_past_any_download_is_refused_before_it_is_opened():
    data = _bundle(json.dumps(_export_of_sam()).encode())
    padded = data + b"\0" * (MAX_ZIP_BYTES + 1 - len(data))
    with pytest.raises(FormError) as refused:
        read_upload(padded, email="sam@example.org")
    assert "larger than any plan" in refused.value.errors["file"]
    assert read_upload(data, email="sam@example.org").choices
