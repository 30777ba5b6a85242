"""Download everything of mine: one zip, my words in a documented JSON, each
agreed plan as its PDF and its plan file."""

import io
import json
import zipfile

import pytest

from backend.export.plan_file import validator
from tests.web.steps import add, agree, answer, entry_id, talk_path


class QuickRenderer:
    """Stands in for the render workers: only the download's own work is tested."""

    def __init__(self) -> None:
        self.snapshots: list[dict] = []

    def render(self, snapshot, **options) -> bytes:
        self.snapshots.append(snapshot)
        return b"%PDF-1.7 quick"

    def close(self) -> None:
        pass


@pytest.fixture
def story(partners, app):
    app.state.pdf = QuickRenderer()
    p = partners.path
    mine = entry_id(
        add(partners.sam, p, "bottom_lines", "I leave the room, then I come back.")
    )
    agree(partners.alex, p, mine)
    add(partners.sam, p, "comes_up", "MY PRIVATE DRAFT", draft=True)
    theirs = entry_id(add(partners.alex, p, "signals", "ALEX'S OWN SIGNAL"))
    agree(partners.sam, p, theirs)
    add(partners.alex, p, "comes_up", "ALEX NOT AGREED")
    talk = talk_path(partners.sam, p, title="The Sunday")
    answer(partners.sam, talk, what_happened="We both went quiet.")
    partners.sam.post_form(f"{p}/notes", {"what_i_need": "A slow walk."})
    return partners


def _download(client):
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_my_download_holds_all_i_wrote_in_the_documented_shape(story):
    archive = _download(story.sam)
    document = json.loads(archive.read("mutual-export.json"))
    validator("mutual-export").validate(document)
    assert document["version"] == 1
    [plan] = document["plans"]
    texts = [w["text"] for e in plan["entries"] for w in e["wordings"]]
    assert "I leave the room, then I come back." in texts
    assert "MY PRIVATE DRAFT" in texts  # my draft is mine
    assert plan["debrief_answers"][0]["what_happened"] == "We both went quiet."
    assert plan["debriefs_started"][0]["title"] == "The Sunday"
    assert plan["notes"][0]["what_i_need"] == "A slow walk."
    assert len(plan["yeses"]) == 3  # two wordings I wrote, one yes to Alex's
    assert plan["named_by_me"] is True


def test_my_download_carries_nothing_of_my_partner_but_the_agreed_plan(story):
    archive = _download(story.sam)
    raw = archive.read("mutual-export.json").decode()
    document = json.loads(raw)
    # Alex's words appear only inside the agreed plan both of them hold
    assert "ALEX NOT AGREED" not in raw
    plan = document["plans"][0]
    assert "ALEX'S OWN SIGNAL" not in json.dumps({**plan, "agreed_plan": None})
    agreed = [e["text"] for e in plan["agreed_plan"]["entries"]]
    assert "ALEX'S OWN SIGNAL" in agreed


def test_my_partner_never_gets_my_private_draft(story):
    raw = _download(story.alex).read("mutual-export.json").decode()
    assert "MY PRIVATE DRAFT" not in raw
    assert "We both went quiet." not in raw


def test_each_agreed_plan_comes_as_its_pdf_and_its_plan_file(story, app):
    archive = _download(story.sam)
    names = sorted(archive.namelist())
    pdfs = [n for n in names if n.endswith(".pdf")]
    plans = [n for n in names if n.startswith("plans/") and n.endswith(".json")]
    assert len(pdfs) == 1
    assert len(plans) == 1
    assert pdfs[0].removesuffix(".pdf") == plans[0].removesuffix(".json")
    plan_file = json.loads(archive.read(plans[0]))
    validator("mutual-plan").validate(plan_file)
    assert app.state.pdf.snapshots[0]["version"] == plan_file["agreed_version"]
    # downloaded: that version is sealed
    versions = story.sam.get(f"{story.path}/versions").text
    assert "still open" not in versions


def test_nothing_agreed_means_no_pdf(client, app):
    app.state.pdf = QuickRenderer()
    sam = client.sign_up("Sam")
    sam.post_form("/plans", {"title": "Us"})
    archive = _download(sam)
    assert archive.namelist() == ["mutual-export.json"]


def test_the_account_page_offers_the_download_and_the_new_start(client):
    page = client.sign_up("Sam").get("/account").text
    assert 'href="/account/export"' in page
    assert 'href="/import"' in page
