"""The core story, two people in two browsers: invite, join, write, agree, print.

Alex starts a plan and sends Sam the link; Sam joins while Alex's page is open.
Each writes in personal and shared sections and sees the other's words arrive
live, with the writer's name, without reloading. Sam agrees to Alex's response;
Alex changes it and Sam is shown exactly what changed; both agree; Alex opens
the agreed plan and downloads the PDF, which holds the agreed words and both
names.
"""

from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import (
    make_invitation_link,
    partner,
    start_plan,
    wait_for_sse_open,
)
from tests.browser.plan_steps import (
    BOTTOM_LINES,
    COMES_UP,
    EDGE,
    LIVE_MS,
    SIGNALS,
    add_entry,
    edit_entry,
    entry_card,
    join,
)

PDF_MS = 30_000
TITLE = "Alex and Sam, for the hard days"
ALEX_COMES_UP = "I start to believe nobody would notice if I disappeared."
SAM_BOTTOM_LINE = "No shouting. If it starts, I will leave the room and come back."
RESPONSE = "If Alex says our word, Sam stays, even if Alex asks Sam to go."
RESPONSE_CHANGED = (
    "If Alex says our word, Sam stays nearby, even if Alex asks Sam to go."
)
SIGNAL = 'Texting just the word "lighthouse".'


