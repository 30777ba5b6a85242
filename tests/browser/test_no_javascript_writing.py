"""Without JavaScript, writing and agreeing work through plain forms and pages.

Robin's browser runs no scripts: signing in, adding, editing (on a page of its
own) and agreeing are all whole-page form posts. Jo, with JavaScript, still sees
Robin's words arrive live.
"""

from httpx import URL
from playwright.sync_api import Request, expect

from tests.browser.conftest import (
    make_invitation_link,
    partner,
    start_plan,
    wait_for_sse_open,
)
from tests.browser.plan_steps import (
    BOTTOM_LINES,
    EDGE,
    FEEL_SAFE,
    LIVE_MS,
    add_entry,
    entry_card,
    join,
)

TITLE = "Jo and Robin, on paper"
JOS_RESPONSE = "If Robin goes quiet for a day, Jo knocks and waits at the door."
ROBINS_LINE = "I need a real answer when I ask if we're okay."
ROBINS_LINE_CHANGED = "I need a real answer when I ask if we're okay, even a short one."
ROBINS_SHARED = "Telling each other where we are when we go out alone."


def test_sign_in_add_edit_and_agree_without_javascript(new_context, base_url) -> None:
    jo = partner(new_context, "Jo")
    plan_path = start_plan(jo.page, TITLE)
    link = make_invitation_link(jo.page)
    robin_then = join(new_context, "Robin", link)  # Robin joined on another day
    robin_then.context.close()
    jo.page.goto(f"{plan_path}?all=1")  # the whole plan, not one part at a time
    wait_for_sse_open(jo.page)
    add_entry(jo.page, EDGE, JOS_RESPONSE)

    posts: list[Request] = []
    scripts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request)
        if request.resource_type == "script":
            scripts.append(request.url)

    context = new_context(java_script_enabled=False)
    context.on("request", record)
    page = context.new_page()

    # sign in
    page.goto("/login")
    page.get_by_label("Email").fill(robin_then.email)
    page.get_by_label("Password").fill(robin_then.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()

    # add a personal entry and a shared one
    page.get_by_label(BOTTOM_LINES).fill(ROBINS_LINE)
    page.locator("form").filter(has=page.get_by_label(BOTTOM_LINES)).get_by_role(
        "button", name="Add"
    ).click()
    mine = entry_card(page, ROBINS_LINE)
    expect(mine).to_contain_text("Written by Robin")
    expect(mine).to_contain_text("Jo hasn't read this yet")
    assert URL(page.url).path == plan_path
    page.get_by_label(FEEL_SAFE).fill(ROBINS_SHARED)
    page.locator("form").filter(has=page.get_by_label(FEEL_SAFE)).get_by_role(
        "button", name="Add"
    ).click()
    expect(entry_card(page, ROBINS_SHARED)).to_contain_text("Written by Robin")

    # Jo, with JavaScript, sees both arrive live
    expect(entry_card(jo.page, ROBINS_LINE)).to_contain_text(
        "Written by Robin", timeout=LIVE_MS
    )
    expect(entry_card(jo.page, ROBINS_SHARED)).to_be_visible(timeout=LIVE_MS)

    # edit: the card's menu opens onto a link to a page of what is in it,
    # and its Edit link onto a page of its own
    mine.locator("summary", has_text="More").click()
    mine.get_by_role("link", name="Edit, history and more").click()
    expect(page.get_by_role("heading", name="More for this entry")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Change an entry", level=1)).to_be_visible()
    assert URL(page.url).path.endswith("/edit")
    wording = page.get_by_label("Wording")
    expect(wording).to_have_value(ROBINS_LINE)
    wording.fill(ROBINS_LINE_CHANGED)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    changed = entry_card(page, ROBINS_LINE_CHANGED)
    expect(changed).to_be_visible()
    expect(page.get_by_text(ROBINS_LINE, exact=True)).to_have_count(0)

    # its history, on a page of its own
    changed.locator("summary", has_text="More").click()
    changed.get_by_role("link", name="Edit, history and more").click()
    page.get_by_role("link", name="History").click()
    expect(
        page.get_by_role("heading", name="History of an entry", level=1)
    ).to_be_visible()
    expect(page.get_by_role("listitem")).to_have_count(2)
    page.get_by_role("link", name=f"Back to “{TITLE}”").click()

    # agree to Jo's response
    jos = entry_card(page, JOS_RESPONSE)
    expect(jos).to_contain_text("Waiting for you")
    jos.get_by_role("button", name="Agree").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(entry_card(page, JOS_RESPONSE).get_by_text("✓ Agreed")).to_be_visible()
    expect(page.get_by_role("link", name="read the agreed plan")).to_be_visible()
    expect(entry_card(jo.page, JOS_RESPONSE).get_by_text("✓ Agreed")).to_be_visible(
        timeout=LIVE_MS
    )

    # every step was a whole-page form post, and no script ran
    entries = f"{plan_path}/entries"
    paths = [URL(r.url).path for r in posts]
    assert paths[:3] == ["/login", entries, entries], paths
    assert paths[3].startswith(f"{entries}/"), paths
    assert paths[4].endswith("/agree"), paths
    assert len(paths) == 5, paths
    assert all(r.is_navigation_request() for r in posts)
    assert not [r.url for r in posts if "hx-request" in r.headers]
    assert scripts == [], "scripts ran though JavaScript was off"
