"""Without JavaScript every step still works, through plain form posts."""

from httpx import URL
from playwright.sync_api import Request, expect

from tests.browser.conftest import (
    make_invitation_link,
    sign_up,
    start_plan,
    unique_email,
)


def test_sign_up_start_a_plan_invite_and_join_without_javascript(
    new_context, base_url
) -> None:
    posts: list[Request] = []
    scripts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request)
        if request.resource_type == "script":
            scripts.append(request.url)

    robin_context = new_context(java_script_enabled=False)
    robin_context.on("request", record)
    robin = robin_context.new_page()
    robin.goto("/signup")
    sign_up(robin, "Robin", unique_email("Robin"))
    expect(robin.get_by_role("heading", name="My plans", level=1)).to_be_visible()

    plan_path = start_plan(robin, "Robin and Jo, on paper")
    link = make_invitation_link(robin)
    assert link.startswith(f"{base_url}/invite/"), link

    jo_context = new_context(java_script_enabled=False)
    jo_context.on("request", record)
    jo = jo_context.new_page()
    jo.goto(link)
    jo.get_by_role("link", name="Make an account").click()
    sign_up(jo, "Jo", unique_email("Jo"))
    jo.get_by_role("button", name="Join the plan as Jo").click()
    expect(jo).to_have_url(f"{base_url}{plan_path}")
    expect(jo.get_by_text("Jo and Robin", exact=True)).to_be_visible()

    # five whole-page form posts, none of them sent by htmx
    assert [URL(r.url).path for r in posts] == [
        "/signup",
        "/plans",
        f"{plan_path}/invite",
        "/signup",
        URL(link).path,
    ]
    assert all(r.is_navigation_request() for r in posts)
    assert not [r.url for r in posts if "hx-request" in r.headers]
    assert scripts == [], "scripts ran though JavaScript was off"
