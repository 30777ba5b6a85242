"""Reflective feedback, nothing watching and a day to look again, as two people
live them: one at a desk, one on a phone, each with their own browser."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import make_invitation_link, partner, start_plan
from tests.browser.plan_steps import (
    EDGE,
    LIVE_MS,
    SIGNALS,
    add_entry,
    card_menu,
    entry_card,
    join,
    wait_for_sse_open,
)
from tests.browser.test_accessibility import check_with_axe

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
RESPONSE = "If one of us goes quiet for an evening, the other asks once, gently."


def test_feedback_from_a_card_asks_back_and_is_answered_in_its_thread(new_context):
    noor = partner(new_context, "Noor")
    plan_path = start_plan(noor.page, "Noor and Lee")
    lee = join(new_context, "Lee", make_invitation_link(noor.page), **PHONE)
    noor.page.goto(f"{plan_path}?all=1")  # the whole plan, not one part
    wait_for_sse_open(noor.page)
    add_entry(noor.page, EDGE, RESPONSE)

    # Lee, on a phone, says how the response lands, from its card
    lee.page.goto(plan_path)
    card = entry_card(lee.page, "asks once, gently")
    card_menu(card).get_by_role("link", name="Say how this lands for me").click()
    expect(
        lee.page.get_by_role("heading", name="Reflective feedback", level=1)
    ).to_be_visible()
    about = lee.page.get_by_label("What it is about (optional)")
    expect(about.locator("option:checked")).to_contain_text("asks once, gently")
    lee.page.get_by_label("What I see").fill(
        "When you ask if I'm fine, I hear that you think I'm about to break."
    )
    lee.page.get_by_label("What I feel").fill("I shut the door a little.")
    lee.page.get_by_label("What I need").fill("To be asked what I'm doing, not how.")
    expect(lee.page.get_by_label("End by asking", exact=False)).to_be_checked()

    # Noor has the feedback page open: the note arrives live, asking back
    noor.page.goto(f"{plan_path}/feedback")
    wait_for_sse_open(noor.page)
    lee.page.get_by_role("button", name="Send to Noor").click()
    thread = noor.page.locator("article.thread").filter(has_text="about to break")
    expect(thread).to_be_visible(timeout=LIVE_MS)
    expect(thread.get_by_text("Would you tell me how you see it?")).to_be_visible()
    check_with_axe(noor.page, "reflective feedback with a thread")

    # Noor answers in the same thread; it reaches Lee's open page live
    wait_for_sse_open(lee.page)
    thread.get_by_text("Tell Lee how you see it").click()
    thread.get_by_label("How I see it").fill("I ask because I was scared once.")
    thread.get_by_role("button", name="Send reply").click()
    lees = lee.page.locator("article.thread").filter(has_text="about to break")
    expect(lees.locator(".reply")).to_contain_text(
        "I ask because I was scared once.", timeout=LIVE_MS
    )
    check_with_axe(lee.page, "reflective feedback on a phone")


def test_nothing_watches_until_chosen(new_context):
    noor = partner(new_context, "Noor")
    plan_path = start_plan(noor.page, "Noor and Lee")
    # before anyone joins, the page offers inviting, not things between two
    expect(noor.page.get_by_role("link", name="Reflective feedback")).to_have_count(0)
    expect(noor.page.get_by_role("link", name="Invite them")).to_be_visible()
    lee = join(new_context, "Lee", make_invitation_link(noor.page), **PHONE)
    for person in (noor, lee):
        person.page.goto(f"{plan_path}?all=1")  # the whole plan, not one part
        wait_for_sse_open(person.page)

    # Lee's words reach Noor's open page live: seen, so never counted as new
    # (the open page says so when it re-asks its line of what is new: that
    # answer is waited for, or the reload below could come before it is asked)
    with noor.page.expect_response(
        lambda r: "/news?" in r.url and r.ok, timeout=LIVE_MS
    ):
        add_entry(lee.page, SIGNALS, "Texting a blue heart.")
    expect(entry_card(noor.page, "blue heart")).to_be_visible(timeout=LIVE_MS)
    expect(noor.page.locator("#news_line a")).to_have_count(0)
    noor.page.reload()
    wait_for_sse_open(noor.page)
    expect(noor.page.get_by_text("New from Lee")).to_have_count(0)
    # no yes carries a time on the card
    expect(entry_card(noor.page, "blue heart").locator("time")).to_have_count(0)

    # nobody shows as here until they choose it
    expect(noor.page.get_by_text("Lee is here now")).to_have_count(0)
    lee.page.get_by_role("button", name="Let Noor see when I'm here").click()
    expect(noor.page.get_by_text("Lee is here now")).to_be_visible(timeout=LIVE_MS)
    # the page open when Lee chose it closes: Noor sees Lee go
    lee.page.goto("about:blank")
    expect(noor.page.get_by_text("Lee is here now")).to_have_count(0, timeout=LIVE_MS)
    lee.page.goto(f"{plan_path}?all=1")
    expect(noor.page.get_by_text("Lee is here now")).to_be_visible(timeout=LIVE_MS)
    lee.page.get_by_role("button", name="Stop showing it").click()
    expect(noor.page.get_by_text("Lee is here now")).to_have_count(0, timeout=LIVE_MS)

    check_with_axe(noor.page, "plan with presence choice and an agreed date")


def suggest_a_day(page: Page, days: int = 14) -> str:
    """Suggest a day `days` from now; returns it as the page writes it."""
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    page.get_by_text("Suggest a day to look at this again").click()
    page.get_by_label("The day you suggest").fill(day.isoformat())
    page.get_by_role("button", name="Suggest this day").click()
    return f"{day.day} {day:%B %Y}"


def test_a_day_to_look_again_is_suggested_by_one_and_confirmed_by_the_other(
    new_context,
):
    sam = partner(new_context, "Sam")
    plan_path = start_plan(sam.page, "Sam and Alex")
    alex = join(new_context, "Alex", make_invitation_link(sam.page), **PHONE)
    for person in (sam, alex):
        person.page.goto(f"{plan_path}?all=1")
        wait_for_sse_open(person.page)

    day = suggest_a_day(sam.page)
    expect(sam.page.locator(".revisit-mine")).to_contain_text(f"You suggested {day}")
    # Alex, on a phone, sees the suggestion arrive on the open page
    offer = alex.page.locator(".revisit-proposed")
    expect(offer).to_contain_text(
        f"Sam suggests looking at your plan again by {day}", timeout=LIVE_MS
    )
    check_with_axe(alex.page, "a suggested day, on a phone")

    with alex.page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/revisit/confirm")
    ):
        offer.get_by_role("button", name="That day suits me").click()
    for person in (sam, alex):
        line = person.page.locator(".revisit-line")
        expect(line).to_contain_text(
            f"Let's look at this again by {day} (agreed by you both)", timeout=LIVE_MS
        )
        expect(person.page.locator(".revisit-proposed, .revisit-mine")).to_have_count(0)
        # the page refreshed itself on one stream, not a new stream each time
        assert person.page.evaluate("window.__mutualSeen.sseOpen") == 1
    check_with_axe(alex.page, "an agreed day, on a phone")


def test_a_day_to_look_again_without_javascript(new_context):
    off = {"java_script_enabled": False}
    sam = partner(new_context, "Sam", **off)
    plan_path = start_plan(sam.page, "Sam and Alex, on paper")
    alex = join(new_context, "Alex", make_invitation_link(sam.page), **PHONE, **off)

    sam.page.goto(plan_path)
    day = suggest_a_day(sam.page, days=30)
    expect(sam.page.locator(".revisit-mine")).to_contain_text(f"You suggested {day}")

    alex.page.goto(plan_path)
    offer = alex.page.locator(".revisit-proposed")
    expect(offer).to_contain_text(f"Sam suggests looking at your plan again by {day}")
    offer.get_by_role("button", name="That day suits me").click()
    for person in (alex, sam):
        person.page.goto(plan_path)
        expect(person.page.locator(".revisit-line")).to_contain_text(
            f"Let's look at this again by {day} (agreed by you both)"
        )
