"""One partner's changes reach the other's open page, and leave what they type alone.

Sam is in the middle of rewording one entry when Alex changes another and adds a
third: Sam's page shows both without a reload, while Sam's words, the box they
are typed into and the keyboard focus stay exactly where they were. And on a slow
line, an answer that arrives late neither doubles a card nor moves typed words.
"""

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import wait_for_sse_open
from tests.browser.plan_steps import (
    COMES_UP,
    EDGE,
    LIVE_MS,
    SIGNALS,
    add_entry,
    card_menu,
    edit_entry,
    entry_card,
    together,
)

FIRST = "We text one word: harbour."
SECOND = "We take a walk before we talk."
THIRD = "We sit on the same side of the table."
FOURTH = "We say the time out loud before we pause."


def test_changes_arrive_while_the_partner_types_elsewhere(new_context) -> None:
    alex, sam, _ = together(new_context, "Alex", "Sam", "While we both write")
    add_entry(alex.page, EDGE, FIRST)
    add_entry(alex.page, EDGE, SECOND)
    expect(entry_card(sam.page, SECOND)).to_be_visible(timeout=LIVE_MS)
    sam.page.evaluate("() => { window.stillTheSamePage = true; }")

    # Sam opens the second entry and starts adding to it
    card_menu(entry_card(sam.page, SECOND)).get_by_role("link", name="Edit").click()
    box = sam.page.get_by_label("Wording")
    expect(box).to_be_focused()
    box.press("End")
    box.press_sequentially(" Half an hour")

    # Alex changes the first one: Sam's card follows, Sam's editor stays
    edit_entry(alex.page, entry_card(alex.page, FIRST), "We text one word: lighthouse.")
    expect(entry_card(sam.page, "lighthouse")).to_be_visible(timeout=LIVE_MS)
    expect(entry_card(sam.page, "harbour")).to_have_count(0)
    expect(box).to_be_focused()
    expect(box).to_have_value(f"{SECOND} Half an hour")

    # Alex adds a third: it arrives in Sam's list, and Sam's counts follow
    add_entry(alex.page, EDGE, "We each name one thing that helped.")
    expect(entry_card(sam.page, "one thing that helped")).to_be_visible(timeout=LIVE_MS)
    expect(sam.page.locator(".summary-line")).to_contain_text(
        "3 for you to look at", timeout=LIVE_MS
    )

    # Sam goes on typing where they were, and saves their own words
    sam.page.keyboard.type(" at most.")
    expect(box).to_have_value(f"{SECOND} Half an hour at most.")
    sam.page.get_by_role("button", name="Save").click()
    expect(entry_card(sam.page, "Half an hour at most.")).to_be_visible()
    expect(entry_card(alex.page, "Half an hour at most.")).to_be_visible(
        timeout=LIVE_MS
    )
    assert sam.page.evaluate("() => window.stillTheSamePage === true")


def held(page: Page, pattern: str, method: str) -> list:
    """Requests to `pattern` reach the server, but their answers are held back
    until the test lets them go: a slow line, one way."""
    waiting: list = []

    def hold(route: Route) -> None:
        if route.request.method == method:
            waiting.append((route, route.fetch()))
        else:
            route.fallback()

    page.route(pattern, hold)
    return waiting


def let_go(page: Page, waiting: list) -> None:
    # the held answer is fetched inside Playwright's handler, which may still be
    # waiting for the server when the live update has already shown the change
    for _ in range(50):
        if waiting:
            break
        page.wait_for_timeout(100)
    assert waiting, "the request was not made"
    for route, response in waiting:
        route.fulfill(response=response)


def test_an_answer_that_arrives_late_leaves_typed_words_where_they_are(
    new_context,
) -> None:
    alex, sam, _ = together(new_context, "Alex", "Sam", "When the line is slow")
    add_entry(alex.page, EDGE, FIRST)
    page = alex.page

    # Alex adds an entry; the answer is slow, the live signal is not
    adding = held(page, "**/entries", "POST")
    box = page.get_by_label(SIGNALS, exact=True)
    box.fill("A blue mug on the table.")
    page.locator("form").filter(has=box).get_by_role("button", name="Add").click()
    expect(entry_card(page, "A blue mug")).to_be_visible(timeout=LIVE_MS)
    let_go(page, adding)
    expect(box).to_have_value("")
    expect(entry_card(page, "A blue mug")).to_have_count(1)  # not twice
    expect(entry_card(sam.page, "A blue mug")).to_have_count(1, timeout=LIVE_MS)

    # Alex asks for an editor, then starts typing elsewhere before it arrives
    opening = held(page, "**/edit", "GET")
    card_menu(entry_card(page, FIRST)).get_by_role("link", name="Edit").click()
    other = page.get_by_label(COMES_UP, exact=True)
    other.click()
    other.press_sequentially("I go quiet")
    let_go(page, opening)
    expect(page.get_by_label("Wording")).to_have_value(FIRST)
    expect(page.locator(".htmx-settling")).to_have_count(0)  # the swap is done
    page.keyboard.type(" when I'm scared.")  # into whatever has the focus
    expect(other).to_be_focused()
    expect(other).to_have_value("I go quiet when I'm scared.")
    expect(page.get_by_label("Wording")).to_have_value(FIRST)


def test_a_change_that_comes_while_the_last_one_settles_still_counts(
    new_context,
) -> None:
    """On a slow phone a swapped part of the page takes a while to settle. A
    second change that arrives in that while must still reach the counts, the
    news and the lists: nothing on the page stops listening while it is
    replaced."""
    alex, sam, _ = together(new_context, "Alex", "Sam", "On a slow phone")
    sam.page.evaluate("() => { htmx.config.defaultSettleDelay = 4000; }")
    summary = sam.page.locator(".summary-line")

    add_entry(alex.page, EDGE, FIRST)
    expect(summary).to_contain_text("1 for you to look at", timeout=LIVE_MS)
    # the first answer was swapped in and is still settling
    add_entry(alex.page, EDGE, SECOND)
    expect(summary).to_contain_text("2 for you to look at", timeout=LIVE_MS)

    # the same on the page of what is new since Sam's last look
    sam.page.get_by_role("link", name="Since you last looked").click()
    wait_for_sse_open(sam.page)
    sam.page.evaluate("() => { htmx.config.defaultSettleDelay = 4000; }")
    news = sam.page.locator("#news_list")
    add_entry(alex.page, EDGE, THIRD)
    expect(news).to_contain_text(THIRD, timeout=LIVE_MS)
    add_entry(alex.page, EDGE, FOURTH)
    expect(news).to_contain_text(FOURTH, timeout=LIVE_MS)
