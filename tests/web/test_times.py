"""Times on every page are on the reader's own clock, and every <time> is valid HTML."""

import io
import re
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlmodel import select

from backend.export import PdfRenderer
from backend.models import Plan, PlanVersion
from tests.helpers import soup
from tests.web.steps import add, agree, entry_id
from tests.web.test_debriefs import answer, talk_path
from tests.web.test_revisit import confirm, set_day

# 22:30 UTC on 1 July: already half past midnight on 2 July in Berlin (summer time).
MOMENT = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
# A valid HTML date, or global date and time with no more than milliseconds.
HTML_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?"
)


def agreed_once(partners, session) -> str:
    """One agreed entry, so version 1, made at MOMENT; returns the entry's id."""
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    agree(partners.alex, partners.path, eid)
    version = session.exec(select(PlanVersion)).one()
    version.created_at = version.updated_at = version.sealed_at = MOMENT
    version.snapshot = {**version.snapshot, "created_at": MOMENT.isoformat()}
    session.add(version)
    session.commit()
    return eid


def version_line(client, path) -> str:
    page = soup(client.get(f"{path}/versions"))
    return page.select_one(".version-list li").get_text(" ", strip=True)


def test_versions_are_on_the_readers_clock(partners, session):
    agreed_once(partners, session)
    partners.sam.cookies.set("tz", "Europe/Berlin")
    line = version_line(partners.sam, partners.path)
    assert "2 July 2026, 00:30" in line
    assert "UTC" not in line


def test_versions_say_utc_when_the_readers_zone_is_unknown(partners, session):
    agreed_once(partners, session)
    assert "1 July 2026, 22:30 UTC" in version_line(partners.sam, partners.path)
    partners.sam.cookies.set("tz", "../../etc")
    assert "1 July 2026, 22:30 UTC" in version_line(partners.sam, partners.path)


def test_each_partner_sees_their_own_clock(partners, session):
    agreed_once(partners, session)
    partners.sam.cookies.set("tz", "Europe/Berlin")
    partners.alex.cookies.set("tz", "America/New_York")
    agreed = f"{partners.path}/agreed"
    sams = soup(partners.sam.get(agreed)).select_one(".plan-header time")
    alexs = soup(partners.alex.get(agreed)).select_one(".plan-header time")
    assert sams.text == "2 July 2026, 00:30"
    assert alexs.text == "1 July 2026, 18:30"
    assert sams["datetime"] == alexs["datetime"] == "2026-07-01T22:30:00.000Z"


def test_exact_time_at_hand_is_on_the_readers_clock(partners):
    partners.sam.cookies.set("tz", "Asia/Kolkata")
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    history = soup(
        partners.sam.get(
            f"{partners.path}/entries/{eid}/history", headers={"HX-Request": "true"}
        )
    )
    moment = history.select_one(".revisions .byline time")
    written = datetime.fromisoformat(moment["datetime"])
    in_india = written.astimezone(ZoneInfo("Asia/Kolkata"))  # 5:30 ahead of UTC
    assert in_india.strftime("%H:%M") in moment["title"]
    assert "UTC" not in moment["title"]


def test_every_time_element_is_valid_html(partners, session):
    p = partners.path
    eid = agreed_once(partners, session)
    partners.sam.post_form(
        f"{p}/entries/{eid}", {"text": "a lighthouse", "base_version": "1"}, htmx=True
    )
    talk = talk_path(partners.sam, p, title="The party")
    answer(partners.sam, talk, "share", what_happened="We left early.")
    partners.alex.post_form(f"{p}/notes", {"what_i_feel": "Closer."})
    set_day(partners.sam, p)
    confirm(partners.alex, p)
    partners.sam.cookies.set("tz", "Europe/Berlin")
    pages = [
        "/",
        p,
        f"{p}/versions",
        f"{p}/agreed",
        f"{p}/entries/{eid}/history",
        f"{p}/feedback",
        f"{p}/debriefs",
        talk,
        f"{p}/since",
        f"{p}/timeline",
    ]
    for path in pages:
        for client in (partners.sam, partners.alex):
            response = client.get(path)
            assert response.status_code == 200, path
            stamps = [t["datetime"] for t in soup(response).select("time[datetime]")]
            assert stamps, f"no times on {path}"
            for stamp in stamps:
                assert HTML_TIME.fullmatch(stamp), (path, stamp)


def plan_of(session, path) -> Plan:
    session.expire_all()
    plan = session.get(Plan, uuid.UUID(path.rsplit("/", 1)[1]))
    session.commit()
    return plan


@pytest.mark.parametrize(
    ("cookie", "kept"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("../../etc", None),
        ("Europe/" + "x" * 5000, None),
        (None, None),
    ],
)
def test_a_new_plan_keeps_its_creators_zone(client, session, cookie, kept):
    client.sign_up()
    if cookie:
        client.cookies.set("tz", cookie)
    path = client.post_form("/plans", {"title": "Ours"}).headers["location"]
    assert plan_of(session, path).time_zone == kept


@pytest.mark.slow
def test_the_pdf_is_on_the_plans_clock(partners, session, app):
    # The plan was made in Berlin; whoever downloads it, it prints on Berlin's clock.
    plan = plan_of(session, partners.path)
    plan.time_zone = "Europe/Berlin"
    session.add(plan)
    session.commit()
    agreed_once(partners, session)
    partners.alex.cookies.set("tz", "America/New_York")
    with PdfRenderer(workers=1) as renderer:
        app.state.pdf = renderer
        response = partners.alex.get(f"{partners.path}/agreed.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Agreed version 1 · 2 Jul 2026, 00:30 CEST" in text
    assert "-2026-07-02.pdf" in response.headers["content-disposition"]
