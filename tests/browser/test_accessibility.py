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
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    PASSWORD,
    ROOT,
    make_invitation_link,
    sign_up,
    start_plan,
    unique_email,
)
from tests.browser.plan_steps import card_menu, entry_card, join
from tests.browser.seed import Writer

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """(tags) => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
})"""
# every finite animation or transition jumps to its end: waiting for it instead
# hangs when the page draws no frames for a while (a second browser window)
SETTLED = """() => document.getAnimations()
  .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
  .forEach((a) => a.finish())"""
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


def _right_now_with_nothing_agreed(page: Page, story: Story) -> None:
    page.goto(f"{story.plan_path}/now")
    page.get_by_role("heading", name="Nothing is agreed between you yet").wait_for()


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
    ("right now, nothing agreed yet", True, _right_now_with_nothing_agreed),
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
    check_with_axe(page, name)


def check_with_axe(page: Page, name: str) -> None:
    """axe, in the light theme and the dark: nothing serious or critical."""
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


# ------------------------------------------------------------------ a full plan


@dataclass(frozen=True)
class FullPlan:
    """A plan of two partners with an entry in every state, seen by Noor."""

    storage_state: dict
    plan_path: str
    answer: str  # Noor's shared response: flagged by Lee, linked to Lee's line
    signal: str  # agreed, then changed and agreed again: two wordings
    scratch: str  # for the conflict view, which changes it on every visit
    compare: tuple[int, int]  # two plan versions with additions and changes


@pytest.fixture(scope="module")
def full_plan(browser: Browser, browser_context_args: dict) -> FullPlan:
    """Every state a card can be in, from Noor's side:

    heard (Noor's own, read by Lee), new to Noor (Lee's), waiting for Lee
    (Noor's response), agreed by both, a change Lee proposes to agreed words
    (with the difference), flagged with a note, linked to what it answers, a
    private draft, a removed entry; and four sealed versions of the agreed plan.
    """
    noor_context = browser.new_context(**browser_context_args)
    lee_context = browser.new_context(**browser_context_args)
    try:
        page = noor_context.new_page()
        page.goto("/signup")
        sign_up(page, "Noor", unique_email("Noor"), PASSWORD)
        page.wait_for_url("**/")
        plan_path = start_plan(page, "Noor and Lee, for the hard days")
        lee = join(lambda **_: lee_context, "Lee", make_invitation_link(page))
        noor, lee_writes = (
            Writer(noor_context, plan_path),
            Writer(lee.context, plan_path),
        )

        own = noor.add("comes_up", "I go very quiet and start to believe I'm a burden.")
        lee_writes.agree(own, version=1)  # heard: plan version 1
        noor.seal()
        lees = lee_writes.add(
            "bottom_lines", "If I say I need an hour alone, I'll come back after it."
        )
        answer = noor.add(
            "edge_responses",
            "If Lee asks for an hour alone, Noor sets a timer and checks in after.",
        )
        noor.link(answer, lees)
        lee_writes.flag(answer, "What if the hour is in the middle of the night?")
        signal = noor.add("signals", 'Texting the word "lighthouse".')
        lee_writes.agree(signal, version=1)  # version 2
        noor.seal()
        noor.edit(signal, 'Texting "lighthouse", or saying it out loud.', version=1)
        lee_writes.agree(signal, version=2)  # version 3: the proposal agreed
        noor.seal()
        changing = lee_writes.add("feel_safe", "We say goodnight even after a row.")
        noor.agree(changing, version=1)  # version 4
        noor.seal()
        lee_writes.edit(
            changing, "We say goodnight, and mean it, even after a row.", version=1
        )  # a proposal: the agreed words stay in force, no new version
        noor.add("hot_buttons", "Being told to calm down.", draft=True)
        gone = lee_writes.add("differently", "Never go to bed angry.")
        lee_writes.remove(gone)
        scratch = noor.add("differently", "Not leaving a fight overnight.")
        return FullPlan(
            noor_context.storage_state(),
            plan_path,
            answer,
            signal,
            scratch,
            (2, 4),  # the signal's wording changed; the goodnight added
        )
    finally:
        noor_context.close()
        lee_context.close()


def _full_plan(page: Page, plan: FullPlan) -> None:
    page.goto(plan.plan_path)
    for label in (
        "✓ Heard by Lee",
        "✓ Agreed by both of you",
        "New from Lee",
        "Waiting for Lee",
        "Lee proposes a change",
    ):
        page.get_by_text(label, exact=True).first.wait_for()
    page.get_by_role("note").filter(has_text="Let's talk about this").wait_for()
    page.get_by_text("This answers:").wait_for()
    page.get_by_text("Private draft: only you can see this").first.wait_for()
    page.get_by_role("heading", name="Removed").wait_for()


