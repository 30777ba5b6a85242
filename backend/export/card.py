"""The pocket card: four panels of one sheet, each filled and fitted on its own.

Rules this module keeps:
- The card is always exactly one page: a cover, our signals, what we'll do and
  what helps, each on a panel of its own (85 x 55 mm, bank-card size).
- A panel whose words do not fit first gets smaller type, step by step; only at
  the smallest type are its entries shortened, then the last ones left out, and
  then the panel says so and points to the full plan.
- Each entry names who wrote it, briefly: the card repeats no long bylines.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

from weasyprint.document import Document

from backend.entries.sections import RESPONSES
from backend.export.view import HELPS, SIGNALS, EntryView, PlanView, shorten

SIZES = (9.5, 9.0, 8.5, 7.5, 7.0)  # points, of .step-0 .. .step-4 in card.css
STEPS = len(SIZES)
LIMITS = (300, 200, 120, 80)  # characters per entry, once at the smallest type
CUT = "…"
MM = 96 / 25.4  # CSS pixels in a millimetre: anchors are placed in CSS pixels
PADDING = 3.5 * MM  # a panel's bottom padding in card.css
# (key, heading, what an empty panel says); the cover is the fourth panel
PANELS = (
    (SIGNALS, "Our signals", "We haven't agreed on a signal yet."),
    (RESPONSES, "What we'll do", "We haven't agreed on what we'll do yet."),
    (HELPS, "What helps us feel safe", "We haven't agreed on this yet."),
)


@dataclass(frozen=True)
class CardEntry:
    text: str
    who: str
    draft: bool
    direction: str


@dataclass(frozen=True)
class Panel:
    key: str
    heading: str
    empty: str
    entries: tuple[CardEntry, ...]
    step: int = 0
    limit: int | None = None  # characters per entry, once shortened
    keep: int | None = None  # how many entries, once some are left out

    @property
    def shown(self) -> tuple[CardEntry, ...]:
        kept = self.entries[: self.keep] if self.keep is not None else self.entries
        if self.limit is None:
            return kept
        return tuple(replace(e, text=shorten(e.text, self.limit, CUT)) for e in kept)

    @property
    def more(self) -> int:
        return len(self.entries) - len(self.shown)

    @property
    def cut(self) -> bool:
        return self.limit is not None and any(
            s.text != e.text for s, e in zip(self.shown, self.entries, strict=False)
        )

    def smaller(self, over: "Overflow") -> "Panel | None":
        """The next way to make this panel fit, or None when nothing is left to try.

        Words take room with the square of their type size, so words more than
        (9.5 / 7)² too tall cannot fit in any type: they skip straight to the
        smallest, and then to the shortest wordings."""
        if self.step < STEPS - 1:
            hopeless = (over.ratio or 0) > (SIZES[self.step] / SIZES[-1]) ** 2
            return replace(self, step=STEPS - 1 if hopeless else self.step + 1)
        if self.limit != LIMITS[-1] and self.entries:
            at = -1 if self.limit is None else LIMITS.index(self.limit)
            nxt = LIMITS[-1] if (over.ratio or 0) > 2 else LIMITS[at + 1]
            return replace(self, limit=nxt)
        kept = len(self.shown)
        if kept == 0:
            return None
        # those that fit, less one to make room for "…and N more"
        return replace(self, keep=max(min(kept - 1, over.fits - 1), 0))


@dataclass(frozen=True)
class Overflow:
    ratio: float | None  # how much taller than the panel (1.2: a fifth); None: unknown
    fits: int  # how many entries end inside the panel


def panels_of(view: PlanView) -> dict[str, Panel]:
    panels = {
        key: Panel(
            key, heading, empty, tuple(_card_entry(e) for e in view.section(key))
        )
        for key, heading, empty in PANELS
    }
    panels["cover"] = Panel("cover", "", "", ())
    return panels


def fit(render: Callable[[dict[str, Panel]], Document], view: PlanView) -> Document:
    """One page always, each panel as large as it fits (see the module's rules)."""
    panels = panels_of(view)
    while True:
        document = render(panels)
        over = overflowing(document, panels)
        if not over and len(document.pages) == 1:
            return document
        tighter = {key: panels[key].smaller(found) for key, found in over.items()}
        if not over or any(panel is None for panel in tighter.values()):
            # only a pathological title gets here; the card is still one page
            return document.copy(document.pages[:1])
        panels = {**panels, **{k: p for k, p in tighter.items() if p is not None}}


def overflowing(document: Document, panels: dict[str, Panel]) -> dict[str, Overflow]:
    """Each panel whose words run past its bottom edge, and by how much."""
    anchors = document.pages[0].anchors
    over = {}
    for key, panel in panels.items():
        box = anchors[f"panel-{key}"]
        top, bottom = box[1], box[3] - PADDING
        end = anchors.get(f"end-{key}")
        if end is None or end[1] > bottom:
            ends = [anchors.get(f"{key}-{i}") for i in range(len(panel.shown))]
            placed = [e[3] for e in ends if e is not None]
            fits = sum(1 for y in placed if y <= bottom)
            over[key] = Overflow(
                ratio=_ratio(end, placed, len(ends), top=top, bottom=bottom), fits=fits
            )
    return over


def _ratio(
    end: tuple[float, ...] | None,
    placed: list[float],
    entries: int,
    *,
    top: float,
    bottom: float,
) -> float | None:
    """How much taller than the panel the words are; past the page's end, where
    nothing has a place, estimated from the entries that have one."""
    if end is not None:
        return (end[1] - top) / (bottom - top)
    if not placed:
        return None
    return (placed[-1] - top) / (bottom - top) * entries / len(placed)


def _card_entry(entry: EntryView) -> CardEntry:
    return CardEntry(entry.text, entry.who, entry.draft, entry.direction)
