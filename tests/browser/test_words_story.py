"""Your words are yours, on two phones: Sam takes everything of theirs, deletes
the account, and Alex keeps every word Alex wrote; then Sam, back with a new
account, starts again from the download, with only Sam's words as Sam's."""

import json
import re
import zipfile

from playwright.sync_api import expect

from tests.browser.conftest import (
    PASSWORD,
    make_invitation_link,
    partner,
    sign_up,
    start_plan,
)
from tests.browser.plan_steps import join
from tests.browser.seed import Writer
from tests.browser.test_accessibility import check_with_axe

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PDF_MS = 30_000
SAMS_LINE = "Nobody raises their voice at the other."
ALEXS_SIGNAL = "Alex puts the green mug on the shelf."
SAMS_NOTE = "When the door closes hard, I tell myself you are done with me."
ALEXS_REPLY = "I close it hard when I am scared of what I will say."
REMOVED = re.compile(r"Words of a former partner were removed on \d")


def test_sam_takes_everything_away_and_alex_keeps_every_word(
    new_context, tmp_path
) -> None:
    sam = partner(new_context, "Sam", **PHONE)
    path = start_plan(sam.page, "Sam and Alex")
    alex = join(new_context, "Alex", make_invitation_link(sam.page), **PHONE)
    s, a = Writer(sam.context, path), Writer(alex.context, path)
    a.agree(s.add("bottom_lines", SAMS_LINE), version=1)
    s.agree(a.add("signals", ALEXS_SIGNAL), version=1)
    sent = s.post(f"{path}/feedback", what_i_see=SAMS_NOTE, action="send")
    thread = sent.headers["location"].rsplit("#thread-", 1)[1]
    a.post(f"{path}/feedback/{thread}/replies", body=ALEXS_REPLY, action="send")

    # Sam downloads everything of Sam's from the account page
    page = sam.page
    page.goto("/account")
    check_with_axe(page, "the account page")
    with page.expect_download(timeout=PDF_MS) as arriving:
        page.get_by_role("link", name="Download everything of mine").click()
    download = arriving.value
    assert download.suggested_filename.endswith(".zip")
    kept = tmp_path / download.suggested_filename
    download.save_as(kept)
    with zipfile.ZipFile(kept) as archive:
        names = archive.namelist()
        mine = json.loads(archive.read("mutual-export.json"))
    assert "mutual-export.json" in names
    assert any(n.startswith("plans/") and n.endswith(".pdf") for n in names)
    assert mine["plans"][0]["agreed_plan"] is not None

    # a wrong password first: a plain reason, and nothing is deleted
    delete = page.get_by_role("button", name="Delete my account and my words")
    page.get_by_label("Your password, to be sure it is you").fill("not my password")
    delete.click()
    expect(
        page.get_by_text("That is not your password. Nothing has been deleted.")
    ).to_be_visible()
    page.goto(path)
    expect(page.get_by_text(SAMS_LINE)).to_be_visible()
    page.goto("/account")
    page.get_by_label("Your password, to be sure it is you").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and my words").click()
    page.wait_for_url(re.compile(r"/\?deleted=1$"))

    # Alex's plan: Alex's words, and an honest line where Sam's were
    view = alex.page
    view.goto(path)
    expect(view.locator("#words-removed")).to_have_text(REMOVED)
    expect(view.get_by_text(ALEXS_SIGNAL).first).to_be_visible()
    expect(view.get_by_text(SAMS_LINE)).to_have_count(0)
    # with Sam's yes gone, nothing is agreed now, and the page says why
    view.goto(f"{path}/agreed")
    expect(view.locator("#words-removed")).to_contain_text(
        "Words of a former partner were removed from this plan on"
    )
    # the version Sam downloaded was sealed again: Alex's words, not Sam's
    view.goto(f"{path}/agreed?version=1")
    expect(view.locator("#words-removed")).to_contain_text(
        "sealed again when words of a former partner were removed on"
    )
    expect(view.get_by_text(ALEXS_SIGNAL).first).to_be_visible()
    expect(view.get_by_text(SAMS_LINE)).to_have_count(0)
    # Alex's reply to Sam's note stays, saying what it answered is gone
    view.goto(f"{path}/feedback")
    reply = view.locator("article.thread").filter(has_text=ALEXS_REPLY)
    expect(reply).to_be_visible()
    expect(reply.locator(".words-removed")).to_contain_text(
        "This answered words of a former partner, which were removed on"
    )
    expect(view.get_by_text(SAMS_NOTE)).to_have_count(0)

    # Sam, with a new account at the same address, starts again from the zip
    again = new_context(**PHONE).new_page()
    again.goto("/signup")
    sign_up(again, "Sam", sam.email)
    expect(again.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    again.goto("/import")
    check_with_axe(again, "the import page")
    again.get_by_label("The earlier plan's file").set_input_files(kept)
    again.get_by_role("button", name="Start a new plan from it").click()
    again.wait_for_url(re.compile(r"/plans/[^/]+$"))
    again.goto(f"{httpx_path(again.url)}?all=1")
    own = again.locator("#section-bottom_lines")
    expect(own.get_by_text(SAMS_LINE)).to_be_visible()
    earlier = again.locator("#earlier")
    expect(earlier.get_by_text(ALEXS_SIGNAL)).to_be_visible()
    expect(again.get_by_text(ALEXS_SIGNAL)).to_have_count(1)
    expect(earlier.get_by_text(SAMS_LINE)).to_have_count(0)


def httpx_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
