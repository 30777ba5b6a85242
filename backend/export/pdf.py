"""The printed plan: a snapshot dict in, PDF bytes out, with nothing fetched.

Rules this module keeps:
- A normal render shows agreed entries only; `draft=True` adds the unagreed ones,
  each marked, and a DRAFT watermark on every page (the card too).
- Personal entries print beside their owner; those of someone no longer in the
  plan are left out, as in the reading view.
- Every entry shows who wrote its wording and when each partner agreed to it (on a
  partner's personal entry the other partner "heard" it).
- Days and times are on the plan's clock (its creator's time zone), and the status
  line names that zone; a plan without a known zone is printed in UTC, saying so.
- User text is only ever escaped by Jinja, never marked safe, and the URL fetcher
  serves our own stylesheets from static/ and refuses every other URL, so no text
  can make WeasyPrint read a file or open a connection.
- A pocket card is always exactly one page.
- The agreed plan (not the card, not a draft) carries itself as an embedded
  file, mutual-plan.json (backend.export.plan_file), and a version from which a
  former partner's words were removed says so, with the day.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML, Attachment
from weasyprint.document import Document
from weasyprint.urls import URLFetcher, URLFetcherResponse

from backend import timezones
from backend.config import ROOT
from backend.consent.snapshots import reading_view
from backend.entries.sections import BY_KEY, RESPONSES
from backend.export.plan_file import PLAN_FILE, plan_json

STATIC_DIR = (ROOT / "static").resolve()
SCHEME = "mutual-static"
BASE_URL = f"{SCHEME}:/"
# pdf/ua-1 tags the structure (headings, lists, reading order) and sets
# DisplayDocTitle, so screen readers announce the plan's title, not a file name.
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}
PAPERS = {"a4": ("A4", 210.0, 297.0), "letter": ("letter", 215.9, 279.4)}

# The card: a 2 x 2 grid of 85 x 55 mm panels (bank-card size) at the top of the
# sheet, cut out and folded twice. The page area is exactly the card, so anything
# that does not fit spills onto a second page, which is how we detect it.
CARD_WIDTH_MM, CARD_HEIGHT_MM, CARD_TOP_MM = 170.0, 110.0, 15.0
CARD_STEPS = 5  # font-size steps .step-0 (9pt) .. .step-4 (7pt) in card.css
CARD_LIMITS = (300, 200, 120, 80)  # characters per response, once at 7pt
CARD_CUT = "…(see the full plan)"
FORMER = "a former partner"  # what backend.consent calls someone no longer in the plan
PLAN_FILE_SAYS = "This plan as data: Mutual can start a new plan from it."
# Our own month names: the server's locale must not change what is printed.
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()  # noqa: SIM905

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
_env.globals["responses_title"] = BY_KEY[RESPONSES].title


@dataclass(frozen=True)
class EntryView:
    text: str
    byline: str
    consents: str
    draft: bool
    answers: tuple[tuple[str, str], ...]  # (owner's name, short quote)


@dataclass(frozen=True)
class SectionView:
    key: str
    heading: str
    entries: tuple[EntryView, ...]


@dataclass(frozen=True)
class PartView:
    name: str
    slot: int
    sections: tuple[SectionView, ...]


@dataclass(frozen=True)
class PlanView:
    title: str
    names: str
    status: str
    draft: bool
    parts: tuple[PartView, ...]
    shared: tuple[SectionView, ...]
    # agreed once, the yes since taken back: to talk about, not to follow
    taken_back: tuple[EntryView, ...] = ()

    @property
    def responses(self) -> tuple[EntryView, ...]:
        return next((s.entries for s in self.shared if s.key == RESPONSES), ())


def build_view(
    snapshot: dict[str, Any], *, draft: bool, zone: ZoneInfo | None = None
) -> PlanView:
    """What the paper shows: agreed entries only unless `draft`; no empty sections.

    Grouped by `reading_view`, as the agreed page is: the paper and the screen
    read one snapshot the same way.
    """
    partners = sorted(snapshot["partners"], key=lambda p: p["slot"])
    owners = {p["id"]: p["name"] for p in partners}
    shown = [e for e in snapshot["entries"] if _shows(e, owners, draft=draft)]
    view = reading_view({**snapshot, "entries": shown, "partners": partners})

    def entries(items: list[dict[str, Any]]) -> tuple[EntryView, ...]:
        return tuple(_entry_view(e, view["answers"][e["id"]], zone) for e in items)

    parts = tuple(
        PartView(
            partner["name"],
            partner["slot"],
            tuple(
                SectionView(
                    spec.key,
                    f"{partner['name']}: {spec.my_title[0].lower()}{spec.my_title[1:]}",
                    entries(items),
                )
                for spec, items in groups
            ),
        )
        for partner, groups in view["personal"]
    )
    return PlanView(
        title=snapshot["plan"]["title"],
        names=" and ".join(p["name"] for p in partners),
        status=_status(snapshot, draft=draft, zone=zone),
        draft=draft,
        parts=parts,
        shared=tuple(
            SectionView(spec.key, spec.title, entries(items))
            for spec, items in view["shared"]
        ),
        taken_back=tuple(_taken_back_view(e, zone) for e in view["taken_back"]),
    )


def _shows(entry: dict[str, Any], owners: dict[str, str], *, draft: bool) -> bool:
    section = BY_KEY.get(entry["section"])
    if section is None or not (draft or entry["agreed"]):
        return False
    # Personal words print only beside their owner, as the reading view shows them:
    # a partner who has left takes theirs along.
    return not section.personal or entry["owner_id"] in owners


def _entry_view(
    entry: dict[str, Any],
    answered: list[tuple[dict[str, Any], str]],
    zone: ZoneInfo | None,
) -> EntryView:
    # Only answered entries this render shows: the paper never quotes anything else.
    answers = tuple(
        (owner or target["first_author_name"], _quote(target["text"]))
        for target, owner in answered
    )
    owner = entry["owner_id"] if BY_KEY[entry["section"]].personal else None
    consents = _consent_line(entry["consents"], owner, zone)
    # a person's own words: "Written by Sam on … and heard by Alex on …" says it all
    personal = owner is not None and consents.startswith("Written by")
    return EntryView(
        text=entry["text"],
        byline=consents if personal else _byline(entry),
        consents="" if personal else consents,
        draft=not entry["agreed"],
        answers=answers,
    )


def _taken_back_view(entry: dict[str, Any], zone: ZoneInfo | None) -> EntryView:
    note = f": “{entry['note']}”" if entry.get("note") else ""
    day = _day(entry["at"], zone)
    return EntryView(
        text=entry["text"],
        byline=_byline(entry),
        consents=f"{entry['by_name']} took the yes back on {day}{note}",
        draft=False,
        answers=(),
    )


def _byline(entry: dict[str, Any]) -> str:
    first = entry.get("first_author_name") or entry["author_name"]
    if entry["author_name"] == first:
        return f"Written by {first}"
    return f"Written by {first} · last changed by {entry['author_name']}"


def _consent_line(
    consents: list[dict[str, Any]], owner: str | None, zone: ZoneInfo | None
) -> str:
    """ "Agreed by Sam on 21 Nov 2026 and Alex on 22 Nov 2026", in the order they
    agreed; on a personal entry, "Written by Sam on … and heard by Alex on …"."""
    ordered = sorted(
        consents,
        key=lambda c: (c["account_id"] != owner, _moment(c["at"])),
    )
    clauses: list[str] = []
    last = None
    for consent in ordered:
        verb = (
            ("heard" if consent["account_id"] != owner else "written")
            if owner
            else "agreed"
        )
        who = f"{consent['name'] or FORMER} on {_day(consent['at'], zone)}"
        clauses.append(who if verb == last else f"{verb} by {who}")
        last = verb
    line = " and ".join(clauses)
    return line[:1].upper() + line[1:]


def _status(snapshot: dict[str, Any], *, draft: bool, zone: ZoneInfo | None) -> str:
    day = _stamp(snapshot["created_at"], zone)
    if draft:
        return f"Working draft · {day}"
    removed = snapshot.get("words_removed_at")
    gone = (
        f" · Words of {FORMER} were removed on {_day(removed, zone)}" if removed else ""
    )
    if snapshot["version"] is None:
        return f"Agreed plan · {day}{gone}"
    return f"Agreed version {snapshot['version']} · {day}{gone}"


def _day(iso: str, zone: ZoneInfo | None) -> str:
    moment = timezones.local(datetime.fromisoformat(iso), zone)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def _stamp(iso: str, zone: ZoneInfo | None) -> str:
    """'26 Nov 2026, 21:10 CET'; '26 Nov 2026, 20:10 UTC' when the zone is unknown."""
    moment = timezones.local(datetime.fromisoformat(iso), zone)
    label = moment.strftime("%Z") if zone else "UTC"
    if label[:1] in "+-":  # zones without an abbreviation: "+03" reads as "UTC+03"
        label = f"UTC{label}"
    return f"{_day(iso, zone)}, {moment:%H:%M} {label}"


def _moment(iso: str) -> datetime:
    # SQLite hands back naive times; they are UTC, and must compare with aware ones.
    return timezones.as_utc(datetime.fromisoformat(iso))


def _quote(text: str) -> str:
    return _shorten(" ".join(text.split()), 140, "…")


def _shorten(text: str, limit: int, tail: str) -> str:
    """`text` cut to at most `limit` characters, on a word boundary if there is one."""
    if len(text) <= limit:
        return text
    cut = re.sub(r"\s*\S*$", "", text[: limit + 1]) or text[:limit]
    return cut + tail


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
) -> bytes:
    """The plan (or its one-page pocket card) as PDF bytes, in this process, with
    its times on the clock of `time_zone` (an IANA name; UTC if unknown)."""
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {sorted(PAPERS)}")
    view = build_view(snapshot, draft=draft, zone=timezones.zone(time_zone))
    if card:
        document = _fit_card(view, paper)
    else:
        html = _env.get_template("pdf/plan.html").render(plan=view)
        document = _layout(html, _page_css(paper))
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


def _fit_card(view: PlanView, paper: str) -> Document:
    """One page always: smaller type step by step, then shorter responses, then fewer
    (those that fit, and "…and N more in the full plan")."""
    template = _env.get_template("pdf/card.html")
    page_css = _page_css(paper, card=True)
    total, floor = len(view.responses), CARD_STEPS - 1

    def attempt(step: int, limit: int | None, keep: int) -> Document:
        entries = [
            replace(r, text=_shorten(r.text, limit, CARD_CUT)) if limit else r
            for r in view.responses[:keep]
        ]
        html = template.render(plan=view, entries=entries, step=step, more=total - keep)
        return _layout(html, page_css)

    for step in range(CARD_STEPS):
        document = attempt(step, None, total)
        if len(document.pages) == 1:
            return document
        if len(document.pages) > 2:  # 7pt holds (9/7)² ≈ 1.65 pages of 9pt: too long
            break
    for limit in CARD_LIMITS:
        document = attempt(floor, limit, total)
        if len(document.pages) == 1:
            return document
    # The responses that start on the card, less one to make room for "…and N more".
    on_card = sum(name.startswith("response-") for name in document.pages[0].anchors)
    for keep in range(max(on_card - 1, 0), -1, -1):
        document = attempt(floor, CARD_LIMITS[-1], keep)
        if len(document.pages) == 1:
            return document
    # Only a pathological title could get here; the card is still one page.
    return document.copy(document.pages[:1])
