"""Steps on the plan page, done as a person would: by label, role and visible text.

Shared by the browser tests of writing and agreeing together. Everything waits
with Playwright's `expect`, never with a sleep.
"""

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    PAGE_RECORDER,
    PASSWORD,
    Person,
    make_invitation_link,
    partner,
    sign_up,
    start_plan,
    unique_email,
    wait_for_sse_open,
)

LIVE_MS = 5_000  # how long a live update may take to reach the other page

# the add forms' labels, as they read to the person writing
COMES_UP = "Add to what tends to come up for me"
BOTTOM_LINES = "Add to my bottom lines"
EDGE = "Add to what we'll do if one of us gets to the edge"
SIGNALS = "Add to our signals"
FEEL_SAFE = "Add to what helps this relationship feel safe for both of us"


def join(new_context, name: str, link: str, **context_args) -> Person:
    """Someone signed out follows the invitation link, makes an account, joins."""
    context = new_context(**context_args)
    context.add_init_script(PAGE_RECORDER)
    page = context.new_page()
    page.goto(link)
    page.get_by_role("link", name="Make an account").click()
    email = unique_email(name)
    sign_up(page, name, email)
    page.get_by_role("button", name=f"Join the plan as {name}").click()
    page.wait_for_url(re.compile(r"/plans/[^/]+$"))
    return Person(name, email, PASSWORD, context, page)


def together(
    new_context, first: str, second: str, title: str, **context_args
) -> tuple[Person, Person, str]:
    """Two people in one plan, each on its page with the live stream open."""
    a = partner(new_context, first, **context_args)
    plan_path = start_plan(a.page, title)
    link = make_invitation_link(a.page)
    b = join(new_context, second, link, **context_args)
    # the whole plan at once, not the gentle start of an empty plan
    for person in (a, b):
        person.page.goto(f"{plan_path}?all=1")
    for person in (a, b):
        expect(person.page.get_by_text(f"{person.name} and ")).to_be_visible()
        wait_for_sse_open(person.page)
    return a, b, plan_path


def add_entry(page: Page, label: str, text: str, *, draft: bool = False) -> Locator:
    """Write `text` into the add form labelled `label`; returns the new card."""
    box = page.get_by_label(label, exact=True)
    form = page.locator("form").filter(has=box)
    box.fill(text)
    if draft:
        form.get_by_label("Keep it as a private draft for now").check()
    form.get_by_role("button", name="Add").click()
    card = entry_card(page, text)
    expect(card).to_be_visible()
    expect(box).to_have_value("")
    return card


def entry_card(page: Page, text: str) -> Locator:
    """The entry card (an article) whose wording holds `text`."""
    return page.get_by_role("article").filter(
        has=page.locator(".entry-text", has_text=text)
    )


def card_menu(card: Locator) -> Locator:
    """Open the card's "More" menu (edit, history, remove and the rest), wait
    until what is in it has come, and return the card."""
    menu = card.locator("details.card-more")
    if menu.get_attribute("open") is None:
        menu.locator("> summary").click()
    expect(menu.get_by_role("link", name="History")).to_be_visible()
    return card


def edit_entry(page: Page, card: Locator, new_text: str) -> Locator:
    """Open the inline editor on `card` from its menu, replace the wording, save.

    On agreed words the link reads "Propose a change": the same editor.
    """
    edit = re.compile(r"^(Edit|Propose a change)$")
    card_menu(card).get_by_role("link", name=edit).click()
    box = page.get_by_label("Wording")
    expect(box).to_be_focused()
    box.fill(new_text)
    page.get_by_role("button", name=re.compile(r"^(Save|Propose this change)$")).click()
    fresh = entry_card(page, new_text)
    expect(fresh).to_be_visible()
    return fresh
