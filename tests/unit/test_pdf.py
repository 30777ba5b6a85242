"""The printed plan: content, paper, card, draft, safety and the worker pool.

These tests need no database: each builds a snapshot dict, the contract between the
code that reads the plan and the renderer.
"""

import io
import logging
import re
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import BooleanObject

from backend.consent import snapshots
from backend.entries import sections
from backend.entries.sections import Section
from backend.export import PdfError, PdfRenderer
from backend.export import card as pocket
from backend.export import pdf as pdf_module
from backend.export.pdf import StaticFetcher, html_to_pdf, render_pdf

SAM, ALEX = str(uuid.uuid4()), str(uuid.uuid4())
NAMES = {SAM: "Sam", ALEX: "Alex"}


def consent(who: str, day: int) -> dict[str, str]:
    return {"account_id": who, "name": NAMES[who], "at": f"2026-11-{day}T09:00:00Z"}


def entry(
    section: str,
    text: str,
    *,
    owner: str | None = None,
    author: str = SAM,
    first_author: str | None = None,
    agreed: bool = True,
    answers: tuple[str, ...] = (),
) -> dict[str, Any]:
    first = first_author or author
    other = ALEX if author == SAM else SAM
    # Writing records the writer's consent; the other partner's comes the next day.
    consents = (
        [consent(author, 21), consent(other, 22)] if agreed else [consent(author, 21)]
    )
    return {
        "id": str(uuid.uuid4()),
        "section": section,
        "owner_id": owner,
        "text": text,
        "version": 1 if first == author else 2,
        "author_id": author,
        "author_name": NAMES[author],
        "first_author_name": NAMES[first],
        "written_at": "2026-11-20T10:00:00+00:00",
        "agreed": agreed,
        "consents": consents,
        "answers": list(answers),
    }


def snapshot(
    entries: list[dict[str, Any]], *, version: int | None = 3, title: str = "Our plan"
) -> dict:
    return {
        "plan": {"id": str(uuid.uuid4()), "title": title},
        "version": version,
        "created_at": "2026-11-26T20:10:00+00:00",
        "partners": [
            {"id": ALEX, "name": "Alex", "slot": 2},
            {"id": SAM, "name": "Sam", "slot": 1},
        ],
        "entries": entries,
    }


def realistic_snapshot() -> dict:
    """Both partners, every section, responses that answer personal entries."""
    words = [  # (section, owner, text): each partner's personal entries
        ("comes_up", SAM, "I hear the worst version.\nOld stories come back."),
        ("bottom_lines", SAM, "No shouting. If it starts, I leave and come back."),
        ("hot_buttons", SAM, "Being told to calm down."),
        ("reactions", SAM, "I go quiet and stop answering messages."),
        ("comes_up", ALEX, "I start to believe nobody would notice if I left."),
        ("bottom_lines", ALEX, "I won't be threatened with being left."),
        ("hot_buttons", ALEX, "Plans changing at the last minute."),
        ("reactions", ALEX, "I get sharp and push you away.\nThen I feel ashamed."),
    ]
    mine = [entry(key, text, owner=who, author=who) for key, who, text in words]
    gone, quiet, sharp = (mine[i]["id"] for i in (4, 3, 7))
    ours = [  # (section, author, first author, text)
        ("edge_responses", ALEX, SAM, "If I say our word, you stay.\nEven if I ask."),
        ("edge_responses", SAM, SAM, "If I go quiet, you text “lighthouse”."),
        ("edge_responses", ALEX, ALEX, "You say “I'm still here” once, then wait."),
        ("edge_responses", SAM, SAM, "We each call someone we trust."),
        ("signals", ALEX, ALEX, "Texting just the word “lighthouse”."),
        ("signals", SAM, SAM, "Leaving the blue mug out on the table."),
        ("feel_safe", ALEX, ALEX, "Saying when we need space, and for how long."),
        ("feel_safe", SAM, SAM, "Checking what the other heard first."),
        ("differently", ALEX, SAM, "Not leaving a fight hanging overnight."),
    ]
    shared = [entry(k, text, author=a, first_author=f) for k, a, f, text in ours]
    for response, answered in zip(shared, (gone, quiet, sharp), strict=False):
        response["answers"] = [answered]
    return snapshot(mine + shared, title="When it gets hard")


