"""Two people change the same shared entry at once: nobody's words are lost.

Both open the editor; Alex saves first. Sam, still writing, is told live that
Alex changed it, and the page leaves Sam's editor alone. Sam's save is refused
with both wordings shown and Sam's words still in the box; Sam brings them
together and saves; the history holds every wording, each with its writer.
"""

from playwright.sync_api import expect

from tests.browser.plan_steps import (
    EDGE,
    LIVE_MS,
    add_entry,
    card_menu,
    edit_entry,
    entry_card,
    together,
)

ORIGINAL = "We each call someone we trust if we can't reach each other."
ALEX_WORDS = (
    "We each call someone we trust if we can't reach each other within an hour."
)
SAM_WORDS = (
    "We each call someone we trust, like Jo or Priya, if we can't reach each other."
)
MERGED = (
    "We each call someone we trust, like Jo or Priya, if we can't reach each "
    "other within an hour."
)


def test_a_second_save_shows_both_wordings_and_keeps_the_writers_words(
    new_context,
) -> None:
    alex, sam, _ = together(new_context, "Alex", "Sam", "When we both write")
    add_entry(alex.page, EDGE, ORIGINAL)
    sams_card = entry_card(sam.page, ORIGINAL)
    expect(sams_card).to_be_visible(timeout=LIVE_MS)

    # both open the editor on the same entry
    card_menu(entry_card(alex.page, ORIGINAL)).get_by_role("link", name="Edit").click()
    alex_box = alex.page.get_by_label("Wording")
    expect(alex_box).to_have_value(ORIGINAL)
    card_menu(sams_card).get_by_role("link", name="Edit").click()
    sam_box = sam.page.get_by_label("Wording")
    expect(sam_box).to_have_value(ORIGINAL)
    sam_box.fill(SAM_WORDS)

    # Alex saves first
    alex_box.fill(ALEX_WORDS)
    alex.page.get_by_role("button", name="Save").click()
    expect(entry_card(alex.page, ALEX_WORDS)).to_be_visible()

    # Sam is told, live, and Sam's editor and words stay as they were
    notice = sam.page.get_by_role("status").filter(
        has_text="Alex changed this while you were editing"
    )
    expect(notice).to_be_visible(timeout=LIVE_MS)
    expect(sam_box).to_have_value(SAM_WORDS)
    expect(sam.page.get_by_text(ALEX_WORDS)).to_have_count(0)

    # Sam saves: refused, with both wordings and Sam's words still in the box
    sam.page.get_by_role("button", name="Save").click()
    conflict = sam.page.get_by_role("alert").filter(
        has_text="This was changed while you were writing."
    )
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text(ALEX_WORDS)
    expect(conflict).to_contain_text("by Alex")
    yours = sam.page.get_by_label("Your words")
    expect(yours).to_have_value(SAM_WORDS)
    expect(yours).to_be_visible()

    # Sam brings the two together and saves
    yours.fill(MERGED)
    sam.page.get_by_role("button", name="Save").click()
    merged = entry_card(sam.page, MERGED)
    expect(merged).to_be_visible()
    expect(merged).to_contain_text("Written by Alex · this wording by Sam")
    expect(merged).to_contain_text("Waiting for Alex")
    alex_merged = entry_card(alex.page, MERGED)
    expect(alex_merged).to_be_visible(timeout=LIVE_MS)
    expect(alex_merged).to_contain_text("Sam changed this since your yes")

    # the history holds all three wordings, newest first, each with its writer
    card_menu(merged).get_by_role("link", name="History").click()
    history = sam.page.get_by_role("region", name="History of this entry")
    expect(history).to_be_visible()
    wordings = history.get_by_role("listitem")
    expect(wordings).to_have_count(3)
    expect(wordings.nth(0)).to_contain_text("Version 3 · Sam")
    expect(wordings.nth(1)).to_contain_text("Version 2 · Alex")
    expect(wordings.nth(2)).to_contain_text("Version 1 · Alex")
    expect(wordings.nth(2)).to_contain_text(ORIGINAL)
    # each later wording is shown as its change from the one before
    expect(wordings.nth(1).locator("ins")).to_contain_text("within an hour")
    expect(wordings.nth(0).locator("ins")).to_contain_text("like Jo or Priya,")


def test_a_note_being_written_on_an_entry_survives_its_live_update(
    new_context,
) -> None:
    alex, sam, _ = together(new_context, "Alex", "Sam", "While one of us writes")
    add_entry(sam.page, EDGE, ORIGINAL)
    card = entry_card(alex.page, ORIGINAL)
    expect(card).to_be_visible(timeout=LIVE_MS)

    # Alex starts a note asking to talk about Sam's response
    card.locator("details.card-more > summary").click()
    card.get_by_text("Let's talk about this", exact=True).click()
    note = card.get_by_label("What you'd like to talk about (optional)")
    note.fill("Who do we each call? Let's name them.")
    expect(note).to_be_focused()

    # meanwhile Sam changes the response; Alex's card follows, the note stays
    edit_entry(sam.page, entry_card(sam.page, ORIGINAL), SAM_WORDS)
    card = entry_card(alex.page, SAM_WORDS)
    expect(card).to_be_visible(timeout=LIVE_MS)
    note = card.get_by_label("What you'd like to talk about (optional)")
    expect(note).to_have_value("Who do we each call? Let's name them.")
    expect(note).to_be_focused()

    # Alex sends it; Sam sees it, live
    card.get_by_role("button", name="Ask to talk about it").click()
    expect(card.get_by_role("note")).to_contain_text(
        "Let's talk about this, says Alex: Who do we each call? Let's name them."
    )
    expect(entry_card(sam.page, SAM_WORDS).get_by_role("note")).to_contain_text(
        "Who do we each call?", timeout=LIVE_MS
    )
