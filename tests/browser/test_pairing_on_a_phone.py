"""The pairing block's form on a phone: it comes when asked for, and keeps what is
typed in it while the card changes live around it.

Kai writes a hot button; Ren opens "Propose what we'll do" under it and starts
typing; Kai changes the hot button's wording meanwhile. Ren's card shows the new
wording, and Ren's words are still in the box, which is still open; the
proposal then lands under the hot button on both pages.
"""

from playwright.sync_api import expect

from tests.browser.plan_steps import (
    LIVE_MS,
    add_entry,
    edit_entry,
    entry_card,
    together,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
HOT = "Add to my hot buttons"
KAIS_HOT = "Being hurried out of the door."
KAIS_HOT_CHANGED = "Being hurried out of the door when I'm already late."
RENS_WORDS = "We leave ten minutes early, and I wait in the car."


def test_words_typed_in_the_pairing_form_outlive_a_live_update(new_context) -> None:
    kai, ren, _ = together(new_context, "Kai", "Ren", "Pairs on a phone", **PHONE)
    add_entry(kai.page, HOT, KAIS_HOT)

    card = entry_card(ren.page, KAIS_HOT)
    expect(card).to_be_visible(timeout=LIVE_MS)
    pairing = card.locator(".pairing")
    expect(pairing).to_contain_text("Nothing yet.")
    expect(pairing.locator("textarea")).to_have_count(0)  # not on the page until asked
    pairing.get_by_text("Propose what we'll do").click()
    box = pairing.get_by_label("What we'll do when this happens")
    expect(box).to_be_visible()
    box.click()
    box.press_sequentially(RENS_WORDS[:20])

    # Kai changes the hot button while Ren is typing under it
    edit_entry(kai.page, entry_card(kai.page, KAIS_HOT), KAIS_HOT_CHANGED)
    card = entry_card(ren.page, KAIS_HOT_CHANGED)
    expect(card).to_be_visible(timeout=LIVE_MS)
    box = card.get_by_label("What we'll do when this happens")
    expect(box).to_be_visible()
    expect(box).to_have_value(RENS_WORDS[:20])
    expect(box).to_be_focused()
    expect(card.get_by_role("link", name="Write what we'll do")).to_have_count(0)
    box.press_sequentially(RENS_WORDS[20:])
    expect(box).to_have_value(RENS_WORDS)
    card.get_by_role("button", name="Propose it").click()

    for page, mark in (
        (ren.page, "Waiting for Kai's yes"),
        (kai.page, "Waiting for your yes"),
    ):
        pair = entry_card(page, KAIS_HOT_CHANGED).locator(".pairing li")
        expect(pair.locator("a")).to_have_text(RENS_WORDS, timeout=LIVE_MS)
        expect(pair.locator(".state")).to_have_text(mark)
