"""Agreeing together over HTTP: labels, states, the agreed plan and its versions."""

from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


def card(client, path, eid):
    response = client.get(f"{path}/entries/{eid}", headers={"HX-Request": "true"})
    return soup(response)


def state(client, path, eid):
    return card(client, path, eid).select_one(".state").get_text(" ", strip=True)


def agreed_text(client, path):
    return soup(client.get(f"{path}/agreed")).get_text(" ")


def edit(client, path, eid, text, base):
    return client.post_form(
        f"{path}/entries/{eid}", {"text": text, "base_version": str(base)}, htmx=True
    )


def test_labels_agree_for_shared_heard_for_partners_own(partners):
    p = partners.path
    shared = entry_id(add(partners.sam, p, "edge_responses", "Stay with me."))
    personal = entry_id(add(partners.sam, p, "hot_buttons", "Being told to calm down."))
    assert card(partners.alex, p, shared).find("button", string="Agree")
    assert card(partners.alex, p, personal).find("button", string="I've read this")
    assert not card(partners.sam, p, shared).find("button", string="Agree")
    # a person's own words need no one's yes, and nothing to take back
    own = card(partners.sam, p, personal)
    assert not own.find("button", string="I've read this")
    assert "Take back" not in own.get_text()
    assert state(partners.sam, p, personal) == "Alex hasn't read this yet"


