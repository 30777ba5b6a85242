"""The browser works, and the pages load clean: nothing foreign, no errors, no CSP."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import make_invitation_link, partner, start_plan, watch

SIGNED_OUT_PAGES = ["/", "/signup", "/login", "/never"]


def test_the_system_chromium_drives(browser: Browser) -> None:
    # Playwright and Debian's Chromium are of different versions: fail loudly the
    # day an upgrade of either breaks the protocol between them.
    assert re.match(r"\d+\.", browser.version), browser.version
    page = browser.new_page()
    try:
        page.set_content("<main><h1>Hello from the test</h1></main>")
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello from the test")
    finally:
        page.close()


def test_the_home_page_asks_nothing_of_other_hosts(page: Page, base_url: str) -> None:
    seen = watch(page)
    response = page.goto("/")
    page.wait_for_load_state("networkidle")

    assert response is not None
    assert response.status == 200
    expect(page).to_have_title(re.compile("Mutual"))
    # the recorder saw the page's own assets, so an empty foreign list means something
    assert any(
        url.startswith(f"{base_url}/static/vendor/htmx") for url in seen.requests
    )
    assert any(url.startswith(f"{base_url}/static/css/") for url in seen.requests)
    assert seen.foreign_requests() == []


def _assert_clean(page: Page, seen) -> None:
    assert page.evaluate("() => typeof window.htmx") == "object", "htmx did not load"
    assert seen.csp_violations() == []
    assert seen.console_errors == []
    assert seen.page_errors == []


@pytest.mark.parametrize("path", SIGNED_OUT_PAGES)
def test_signed_out_pages_load_without_errors(page: Page, path: str) -> None:
    seen = watch(page)
    response = page.goto(path)  # waits for "load": deferred scripts have run

    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="What Mutual never does")).to_be_visible()
    _assert_clean(page, seen)


def test_signed_in_pages_and_htmx_swaps_load_without_errors(new_context) -> None:
    robin = partner(new_context, "Robin")
    page = robin.page
    seen = watch(page)
    page.goto("/")
    _assert_clean(page, seen)

    start_plan(page, "Robin and Kai")
    make_invitation_link(page)  # an htmx swap into the page
    _assert_clean(page, seen)
    assert seen.foreign_requests() == []