def _full_plan_opened_up(page: Page, plan: FullPlan) -> None:
    """Every panel open: the prompts, the "more" panels, a history, an editor."""
    _full_plan(page, plan)
    # handles, not positions: an opened menu brings summaries of its own
    for summary in page.locator("summary").element_handles():
        if summary.is_visible():
            summary.click()
    for menu in page.locator("details.card-more").all():
        expect(menu.get_by_role("link", name="History")).to_be_visible()
    for summary in page.locator(".more-slot summary").element_handles():
        if summary.is_visible():
            summary.click()
    signal = card_menu(entry_card(page, "lighthouse"))
    signal.get_by_role("link", name="History").click()
    page.get_by_role("region", name="History of this entry").wait_for()
    timer = card_menu(entry_card(page, "Noor sets a timer"))
    timer.get_by_role("link", name="Edit").click()
    page.get_by_label("Wording").wait_for()


def _agreed(page: Page, plan: FullPlan) -> None:
    page.goto(f"{plan.plan_path}/agreed")
    page.get_by_role("link", name="Download the PDF").wait_for()


def _older_agreed_version(page: Page, plan: FullPlan) -> None:
    page.goto(f"{plan.plan_path}/agreed?version=2")
    page.get_by_role("link", name="see the newest, version 4").wait_for()


def _versions(page: Page, plan: FullPlan) -> None:
    a, b = plan.compare
    page.goto(f"{plan.plan_path}/versions?a={a}&b={b}")
    page.get_by_role("heading", name=f"From version {a} to version {b}").wait_for()


def _editor_page(page: Page, plan: FullPlan) -> None:
    page.goto(f"{plan.plan_path}/entries/{plan.answer}/edit")
    page.get_by_role("heading", name="Change an entry", level=1).wait_for()


def _editor_page_with_mistake(page: Page, plan: FullPlan) -> None:
    _editor_page(page, plan)
    page.get_by_label("Wording").fill("")
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Wording").and_(page.locator("[aria-invalid=true]")).wait_for()


def _history_page(page: Page, plan: FullPlan) -> None:
    page.goto(f"{plan.plan_path}/entries/{plan.signal}/history")
    page.get_by_role("heading", name="History of an entry", level=1).wait_for()


def _conflict(page: Page, plan: FullPlan) -> None:
    """The editor, then a change saved meanwhile elsewhere, then this save."""
    page.goto(f"{plan.plan_path}/entries/{plan.scratch}/edit")
    box = page.get_by_label("Wording")
    box.fill("Not leaving a fight overnight without a word.")
    elsewhere = page.context.new_page()
    elsewhere.goto(f"{plan.plan_path}/entries/{plan.scratch}/edit")
    elsewhere.get_by_label("Wording").fill("Not leaving a fight hanging overnight.")
    elsewhere.get_by_role("button", name="Save").click()
    entry_card(elsewhere, "hanging overnight").wait_for()
    elsewhere.close()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("This was changed while you were writing.").wait_for()


def _right_now(page: Page, plan: FullPlan) -> None:
    page.goto(f"{plan.plan_path}/now")
    page.get_by_role("button", name="Keep a copy on this phone").wait_for()


def _right_now_answer_too_long(page: Page, plan: FullPlan) -> None:
    _right_now(page, plan)
    page.get_by_label("How it feels for me, right now").evaluate(
        "(box) => { box.removeAttribute('maxlength'); box.value = 'x'.repeat(2001); }"
    )
    page.get_by_role("button", name="Keep it to myself").click()
    page.locator("#now-feel[aria-invalid=true]").wait_for()


FULL_PLAN_PAGES = [
    ("plan full of entries", _full_plan),
    ("plan with every panel open", _full_plan_opened_up),
    ("agreed plan", _agreed),
    ("older agreed version", _older_agreed_version),
    ("versions with a comparison", _versions),
    ("editor page", _editor_page),
    ("editor page with a mistake", _editor_page_with_mistake),
    ("history page", _history_page),
    ("conflict", _conflict),
    ("right now", _right_now),
    ("right now, an answer too long", _right_now_answer_too_long),
]


@pytest.mark.parametrize(
    ("name", "visit"), FULL_PLAN_PAGES, ids=[p[0] for p in FULL_PLAN_PAGES]
)
def test_no_serious_accessibility_problems_with_a_full_plan(
    new_context, full_plan: FullPlan, name: str, visit
) -> None:
    context = new_context(storage_state=full_plan.storage_state)
    page = context.new_page()
    visit(page, full_plan)
    check_with_axe(page, name)