def many_entries(count: int) -> list[dict[str, Any]]:
    sections = ["edge_responses", "signals", "feel_safe", "differently"]
    return [
        entry(sections[i % 4], f"Entry {i}: " + "we talk it through, slowly. " * 6)
        for i in range(count)
    ]


def pdf_text(data: bytes) -> str:
    """All the text, whitespace collapsed, so wrapped lines compare as one."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def poppler(tool: str, *args: str) -> str:
    """What one of poppler-utils' tools (pdftotext, pdffonts) prints."""
    path = shutil.which(tool)
    assert path is not None, f"{tool} is missing: apt-get install poppler-utils"
    done = subprocess.run(  # noqa: S603 (a fixed tool on our own file)
        [path, *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def plan_pdf() -> bytes:
    """Expensive and never changed, so one render serves every reading test."""
    return render_pdf(realistic_snapshot())


# ---------------------------------------------------------------- the fetcher


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.com/x.css",
        "ftp://example.com/x.css",
        "data:text/css,body{color:red}",
        "mutual-static:/../backend/config.py",
        "mutual-static:/css/../../pyproject.toml",
        "mutual-static:/js/app.js",
        "mutual-static://evil.example/css/pdf.css",
        "mutual-static:/css/missing.css",
        "/etc/passwd",
    ],
)
def test_fetcher_refuses_everything_but_our_static_files(url: str) -> None:
    with pytest.raises(ValueError, match="static files"):
        StaticFetcher().fetch(url)


def test_fetcher_serves_our_stylesheet() -> None:
    response = StaticFetcher().fetch("mutual-static:/css/pdf.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


# ---------------------------------------------------------------- content


@pytest.mark.slow
def test_every_agreed_entry_appears_with_one_plain_attribution(plan_pdf: bytes) -> None:
    text = pdf_text(plan_pdf)
    for item in realistic_snapshot()["entries"]:
        assert flat(item["text"]) in text
    assert "Written by Sam, this wording by Alex, agreed by both" in text
    assert "Written by Alex, agreed by both" in text
    assert "Sam's words, heard by Alex" in text
    assert "Alex's words, heard by Sam" in text
    # the days of the yeses only once, in the version line; no contract clauses
    assert "Sam and Alex · Agreed version 3 · 26 Nov 2026, 20:10 UTC" in text
    assert "every yes given 21\u201322 Nov 2026" in text
    assert text.count("21 Nov") + text.count("22 Nov") == 1
    assert "Agreed by" not in text
    assert "acknowledged" not in text


@pytest.mark.slow
def test_the_first_page_is_what_serves_the_moment(plan_pdf: bytes) -> None:
    """Signals, then each response with what it answers, then how each of us is
    likely to react; each partner's other words come after, on pages of their own."""
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(plan_pdf)).pages]
    first = pages[0]
    order = [
        "Right now",
        "Our signals",
        "Texting just the word “lighthouse”.",
        "What we'll do if one of us gets to the edge",
        "If I say our word, you stay. Even if I ask.",
        "This answers Alex: “I start to believe nobody would notice if I left.”",
        "How I'm likely to react when I feel untrusting or disconnected",
    ]
    assert [first.index(part) for part in order] == sorted(
        first.index(part) for part in order
    )
    assert "I go quiet and stop answering messages." in first
    assert "I get sharp and push you away. Then I feel ashamed." in first
    for later in ("Being told to calm down.", "No shouting.", "Saying when we need"):
        assert later not in first
    rest = " ".join(pages[1:])
    assert "Each of us, in our own words" in rest
    assert "What helps this relationship feel safe for both of us" in rest


@pytest.mark.slow
@pytest.mark.parametrize("count", [7, 14])  # found too long; far too long
def test_a_long_right_now_leaves_no_half_empty_page(count: int) -> None:
    """Right now on more than a page: each of us follows straight on after it."""
    responses = [
        entry("edge_responses", f"Response {i}: " + "we stay close and talk. " * 12)
        for i in range(count)
    ]
    mine = entry("bottom_lines", "MY-BOTTOM-LINE", owner=SAM, author=SAM)
    reader = PdfReader(io.BytesIO(render_pdf(snapshot([*responses, mine]))))
    pages = [flat(page.extract_text()) for page in reader.pages]
    last = next(i for i, page in enumerate(pages) if f"Response {count - 1}:" in page)
    assert last > 0
    assert "Each of us, in our own words" in pages[last]
    assert "MY-BOTTOM-LINE" in pages[last]


