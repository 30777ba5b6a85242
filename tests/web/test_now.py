"""Right now: the agreed plan for a hard moment, its two doors, the copy's switches."""

import pytest

from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


def now_of(client, path):
    return client.get(f"{path}/now")


def texts(page, selector):
    return [" ".join(el.get_text(" ").split()) for el in page.select(selector)]


@pytest.fixture
def agreed(partners):
    """A signal, a response answering Alex's hot button, and a reaction each."""
    p = partners.path
    signal = entry_id(add(partners.sam, p, "signals", 'Texting "lighthouse".'))
    agree(partners.alex, p, signal)
    hot = entry_id(add(partners.alex, p, "hot_buttons", "Being told to calm down."))
    agree(partners.sam, p, hot)
    response = entry_id(
        add(partners.sam, p, "edge_responses", "We stop, and sit in the same room.")
    )
    partners.sam.post_form(
        f"{p}/entries/{response}/links", {"target_id": hot}, htmx=True
    )
    agree(partners.alex, p, response)
    general = entry_id(
        add(partners.alex, p, "edge_responses", "Each of us can call a friend.")
    )
    agree(partners.sam, p, general)
    sams = entry_id(add(partners.sam, p, "reactions", "I go quiet."))
    agree(partners.alex, p, sams)
    alexs = entry_id(add(partners.alex, p, "reactions", "I get sharp."))
    agree(partners.sam, p, alexs)
    partners.ids = {"signal": signal, "hot": hot, "response": response}
    return partners


def test_both_doors_are_one_tap_from_the_plan_page_and_my_plans(partners):
    plan = soup(partners.sam.get(partners.path))
    doors = plan.select(".plan-header .two-doors a")
    assert [a.text for a in doors] == [
        "We're near the edge now",
        "Talk it through afterwards",
    ]
    assert doors[0]["href"] == f"{partners.path}/now"
    assert doors[1]["href"] == f"{partners.path}/debriefs"
    assert "Something hard happened" not in plan.select_one(".plan-header").text
    mine = soup(partners.sam.get("/"))
    (door,) = mine.select(".plan-card .plan-door a")
    assert door["href"] == f"{partners.path}/now"
    assert door.text == "We're near the edge now"


def test_nothing_agreed_yet_is_said_kindly_with_what_there_is_to_do(partners):
    response = now_of(partners.sam, partners.path)
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.text == "Right now"
    assert page.find("h2", string="Nothing is agreed between you yet")
    assert page.find("a", href=partners.path, string="the plan page")
    # the questions for the moment need no agreement
    assert page.find("label", string="How it feels for me, right now")
    assert not page.select("[data-now-card]")[0]["data-now-card"]
    assert not page.find("a", string="The pocket card (PDF)")


def test_the_view_reads_the_agreed_plan_in_the_order_a_hard_moment_needs(agreed):
    page = soup(now_of(agreed.alex, agreed.path))
    assert texts(page, ".right-now h2")[:5] == [
        "Our signals",
        "What we agreed to do",
        "When one of these comes up",
        "How each of us is likely to react",
        "How is it for each of us, right now?",
    ]
    signals = page.find("h2", string="Our signals").find_parent("section")
    assert texts(signals, ".now-item") == ['Texting "lighthouse". Written by Sam']
    todo = page.find("h2", string="What we agreed to do").find_parent("section")
    assert texts(todo, ".now-item") == [
        "We stop, and sit in the same room. Written by Sam",
        "Each of us can call a friend. Written by Alex",
    ]
    (pair,) = page.select(".now-pair")
    assert texts(pair, ".now-when") == ["Alex's hot button Being told to calm down."]
    assert texts(pair, ".now-then .now-text") == ["We stop, and sit in the same room."]
    people = texts(page, ".now-person")
    assert people == ["Sam I go quiet.", "Alex (you) I get sharp."]
    version = page.select_one(".now-version").text
    assert "As agreed on" in version
    assert "version 1" in version
    card = f"{agreed.path}/agreed.pdf?version=1&format=card"
    assert page.select_one("[data-now-card]")["data-now-card"] == card
    assert page.find("a", string="The pocket card (PDF)")["href"] == card


