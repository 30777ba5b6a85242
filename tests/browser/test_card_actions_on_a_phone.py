"""Every action on an entry, from its card on a phone: its yes, and its menu.

A card shows its words, where they stand and its yes; edit, history, remove,
feedback, take back, let's talk and say what this answers open from one "More"
menu. Kai and Ren use each of them on a narrow screen, and the plan page with
menus open has no serious accessibility problem.
"""

from playwright.sync_api import Route, expect

from tests.browser.plan_steps import (
    EDGE,
    LIVE_MS,
    add_entry,
    card_menu,
    edit_entry,
    entry_card,
    together,
)
from tests.browser.test_accessibility import check_with_axe

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
HOT = "Add to my hot buttons"
KAIS_HOT = "Being talked over when I'm already upset."
KAIS_HOT_CHANGED = "Being talked over when I'm already upset, or hurried."
RENS_RESPONSE = "If Kai gets talked over, Ren stops and asks Kai to go on."
SPARE = "A line Kai will take out again."


def test_every_card_action_from_a_phone(new_context) -> None:
    kai, ren, plan_path = together(new_context, "Kai", "Ren", "Small screen", **PHONE)
    add_entry(kai.page, HOT, KAIS_HOT)
    add_entry(kai.page, HOT, SPARE)
    add_entry(ren.page, EDGE, RENS_RESPONSE)

    # the card itself: words, standing, a yes, one menu; no forms waiting in it
    rens = entry_card(kai.page, RENS_RESPONSE)
    expect(rens).to_be_visible(timeout=LIVE_MS)
    expect(rens.locator("textarea")).to_have_count(0)
    rens.get_by_role("button", name="Agree").click()
    expect(rens.get_by_text("✓ Agreed by both of you", exact=True)).to_be_visible()

    # edit, from the menu
    kais = edit_entry(kai.page, entry_card(kai.page, KAIS_HOT), KAIS_HOT_CHANGED)
    # and its history, below the menu's links
    card_menu(kais).get_by_role("link", name="History").click()
    history = kais.get_by_role("region", name="History of this entry")
    expect(history).to_contain_text("Version 2")
    expect(history).to_contain_text(KAIS_HOT)

    # Ren hears Kai's hot button, and says what the response answers
    heard = entry_card(ren.page, KAIS_HOT_CHANGED)
    expect(heard).to_be_visible(timeout=LIVE_MS)
    heard.get_by_role("button", name="I've read this").click()
    ren_response = card_menu(entry_card(ren.page, RENS_RESPONSE))
    ren_response.get_by_text("Say what this answers", exact=True).click()
    ren_response.get_by_label("It answers").select_option(
        label=f"Kai: {KAIS_HOT_CHANGED}"
    )
    ren_response.get_by_role("button", name="Link them").click()
    linked = entry_card(ren.page, RENS_RESPONSE)
    expect(linked).to_contain_text("This answers:")
    expect(linked.get_by_role("link", name=KAIS_HOT_CHANGED)).to_be_visible()

    # Kai sees the link arrive, asks to talk about the response, takes back the yes
    rens = entry_card(kai.page, RENS_RESPONSE)
    expect(rens).to_contain_text("This answers:", timeout=LIVE_MS)
    rens = card_menu(rens)
    rens.get_by_text("Let's talk about this", exact=True).click()
    rens.get_by_label("What you'd like to talk about (optional)").fill("At night?")
    rens.get_by_role("button", name="Ask to talk about it").click()
    rens = entry_card(kai.page, RENS_RESPONSE)
    expect(rens.get_by_role("note")).to_contain_text("At night?")
    card_menu(rens).get_by_text("Take back my yes", exact=True).click()
    rens.get_by_label("A note for Ren (optional)").fill("Not yet.")
    rens.get_by_role("button", name="Take it back").click()
    expect(entry_card(kai.page, RENS_RESPONSE)).to_contain_text("You took back the yes")
    expect(entry_card(ren.page, RENS_RESPONSE)).to_contain_text(
        "Kai took back the yes", timeout=LIVE_MS
    )

    # Kai removes the spare line, with a word why
    spare = card_menu(entry_card(kai.page, SPARE))
    spare.locator("summary").get_by_text("Remove", exact=True).click()
    spare.get_by_label("Why, for Ren (optional)").fill("Said twice.")
    spare.get_by_role("button", name="Remove").click()
    removed = kai.page.locator(".entry--removed", has_text=SPARE)
    expect(removed).to_contain_text("Said twice.")
    expect(removed.get_by_role("button", name="Restore")).to_be_visible()

    # every menu open, then the checks; then feedback about an entry
    for card in (
        entry_card(kai.page, KAIS_HOT_CHANGED),
        entry_card(kai.page, RENS_RESPONSE),
    ):
        card_menu(card)
    check_with_axe(kai.page, "plan page on a phone, menus open")
    card_menu(entry_card(kai.page, KAIS_HOT_CHANGED)).get_by_role(
        "link", name="Say how this lands for me"
    ).click()
    expect(kai.page.locator("#composer")).to_be_visible()
    assert kai.page.url.endswith("#composer")
    kai.page.goto(plan_path)


