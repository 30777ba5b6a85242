"""Cards built once and kept by what they show, so a page builds only what changed.

A card's HTML depends on: its entry, with its wordings, yeses and flag (the
entry's stamp, raised by backend/changes.py); the entries it is linked to, both
ways (their stamps, or that the viewer cannot see them); the talk its newest
wording followed; the two partners (names and sides) and whose page it is; the
talk pinned beside the plan; the reader's zone; and the clock, for its relative
times (a kept card says when its words turn, and is not used after). Its forms'
CSRF fields hold a mark, filled with the page's own masked token when sent.

Only what is read of committed rows uses it: pages read in a request that
writes nothing (the plan page, a card, a list), and the card a write answers
with, read after its commit in a transaction of its own (`cards.card`), when it
says nothing of that answer alone. So a card kept under a stamp never shows less
than that stamp says.

Kept in this process's memory, at most `SIZE` cards for `SECONDS` each: the
words on a card are held no longer than a page of them stays open in the app.
"""

import hashlib
import secrets
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cachetools import TTLCache
from markupsafe import Markup
from starlette.requests import Request

from backend import changes, timezones
from backend.crypto import keyring
from backend.entries.sections import Section
from backend.members import Person, in_side_order
from backend.models import Plan
from backend.web import request_globals, templates

if TYPE_CHECKING:
    from backend.plans.page import PlanPage

T = TypeVar("T")
SIZE = 4096
SECONDS = 600
# where the page's masked CSRF token goes; new in every process, so no text a
# person writes can spell it
MARK = f"csrf-{secrets.token_hex(16)}"

# what a card is kept under, spelled out: a string keeps its hash, so the several
# look-ups of one `get` do not each hash every id in it again
Key = str


@dataclass(frozen=True)
class Tally:
    """What a card adds to the page's counts."""

    agreed: bool
    waiting_me: bool
    waiting_partner: bool


@dataclass(frozen=True)
class Kept:
    html: str  # with MARK for the CSRF token
    tally: Tally
    until: datetime | None  # when its words turn with the clock, if they do


@dataclass
class ShelvedCard:
    """A card as kept: its entry, where it goes on the page, and its HTML."""

    id: uuid.UUID
    section: Section
    owner: Person | None
    kept: Kept
    html: Markup = field(default_factory=Markup)

    @property
    def tally(self) -> Tally:
        return self.kept.tally


class Shelf:
    """The cards kept by one app, shared by its threads; and other parts of a
    plan's page, kept under the plan's stamp (`Shelving.at_stamp`)."""

    def __init__(self, size: int = SIZE, seconds: float = SECONDS) -> None:
        self._kept: TTLCache[Key, Kept] = TTLCache(maxsize=size, ttl=seconds)
        self._parts: TTLCache[tuple[object, ...], tuple[object, datetime | None]]
        self._parts = TTLCache(maxsize=size // 4, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, key: Key) -> Kept | None:
        with self._lock:
            return self._kept.get(key)

    def put(self, key: Key, kept: Kept) -> None:
        with self._lock:
            self._kept[key] = kept

    def get_part(
        self, key: tuple[object, ...]
    ) -> tuple[object, datetime | None] | None:
        with self._lock:
            return self._parts.get(key)

    def put_part(
        self, key: tuple[object, ...], part: object, until: datetime | None
    ) -> None:
        with self._lock:
            self._parts[key] = (part, until)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._parts.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)


def shelf_of(request: Request) -> Shelf:
    shelf: Shelf = request.app.state.shelf
    return shelf


def forget_words(request: Request) -> None:
    """Someone's words are gone (their account erased, or they left a plan): no
    card kept in this process holds them any longer, nor any token opened."""
    shelf_of(request).clear()
    keyring().forget()