@pytest.mark.slow
def test_each_persons_sections_side_by_side(plan_pdf: bytes, tmp_path: Path) -> None:
    source = tmp_path / "plan.pdf"
    source.write_bytes(plan_pdf)
    layout = poppler("pdftotext", "-layout", str(source), "-")
    lines = [" ".join(line.split()) for line in layout.splitlines()]
    # one line holds both partners' words: Sam's column, then Alex's
    assert "Being told to calm down. Plans changing at the last minute." in lines
    assert "Sam Alex" in lines


@pytest.mark.slow
def test_under_a_hot_button_what_we_will_do(plan_pdf: bytes) -> None:
    text = pdf_text(plan_pdf)
    # Alex's "what comes up" is answered by a response: the pair reads both ways
    assert (
        "I start to believe nobody would notice if I left. "
        "What we'll do: “If I say our word, you stay. Even if I ask.”"
    ) in text


@pytest.mark.slow
def test_no_page_to_turn_to(plan_pdf: bytes) -> None:
    text = pdf_text(plan_pdf)
    assert not re.search(r"\bturn to\b|\(page \d+\)|see page", text)


@pytest.mark.slow
def test_the_revisit_date_is_printed_when_set() -> None:
    for card in (False, True):
        dated = pdf_text(
            render_pdf(realistic_snapshot(), revisit_by="2026-12-14", card=card)
        )
        assert "We'll look at this again by 14 December 2026." in dated
    assert "look at this again" not in pdf_text(render_pdf(snapshot(many_entries(1))))


