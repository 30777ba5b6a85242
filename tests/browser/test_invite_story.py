"""Two people come together in one plan through an invitation link; a third can't."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import (
    make_invitation_link,
    partner,
    sign_up,
    start_plan,
    unique_email,
)

TITLE = "Our plan for the hard days"


def test_an_invitation_brings_two_people_into_one_plan(new_context, base_url) -> None:
    alex = partner(
        new_context, "Alex", permissions=["clipboard-read", "clipboard-write"]
    )
    plan_path = start_plan(alex.page, TITLE)
    expect(alex.page.get_by_role("heading", name="Invite your partner")).to_be_visible()
    link = make_invitation_link(alex.page)
    assert link.startswith(f"{base_url}/invite/"), link

    alex.page.get_by_role("button", name="Copy link").click()
    expect(alex.page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert alex.page.evaluate("() => navigator.clipboard.readText()") == link

    # Sam, signed out in a browser of their own, follows the link
    sam_context = new_context()
    sam = sam_context.new_page()
    sam.goto(link)
    expect(sam.get_by_role("heading", name="Alex invites you", level=1)).to_be_visible()
    expect(sam.get_by_text(TITLE)).to_be_visible()
    sam.get_by_role("link", name="Make an account").click()
    expect(sam.get_by_role("heading", name="Make an account", level=1)).to_be_visible()
    sign_up(sam, "Sam", unique_email("Sam"))

    # back on the invitation, now signed in
    expect(sam).to_have_url(link)
    sam.get_by_role("button", name="Join the plan as Sam").click()
    expect(sam).to_have_url(f"{base_url}{plan_path}")
    expect(sam.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(sam.get_by_text("Sam and Alex")).to_be_visible()

    # each sees the other on "My plans"
    sam.get_by_role("link", name="My plans").click()
    sam_card = sam.get_by_role("listitem").filter(
        has=sam.get_by_role("heading", name=TITLE)
    )
    expect(sam_card.get_by_text("With Alex")).to_be_visible()

    alex.page.goto("/")
    alex_card = alex.page.get_by_role("listitem").filter(
        has=alex.page.get_by_role("heading", name=TITLE)
    )
    expect(alex_card.get_by_text("With Sam")).to_be_visible()
    alex.page.goto(plan_path)
    expect(alex.page.get_by_text("Alex and Sam", exact=True)).to_be_visible()
    expect(alex.page.get_by_text("waiting for your partner")).to_have_count(0)
    expect(alex.page.get_by_role("heading", name="Invite your partner")).to_have_count(
        0
    )

    # a third person, signed in, finds the used link closed and the plan hidden
    kim = partner(new_context, "Kim")
    kim.page.goto(link)
    expect(
        kim.page.get_by_role("heading", name="This invitation can't be used", level=1)
    ).to_be_visible()
    expect(
        kim.page.get_by_role("button", name=re.compile("Join the plan"))
    ).to_have_count(0)
    response = kim.page.goto(plan_path)
    assert response is not None
    assert response.status == 404
    expect(kim.page.get_by_text(TITLE)).to_have_count(0)