def pdf_text(path: Path) -> str:
    """All the PDF's text, with its line breaks and spacing made single spaces."""
    reader = PdfReader(path)
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_two_people_write_agree_and_print_their_plan(
    new_context, base_url, tmp_path: Path
) -> None:
    # Alex starts the plan and copies the invitation link
    alex = partner(
        new_context, "Alex", permissions=["clipboard-read", "clipboard-write"]
    )
    plan_path = start_plan(alex.page, TITLE)
    link = make_invitation_link(alex.page)
    alex.page.get_by_role("button", name="Copy link").click()
    expect(alex.page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    copied = alex.page.evaluate("() => navigator.clipboard.readText()")
    assert copied == link

    # Alex writes about themself before anyone has joined, and stays on the page
    mine = add_entry(alex.page, COMES_UP, ALEX_COMES_UP)
    expect(mine).to_contain_text("Waiting for your partner to join")
    comes_up = alex.page.get_by_role("region", name="What tends to come up")
    expect(comes_up.get_by_text("Nothing here yet")).to_be_hidden()
    wait_for_sse_open(alex.page)

    # Sam follows the link, makes an account and joins
    sam = join(new_context, "Sam", copied)
    expect(sam.page).to_have_url(f"{base_url}{plan_path}")
    wait_for_sse_open(sam.page)
    expect(entry_card(sam.page, ALEX_COMES_UP)).to_contain_text("Written by Alex")

    # Alex's open page takes Sam in: the names, Sam's column, the cards' state
    expect(alex.page.get_by_text("Alex and Sam", exact=True)).to_be_visible(
        timeout=LIVE_MS
    )
    # nobody is shown as "here now" until they choose it
    expect(alex.page.get_by_text("Sam is here now")).to_have_count(0)
    sam.page.get_by_role("button", name="Let Alex see when I'm here").click()
    expect(sam.page.get_by_text("Alex can see when you're here.")).to_be_visible()
    expect(alex.page.get_by_text("Sam is here now")).to_be_visible(timeout=LIVE_MS)
    expect(alex.page.get_by_role("heading", name="Invite your partner")).to_have_count(
        0
    )
    expect(mine).to_contain_text("Sam hasn't read this yet", timeout=LIVE_MS)

    # Sam writes a personal entry: it reaches Alex live, in Sam's column
    add_entry(sam.page, BOTTOM_LINES, SAM_BOTTOM_LINE)
    sams_line = entry_card(alex.page, SAM_BOTTOM_LINE)
    expect(sams_line).to_be_visible(timeout=LIVE_MS)
    expect(sams_line).to_contain_text("Written by Sam")
    expect(sams_line).to_contain_text("New from Sam")
    sams_column = alex.page.locator("#section-bottom_lines .column").filter(
        has=alex.page.get_by_role("heading", name="Sam")
    )
    expect(sams_column.get_by_role("article")).to_have_count(1)

    # Alex writes a shared response: it reaches Sam live, with Alex's name
    add_entry(alex.page, EDGE, RESPONSE)
    response = entry_card(sam.page, RESPONSE)
    expect(response).to_be_visible(timeout=LIVE_MS)
    expect(response).to_contain_text("Written by Alex")
    expect(response).to_contain_text("Waiting for you")

    # Sam writes a shared signal: it reaches Alex live
    add_entry(sam.page, SIGNALS, SIGNAL)
    signal = entry_card(alex.page, SIGNAL)
    expect(signal).to_be_visible(timeout=LIVE_MS)
    expect(signal).to_contain_text("Written by Sam")

    # Sam agrees to Alex's response; Alex sees it agreed, live
    agreed_both = "✓ Agreed by both of you"
    response.get_by_role("button", name="Agree").click()
    expect(response.get_by_text(agreed_both, exact=True)).to_be_visible()
    alex_response = entry_card(alex.page, RESPONSE)
    expect(alex_response.get_by_text(agreed_both, exact=True)).to_be_visible(
        timeout=LIVE_MS
    )

    # Alex proposes a change: the agreed words stay in force until Sam agrees
    alex_response = edit_entry(alex.page, alex_response, RESPONSE_CHANGED)
    expect(alex_response).to_contain_text("Your change is waiting for Sam")
    changed = entry_card(sam.page, RESPONSE_CHANGED)
    expect(changed.get_by_text("Alex proposes a change")).to_be_visible(timeout=LIVE_MS)
    expect(changed.locator(".in-force")).to_contain_text(RESPONSE)
    changed.get_by_text("What changed").click()
    difference = changed.locator(".proposal .diff")
    expect(difference.locator("ins").first).to_contain_text("nearby")
    expect(changed.get_by_role("button", name="Agree to the change")).to_be_visible()

    # both agree: Sam to the new wording, Alex to Sam's signal; Alex reads
    # Sam's bottom line (heard, not agreed: they are Sam's own words)
    changed.get_by_role("button", name="Agree to the change").click()
    expect(changed.get_by_text(agreed_both, exact=True)).to_be_visible()
    expect(alex_response.get_by_text(agreed_both, exact=True)).to_be_visible(
        timeout=LIVE_MS
    )
    signal.get_by_role("button", name="Agree").click()
    expect(signal.get_by_text(agreed_both, exact=True)).to_be_visible()
    sams_line.get_by_role("button", name="I've read this").click()
    expect(sams_line.get_by_text("✓ You've read this", exact=True)).to_be_visible()
    expect(alex.page.get_by_text("3 agreed · nothing for you just now")).to_be_visible()

    # Alex reads the agreed plan and downloads it
    alex.page.get_by_role("link", name="read the agreed plan").click()
    expect(alex.page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    agreed = alex.page.get_by_role("main")
    expect(agreed).to_contain_text(RESPONSE_CHANGED)
    expect(agreed).to_contain_text(SIGNAL)
    expect(agreed).to_contain_text(SAM_BOTTOM_LINE)
    expect(agreed).not_to_contain_text(ALEX_COMES_UP)  # Sam hasn't read it yet
    # the app's first PDF starts its render worker (WeasyPrint, fonts): allow it
    with alex.page.expect_download(timeout=PDF_MS) as download_info:
        alex.page.get_by_role("link", name="Download the PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    saved = tmp_path / "plan.pdf"
    download.save_as(saved)

    assert saved.read_bytes().startswith(b"%PDF-")
    text = pdf_text(saved)
    for words in (TITLE, RESPONSE_CHANGED, SIGNAL, SAM_BOTTOM_LINE, "Alex", "Sam"):
        assert words in text, f"{words!r} is not in the PDF:\n{text}"
    assert ALEX_COMES_UP not in text, "the PDF holds words that are not agreed"
    assert "Sam stays, even" not in text, "the PDF holds an old wording"
