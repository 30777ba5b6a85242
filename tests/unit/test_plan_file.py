"""The plan file: its schema, and its place inside the agreed PDF."""

import io
import json

import pytest
from pypdf import PdfReader

from backend.export.pdf import render_pdf
from backend.export.plan_file import PLAN_FILE, plan_document, plan_json, validator
from tests.unit.test_pdf import realistic_snapshot


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
    validator("mutual-plan").validate(json.loads(carried))


@pytest.mark.slow
def test_the_card_and_a_draft_carry_no_plan_file():
    snapshot = realistic_snapshot()
    assert _attachments(render_pdf(snapshot, card=True)) == {}
    assert _attachments(render_pdf(snapshot, draft=True)) == {}