@pytest.mark.slow
def test_every_shared_section_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared sections come from sections.SHARED: one added there prints too."""
    extra = Section("extra_shared", "A section added later", False, "", "", ())
    monkeypatch.setitem(sections.BY_KEY, extra.key, extra)
    monkeypatch.setattr(snapshots, "SHARED", (*sections.SHARED, extra))
    keys = [spec.key for spec in (*sections.SHARED, extra)]
    text = pdf_text(render_pdf(snapshot([entry(k, f"WORDS-OF-{k}") for k in keys])))
    for spec in (*sections.SHARED, extra):
        assert f"{spec.title} WORDS-OF-{spec.key}" in text


@pytest.mark.slow
def test_draft_entries_only_in_a_draft_marked_as_such() -> None:
    unagreed = entry("edge_responses", "DRAFT-ONLY-7f3a: call", agreed=False)
    data = snapshot([entry("edge_responses", "We stay."), unagreed], version=None)
    for card in (False, True):
        normal = pdf_text(render_pdf(data, card=card))
        assert "DRAFT-ONLY-7f3a" not in normal
        assert "We stay." in normal
    card_text = pdf_text(render_pdf(data, card=True, draft=True))
    assert "Draft — not yet agreed by both DRAFT-ONLY-7f3a: call — Sam" in card_text

    draft_pdf = render_pdf(data, draft=True)
    text = pdf_text(draft_pdf)
    assert "DRAFT-ONLY-7f3a" in text
    assert "Draft — not yet agreed by both DRAFT-ONLY-7f3a" in text
    assert "Working draft · 26 Nov 2026" in text
    for page in PdfReader(io.BytesIO(draft_pdf)).pages:
        assert "DRAFT" in page.extract_text()


@pytest.mark.slow
def test_a_draft_says_a_persons_own_words_wait_to_be_heard() -> None:
    mine = entry("hot_buttons", "UNHEARD-4e1", owner=SAM, agreed=False)
    text = pdf_text(render_pdf(snapshot([mine], version=None), draft=True))
    assert "Draft — not yet heard by Alex UNHEARD-4e1 Sam's words" in text
    assert "agreed by both" not in text


@pytest.mark.slow
def test_answers_quote_only_entries_the_paper_shows() -> None:
    private = entry("hot_buttons", "UNAGREED-ANSWER-91c", owner=SAM, agreed=False)
    response = entry("edge_responses", "We pause.", answers=(private["id"],))
    text = pdf_text(render_pdf(snapshot([private, response])))
    assert "We pause." in text
    assert "UNAGREED-ANSWER-91c" not in text
    assert "This answers" not in text


@pytest.mark.slow
def test_someone_no_longer_in_the_plan() -> None:
    """Their personal words go with them; a shared entry they agreed to keeps a
    neutral name; times stored without a zone (SQLite) still print."""
    gone = str(uuid.uuid4())
    theirs = entry("hot_buttons", "LEFT-WITH-THEM-5d2", owner=SAM)
    theirs["owner_id"] = gone
    shared = entry("signals", "A shared signal.")
    shared["consents"][1].update(account_id=gone, name="", at="2026-11-23T08:00:00")
    text = pdf_text(render_pdf(snapshot([theirs, shared])))
    assert "LEFT-WITH-THEM-5d2" not in text
    assert "Written by Sam, agreed by both" in text
    assert "every yes given 21\u201323 Nov 2026" in text


@pytest.mark.slow
def test_forty_entries_make_several_pages() -> None:
    data = render_pdf(snapshot(many_entries(40)))
    assert 3 <= len(PdfReader(io.BytesIO(data)).pages) <= 12


# ---------------------------------------------------------------- the PDF itself


@pytest.mark.slow
def test_title_language_and_tags(plan_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(plan_pdf))
    catalog = reader.trailer["/Root"]
    assert reader.metadata is not None
    assert reader.metadata.title == "When it gets hard"
    assert catalog["/Lang"] == "en"
    assert catalog["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert "/StructTreeRoot" in catalog


@pytest.mark.slow
def test_fonts_are_embedded_noto(plan_pdf: bytes) -> None:
    fonts = {}
    for page in PdfReader(io.BytesIO(plan_pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        assert "Noto-Sans" in name
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor


@pytest.mark.slow
def test_renders_without_weasyprint_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdf(realistic_snapshot(), draft=True)
        render_pdf(realistic_snapshot(), card=True, paper="letter")
    assert [r.getMessage() for r in caplog.records] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("paper", "size"), [("a4", (595.28, 841.89)), ("letter", (612.0, 792.0))]
)
def test_paper_size(paper: str, size: tuple[float, float]) -> None:
    data = render_pdf(snapshot(many_entries(2)), paper=paper)
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(size, abs=0.5)


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="paper"):
        render_pdf(snapshot([]), paper="a3")


# ---------------------------------------------------------------- the card


@pytest.mark.slow
def test_card_uses_every_panel_on_one_page() -> None:
    data = render_pdf(realistic_snapshot(), card=True)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text = pdf_text(data)
    for part in (
        "When it gets hard Sam and Alex Agreed version 3",
        "Our signals Texting just the word “lighthouse”. — Alex",
        "What we'll do If I say our word, you stay. Even if I ask. — Sam and Alex",
        "What helps us feel safe Saying when we need space, and for how long. — Alex",
    ):
        assert part in text
    assert "Being told to calm down." not in text  # personal: full plan only
    assert "Not leaving a fight hanging" not in text  # other shared: full plan only
    assert "shorter to fit" not in text
    assert "haven't agreed" not in text


@pytest.mark.slow
def test_card_says_so_for_an_empty_panel() -> None:
    text = pdf_text(
        render_pdf(snapshot([entry("signals", "The blue mug.")]), card=True)
    )
    assert "Our signals The blue mug. — Sam" in text
    assert "We haven't agreed on what we'll do yet." in text


@pytest.mark.slow
def test_card_shrinks_type_before_it_cuts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Words that fit in smaller type are all there, with no note of a cut."""
    tried: list[dict[str, pocket.Panel]] = []
    real_fit = pocket.fit

    def spy(render: Any, view: Any) -> Any:
        def recording(panels: dict[str, pocket.Panel]) -> Any:
            tried.append(panels)
            return render(panels)

        return real_fit(recording, view)

    monkeypatch.setattr(pocket, "fit", spy)
    responses = [
        entry("edge_responses", f"Response {i}: we stay in the same room, quietly.")
        for i in range(7)
    ]
    text = pdf_text(render_pdf(snapshot(responses), card=True))
    for item in responses:
        assert item["text"] in text
    assert "shorter to fit" not in text
    steps = [panels["edge_responses"].step for panels in tried]
    assert steps[0] == 0
    assert steps[-1] > 0
    assert all(panels["edge_responses"].limit is None for panels in tried)


@pytest.mark.slow
def test_card_stays_one_page_with_twelve_long_responses() -> None:
    long = [
        entry(
            "edge_responses",
            f"Response {i}: " + "we stay close and keep talking. " * 25,
        )
        for i in range(12)
    ]
    data = render_pdf(snapshot(long), card=True)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text = pdf_text(data)
    assert "Response 0: we stay close" in text
    found = re.search(r"…and (\d+) more in the full plan\. Made shorter to fit", text)
    assert found is not None
    shown = len(re.findall(r"Response \d+:", text))
    assert shown >= 2
    assert shown + int(found[1]) == 12


