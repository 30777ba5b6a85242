"""axe-core finds nothing serious or critical on any page, in light or dark.

axe comes from the npm lock (node_modules/axe-core), so its version is pinned
beside htmx's. The CSP forbids injected <script> tags, so its source is
evaluated through the DevTools protocol instead.
"""

import json
import logging
from dataclasses import dataclass
from functools import cache

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import (
    PASSWORD,
    ROOT,
    make_invitation_link,
    sign_up,
    start_plan,
    unique_email,
)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """(tags) => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
})"""
SETTLED = """() => Promise.all(document.getAnimations()
  .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
  .map((a) => a.finished))"""
log = logging.getLogger(__name__)
BLOCKING = {"serious", "critical"}


@cache
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci`")
    return AXE.read_text("utf-8")


@dataclass(frozen=True)
class Story:
    storage_state: dict
    plan_path: str
    other_plan_path: str
    invite_link: str


@pytest.fixture(scope="module")
def story(browser: Browser, browser_context_args: dict) -> Story:
    """One person with two plans; the second has an invitation link out."""
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        page.goto("/signup")
        sign_up(page, "Noor", unique_email("Noor"), PASSWORD)
        page.wait_for_url("**/")
        plan_path = start_plan(page, "Noor and Lee")
        page.goto("/")
        other_plan_path = start_plan(page, "Noor and Ash")
        link = make_invitation_link(page)
        return Story(context.storage_state(), plan_path, other_plan_path, link)
    finally:
        context.close()


def _home(page: Page, story: Story) -> None:
    page.goto("/")


def _sign_up(page: Page, story: Story) -> None:
    page.goto("/signup")


def _sign_up_with_mistakes(page: Page, story: Story) -> None:
    page.goto("/signup")
    sign_up(page, "Ines", unique_email("Ines"), "too short")
    page.get_by_text("at least 12 characters").first.wait_for()


def _sign_in(page: Page, story: Story) -> None:
    page.goto("/login")


def _sign_in_failed(page: Page, story: Story) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()


def _never(page: Page, story: Story) -> None:
    page.goto("/never")


def _my_plans(page: Page, story: Story) -> None:
    page.goto("/")


def _plan(page: Page, story: Story) -> None:
    page.goto(story.plan_path)


def _plan_with_invitation_link(page: Page, story: Story) -> None:
    page.goto(story.plan_path)
    page.get_by_role("button", name="Make an invitation link").click()
    page.get_by_label("Invitation link").wait_for()


def _invitation(page: Page, story: Story) -> None:
    page.goto(story.invite_link)
    page.get_by_role("link", name="Make an account").wait_for()


def _not_found(page: Page, story: Story) -> None:
    response = page.goto("/nothing-lives-here")
    assert response is not None
    assert response.status == 404


# (name, signed in?, how to get there)
PAGES = [
    ("home", False, _home),
    ("sign up", False, _sign_up),
    ("sign up with mistakes", False, _sign_up_with_mistakes),
    ("sign in", False, _sign_in),
    ("sign in that failed", False, _sign_in_failed),
    ("never", False, _never),
    ("my plans", True, _my_plans),
    ("plan", True, _plan),
    ("plan with invitation link", True, _plan_with_invitation_link),
    ("invitation, signed out", False, _invitation),
    ("not found", False, _not_found),
]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"  {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            lines.append(f"      {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("name", "signed_in", "visit"), PAGES, ids=[p[0] for p in PAGES]
)
def test_no_serious_accessibility_problems(
    new_context, story: Story, name: str, signed_in: bool, visit
) -> None:
    context = new_context(storage_state=story.storage_state if signed_in else None)
    page = context.new_page()
    visit(page, story)
    page.evaluate(axe_source())

    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        # buttons ease from one theme's colours to the other's: measure the end
        page.evaluate(SETTLED)
        results = page.evaluate(AXE_RUN, TAGS)
        violations = results["violations"]
        if violations:
            # minor and moderate ones too: shown with -rP, or beside a failure
            log.warning("axe on %s (%s):\n%s", name, scheme, describe(violations))
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        if blocking:
            problems.append(f"in the {scheme} theme:\n{describe(blocking)}")
    assert not problems, (
        f"axe {results['testEngine']['version']} found serious or critical "
        f"problems on {name} ({page.url}):\n" + "\n".join(problems)
    )
