"""Looking at the plan again: a date, a wish to look again, and a calendar file."""

import re
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from backend.models import Plan
from tests.helpers import soup

TODAY = datetime.now(UTC).date()
SOON = (TODAY + timedelta(days=30)).isoformat()


def set_day(client, path, day=SOON, *, htmx=False):
    return client.post_form(f"{path}/revisit", {"revisit_by": day}, htmx=htmx)


def ask(client, path, *, htmx=False):
    return client.post_form(f"{path}/revisit/request", htmx=htmx)


def panel(client, path):
    return soup(client.get(path)).find(id="revisit_panel")


def confirm(client, path, *, htmx=False):
    return client.post_form(f"{path}/revisit/confirm", htmx=htmx)


def test_one_suggests_a_day_and_the_other_confirms_it(partners, session):
    response = set_day(partners.alex, partners.path)
    assert response.status_code == 303
    assert response.headers["location"] == f"{partners.path}#revisit_panel"
    # a suggestion is not yet a date: nothing for a calendar, nothing "agreed"
    mine = panel(partners.alex, partners.path)
    assert "You suggested" in mine.select_one(".revisit-mine").text
    assert "Let's look at this again by" not in mine.text
    assert partners.alex.get(f"{partners.path}/revisit.ics").status_code == 404
    # the one who suggested cannot confirm it alone
    alone = confirm(partners.alex, partners.path, htmx=True)
    assert alone.status_code == 409
    assert session.exec(select(Plan)).one().revisit_by is None
    session.commit()
    theirs = panel(partners.sam, partners.path)
    offer = theirs.select_one(".revisit-proposed")
    assert "Alex suggests looking at your plan again by" in offer.text
    assert offer.find("time")["datetime"] == SOON
    assert "Alex suggests a day" in soup(partners.sam.get("/")).text
    assert confirm(partners.sam, partners.path).status_code == 303
    for client in (partners.sam, partners.alex):
        shown = panel(client, partners.path)
        assert "Let's look at this again by" in shown.text
        assert shown.find("time")["datetime"] == SOON
        assert "agreed by you both" in shown.text
        assert not shown.select_one(".revisit-proposed, .revisit-mine")
        # a date for both answers any wish to look again: no button asking for it
        assert not shown.select_one(".revisit-ask")
    ics = panel(partners.sam, partners.path).find("a", string="Add it to my calendar")
    assert ics["href"] == f"{partners.path}/revisit.ics"


def test_suggesting_another_day_turns_the_question_round(partners, session):
    set_day(partners.alex, partners.path)
    later = (TODAY + timedelta(days=40)).isoformat()
    set_day(partners.sam, partners.path, later)
    offer = panel(partners.alex, partners.path).select_one(".revisit-proposed")
    assert "Sam suggests" in offer.text
    assert offer.find("time")["datetime"] == later
    assert confirm(partners.sam, partners.path, htmx=True).status_code == 409
    confirm(partners.alex, partners.path)
    plan = session.exec(select(Plan)).one()
    session.commit()
    assert plan.revisit_by.isoformat() == later


def test_only_the_one_who_suggested_takes_it_back(partners):
    set_day(partners.alex, partners.path)
    clear(partners.sam, partners.path, "proposal")
    assert panel(partners.sam, partners.path).select_one(".revisit-proposed")
    taken = clear(partners.alex, partners.path, "proposal")
    assert taken.status_code == 200
    assert not panel(partners.sam, partners.path).select_one(".revisit-proposed")


def test_before_a_partner_joins_there_is_no_date_to_set(client):
    sam = client.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    assert panel(sam, path) is None