@pytest.mark.slow
def test_card_with_a_pathological_title_is_still_one_page() -> None:
    data = render_pdf(snapshot(many_entries(4), title="Ours " * 80), card=True)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


# ---------------------------------------------------------------- safety


@pytest.fixture
def canary() -> Iterator[tuple[int, list[Any]]]:
    """A listening socket on 127.0.0.1 that records any connection to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    hits: list[Any] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                conn, address = server.accept()
            except TimeoutError:
                continue
            hits.append(address)
            conn.close()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The URLs WeasyPrint asks the fetcher for, and those it was given, here."""
    seen: dict[str, list[str]] = {"asked": [], "served": []}
    real_fetch = StaticFetcher.fetch

    def spy(self: StaticFetcher, url: str, headers: Any = None) -> Any:
        seen["asked"].append(url)
        response = real_fetch(self, url, headers)
        seen["served"].append(url)
        return response

    monkeypatch.setattr(pdf_module.StaticFetcher, "fetch", spy)
    return seen


def hostile_texts(port: int) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">',
        f"<style>@import url(http://127.0.0.1:{port}/y.css)</style>",
        "url(file:///etc/hostname)",
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
        "{{ 7*7 }} {% raw %}",
    ]


def assert_nothing_leaked(data: bytes, hits: list[Any], served: list[str]) -> None:
    assert hits == []
    assert all(url.startswith("mutual-static:/css/") for url in served)
    assert b"/EmbeddedFiles" not in data
    assert b"/URI" not in data
    hostname = Path("/etc/hostname").read_text().strip()
    if len(hostname) >= 8:  # a shorter name could match compressed bytes by chance
        assert hostname.encode() not in data
        assert hostname not in pdf_text(data)


@pytest.mark.slow
def test_user_text_is_printed_never_fetched(
    canary: tuple[int, list[Any]], fetches: dict[str, list[str]]
) -> None:
    port, hits = canary
    texts = hostile_texts(port)
    data = render_pdf(snapshot([entry("signals", text) for text in texts]))
    printed = pdf_text(data)
    for text in texts:
        assert flat(text) in printed
    assert fetches["asked"] == ["mutual-static:/css/pdf.css"]
    assert_nothing_leaked(data, hits, fetches["served"])


@pytest.mark.slow
def test_even_raw_markup_cannot_fetch_or_attach(
    canary: tuple[int, list[Any]], fetches: dict[str, list[str]]
) -> None:
    """Defence in depth: hostile HTML straight into the pipeline, past the escaping."""
    port, hits = canary
    html = "<!doctype html><html lang='en'><title>x</title>" + "".join(
        hostile_texts(port)
    )
    html += (
        f"<img src='http://127.0.0.1:{port}/i.png'>"
        f"<link rel='attachment' href='http://127.0.0.1:{port}/a'>"
        f"<style>@font-face {{ font-family: x; src: url(http://127.0.0.1:{port}/f) }}"
        "body { font-family: x; background: url(file:///etc/hostname) }</style>"
        f"<object data='http://127.0.0.1:{port}/o'></object>"
        "<svg><image href='file:///etc/passwd'/></svg><p>still here</p>"
    )
    data = html_to_pdf(html)
    assert "still here" in pdf_text(data)
    assert any(url.startswith("file:") for url in fetches["asked"])  # and refused
    assert any(url.startswith("http:") for url in fetches["asked"])
    assert fetches["served"] == []
    assert_nothing_leaked(data, hits, fetches["served"])


# ---------------------------------------------------------------- the worker pool


@pytest.mark.slow
def test_pool_renders_times_out_and_recovers() -> None:
    small = snapshot(many_entries(2))
    with PdfRenderer(timeout=20) as renderer:
        assert renderer.render(small).startswith(b"%PDF")
        with pytest.raises(PdfError):
            renderer.render(snapshot(many_entries(60)), timeout=0.05)
        card = renderer.render(small, card=True, paper="letter")
        assert len(PdfReader(io.BytesIO(card)).pages) == 1
    renderer.close()  # closing twice is harmless
    with pytest.raises(PdfError, match="closed"):
        renderer.render(small)
