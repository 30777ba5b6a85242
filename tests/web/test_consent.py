"""Agreeing together over HTTP: labels, states, the agreed plan and its versions."""

from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


def card(client, path, eid):
    response = client.get(f"{path}/entries/{eid}", headers={"HX-Request": "true"})
    return soup(response)


def state(client, path, eid):
    return card(client, path, eid).select_one(".state").get_text(" ", strip=True)


def test_labels_agree_for_shared_acknowledge_for_partners_own(partners):
    p = partners.path
    shared = entry_id(add(partners.sam, p, "edge_responses", "Stay with me."))
    personal = entry_id(add(partners.sam, p, "hot_buttons", "Being told to calm down."))
    assert card(partners.alex, p, shared).find("button", string="Agree")
    assert card(partners.alex, p, personal).find("button", string="Acknowledge")
    assert not card(partners.sam, p, shared).find("button", string="Agree")


def test_states_in_words(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Stay with me."))
    assert state(partners.sam, p, eid) == "Waiting for Alex"
    assert state(partners.alex, p, eid) == "Waiting for you"
    response = agree(partners.alex, p, eid)
    assert response.status_code == 200
    assert state(partners.sam, p, eid) == "✓ Agreed"
    assert state(partners.alex, p, eid) == "✓ Agreed"
    consents = card(partners.sam, p, eid).select_one(".consents").text
    assert "Sam agreed" in consents
    assert "Alex agreed" in consents


def test_changed_since_you_agreed_shows_the_difference(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Stay with me tonight."))
    agree(partners.alex, p, eid)
    partners.sam.post_form(
        f"{p}/entries/{eid}",
        {"text": "Stay with me all night.", "base_version": "1"},
        htmx=True,
    )
    page = card(partners.alex, p, eid)
    assert page.select_one(".state").text == "Changed since you agreed: look again"
    changed = page.select_one(".changed-since .diff")
    assert changed.find("del").text == "removed: Stay with me tonight."
    assert changed.find("ins").text == "added: Stay with me all night."
    assert changed.select_one("ins mark").text == "all night."
    assert page.find("button", string="Agree")
    assert agree(partners.alex, p, eid, version=2).status_code == 200
    assert state(partners.alex, p, eid) == "✓ Agreed"


def test_agreeing_to_a_stale_wording_is_refused(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    partners.sam.post_form(
        f"{p}/entries/{eid}", {"text": "harbour", "base_version": "1"}, htmx=True
    )
    response = agree(partners.alex, p, eid, version=1)
    assert response.status_code == 409
    assert "changed just now" in response.text
    assert state(partners.alex, p, eid) == "Waiting for you"


def test_withdraw_with_a_note(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    agree(partners.alex, p, eid)
    response = partners.alex.post_form(
        f"{p}/entries/{eid}/withdraw", {"note": "I want to think again."}, htmx=True
    )
    assert response.status_code == 200
    assert state(partners.sam, p, eid) == "Waiting for Alex"
    assert state(partners.alex, p, eid) == "Waiting for you"


def test_lets_talk_about_this_flag(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    partners.alex.post_form(
        f"{p}/entries/{eid}/flag", {"note": "Too vague?"}, htmx=True
    )
    flag = card(partners.sam, p, eid).select_one(".flag")
    assert "Let's talk about this" in flag.text
    assert "Alex" in flag.text
    assert "Too vague?" in flag.text
    assert agree(partners.alex, p, eid).status_code == 200  # a flag blocks nothing
    partners.sam.post_form(f"{p}/entries/{eid}/unflag", htmx=True)
    assert card(partners.alex, p, eid).select_one(".flag") is None


def test_agreed_plan_page_shows_only_agreed_entries(partners):
    p = partners.path
    agreed = entry_id(add(partners.sam, p, "edge_responses", "AGREED-TEXT"))
    add(partners.sam, p, "signals", "WAITING-TEXT")
    agree(partners.alex, p, agreed)
    page = soup(partners.sam.get(f"{p}/agreed"))
    text = page.get_text(" ")
    assert "AGREED-TEXT" in text
    assert "WAITING-TEXT" not in text
    assert "Agreed version 1" in text
    assert "Written by Sam" in text
    summary = page.select_one(".summary-line").get_text(" ", strip=True)
    assert summary.startswith("1 agreed · 0 waiting for you · 1 waiting for Alex")


def test_personal_entries_appear_acknowledged_in_the_agreed_plan(partners):
    p = partners.path
    eid = entry_id(add(partners.alex, p, "bottom_lines", "No shouting."))
    agree(partners.sam, p, eid)
    text = soup(partners.sam.get(f"{p}/agreed")).get_text(" ")
    assert "Alex: bottom lines" in text
    assert "Sam acknowledged" in text


def test_versions_list_older_version_and_compare(partners):
    p = partners.path
    first = entry_id(add(partners.sam, p, "signals", "the blue mug"))
    agree(partners.alex, p, first)
    second = entry_id(add(partners.alex, p, "feel_safe", "Check what you heard."))
    agree(partners.sam, p, second)
    partners.alex.post_form(
        f"{p}/entries/{first}",
        {"text": "the green mug", "base_version": "1"},
        htmx=True,
    )
    agree(partners.sam, p, first, version=2)
    listing = soup(partners.sam.get(f"{p}/versions"))
    items = [li.get_text(" ", strip=True) for li in listing.select(".version-list li")]
    assert len(items) == 4  # +1, +1, changed (no longer agreed), agreed again
    assert items[0].startswith("Version 4")
    old = soup(partners.sam.get(f"{p}/agreed?version=1")).get_text(" ")
    assert "the blue mug" in old
    assert "Check what you heard." not in old
    compare = soup(partners.sam.get(f"{p}/versions?a=1&b=4"))
    section = compare.select_one(".comparison")
    assert "Check what you heard." in section.get_text(" ")
    changed = section.select_one("li .diff")
    assert changed.find("del").text == "removed: the blue mug"
    assert changed.select_one("del mark").text == "blue"
    assert changed.select_one("ins mark").text == "green"
    assert partners.sam.get(f"{p}/agreed?version=99").status_code == 404


def test_counts_of_what_waits_for_me(partners):
    p = partners.path
    add(partners.sam, p, "signals", "one")
    add(partners.sam, p, "feel_safe", "two")
    home = soup(partners.alex.get("/")).select_one(".plan-card").get_text(" ")
    assert "2 waiting for you" in home
    summary = soup(partners.alex.get(p)).select_one(".summary-line").get_text(" ")
    assert "2 waiting for you" in summary
    assert "0 waiting for you" in soup(partners.sam.get(p)).select_one(
        ".summary-line"
    ).get_text(" ")
