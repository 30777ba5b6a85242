"""The core story with the keyboard alone: Tab, Shift+Tab, Enter and Space.

Alex writes an entry, changes it and agrees to Sam's; at every stop the focused
control is on screen with a visible ring, and after each inline swap the focus
lands somewhere sensible, never on the page itself. Tab goes through the whole
plan page and comes back round to the start: nothing traps it.
"""

from playwright.sync_api import Locator, Page, expect

from tests.browser.plan_steps import (
    COMES_UP,
    EDGE,
    LIVE_MS,
    add_entry,
    entry_card,
    together,
)
from tests.browser.test_keyboard import assert_focus_visible, is_focused

ALEX_WRITES = "When I'm tired I hear criticism in ordinary questions."
ALEX_CHANGES = "When I'm tired I hear criticism in ordinary questions, so ask me twice."
SAM_RESPONSE = "If either of us says 'pause', we stop and sit down together."
MAX_STOPS = 120  # more than the plan page below has


def press_until(page: Page, key: str, target: Locator) -> list[str]:
    """Press `key` until `target` has focus, checking the ring at every stop."""
    passed = []
    for _ in range(MAX_STOPS):
        page.keyboard.press(key)
        passed.append(assert_focus_visible(page))
        if is_focused(target):
            return passed
    raise AssertionError(f"{key} never reached {target}; it went: {passed}")


def test_write_change_and_agree_with_the_keyboard_alone(new_context) -> None:
    alex, sam, _ = together(new_context, "Alex", "Sam", "Keys only")
    add_entry(sam.page, EDGE, SAM_RESPONSE)
    sams = entry_card(alex.page, SAM_RESPONSE)
    expect(sams).to_be_visible(timeout=LIVE_MS)
    page = alex.page

    # write an entry: Tab to the box, type, Tab past the draft box to Add
    box = page.get_by_label(COMES_UP, exact=True)
    press_until(page, "Tab", box)
    page.keyboard.type(ALEX_WRITES)
    press_until(page, "Tab", page.get_by_role("button", name="Add").first)
    page.keyboard.press("Enter")
    mine = entry_card(page, ALEX_WRITES)
    expect(mine).to_be_visible()
    expect(box).to_be_focused()  # ready for the next one
    expect(box).to_have_value("")
    assert_focus_visible(page)

    # change it: Shift+Tab back to its menu, Enter, Tab on to Edit, Enter; the
    # editor has focus
    menu = mine.locator("details.card-more > summary")
    press_until(page, "Shift+Tab", menu)
    page.keyboard.press("Enter")
    edit = mine.get_by_role("link", name="Edit", exact=True)
    expect(edit).to_be_visible()
    press_until(page, "Tab", edit)
    page.keyboard.press("Enter")
    wording = page.get_by_label("Wording")
    expect(wording).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(ALEX_CHANGES)
    press_until(page, "Tab", page.get_by_role("button", name="Save"))
    page.keyboard.press("Space")
    changed = entry_card(page, ALEX_CHANGES)
    expect(changed).to_be_visible()
    expect(changed).to_be_focused()  # back on the entry just saved
    assert_focus_visible(page)

    # agree to Sam's response: Tab on to its Agree button, Space
    agree = sams.get_by_role("button", name="Agree")
    press_until(page, "Tab", agree)
    page.keyboard.press("Space")
    expect(sams.get_by_text("✓ Agreed by both of you", exact=True)).to_be_visible()
    expect(sams).to_be_focused()  # not dropped to the page after the swap
    assert_focus_visible(page)
    expect(
        entry_card(sam.page, SAM_RESPONSE).get_by_text(
            "✓ Agreed by both of you", exact=True
        )
    ).to_be_visible(timeout=LIVE_MS)

    # Tab goes on to the end of the page, comes round to the start, and then
    # through the whole page once more: nothing holds the focus anywhere
    skip = page.get_by_role("link", name="Skip to the page")
    rounds: list[list[str]] = [[], []]
    for stops in rounds:
        left_the_page = 0
        for _ in range(MAX_STOPS):
            page.keyboard.press("Tab")
            if is_focused(skip):
                assert_focus_visible(page)
                break
            if page.evaluate("() => document.activeElement === document.body"):
                left_the_page += 1  # past the last control, focus leaves the page
                continue
            stops.append(assert_focus_visible(page))
        else:
            raise AssertionError(f"Tab never came back to the start: {stops}")
        assert left_the_page <= 1, stops
    whole = rounds[1]
    assert len(set(whole)) > 30, whole  # it did go through the plan
    assert any("Leave this plan" in stop for stop in whole), whole
    assert any(stop.startswith('summary "More') for stop in whole), whole