def test_states_in_words_and_no_times_of_each_yes_on_the_card(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Stay with me."))
    assert state(partners.sam, p, eid) == "Waiting for Alex"
    assert state(partners.alex, p, eid) == "Waiting for you"
    response = agree(partners.alex, p, eid)
    assert response.status_code == 200
    assert state(partners.sam, p, eid) == "✓ Agreed by both of you"
    assert state(partners.alex, p, eid) == "✓ Agreed by both of you"
    assert not card(partners.sam, p, eid).select(".consents time")


def test_a_change_to_agreed_words_is_a_proposal_until_both_agree(partners):
    """Invariant 6: an edit never takes agreed words out of force on its own."""
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Stay with me tonight."))
    agree(partners.alex, p, eid)
    edit(partners.sam, p, eid, "Stay with me all night.", 1)
    for reader in (partners.sam, partners.alex):
        assert "Stay with me tonight." in agreed_text(reader, p)
        assert "Stay with me all night." not in agreed_text(reader, p)
    page = card(partners.alex, p, eid)
    assert page.select_one(".in-force .entry-text").text == "Stay with me tonight."
    assert page.select_one(".proposal .state").text == "Sam proposes a change"
    assert "Stay with me all night." in page.select_one(".proposal").text
    assert page.select_one(".proposal .diff ins mark").text == "all night."
    mine = card(partners.sam, p, eid)
    assert mine.select_one(".proposal .state").text == "Your change is waiting for Alex"
    assert mine.find("button", string="Withdraw my change")
    assert agree(partners.alex, p, eid, version=2).status_code == 200
    assert state(partners.alex, p, eid) == "✓ Agreed by both of you"
    assert "Stay with me all night." in agreed_text(partners.sam, p)


def test_the_proposer_can_withdraw_a_proposal(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    agree(partners.alex, p, eid)
    edit(partners.alex, p, eid, "harbour", 1)
    partners.alex.post_form(f"{p}/entries/{eid}/withdraw-proposal", htmx=True)
    page = card(partners.sam, p, eid)
    assert page.select_one(".proposal") is None
    assert page.select_one(".entry-text").text == "lighthouse"
    assert state(partners.sam, p, eid) == "✓ Agreed by both of you"
    assert not page.find("button", string="Agree to the change")


def test_agreeing_to_a_stale_wording_is_refused(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    edit(partners.sam, p, eid, "harbour", 1)
    response = agree(partners.alex, p, eid, version=1)
    assert response.status_code == 409
    assert "changed just now" in response.text
    assert "harbour" in soup(response).select_one(".entry-text").text
    assert state(partners.alex, p, eid) == "Waiting for you"


def test_a_stale_yes_without_javascript_says_so_and_shows_the_new_words(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    edit(partners.sam, p, eid, "harbour", 1)
    response = partners.alex.post_form(f"{p}/entries/{eid}/agree", {"version": "1"})
    assert response.status_code == 409
    page = soup(response)
    assert page.find("html")
    assert "your yes was not recorded" in page.select_one(".form-error").text
    assert page.select_one(".entry-text").text == "harbour"
    assert state(partners.alex, p, eid) == "Waiting for you"


def test_taking_back_a_yes_is_never_silent(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    agree(partners.alex, p, eid)
    response = partners.alex.post_form(
        f"{p}/entries/{eid}/withdraw", {"note": "I want to think again."}, htmx=True
    )
    assert response.status_code == 200
    seen = card(partners.sam, p, eid).select_one(".taken-back")
    assert "Alex took back the yes" in seen.text
    assert "I want to think again." in seen.text
    assert seen.find("time")
    assert state(partners.sam, p, eid) == "Alex took back the yes: to talk about"
    plan = soup(partners.sam.get(f"{p}/agreed"))
    back = plan.select_one("#taken-back")
    assert "lighthouse" in back.text
    assert "I want to think again." in back.text
    assert "Alex" in back.text
    assert agree(partners.alex, p, eid).status_code == 200
    assert state(partners.sam, p, eid) == "✓ Agreed by both of you"


def test_removing_agreed_words_is_a_request_until_both_say_yes(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Call my sister."))
    agree(partners.alex, p, eid)
    partners.alex.post_form(
        f"{p}/entries/{eid}/delete", {"note": "She moved away."}, htmx=True
    )
    assert "Call my sister." in agreed_text(partners.sam, p)
    asked = card(partners.sam, p, eid)
    assert "Alex asks to take this out" in asked.select_one(".proposal").text
    assert "She moved away." in asked.select_one(".proposal").text
    assert agree(partners.sam, p, eid, version=2).status_code == 200
    assert "Call my sister." not in agreed_text(partners.sam, p)
    removed = card(partners.sam, p, eid)
    assert "Taken out of the plan by both of you" in removed.text
    assert not removed.find("button", string="Restore")


def test_removing_never_agreed_words_is_immediate_shows_who_and_undoes(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    partners.alex.post_form(
        f"{p}/entries/{eid}/delete", {"note": "Too close to my work word."}, htmx=True
    )
    seen = card(partners.sam, p, eid)
    assert "Removed by Alex" in seen.text
    assert "Too close to my work word." in seen.text
    partners.sam.post_form(f"{p}/entries/{eid}/restore", htmx=True)
    assert state(partners.sam, p, eid) == "Waiting for Alex"


def test_heard_not_agreed_on_personal_entries(partners):
    p = partners.path
    eid = entry_id(add(partners.alex, p, "bottom_lines", "No shouting."))
    agree(partners.sam, p, eid)
    assert state(partners.alex, p, eid) == "✓ Heard by Sam"
    assert state(partners.sam, p, eid) == "✓ You've read this"
    assert "Take back" not in card(partners.alex, p, eid).get_text()
    text = agreed_text(partners.sam, p)
    assert "heard by Sam" in text
    edit(partners.alex, p, eid, "No shouting, and no slammed doors.", 1)
    changed = card(partners.sam, p, eid)
    assert "Alex changed this since you read it" in changed.text
    assert changed.find("button", string="I've read the change")
    assert "Changed since you agreed" not in changed.text
    text = agreed_text(partners.sam, p)
    assert "No shouting." in text
    assert "slammed doors" not in text


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
    assert summary.startswith(
        "1 agreed · nothing for you just now · 1 with Alex, in their own time"
    )


def test_an_empty_agreed_plan_is_said_plainly_and_offers_no_pdf(partners):
    p = partners.path
    add(partners.sam, p, "signals", "lighthouse")
    page = soup(partners.sam.get(f"{p}/agreed"))
    assert "Nothing is agreed yet" in page.get_text(" ")
    assert not page.find("a", string="Download the PDF")
    assert partners.sam.get(f"{p}/agreed.pdf").status_code == 404
    draft = partners.sam.get(f"{p}/agreed.pdf?draft=1")
    assert draft.status_code == 200


def test_versions_list_older_version_and_compare(partners):
    p = partners.path
    first = entry_id(add(partners.sam, p, "signals", "the blue mug"))
    agree(partners.alex, p, first)
    second = entry_id(add(partners.alex, p, "feel_safe", "Check what you heard."))
    agree(partners.sam, p, second)
    # one sitting so far: both yeses gather into version 1, sealed by printing it
    assert partners.sam.get(f"{p}/agreed.pdf").status_code == 200
    partners.alex.post_form(
        f"{p}/entries/{first}",
        {"text": "the green mug", "base_version": "1"},
        htmx=True,
    )
    agree(partners.sam, p, first, version=2)
    listing = soup(partners.sam.get(f"{p}/versions"))
    items = [li.get_text(" ", strip=True) for li in listing.select(".version-list li")]
    assert len(items) == 2
    assert items[0].startswith("Version 2")
    assert "1 changed" in items[0]
    assert "2 added" in items[1]
    old = soup(partners.sam.get(f"{p}/agreed?version=1")).get_text(" ")
    assert "the blue mug" in old
    assert "Check what you heard." in old
    compare = soup(partners.sam.get(f"{p}/versions?a=1&b=2"))
    section = compare.select_one(".comparison")
    assert "Nothing added." in section.get_text(" ")
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
    # an invitation, not a to-do list
    assert "2 for you to look at, when you're ready" in home
    summary = soup(partners.alex.get(p)).select_one(".summary-line").get_text(" ")
    assert "2 for you to look at, when you're ready" in summary
    assert "waiting for you" not in summary
    assert "nothing for you just now" in soup(partners.sam.get(p)).select_one(
        ".summary-line"
    ).get_text(" ")


def test_the_editor_says_a_change_to_agreed_words_is_a_proposal(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    editor = soup(partners.alex.get(f"{p}/entries/{eid}/edit"))
    assert editor.find("button", string="Save")
    agree(partners.alex, p, eid)
    editor = soup(partners.alex.get(f"{p}/entries/{eid}/edit"))
    assert "stay in force until Sam agrees" in editor.select_one(".hint").text
    assert editor.find("button", string="Propose this change")


def test_a_request_to_take_out_quotes_the_words_in_force(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "Call my sister."))
    agree(partners.alex, p, eid)
    edit(partners.sam, p, eid, "Call my brother.", 1)
    partners.sam.post_form(f"{p}/entries/{eid}/withdraw-proposal", htmx=True)
    partners.alex.post_form(f"{p}/entries/{eid}/delete", {"note": "Moved."}, htmx=True)
    agree(partners.sam, p, eid, version=3)
    gone = card(partners.sam, p, eid)
    assert "Taken out of the plan by both of you" in gone.text
    assert gone.select_one(".entry-removed .entry-text").text == "Call my sister."
