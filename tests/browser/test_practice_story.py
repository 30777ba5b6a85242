"""A gentle first visit, and a hot button paired with what we'll do about it.

Robin starts a plan and is shown one part at a time, its prompt open; Kai joins
the still-empty plan and starts gently too. What Kai writes in the first part
reaches Robin's page live. Either can go on part by part or see the whole plan.

Then, with the whole plan open, Sam names a hot button and Alex, on the other
side, proposes in one step what they'll do when it happens; Sam sees the new
response arrive and agrees; the agreed page reads the pair together.
Both stories run on a desktop and on a phone, and axe checks each page.
"""

import re

import pytest
from playwright.sync_api import expect

from backend.entries.sections import START_ORDER
from tests.browser.conftest import (
    make_invitation_link,
    partner,
    start_plan,
    wait_for_sse_open,
)
from tests.browser.plan_steps import COMES_UP, LIVE_MS, entry_card, join, together
from tests.browser.test_accessibility import check_with_axe

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True},
}
KAIS_WORDS = "Some weeks I want to die, and I go very quiet about it."
HOT_BUTTON = "Being asked if I'm safe, again and again."
RESPONSE = "If I'm worried, I tell you what I'm scared of, once, and then listen."


def one_part(page, title: str) -> None:
    """The page shows exactly one section: this one, its prompt open."""
    sections = page.locator("section.section")
    expect(sections).to_have_count(1)
    expect(sections.get_by_role("heading", level=2)).to_have_text(title)
    expect(page.locator(".section-prompt").get_by_text("Why we ask:")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_a_first_visit_opens_one_part_at_a_time(new_context, size) -> None:
    robin = partner(new_context, "Robin", **SIZES[size])
    plan_path = start_plan(robin.page, f"Robin and Kai ({size})")
    one_part(robin.page, START_ORDER[0].title)
    expect(robin.page.locator("textarea")).to_have_count(1)
    check_with_axe(robin.page, f"first visit ({size})")

    link = make_invitation_link(robin.page)
    kai = join(new_context, "Kai", link, **SIZES[size])
    one_part(kai.page, START_ORDER[0].title)
    robin.page.goto(plan_path)
    for person in (robin, kai):
        wait_for_sse_open(person.page)

    # what Kai writes in the first part reaches Robin's first part, live
    kai.page.get_by_label(COMES_UP, exact=True).fill(KAIS_WORDS)
    kai.page.get_by_role("button", name="Add").click()
    expect(entry_card(kai.page, KAIS_WORDS)).to_be_visible()
    expect(entry_card(robin.page, KAIS_WORDS)).to_be_visible(timeout=LIVE_MS)

    # Robin goes on, part by part, without writing anything: every part skippable
    page = robin.page
    for spec in START_ORDER[1:]:
        page.get_by_role("link", name=re.compile("^Next: ")).click()
        one_part(page, spec.title)
    page.get_by_role("link", name="See the whole plan", exact=True).click()
    expect(page.locator("section.section")).to_have_count(len(START_ORDER))

    # Kai, still on the first part, can see everything at once too
    kai.page.get_by_role("link", name="See the whole plan at once").click()
    expect(kai.page.locator("section.section")).to_have_count(len(START_ORDER))
    expect(entry_card(kai.page, KAIS_WORDS)).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_a_hot_button_is_paired_with_what_we_will_do(new_context, size) -> None:
    sam, alex, plan_path = together(
        new_context, "Sam", "Alex", f"What we'll do ({size})", **SIZES[size]
    )
    box = sam.page.get_by_label("Add to my hot buttons", exact=True)
    box.fill(HOT_BUTTON)
    sam.page.locator("form").filter(has=box).get_by_role("button", name="Add").click()
    expect(entry_card(sam.page, HOT_BUTTON)).to_be_visible()

    # Alex sees it arrive, and proposes what they'll do when it happens
    button = entry_card(alex.page, HOT_BUTTON)
    expect(button).to_be_visible(timeout=LIVE_MS)
    pairing = button.locator(".pairing")
    expect(pairing).to_contain_text("What we'll do when this happens")
    expect(pairing).to_contain_text("Nothing yet.")
    pairing.get_by_text("Propose what we'll do").click()
    pairing.get_by_label("What we'll do when this happens").fill(RESPONSE)
    pairing.get_by_role("button", name="Propose it").click()
    expect(button.locator(".pairing li a")).to_have_text(RESPONSE)
    # on the working plan it says plainly that it is not agreed yet
    expect(button.locator(".pairing li .state")).to_have_text("Waiting for Sam's yes")
    check_with_axe(alex.page, f"plan with a pair ({size})")

    # Sam sees the pair, and the new response waiting for a yes; Sam agrees
    sams_pair = entry_card(sam.page, HOT_BUTTON).locator(".pairing li")
    expect(sams_pair.locator("a")).to_have_text(RESPONSE, timeout=LIVE_MS)
    expect(sams_pair.locator(".state")).to_have_text("Waiting for your yes")
    response = entry_card(sam.page, RESPONSE)
    expect(response).to_be_visible(timeout=LIVE_MS)
    response.get_by_role("button", name="Agree").click()
    expect(response).to_contain_text("Agreed by both of you")
    # the pair follows on both pages, without a reload
    for page in (sam.page, alex.page):
        pair_mark = entry_card(page, HOT_BUTTON).locator(".pairing li .state")
        expect(pair_mark).to_have_text("Agreed", timeout=LIVE_MS)
    alex_heard = entry_card(alex.page, HOT_BUTTON)
    alex_heard.get_by_role("button", name="I've read this").click()
    expect(alex_heard).to_contain_text("You've read this")

    # the agreed page reads them together
    sam.page.goto(f"{plan_path}/agreed")
    pair = sam.page.get_by_role("article").filter(has_text=HOT_BUTTON)
    expect(pair.locator(".pairing")).to_contain_text(RESPONSE)
    check_with_axe(sam.page, f"agreed plan with a pair ({size})")
