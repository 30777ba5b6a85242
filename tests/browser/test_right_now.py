"""Right now on two phones: the view, a copy kept by choice, all gone at sign-out.

Riley keeps a copy on their phone; Jordan, on theirs, does not. Offline (and,
for Riley, signed out by time) Riley's phone still opens the right-now page and
the pocket card; Jordan's shows nothing of the plan.
"""

import re
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Error, Page, expect

from tests.browser.conftest import make_invitation_link, partner, start_plan
from tests.browser.plan_steps import join
from tests.browser.seed import Writer

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
SIGNAL = 'Texting the word "lighthouse".'
RESPONSE = "We stop where we are and sit in the same room, phones down."
HOT = "Being told to calm down."
REACTION = "I go quiet and stop answering."
CACHES = "() => caches.keys()"
WORKERS = "() => navigator.serviceWorker.getRegistrations().then(r => r.length)"
NO_WORKERS = (
    "() => navigator.serviceWorker.getRegistrations().then(r => r.length === 0)"
)
KEEP = "Keep a copy on this phone"
PDF_MS = 20_000


@dataclass
class Phones:
    riley: object
    jordan: object
    path: str


@pytest.fixture
def phones(new_context) -> Phones:
    """Riley and Jordan, each on a phone, with a signal, a response paired with
    Jordan's hot button, and a likely reaction agreed."""
    riley = partner(new_context, "Riley", **PHONE)
    path = start_plan(riley.page, "Riley and Jordan")
    jordan = join(new_context, "Jordan", make_invitation_link(riley.page), **PHONE)
    r, j = Writer(riley.context, path), Writer(jordan.context, path)
    j.agree(r.add("signals", SIGNAL), version=1)
    hot = j.add("hot_buttons", HOT)
    r.agree(hot, version=1)
    response = r.add("edge_responses", RESPONSE)
    r.link(response, hot)
    j.agree(response, version=1)
    j.agree(r.add("reactions", REACTION), version=1)
    return Phones(riley, jordan, path)


def plan_id(phones: Phones) -> str:
    return phones.path.rsplit("/", 1)[1]


def keep_a_copy(page: Page) -> None:
    page.get_by_role("button", name=KEEP).click()
    # the copy holds the pocket card too: a PDF made by a worker that may be cold
    done = page.get_by_role("status").filter(has_text="Kept.")
    expect(done).to_be_visible(timeout=PDF_MS)


def test_one_tap_from_the_plan_to_what_we_agreed_on_a_phone(phones: Phones) -> None:
    page = phones.jordan.page
    page.goto(phones.path)
    page.get_by_role("link", name="We're near the edge now").click()
    page.wait_for_url(f"**{phones.path}/now")
    expect(page.get_by_role("heading", name="Right now", level=1)).to_be_visible()
    order = page.locator(".right-now h2").all_inner_texts()
    assert order[:4] == [
        "Our signals",
        "What we agreed to do",
        "When one of these comes up",
        "How each of us is likely to react",
    ]
    expect(page.get_by_text(SIGNAL)).to_be_visible()
    expect(page.locator(".now-version")).to_contain_text(
        re.compile(r"As agreed on .+, version 1")
    )
    # one column: nothing sideways to scroll, the pair stacked
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    when = page.locator(".now-when").bounding_box()
    then = page.locator(".now-then").bounding_box()
    assert when
    assert then
    assert then["y"] >= when["y"] + when["height"]
    assert abs(then["x"] - when["x"]) < 1
    # read-only: the only things to type into are the two questions
    assert page.locator("textarea").count() == 2
    assert page.evaluate("() => window.__mutualSeen.cspViolations") == []


def test_a_kept_copy_opens_offline_and_signed_out_and_nothing_else_does(
    phones: Phones, base_url: str
) -> None:
    riley, jordan = phones.riley.page, phones.jordan.page
    now = f"{phones.path}/now"
    riley.goto(now)
    assert riley.evaluate(CACHES) == []  # nothing kept before asking
    keep_a_copy(riley)
    assert riley.evaluate(CACHES) == [f"mutual-copy-{plan_id(phones)}"]
    card = riley.locator("[data-now-card]").get_attribute("data-now-card")
    assert card
    assert card.endswith("format=card")

    # Jordan opened the same page but chose nothing: no copy, no worker
    jordan.goto(now)
    expect(jordan.get_by_text(SIGNAL)).to_be_visible()
    assert jordan.evaluate(CACHES) == []
    assert jordan.evaluate(WORKERS) == 0

    # the session ends (30 quiet minutes), and the connection goes
    phones.riley.context.clear_cookies()
    for person in (phones.riley, phones.jordan):
        person.context.set_offline(True)

    riley.goto(now)
    expect(riley.get_by_text(SIGNAL)).to_be_visible()
    expect(riley.get_by_text(RESPONSE).first).to_be_visible()
    expect(riley.locator(".now-header")).to_contain_text(
        "You are offline. This is the copy kept on this phone."
    )
    expect(riley.get_by_role("button", name="Keep it to myself")).to_be_disabled()
    got = riley.evaluate(
        "(url) => fetch(url).then(r => [r.status, r.headers.get('content-type')])",
        card,
    )
    assert got == [200, "application/pdf"]
    # nothing else of the plan works offline
    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED"):
        riley.goto(phones.path)

    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED"):
        jordan.goto(now)  # the browser's own "no connection": nothing of the plan