def test_a_menu_opened_before_a_live_update_still_opens_after_it(new_context) -> None:
    """Kai looks in a card's menu and closes it; Ren's yes changes that card on
    Kai's page; the menu opens again with everything in it."""
    kai, ren, _ = together(new_context, "Kai", "Ren", "After a change", **PHONE)
    add_entry(kai.page, HOT, KAIS_HOT)
    card = card_menu(entry_card(kai.page, KAIS_HOT))
    card.locator("details.card-more > summary").click()  # closed again
    expect(card.get_by_role("link", name="History")).to_be_hidden()

    heard = entry_card(ren.page, KAIS_HOT)
    expect(heard).to_be_visible(timeout=LIVE_MS)
    heard.get_by_role("button", name="I've read this").click()
    card = entry_card(kai.page, KAIS_HOT)
    expect(card).to_contain_text("Heard by Ren", timeout=LIVE_MS)

    card_menu(card)  # waits for History to show
    expect(card.get_by_role("link", name="Edit")).to_be_visible()


def test_a_menu_that_could_not_come_tries_again(new_context) -> None:
    """A dropped connection as the menu opens leaves its plain link showing; opened
    again once the line is back, the menu comes."""
    kai, _ren, _path = together(new_context, "Kai", "Ren", "Patchy line", **PHONE)
    add_entry(kai.page, HOT, KAIS_HOT)
    menu = entry_card(kai.page, KAIS_HOT).locator("details.card-more")
    dropped: list[Route] = []
    kai.page.route("**/more", lambda route: (dropped.append(route), route.abort()))
    menu.locator("> summary").click()
    for _ in range(100):  # the menu asked, and the line dropped it
        if dropped:
            break
        kai.page.wait_for_timeout(50)
    expect(menu.locator(".more-slot > a")).to_be_visible()
    kai.page.unroute("**/more")
    held: list[Route] = []
    kai.page.route("**/more", lambda route: held.append(route))
    # closed, and its toggle told, before it is opened again: two clicks in one
    # moment are one toggle to the browser, and nothing would open
    menu.evaluate(
        "d => new Promise(r => { d.addEventListener('toggle', r, {once: true});"
        " d.open = false; })"
    )
    menu.locator("> summary").click()
    for _ in range(100):
        if held:
            break
        kai.page.wait_for_timeout(50)
    # while it comes, a quiet word rather than an empty panel
    said = menu.locator(".more-slot").evaluate(
        "slot => getComputedStyle(slot, '::before').content"
    )
    assert "Opening" in said
    held[0].continue_()
    expect(menu.get_by_role("link", name="History")).to_be_visible()
