"""What we agreed stays agreed until we both change it: two people, on phones.

Alex and Sam agree a response. Alex asks to take it out, then thinks better of
it; Sam takes a yes back with a note; each sees the other's move live, and the
agreed page keeps the agreed words in force the whole time, listing what was
taken back apart, with the note.
"""

import re

from playwright.sync_api import expect

from tests.browser.conftest import wait_for_sse_open
from tests.browser.plan_steps import (
    EDGE,
    LIVE_MS,
    add_entry,
    card_menu,
    entry_card,
    together,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
RESPONSE = "If one of us says the word, we stop and sit together for ten minutes."
AGREED = "✓ Agreed by both of you"


def test_agreed_words_stay_until_both_change_them_on_phones(new_context) -> None:
    alex, sam, plan_path = together(new_context, "Alex", "Sam", "On the bus", **PHONE)

    # Alex writes a response and Sam agrees to it
    add_entry(alex.page, EDGE, RESPONSE)
    sams = entry_card(sam.page, RESPONSE)
    expect(sams).to_be_visible(timeout=LIVE_MS)
    sams.get_by_role("button", name="Agree").click()
    expect(sams.get_by_text(AGREED, exact=True)).to_be_visible()
    alexs = entry_card(alex.page, RESPONSE)
    expect(alexs.get_by_text(AGREED, exact=True)).to_be_visible(timeout=LIVE_MS)

    # Alex asks to take it out, and says why: it stays in force for both
    card_menu(alexs).get_by_text("Ask to take this out").click()
    alexs.get_by_label("Why (optional)").fill("We never use the word.")
    alexs.get_by_role("button", name="Ask to take it out").click()
    expect(alexs).to_contain_text("it stays until Sam agrees")
    expect(sams).to_contain_text("Alex asks to take this out", timeout=LIVE_MS)
    expect(sams).to_contain_text("We never use the word.")
    expect(sams.get_by_role("button", name="Agree to take it out")).to_be_visible()
    sam.page.goto(f"{plan_path}/agreed")
    expect(sam.page.get_by_role("main")).to_contain_text(RESPONSE)
    sam.page.go_back()
    wait_for_sse_open(sam.page)  # the page came back afresh: its stream too

    # Alex thinks better of it: the request is gone, the words never left
    alexs.get_by_role("button", name="Keep it after all").click()
    expect(alexs.get_by_text(AGREED, exact=True)).to_be_visible()
    sams = entry_card(sam.page, RESPONSE)
    expect(sams.get_by_text(AGREED, exact=True)).to_be_visible(timeout=LIVE_MS)
    expect(sams.get_by_role("button", name="Agree to take it out")).to_have_count(0)

    # Sam takes the yes back, with a note: never silent
    sams.locator("details.card-more > summary").click()
    sams.get_by_text("Take back my yes", exact=True).click()
    sams.get_by_label("A note for Alex (optional)").fill("I froze last time.")
    sams.get_by_role("button", name="Take it back").click()
    expect(sams).to_contain_text("You took back the yes")
    taken = alexs.locator(".taken-back")
    expect(taken).to_contain_text("Sam took back the yes", timeout=LIVE_MS)
    expect(taken).to_contain_text("I froze last time.")
    # from a taken-back yes, a way into reflective feedback about it
    expect(
        taken.get_by_role("link", name="Say how this lands for you")
    ).to_have_attribute("href", re.compile(r"/feedback\?entry=.+#composer$"))

    # the agreed page lists it apart, with the note, not as agreed
    alex.page.goto(f"{plan_path}/agreed")
    part = alex.page.get_by_role("region", name="Taken back, to talk about")
    expect(part).to_contain_text(RESPONSE)
    expect(part).to_contain_text("I froze last time.")
    width = alex.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the agreed page is {width}px wide on a 390px phone"
