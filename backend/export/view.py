"""What the paper shows, worked out from a snapshot before any layout.

Rules this module keeps:
- A normal render shows agreed entries only; `draft=True` adds the unagreed ones,
  each marked.
- The paper opens with what serves a hard moment: our signals, what we'll do (each
  response with what it answers) and each partner's "how I'm likely to react". Then
  each partner's other sections side by side, then the other shared sections.
- Personal entries print beside their owner; those of someone no longer in the
  plan are left out, as in the reading view.
- Every entry says whose words it is in one plain line, without dates; the dates of
  the yeses are summed up once, in the version line.
- Days and times are on the plan's clock (its creator's time zone), and the version
  line names that zone; a plan without a known zone is printed in UTC, saying so.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend import timezones
from backend.consent.snapshots import FORMER, attribution, reading_view
from backend.entries.sections import BY_KEY, RESPONSES

SIGNALS, REACTIONS, HELPS = "signals", "reactions", "feel_safe"
MOMENT = (SIGNALS, RESPONSES)  # the shared sections of the right-now part
ENTRY_ROOM = 150  # an entry's byline and spacing, in characters of text
# Our own month names: the server's locale must not change what is printed.
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DASH = "\u2013"  # an en dash, between the first and the last day


@dataclass(frozen=True)
class EntryView:
    text: str
    byline: str
    who: str  # the names alone, for the card
    draft: bool
    direction: str  # "rtl" when the text starts in a right-to-left script
    waiting: str = ""  # in a draft, what an entry not yet agreed or heard waits for
    answers: tuple[tuple[str, str], ...] = ()  # (owner's name, short quote)
    answered_by: tuple[str, ...] = ()  # short quotes of the responses to it
    note: str = ""  # for a yes taken back: who, when, why


@dataclass(frozen=True)
class SectionView:
    key: str
    heading: str
    entries: tuple[EntryView, ...]


@dataclass(frozen=True)
class SideBySide:
    """One personal section, a column per partner who wrote in it."""

    key: str
    heading: str
    names: tuple[str, ...]
    slots: tuple[int, ...]
    rows: tuple[tuple[EntryView | None, ...], ...]


@dataclass(frozen=True)
class PlanView:
    title: str
    names: str
    status: str
    short_status: str  # the version alone, for the foot of each page
    draft: bool
    revisit: str
    moment: tuple[SectionView, ...]
    reactions: SideBySide | None
    personal: tuple[SideBySide, ...]
    shared: tuple[SectionView, ...]
    # agreed once, the yes since taken back: to talk about, not to follow
    taken_back: tuple[EntryView, ...] = ()

    def section(self, key: str) -> tuple[EntryView, ...]:
        found = (s for s in (*self.moment, *self.shared) if s.key == key)
        return next((s.entries for s in found), ())

    @property
    def responses(self) -> tuple[EntryView, ...]:
        return self.section(RESPONSES)

    def moment_size(self) -> int:
        """About how much room "right now" takes: its characters, and as many
        again per entry for its byline and spacing."""
        entries = [e for s in self.moment for e in s.entries]
        if self.reactions:
            entries += [e for row in self.reactions.rows for e in row if e]
        return sum(len(e.text) + ENTRY_ROOM for e in entries)

    @property
    def empty(self) -> bool:
        return not (self.moment or self.reactions or self.personal or self.shared)


def build_view(
    snapshot: dict[str, Any],
    *,
    draft: bool,
    zone: ZoneInfo | None = None,
    revisit_by: date | None = None,
) -> PlanView:
    """What the paper shows: agreed entries only unless `draft`; no empty sections.

    Grouped by `reading_view`, as the agreed page is: the paper and the screen
    read one snapshot the same way.
    """
    partners = sorted(snapshot["partners"], key=lambda p: p["slot"])
    owners = {p["id"]: p["name"] for p in partners}
    shown = [e for e in snapshot["entries"] if _shows(e, owners, draft=draft)]
    view = reading_view({**snapshot, "entries": shown, "partners": partners})

    def entry_view(e: dict[str, Any]) -> EntryView:
        return EntryView(
            text=e["text"],
            byline=attribution(e, owners),
            who=_who(e, owners),
            draft=not e["agreed"],
            waiting="" if e["agreed"] else _waiting(e, owners),
            direction=direction(e["text"]),
            answers=tuple(
                (owner or target["first_author_name"], _quote(target["text"]))
                for target, owner in view["answers"][e["id"]]
            ),
            answered_by=tuple(_quote(r["text"]) for r in view["answered_by"][e["id"]]),
        )

    shared = [
        SectionView(spec.key, spec.title, tuple(entry_view(e) for e in items))
        for spec, items in view["shared"]
    ]
    side_by_side = _side_by_side(view["personal"], entry_view)
    short_status, status = _status(snapshot, shown, draft=draft, zone=zone)
    return PlanView(
        title=snapshot["plan"]["title"],
        names=" and ".join(p["name"] for p in partners),
        short_status=short_status,
        status=status,
        draft=draft,
        revisit=f"We'll look at this again by {long_day(revisit_by)}."
        if revisit_by
        else "",
        moment=tuple(
            sorted(
                (s for s in shared if s.key in MOMENT),
                key=lambda s: MOMENT.index(s.key),
            )
        ),
        reactions=next((s for s in side_by_side if s.key == REACTIONS), None),
        personal=tuple(s for s in side_by_side if s.key != REACTIONS),
        shared=tuple(s for s in shared if s.key not in MOMENT),
        taken_back=tuple(_taken_back_view(e, owners, zone) for e in view["taken_back"]),
    )


def _side_by_side(
    personal: list[Any], entry_view: Callable[[dict[str, Any]], EntryView]
) -> list[SideBySide]:
    """Each personal section once, with a column for each partner who wrote in it."""
    columns: dict[str, list[tuple[dict[str, Any], list[EntryView]]]] = {}
    for partner, groups in personal:
        for spec, items in groups:
            columns.setdefault(spec.key, []).append(
                (partner, [entry_view(e) for e in items])
            )
    found = []
    for key, written in columns.items():
        depth = max(len(entries) for _, entries in written)
        rows = tuple(
            tuple(entries[i] if i < len(entries) else None for _, entries in written)
            for i in range(depth)
        )
        found.append(
            SideBySide(
                key=key,
                heading=BY_KEY[key].my_title or BY_KEY[key].title,
                names=tuple(partner["name"] for partner, _ in written),
                slots=tuple(partner["slot"] for partner, _ in written),
                rows=rows,
            )
        )
    order = list(BY_KEY)
    return sorted(found, key=lambda s: order.index(s.key))


def _waiting(entry: dict[str, Any], owners: dict[str, str]) -> str:
    """On a partner's own words the other "hears"; shared words both agree."""
    owner = entry.get("owner_id")
    if not owner:
        return "Draft — not yet agreed by both"
    other = next((name for i, name in owners.items() if i != owner), "")
    return f"Draft — not yet heard by {other}" if other else "Draft"