def test_setting_a_day_with_htmx_returns_the_panel(partners):
    response = set_day(partners.sam, partners.path, htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert soup(response).find("section", id="revisit_panel")
    assert "Alex will see the day you suggest" in response.text


def test_a_day_in_the_past_or_garbled_keeps_what_was_typed(partners):
    for day, words in (
        ("2001-02-03", "today or a day after it"),
        ("next week", "day, month and year"),
        ((TODAY + timedelta(days=900)).isoformat(), "within the next two"),
    ):
        response = set_day(partners.sam, partners.path, day, htmx=True)
        assert response.status_code == 422
        assert words in response.text
        field = soup(response).find("input", {"name": "revisit_by"})
        assert field["value"] == day
        assert field["aria-invalid"] == "true"
    plain = set_day(partners.sam, partners.path, "2001-02-03")
    assert plain.status_code == 422
    assert "<html" in plain.text


def test_asking_to_look_again_shows_a_calm_banner_to_the_partner(partners):
    assert ask(partners.sam, partners.path).status_code == 303
    mine = panel(partners.sam, partners.path)
    assert "You asked" in mine.text
    assert not mine.find("button", string="I'd like us to look at our plan again")
    theirs = panel(partners.alex, partners.path)
    banner = theirs.select_one(".revisit-asked")
    assert "Sam would like the two of you to look at your plan again" in banner.text
    assert theirs.find("details", open=True)
    home = soup(partners.alex.get("/"))
    assert "Sam would like the two of you to look at this plan again" in home.text
    assert "would like" not in soup(partners.sam.get("/")).text


def test_answering_with_a_day_clears_the_wish(partners, session):
    ask(partners.sam, partners.path, htmx=True)
    answered = set_day(partners.alex, partners.path, htmx=True)
    assert answered.status_code == 200
    plan = session.exec(select(Plan)).one()
    session.commit()
    assert plan.revisit_requested_by is None
    assert plan.revisit_proposed_on.isoformat() == SOON
    assert not panel(partners.sam, partners.path).select_one(".revisit-asked")
    assert "would like" not in soup(partners.alex.get("/")).text


def test_my_plans_says_when_it_is_time(partners, session):
    plan = session.exec(select(Plan)).one()
    plan.revisit_by = TODAY - timedelta(days=1)
    session.add(plan)
    session.commit()
    for client in (partners.sam, partners.alex):
        home = soup(client.get("/"))
        assert "It's time to look at this plan again." in home.text
        due = panel(client, partners.path).select_one(".revisit-due")
        assert "It's time to look at your plan again" in due.text


def test_the_calendar_file_names_the_app_and_the_date_only(partners):
    assert partners.sam.get(f"{partners.path}/revisit.ics").status_code == 404
    set_day(partners.sam, partners.path)
    confirm(partners.alex, partners.path)
    response = partners.alex.get(f"{partners.path}/revisit.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"] == (
        'attachment; filename="mutual-look-again.ics"'
    )
    body = response.content.decode()
    assert body.endswith("\r\n")
    assert "\n" not in body.replace("\r\n", "")
    lines = body.split("\r\n")[:-1]
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    fields = dict(line.split(":", 1) for line in lines)
    day = SOON.replace("-", "")
    assert fields["DTSTART;VALUE=DATE"] == day
    end = date.fromisoformat(SOON) + timedelta(days=1)
    assert fields["DTEND;VALUE=DATE"] == end.strftime("%Y%m%d")
    assert fields["SUMMARY"] == "Mutual: look at our plan again"
    stamp = datetime.strptime(fields["DTSTAMP"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    uid = fields["UID"]
    assert re.fullmatch(r"[0-9a-f-]{36}@mutual", uid)
    assert partners.plan_id not in body
    for private in ("Us", "Sam", "Alex"):
        assert private not in body
    again = partners.sam.get(f"{partners.path}/revisit.ics").content.decode()
    assert f"UID:{uid}\r\n" in again
    set_day(partners.sam, partners.path, (TODAY + timedelta(days=3)).isoformat())
    confirm(partners.alex, partners.path)
    moved = partners.sam.get(f"{partners.path}/revisit.ics").content.decode()
    assert f"UID:{uid}\r\n" in moved


def clear(client, path, what):
    return client.post_form(f"{path}/revisit/clear", {"what": what}, htmx=True)


def test_either_partner_clears_the_date(partners):
    set_day(partners.sam, partners.path)
    confirm(partners.alex, partners.path)
    cleared = clear(partners.alex, partners.path, "date")
    assert cleared.status_code == 200
    assert "Done." in cleared.text
    after = panel(partners.sam, partners.path)
    assert "agreed by you both" not in after.text
    assert after.select_one(".revisit-ask").find(
        "button", string="I'd like us to look at our plan again"
    )
    assert partners.sam.get(f"{partners.path}/revisit.ics").status_code == 404


def test_only_the_one_who_asked_takes_the_wish_back(partners):
    ask(partners.sam, partners.path)
    clear(partners.alex, partners.path, "request")
    assert panel(partners.alex, partners.path).select_one(".revisit-asked")
    mine = panel(partners.sam, partners.path)
    assert mine.find("button", string="Take back my wish")
    clear(partners.sam, partners.path, "request")
    assert not panel(partners.alex, partners.path).select_one(".revisit-asked")
    assert "You asked" not in panel(partners.sam, partners.path).text