class Shelving:
    """One request's use of the shelf: what its cards are kept under."""

    def __init__(self, request: Request, pinned_id: str) -> None:
        self.request = request
        self.shelf = shelf_of(request)
        self.pinned_id = pinned_id
        self.zone = timezones.zone_name(request.cookies.get(timezones.COOKIE)) or ""
        self.context = ""
        self.keys: dict[uuid.UUID, Key] = {}
        self.now = datetime.now(UTC)

    def meet(
        self, plan_id: uuid.UUID, people: dict[uuid.UUID, Person], viewer: uuid.UUID
    ) -> None:
        """Whose page, and who the partners are: the same for every card on it."""
        digest = hashlib.sha256()
        for part in (
            str(plan_id),
            str(viewer),
            self.pinned_id,
            self.zone,
            *(f"{p.id}:{p.slot}:{p.name}" for p in in_side_order(people.values())),
        ):
            digest.update(part.encode())
            digest.update(b"\x00")
        self.context = digest.hexdigest()

    def find(
        self,
        entry_id: uuid.UUID,
        stamp: int,
        linked_to: Sequence[uuid.UUID],
        stamps: dict[uuid.UUID, int],
        talk: tuple[uuid.UUID, Any] | None,
    ) -> Kept | None:
        """The card kept for an entry at `stamp`, linked to entries (`linked_to`,
        either way) now at `stamps` (those the viewer may see) and written beside
        `talk`; or None, to be built."""
        linked = ",".join(sorted(f"{o.hex}:{stamps.get(o)}" for o in linked_to))
        told = f"{talk[0].hex}:{talk[1]}" if talk is not None else ""
        key = f"{self.context}|{entry_id.hex}|{stamp}|{linked}|{told}"
        self.keys[entry_id] = key
        kept = self.shelf.get(key)
        return kept if kept is not None and self._stands(kept.until) else None

    def _stands(self, until: datetime | None) -> bool:
        """Whether something kept still reads the same now (its words have not
        turned); if it will turn, the page says when (`changes.expires`)."""
        if until is None:
            return True
        if until <= self.now:
            return False
        changes.expires(until)
        return True

    def at_stamp(
        self, name: str, plan: Plan, viewer: uuid.UUID, build: Callable[[], T]
    ) -> T:
        """What `build` makes of the plan for `viewer`, kept under the plan's
        stamp: nothing it reads changes without raising it. The stamp must have
        been read before anything `build` reads (a page's plan, from the start of
        its request), so a part is never kept under a newer stamp than it shows.
        `build`'s result is shared by later requests: it must not be changed."""
        key = (name, plan.id, plan.stamp, viewer, self.zone)
        found = self.shelf.get_part(key)
        if found is not None and self._stands(found[1]):
            return cast(T, found[0])
        with changes.watching() as turns:
            made = build()
        until = min(turns) if turns else None
        self.shelf.put_part(key, made, until)
        if until is not None:
            changes.expires(until)
        return made

    def fill(self, page: "PlanPage", plan: Plan) -> None:
        """Build the cards not kept, keep them, and give every card its HTML.

        Runs where the page is rendered (the reader's zone set, inside
        `changes.watching`), before the page's own template."""
        with timezones.reading_in(timezones.zone(self.zone or None)):
            self._fill(page, plan)

    def _fill(self, page: "PlanPage", plan: Plan) -> None:
        masked = str(getattr(self.request.state, "csrf_token", ""))
        template = templates.env.get_template("entries/_card_alone.html")
        context = {
            **request_globals(self.request),
            "csrf_token": MARK,
            "page": page,
            "plan": plan,
            "pinned_id": self.pinned_id,
        }
        for view in [*page.cards.values(), *page.removed]:
            key = self.keys.get(view.id)
            with changes.watching() as turns:
                html = template.render({**context, "card": view})
            until = min(turns) if turns else None
            if key is not None:
                self.shelf.put(key, Kept(html, page.tally(view), until))
            if until is not None:
                changes.expires(until)
            view.html = _sent(html, masked)
        for card in page.kept.values():
            card.html = _sent(card.kept.html, masked)


def _sent(html: str, masked: str) -> Markup:
    """A card as this response sends it. `html` is a template's output, escaped
    by it already; the masked token is hex."""
    return Markup(html.replace(MARK, masked))  # noqa: S704