def test_a_private_draft_or_a_waiting_change_never_shows(agreed):
    p = agreed.path
    add(agreed.sam, p, "hot_buttons", "DRAFT-ONLY-SAM-SEES", draft=True)
    add(agreed.sam, p, "signals", "NOT-AGREED-YET")
    agreed.sam.post_form(
        f"{p}/entries/{agreed.ids['signal']}",
        {"text": "PROPOSED-NEW-WORDING", "base_version": "1"},
    )
    for who in (agreed.sam, agreed.alex):
        page = soup(now_of(who, p)).text
        assert 'Texting "lighthouse".' in page  # the agreed wording stays in force
        for unseen in ("DRAFT-ONLY-SAM-SEES", "NOT-AGREED-YET", "PROPOSED-NEW-WORDING"):
            assert unseen not in page


def test_someone_not_in_the_plan_gets_not_found(agreed, make_client):
    casey = make_client().sign_up("Casey")
    assert now_of(casey, agreed.path).status_code == 404
    sent = casey.post_form(f"{agreed.path}/now", {"feel": "x", "action": "send"})
    assert sent.status_code == 404


def test_an_answer_kept_to_oneself_is_a_note_only_its_writer_reads(partners):
    response = partners.sam.post_form(
        f"{partners.path}/now",
        {"feel": "SCARED-AND-TIRED", "underneath": "OLD-STORY", "action": "keep"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"{partners.path}/now?said=kept#for-each-of-us"
    )
    said = soup(partners.sam.get(response.headers["location"]))
    assert "Kept for you alone" in said.find(role="status").text
    assert "SCARED-AND-TIRED" not in said.text  # the view never shows it back
    mine = partners.sam.get(f"{partners.path}/feedback").text
    assert "SCARED-AND-TIRED" in mine
    assert "OLD-STORY" in mine
    theirs = partners.alex.get(f"{partners.path}/feedback").text
    assert "SCARED-AND-TIRED" not in theirs
    assert "SCARED-AND-TIRED" not in now_of(partners.alex, partners.path).text


def test_an_answer_shared_with_the_partner_arrives_as_a_note(partners):
    response = partners.sam.post_form(
        f"{partners.path}/now", {"feel": "Very far away from you.", "action": "send"}
    )
    assert response.status_code == 303
    said = soup(partners.sam.get(response.headers["location"]))
    assert "Sent to Alex" in said.find(role="status").text
    thread = soup(partners.alex.get(f"{partners.path}/feedback")).select_one(".thread")
    assert "Very far away from you." in thread.text
    assert "Sam" in thread.select_one(".byline").text


def test_alone_in_a_plan_an_answer_can_only_be_kept(client):
    sam = client.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Mine"}).headers["location"]
    page = soup(now_of(sam, path))
    assert [b.text for b in page.select("form[data-online-only] button")] == [
        "Keep it to myself"
    ]
    sam.post_form(f"{path}/now", {"feel": "ALONE-WITH-IT", "action": "send"})
    notes = soup(sam.get(f"{path}/feedback"))
    assert "ALONE-WITH-IT" in notes.find(id="composer").text  # a draft, not sent
    assert not notes.select(".thread")


def test_an_empty_or_too_long_answer_comes_back_with_the_words_kept(partners):
    empty = partners.sam.post_form(f"{partners.path}/now", {"action": "send"})
    assert empty.status_code == 422
    assert soup(empty).find(role="alert")
    long = "word " * 500
    response = partners.sam.post_form(
        f"{partners.path}/now",
        {"feel": long, "underneath": "KEEP-ME", "action": "send"},
    )
    assert response.status_code == 422
    page = soup(response)
    assert page.find("textarea", id="now-underneath").text == "KEEP-ME"
    assert page.find("textarea", id="now-feel").text == long
    assert page.find(id="now-feel")["aria-invalid"] == "true"
    assert "Please keep this to 2,000 characters" in page.find(id="now-feel-error").text
    assert "KEEP-ME" not in partners.alex.get(f"{partners.path}/feedback").text


def test_the_copy_is_offered_only_by_script_and_named_for_its_plan(agreed):
    page = soup(now_of(agreed.sam, agreed.path))
    panel = page.select_one("[data-copy]")
    assert panel.has_attr("hidden")  # nothing to offer without a service worker
    assert panel.find("button", string="Keep a copy on this phone")
    root = page.select_one("[data-now-plan]")
    assert root["data-now-plan"] == agreed.plan_id


def test_the_worker_is_served_from_the_top_and_always_checked(client):
    response = client.get("/copy-worker.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert "mutual-copy-" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_forgetting_the_device_clears_its_storage_and_keeps_the_session(partners):
    response = partners.sam.post_form("/forget-device")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?forgot=1"
    assert response.headers["clear-site-data"] == '"cache", "storage"'
    account = soup(partners.sam.get("/account?forgot=1"))
    assert "has forgotten every copy" in account.find(role="status").text


def test_every_way_out_tells_the_browser_to_clear_what_it_kept(partners):
    page = soup(partners.sam.get("/account"))
    forms = page.select("form[data-forget-copies]")
    assert {f["action"] for f in forms} == {
        "/logout",
        "/account/sign-out-everywhere",
        "/forget-device",
    }
    everywhere = partners.sam.post_form("/account/sign-out-everywhere")
    assert "storage" in everywhere.headers["clear-site-data"]
    out = partners.alex.post_form("/logout")
    assert "storage" in out.headers["clear-site-data"]


def test_my_plans_names_the_plans_a_copy_may_stay_for(partners, make_client):
    mine = soup(partners.sam.get("/")).find("h1", string="My plans")
    assert mine["data-member-of"].split() == [partners.plan_id]
    partners.alex.post_form(f"{partners.path}/leave")
    left = soup(partners.alex.get("/?left=1")).find("h1", string="My plans")
    assert left["data-member-of"].split() == []


def test_the_privacy_page_says_what_a_copy_on_a_phone_means(client):
    page = " ".join(soup(client.get("/never")).text.split())
    assert "Keep a copy on this phone" in page
    assert "only on a device where you chose it" in page


def test_a_yes_taken_back_is_shown_to_talk_about_not_to_follow(agreed):
    p = agreed.path
    response = agreed.ids["response"]
    agreed.alex.post_form(
        f"{p}/entries/{response}/withdraw", {"note": "Not at night, please."}
    )
    page = soup(now_of(agreed.sam, p))
    todo = page.find("h2", string="What we agreed to do").find_parent("section")
    assert "We stop, and sit in the same room." not in todo.text
    assert not page.select(".now-pair")  # no longer what we do when it comes up
    back = page.find("h2", string="Taken back, to talk about").find_parent("section")
    (item,) = texts(back, ".now-item")
    assert item.startswith("We stop, and sit in the same room. Alex took the yes back")
    assert "Not at night, please." in item


def test_kept_answers_join_a_draft_note_already_there_and_hide_nothing(agreed):
    p = agreed.path
    agreed.sam.post_form(
        f"{p}/feedback",
        {
            "what_i_feel": "EARLIER-FEEL",
            "what_i_need": "EARLIER-NEED",
            "about": f"entry:{agreed.ids['signal']}",
            "action": "draft",
        },
    )
    for feel in ("FIRST-NOW", "SECOND-NOW"):
        kept = agreed.sam.post_form(f"{p}/now", {"feel": feel, "action": "keep"})
        assert kept.status_code == 303
    composer = soup(agreed.sam.get(f"{p}/feedback")).find(id="composer")
    feel = composer.find("textarea", {"name": "what_i_feel"}).text
    assert feel == "EARLIER-FEEL\n\nFIRST-NOW\n\nSECOND-NOW"
    assert composer.find("textarea", {"name": "what_i_need"}).text == "EARLIER-NEED"
    about = composer.find("option", selected=True)
    assert about["value"] == f"entry:{agreed.ids['signal']}"
    assert "FIRST-NOW" not in agreed.alex.get(f"{p}/feedback").text