def test_the_copy_follows_what_is_agreed_when_online(phones: Phones) -> None:
    riley = phones.riley.page
    riley.goto(f"{phones.path}/now")
    keep_a_copy(riley)
    mug = Writer(phones.riley.context, phones.path).add(
        "signals", "Leaving the blue mug out."
    )
    Writer(phones.jordan.context, phones.path).agree(mug, version=1)
    riley.reload()  # online: the worker keeps this newer page
    expect(riley.get_by_text("Leaving the blue mug out.")).to_be_visible()
    card = riley.locator("[data-now-card]").get_attribute("data-now-card")
    riley.wait_for_function(
        "([name, card]) => caches.open(name).then(c => c.match(card)).then(Boolean)",
        arg=[f"mutual-copy-{plan_id(phones)}", card],
    )
    phones.riley.context.set_offline(True)
    riley.goto(f"{phones.path}/now")
    expect(riley.get_by_text("Leaving the blue mug out.")).to_be_visible()


def _without_the_header(page: Page) -> None:
    """The server never answers (so sends no Clear-Site-Data): the page's own
    script must have cleared everything before the form went."""
    page.route(
        "**/logout",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>Sign in</title>"
        ),
    )


def _without_the_script(page: Page) -> None:
    """The form sent as it is: only the server's Clear-Site-Data clears."""
    page.locator("form[data-forget-copies]").first.evaluate(
        "(form) => form.removeAttribute('data-forget-copies')"
    )


@pytest.mark.parametrize(
    "only",
    [None, _without_the_header, _without_the_script],
    ids=["both", "script alone", "header alone"],
)
def test_signing_out_takes_every_copy_and_the_worker_with_it(
    phones: Phones, only
) -> None:
    riley = phones.riley.page
    riley.goto(f"{phones.path}/now")
    keep_a_copy(riley)
    assert riley.evaluate(WORKERS) == 1
    if only:
        only(riley)
    riley.get_by_role("button", name="Sign out").click()
    if only is _without_the_header:
        riley.wait_for_url(re.compile(r"/logout$"))
    else:
        riley.wait_for_url(re.compile(r"/$"))
        header = riley.locator(".site-header")
        expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    assert riley.evaluate(CACHES) == []
    assert riley.evaluate(WORKERS) == 0
    phones.riley.context.set_offline(True)
    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED"):
        riley.goto(f"{phones.path}/now")


def test_forgetting_the_device_or_leaving_the_plan_takes_the_copy(
    phones: Phones,
) -> None:
    riley = phones.riley.page
    riley.goto(f"{phones.path}/now")
    keep_a_copy(riley)
    riley.goto("/account")
    riley.get_by_role("button", name="Forget this device").click()
    expect(riley.get_by_text("has forgotten every copy")).to_be_visible()
    assert riley.evaluate(CACHES) == []
    assert riley.evaluate(WORKERS) == 0

    jordan = phones.jordan.page
    jordan.goto(f"{phones.path}/now")
    keep_a_copy(jordan)
    jordan.goto(f"{phones.path}/leave")
    jordan.get_by_role("button", name=re.compile("^Leave")).click()
    expect(jordan.get_by_text("You have left the plan")).to_be_visible()
    jordan.wait_for_function("() => caches.keys().then(k => k.length === 0)")


def test_stopping_the_copy_removes_it_from_this_phone(phones: Phones) -> None:
    riley = phones.riley.page
    riley.goto(f"{phones.path}/now")
    keep_a_copy(riley)
    riley.get_by_role("button", name="Stop keeping a copy here").click()
    expect(riley.get_by_role("status").filter(has_text="gone")).to_be_visible()
    assert riley.evaluate(CACHES) == []
    assert riley.evaluate(WORKERS) == 0
    assert httpx.URL(riley.url).path == f"{phones.path}/now"


def test_a_copy_of_a_plan_left_elsewhere_goes_at_the_next_visit(
    phones: Phones,
) -> None:
    """Jordan leaves from another device: this phone never sees "My plans", but
    the next visit online is answered "not found", and the copy goes with it."""
    jordan = phones.jordan.page
    jordan.goto(f"{phones.path}/now")
    keep_a_copy(jordan)
    Writer(phones.jordan.context, phones.path).post(f"{phones.path}/leave")
    response = jordan.goto(f"{phones.path}/now")
    assert response is not None
    assert response.status == 404
    assert jordan.evaluate(CACHES) == []
    jordan.wait_for_function(NO_WORKERS)
    phones.jordan.context.set_offline(True)
    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED"):
        jordan.goto(f"{phones.path}/now")
