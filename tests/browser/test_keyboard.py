"""Someone who uses only the keyboard can sign up and start a plan, and always
sees where they are."""

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PASSWORD, unique_email

FOCUS_STATE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const label = el.labels && el.labels.length
    ? el.labels[0].textContent : el.textContent;
  return {
    element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + " " + JSON.stringify((label || "").trim().slice(0, 40)),
    body: el === document.body || el === document.documentElement,
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
  };
}"""
TRANSPARENT = re.compile(r"^(transparent|rgba\(.*,\s*0\))$")
MAX_TABS = 25


def assert_focus_visible(page: Page) -> str:
    """The focused element is on screen and drawn with a ring; returns what it is."""
    state = page.evaluate(FOCUS_STATE)
    assert not state["body"], "focus was lost: nothing on the page has it"
    outline = (
        state["outlineStyle"] != "none"
        and state["outlineWidth"] > 0
        and not TRANSPARENT.match(state["outlineColor"])
    )
    shadow = state["boxShadow"] not in ("", "none")
    assert outline or shadow, f"no visible focus indicator on {state}"
    assert state["onScreen"], f"the focused element is off screen: {state}"
    return state["element"]


def is_focused(target: Locator) -> bool:
    return target.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has focus, checking the ring at every stop."""
    passed = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        passed.append(assert_focus_visible(page))
        if is_focused(target):
            return
    raise AssertionError(f"Tab never reached {target}; it went: {passed}")


def tab_once_to(page: Page, target: Locator) -> None:
    page.keyboard.press("Tab")
    expect(target).to_be_focused()
    assert_focus_visible(page)


def test_sign_up_and_start_a_plan_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/signup")

    tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Quinn")
    tab_once_to(page, page.get_by_label("Email"))
    page.keyboard.type(unique_email("Quinn"))
    tab_once_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Quinn")).to_be_visible()

    tab_to(page, page.get_by_label("A name for the plan"))
    page.keyboard.type("Quinn and Ray")
    tab_once_to(page, page.get_by_role("button", name="Start the plan"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/plans/[^/]+$"))
    expect(page.get_by_role("heading", name="Quinn and Ray", level=1)).to_be_visible()
