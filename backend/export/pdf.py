"""The printed plan: a snapshot dict in, PDF bytes out, with nothing fetched.

Rules this module keeps (what the paper says is worked out in `view`, the card's
fitting in `card`):
- A draft (`draft=True`) has a DRAFT watermark on every page, the card too.
- User text is only ever escaped by Jinja, never marked safe, and the URL fetcher
  serves our own stylesheets from static/ and refuses every other URL, so no text
  can make WeasyPrint read a file or open a connection.
- Every script prints: the stylesheets name Noto families for Latin, Greek,
  Cyrillic, Arabic, Hebrew, Devanagari, CJK and emoji (installed with the system),
  and text that starts right-to-left is set right-to-left.
- A pocket card is always exactly one page.
- The agreed plan (not the card, not a draft) carries itself as an embedded
  file, mutual-plan.json (backend.export.plan_file), and a version from which a
  former partner's words were removed says so, with the day.
"""

import re
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML, Attachment
from weasyprint.document import Document
from weasyprint.urls import URLFetcher, URLFetcherResponse

from backend import timezones
from backend.config import ROOT
from backend.export import card as pocket
from backend.export.plan_file import PLAN_FILE, plan_json
from backend.export.view import PlanView, build_view

STATIC_DIR = (ROOT / "static").resolve()
SCHEME = "mutual-static"
BASE_URL = f"{SCHEME}:/"
# pdf/ua-1 tags the structure (headings, lists, reading order) and sets
# DisplayDocTitle, so screen readers announce the plan's title, not a file name.
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}
PAPERS = {"a4": ("A4", 210.0, 297.0), "letter": ("letter", 215.9, 279.4)}

# The card: a 2 x 2 grid of 85 x 55 mm panels (bank-card size) at the top of the
# sheet, cut out and folded twice; the page area is exactly the card.
CARD_WIDTH_MM, CARD_HEIGHT_MM, CARD_TOP_MM = 170.0, 110.0, 15.0
# More than this much of "right now" (see PlanView.moment_size) never fits on the
# first page: a long plan is laid out once, without trying a page break first.
FIRST_PAGE_HOLDS = 6000
PLAN_FILE_SAYS = "This plan as data: Mutual can start a new plan from it."

_SERVED = {
    ".css": "text/css; charset=utf-8",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
}
# No dots in folder names, so no "..": the path cannot climb out of static/.
_SAFE_NAME = re.compile(r"(?:[a-z0-9_-]+/)*[a-z0-9_-]+\.[a-z0-9]+")

_env = Environment(
    loader=FileSystemLoader(ROOT / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class StaticFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """Serves stylesheets and fonts from static/ as mutual-static:/…; refuses the rest.

    It never calls the parent's fetch, so file:, http(s):, ftp: and data: URLs, and
    redirects, cannot be reached however a URL got into the document.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(SCHEME,), allow_redirects=False)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = static_path(url)
        content_type = {"Content-Type": _SERVED[path.suffix]}
        return URLFetcherResponse(url, body=path.read_bytes(), headers=content_type)


def static_path(url: str) -> Path:
    """The file in static/ that `url` names, or ValueError for anything else."""
    # The message never repeats the URL: WeasyPrint logs it, and logs carry no text.
    refused = ValueError("only Mutual's own static files may be loaded")
    if not url.startswith(BASE_URL):
        raise refused
    name = url.removeprefix(BASE_URL)
    if not _SAFE_NAME.fullmatch(name) or Path(name).suffix not in _SERVED:
        raise refused
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise refused
    return path


def render_pdf(
    snapshot: dict[str, Any],
    *,
    paper: str = "a4",
    card: bool = False,
    draft: bool = False,
    time_zone: str | None = None,
    revisit_by: str | None = None,
) -> bytes:
    """The plan (or its one-page pocket card) as PDF bytes, in this process, with
    its times on the clock of `time_zone` (an IANA name; UTC if unknown) and the
    day the partners mean to look at it again (`revisit_by`, ISO), if any."""
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {sorted(PAPERS)}")
    view = build_view(
        snapshot,
        draft=draft,
        zone=timezones.zone(time_zone),
        revisit_by=date.fromisoformat(revisit_by) if revisit_by else None,
    )
    document = _fit_card(view, paper) if card else _plan(view, paper)
    # The agreed plan carries itself as JSON, so a printed copy can come back.
    return _write(document, None if card or draft else plan_json(snapshot))


def html_to_pdf(html: str, *, paper: str = "a4") -> bytes:
    """Any HTML through the same locked-down pipeline (tests feed it hostile markup)."""
    return _write(_layout(html, _page_css(paper)))


def _page_css(paper: str, *, card: bool = False) -> str:
    size, width, height = PAPERS[paper]
    if not card:
        return f"@page {{ size: {size}; }}"
    side = (width - CARD_WIDTH_MM) / 2
    bottom = height - CARD_TOP_MM - CARD_HEIGHT_MM
    margin = f"{CARD_TOP_MM}mm {side:.2f}mm {bottom:.2f}mm"
    return f"@page {{ size: {size}; margin: {margin}; }}"


def _layout(html: str, page_css: str) -> Document:
    fetcher = StaticFetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=page_css, url_fetcher=fetcher)], **PDF_OPTIONS
    )
    # Our templates make no outside links and attach nothing; dropping any that
    # appear means even injected markup could not embed or point at a file.
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if link[0] == "internal"]
    return document


def _write(document: Document, plan_file: bytes | None = None) -> bytes:
    attached = (
        [Attachment(string=plan_file, name=PLAN_FILE, description=PLAN_FILE_SAYS)]
        if plan_file
        else []
    )
    pdf: bytes = document.write_pdf(attachments=attached, **PDF_OPTIONS)
    return pdf


def _plan(view: PlanView, paper: str) -> Document:
    """The plan; what serves the moment has a page of its own when it fits on the
    first, and otherwise the rest follows straight on, leaving no half-empty page."""
    template = _env.get_template("pdf/plan.html")
    if view.moment_size() <= FIRST_PAGE_HOLDS:
        document = _layout(template.render(plan=view, flowing=False), _page_css(paper))
        if "now-end" in document.pages[0].anchors or not view.moment_size():
            return document
    # far too long for one page, or found too long: one more render, no break
    return _layout(template.render(plan=view, flowing=True), _page_css(paper))


def _fit_card(view: PlanView, paper: str) -> Document:
    template = _env.get_template("pdf/card.html")
    page_css = _page_css(paper, card=True)

    def render(panels: dict[str, pocket.Panel]) -> Document:
        return _layout(template.render(plan=view, panels=panels), page_css)

    return pocket.fit(render, view)
