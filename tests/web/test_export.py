"""The agreed plan as a PDF, over HTTP."""

import io
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from backend.export import PdfError, PdfRenderer
from backend.export.view import MONTHS
from backend.export.worker import PdfBusy
from backend.members import people_of
from backend.models import PlanVersion
from tests.helpers import soup
from tests.web.pdf_tasks import sleepy, sleepy_for_a_while
from tests.web.steps import add, agree, entry_id

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def renderer():
    with PdfRenderer(workers=1) as shared:
        yield shared


@pytest.fixture
def story(partners, app, renderer):
    """Both partners wrote; some of it is agreed, some still waits."""
    app.state.pdf = renderer
    p = partners.path
    hot = entry_id(add(partners.alex, p, "hot_buttons", "Being told to calm down."))
    agree(partners.sam, p, hot)
    # printing seals version 1: what comes after gathers into version 2
    assert partners.sam.get(f"{p}/agreed.pdf").status_code == 200
    response = entry_id(
        add(partners.sam, p, "edge_responses", "If I say our word, you stay with me.")
    )
    partners.sam.post_form(
        f"{p}/entries/{response}/links", {"target_id": hot}, htmx=True
    )
    agree(partners.alex, p, response)
    add(partners.sam, p, "signals", "NOT-YET-AGREED")
    return partners