def _who(entry: dict[str, Any], owners: dict[str, str]) -> str:
    if entry.get("owner_id"):
        return owners.get(entry["owner_id"]) or FORMER
    first = entry.get("first_author_name") or entry["author_name"] or FORMER
    last = entry["author_name"] or FORMER
    return first if last == first else f"{first} and {last}"


def _shows(entry: dict[str, Any], owners: dict[str, str], *, draft: bool) -> bool:
    section = BY_KEY.get(entry["section"])
    if section is None or not (draft or entry["agreed"]):
        return False
    # Personal words print only beside their owner, as the reading view shows them:
    # a partner who has left takes theirs along.
    return not section.personal or entry["owner_id"] in owners


def _taken_back_view(
    entry: dict[str, Any], owners: dict[str, str], zone: ZoneInfo | None
) -> EntryView:
    note = f": “{entry['note']}”" if entry.get("note") else ""
    return EntryView(
        text=entry["text"],
        byline=attribution({**entry, "agreed": False}, owners),
        who=_who(entry, owners),
        draft=False,
        direction=direction(entry["text"]),
        note=f"{entry['by_name']} took the yes back on {day(entry['at'], zone)}{note}",
    )


def _status(
    snapshot: dict[str, Any],
    shown: list[dict[str, Any]],
    *,
    draft: bool,
    zone: ZoneInfo | None,
) -> tuple[str, str]:
    """The version line, in short (for the foot of each page) and in full: the
    one place the paper gives the days of the yeses."""
    made = stamp(snapshot["created_at"], zone)
    if draft:
        return "Working draft", f"Working draft · {made}"
    if snapshot["version"] is None:
        name = "Agreed plan"
    else:
        name = f"Agreed version {snapshot['version']}"
    removed = snapshot.get("words_removed_at")
    gone = (
        f" · Words of {FORMER} were removed on {day(removed, zone)}" if removed else ""
    )
    days = sorted({_local(c["at"], zone).date() for e in shown for c in e["consents"]})
    if not days:
        return name, f"{name} · {made}{gone}"
    return name, f"{name} · {made} · every yes given {_span(days[0], days[-1])}{gone}"


def _span(first: date, last: date) -> str:
    """'22 Nov 2026', '21-22 Nov 2026', '30 Nov - 2 Dec 2026', or both in full
    (with en dashes)."""
    if first == last:
        return _short(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}{DASH}{_short(last)}"
    if first.year == last.year:
        return f"{first.day} {MONTHS[first.month - 1][:3]} {DASH} {_short(last)}"
    return f"{_short(first)} {DASH} {_short(last)}"


def direction(text: str) -> str:
    """'rtl' when the first letter with a direction is Hebrew, Arabic or the like."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _local(iso: str, zone: ZoneInfo | None) -> datetime:
    return timezones.local(datetime.fromisoformat(iso), zone)


def _short(moment: date) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1][:3]} {moment.year}"


def day(iso: str, zone: ZoneInfo | None) -> str:
    return _short(_local(iso, zone))


def long_day(moment: date) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def stamp(iso: str, zone: ZoneInfo | None) -> str:
    """'26 Nov 2026, 21:10 CET'; '26 Nov 2026, 20:10 UTC' when the zone is unknown."""
    moment = _local(iso, zone)
    label = moment.strftime("%Z") if zone else "UTC"
    if label[:1] in "+-":  # zones without an abbreviation: "+03" reads as "UTC+03"
        label = f"UTC{label}"
    return f"{_short(moment)}, {moment:%H:%M} {label}"


def _quote(text: str) -> str:
    return shorten(" ".join(text.split()), 140, "…")


def shorten(text: str, limit: int, tail: str) -> str:
    """`text` cut to at most `limit` characters, on a word boundary if there is one."""
    if len(text) <= limit:
        return text
    cut = re.sub(r"\s*\S*$", "", text[: limit + 1]) or text[:limit]
    return cut + tail