def text_of(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_holds_every_agreed_entry_and_its_author(story):
    response = story.sam.get(f"{story.path}/agreed.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="mutual-us-v')
    assert disposition.endswith('.pdf"')
    text = " ".join(text_of(response).split())
    assert "If I say our word, you stay with me." in text
    assert "Being told to calm down." in text
    assert "Sam" in text
    assert "Alex" in text
    assert "NOT-YET-AGREED" not in text


def test_working_draft_includes_unagreed_entries_marked(story):
    response = story.alex.get(f"{story.path}/agreed.pdf?draft=1")
    assert response.status_code == 200
    text = " ".join(text_of(response).split())
    assert "NOT-YET-AGREED" in text
    assert "DRAFT" in text
    assert "-draft-" in response.headers["content-disposition"]


def test_pocket_card_is_one_page_with_the_responses(story):
    response = story.sam.get(f"{story.path}/agreed.pdf?format=card")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = " ".join(text_of(response).split())
    assert "If I say our word, you stay with me." in text
    assert "Being told to calm down." not in text


def test_the_revisit_date_set_on_the_plan_prints(story):
    day = datetime.now(UTC).date() + timedelta(days=20)
    story.alex.post_form(f"{story.path}/revisit", {"revisit_by": day.isoformat()})
    story.sam.post_form(f"{story.path}/revisit/confirm")  # a day both chose
    month = MONTHS[day.month - 1]
    for kind in ("", "?format=card"):
        text = " ".join(
            text_of(story.sam.get(f"{story.path}/agreed.pdf{kind}")).split()
        )
        assert f"We'll look at this again by {day.day} {month} {day.year}." in text


def test_letter_paper_and_an_older_version(story):
    letter = PdfReader(
        io.BytesIO(story.sam.get(f"{story.path}/agreed.pdf?paper=letter").content)
    )
    box = letter.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    first = story.sam.get(f"{story.path}/agreed.pdf?version=1")
    text = " ".join(text_of(first).split())
    assert "Being told to calm down." in text
    assert "If I say our word" not in text
    assert story.sam.get(f"{story.path}/agreed.pdf?version=9").status_code == 404


def test_nothing_agreed_yet_is_a_calm_page(partners, app, renderer):
    app.state.pdf = renderer
    response = partners.sam.get(f"{partners.path}/agreed.pdf")
    assert response.status_code == 404
    assert "Nothing is agreed yet" in response.text


def test_private_drafts_never_reach_a_pdf(partners, app, renderer):
    app.state.pdf = renderer
    add(partners.sam, partners.path, "reactions", "PRIVATE-SENTINEL", draft=True)
    for who in (partners.sam, partners.alex):
        response = who.get(f"{partners.path}/agreed.pdf?draft=1")
        assert "PRIVATE-SENTINEL" not in text_of(response)


def test_a_version_saved_before_proposals_still_reads_as_it_was(
    partners, app, renderer, session
):
    """Versions numbered before sittings and proposals keep their snapshot as it
    was written: no yes words, no taken-back part. They still read and print."""
    app.state.pdf = renderer
    plan_id = uuid.UUID(partners.plan_id)
    people = {p.name: p for p in people_of(session, plan_id).values()}
    sam, alex = people["Sam"], people["Alex"]
    old = {
        "plan": {"id": partners.plan_id, "title": "Us"},
        "partners": [
            {"id": str(sam.id), "name": "Sam", "slot": 1},
            {"id": str(alex.id), "name": "Alex", "slot": 2},
        ],
        "entries": [
            {
                "id": str(uuid.uuid4()),
                "section": "bottom_lines",
                "owner_id": str(alex.id),
                "text": "OLD-FORMAT-LINE",
                "version": 1,
                "author_id": str(alex.id),
                "author_name": "Alex",
                "first_author_name": "Alex",
                "written_at": "2026-11-20T10:00:00+00:00",
                "agreed": True,
                "consents": [
                    {
                        "account_id": str(alex.id),
                        "name": "Alex",
                        "at": "2026-11-20T10:00:00+00:00",
                    },
                    {
                        "account_id": str(sam.id),
                        "name": "Sam",
                        "at": "2026-11-21T10:00:00+00:00",
                    },
                ],
                "answers": [],
            }
        ],
        "version": 1,
        "created_at": "2026-11-21T10:00:00+00:00",
    }
    moment = datetime(2026, 11, 21, 10, tzinfo=UTC)
    session.add(
        PlanVersion(
            plan_id=plan_id,
            number=1,
            snapshot=old,
            summary="1 added",
            created_at=moment,
            updated_at=moment,
            sealed_at=moment,
        )
    )
    session.commit()
    page = partners.sam.get(f"{partners.path}/agreed?version=1")
    assert page.status_code == 200
    text = soup(page).get_text(" ")
    assert "OLD-FORMAT-LINE" in text
    assert "Alex's words, heard by Sam" in text
    printed = partners.sam.get(f"{partners.path}/agreed.pdf?version=1")
    assert printed.status_code == 200
    words = " ".join(text_of(printed).split())
    assert "OLD-FORMAT-LINE Alex's words, heard by Sam" in words
    assert "every yes given 20\u201321 Nov 2026" in words


class QuickRenderer:
    """Stands in for the render workers where only the route's database work is
    under test."""

    def render(self, snapshot, **options) -> bytes:
        return b"%PDF-1.7 quick"

    def close(self) -> None:
        pass


@pytest.mark.real_engine
def test_pdfs_while_the_partner_keeps_writing_never_fail(partners, app, settings):
    """Printing counts against a rate limit and seals the version: both are writes,
    and neither may collide with the partner's saves ("database is locked")."""
    app.state.pdf = QuickRenderer()
    agree(
        partners.alex,
        partners.path,
        entry_id(add(partners.sam, partners.path, "signals", "Pacing at night.")),
    )
    app.state.settings = settings.model_copy(update={"rate_limits": True})
    stop = threading.Event()
    saved: list[int] = []

    def keep_writing() -> None:
        number = 0
        while not stop.is_set() and number < 200:
            number += 1
            response = add(partners.sam, partners.path, "signals", f"Note {number}")
            saved.append(response.status_code)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        printed = []
        for turn in range(6):  # the limit is 6 a minute
            query = "?draft=1" if turn % 2 else ""
            printed.append(
                partners.alex.get(f"{partners.path}/agreed.pdf{query}").status_code
            )
    finally:
        stop.set()
        writer.join(30)
    assert printed == [200] * 6
    assert saved
    assert set(saved) == {200}
    assert partners.alex.get(f"{partners.path}/agreed.pdf").status_code == 429


@pytest.fixture
def slow_renderer():
    made = []

    def make(**options) -> PdfRenderer:
        renderer = PdfRenderer(task=sleepy, warm_up=False, **options)
        made.append(renderer)
        return renderer

    yield make
    for renderer in made:
        renderer.close()


def in_thread(call):
    """Run `call` in a thread; `.join()` gives what it returned or raised."""
    box = {}

    def run() -> None:
        try:
            box["value"] = call()
        except Exception as error:  # handed back to the test
            box["value"] = error

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(30)
        return box["value"]

    return SimpleNamespace(join=join)


def test_a_render_that_overruns_harms_no_other_render(slow_renderer):
    renderer = slow_renderer(workers=2, timeout=1.5)
    renderer.render({"name": "ready"})  # both workers are up
    overrun = in_thread(lambda: renderer.render({"sleep": 30}))
    other = in_thread(lambda: renderer.render({"sleep": 0.5, "name": "other"}))
    assert other.join() == b"%PDF-other"
    assert isinstance(overrun.join(), PdfError)
    # the overrun's worker was replaced; every worker still renders
    again = [in_thread(lambda: renderer.render({"name": "after"})) for _ in range(2)]
    assert [call.join() for call in again] == [b"%PDF-after"] * 2


def test_busy_workers_and_one_persons_queue_say_try_again(slow_renderer):
    renderer = slow_renderer(workers=1, wait=0.3, per_owner=1)
    renderer.render({"name": "ready"})
    holding = in_thread(lambda: renderer.render({"sleep": 1.5}, owner="sam"))
    time.sleep(0.3)
    with pytest.raises(PdfBusy) as mine:
        renderer.render({}, owner="sam")
    assert mine.value.mine
    with pytest.raises(PdfBusy) as everyone:
        renderer.render({}, owner="alex")
    assert not everyone.value.mine
    assert holding.join() == b"%PDF-"
    assert renderer.render({"name": "alex"}, owner="alex") == b"%PDF-alex"


def test_busy_or_overrun_pdfs_answer_503_with_retry_after(partners, app, slow_renderer):
    app.state.pdf = slow_renderer(workers=1, timeout=1.0, wait=0.3)
    app.state.pdf.render({"name": "ready"})
    p = partners.path
    agree(partners.alex, p, entry_id(add(partners.sam, p, "signals", "Pacing.")))
    partners.alex.get(f"{p}/agreed.pdf")  # the version is sealed before the test
    ok = partners.sam.get(f"{p}/agreed.pdf")
    assert ok.status_code == 200
    assert ok.content.startswith(b"%PDF")
    app.state.pdf._task = sleepy_for_a_while
    overrun = in_thread(lambda: partners.sam.get(f"{p}/agreed.pdf"))
    time.sleep(0.3)
    busy = partners.alex.get(f"{p}/agreed.pdf")
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "30"
    assert "Your plan is safe" in busy.text
    late = overrun.join()
    assert late.status_code == 503
    assert late.headers["retry-after"] == "30"
