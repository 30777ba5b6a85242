"""Each rule about an entry, written once: a predicate, with its SQL clause beside it.

Who may change an entry (invariant 3), who may see it (invariant 8), which of
its wordings is agreed and which is waiting (invariants 2 and 6), and whether a
partner's yes to it is "agree" or "heard". Services, the plan page, the agreed
plan and the PDF all ask here; none of them decides these things on its own.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col

from backend.entries.sections import RESPONSES
from backend.models import Entry

YesWord = Literal["agree", "heard"]


# Who may change an entry (invariant 3) ------------------------------------------


def may_change(entry: Entry, account_id: uuid.UUID) -> bool:
    """Only the owner changes a personal entry; either partner a shared one."""
    return entry.owner_id is None or entry.owner_id == account_id


# Who may see an entry (invariant 8) ---------------------------------------------


def visible_to(entry: Entry, viewer_id: uuid.UUID) -> bool:
    """A private draft is its owner's alone."""
    return not entry.is_draft or entry.owner_id == viewer_id


def visible_clause(viewer_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(col(Entry.is_draft).is_(False), col(Entry.owner_id) == viewer_id)


def in_plan(entry: Entry) -> bool:
    """Shared with the partner and not removed: something both can read."""
    return not entry.is_draft and entry.deleted_at is None


def in_plan_clause() -> ColumnElement[bool]:
    return and_(col(Entry.is_draft).is_(False), col(Entry.deleted_at).is_(None))


def may_answer(response_section: str, target: Entry) -> bool:
    """A response answers a partner's own entry that is in the plan: one a
    response is for ("what we'll do when this happens"), never a private draft."""
    return (
        response_section == RESPONSES
        and target.owner_id is not None
        and in_plan(target)
    )


def no_entries_clause() -> ColumnElement[bool]:
    return false()


# Agree or heard ------------------------------------------------------------------


def yes_kind(entry: Entry) -> YesWord:
    """What a yes to this entry means: agreeing to shared words, or having heard a
    partner's own words."""
    return "agree" if entry.owner_id is None else "heard"


def yes_word(entry: Entry, account_id: uuid.UUID) -> YesWord | None:
    """What a yes from this person means; a person's own words need no one's yes
    (None)."""
    return None if entry.owner_id == account_id else yes_kind(entry)


def takes_both(entry: Entry, standing: "Standing") -> bool:
    """Changing or removing a shared entry that has an agreed wording takes both
    (invariant 6): a change is a proposal, a removal a request. One's own personal
    entry, or a shared one never agreed, is changed or removed at once."""
    return entry.owner_id is None and standing.agreed is not None


# Where an entry stands between the two (invariants 2 and 6) ---------------------


@dataclass(frozen=True)
class Yes:
    """One partner's yes to one version; withdrawn when taken back."""

    account_id: uuid.UUID
    version: int
    given_at: datetime
    withdrawn_at: datetime | None = None
    note: str | None = None

    @property
    def standing(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class Standing:
    """Which wording of an entry is in force, and what is waiting.

    `agreed`: the newest version with a standing yes from both partners.
    `pending`: the newest version, when it differs from `agreed` and someone
    still stands behind it (a proposal, or a wording never agreed yet).
    `taken_back`: the yes whose taking back left the entry with nothing agreed.
    """

    agreed: int | None
    pending: int | None
    taken_back: Yes | None
    yeses: tuple[Yes, ...]

    def standing_for(self, version: int | None) -> set[uuid.UUID]:
        """Who has a standing yes to `version`."""
        return {y.account_id for y in self.yeses if y.standing and y.version == version}

    def yes_of(self, account_id: uuid.UUID, version: int | None) -> Yes | None:
        return next(
            (
                y
                for y in self.yeses
                if y.standing and y.account_id == account_id and y.version == version
            ),
            None,
        )


def standing(newest: int, yeses: list[Yes], partners: list[uuid.UUID]) -> Standing:
    """Where an entry stands, from every yes ever given to it (invariant 2)."""
    by_version: dict[int, set[uuid.UUID]] = {}
    for y in yeses:
        if y.standing:
            by_version.setdefault(y.version, set()).add(y.account_id)
    agreed = None
    if len(partners) == 2:
        both = [v for v, who in by_version.items() if all(p in who for p in partners)]
        agreed = max(both, default=None)
    pending = None
    if newest != agreed and (agreed is None or by_version.get(newest)):
        pending = newest
    taken_back = None
    if agreed is None:
        withdrawn = [y for y in yeses if y.withdrawn_at is not None]
        latest = max(
            withdrawn, key=lambda y: y.withdrawn_at or y.given_at, default=None
        )
        if latest is not None and not any(
            y.standing
            and y.account_id == latest.account_id
            and y.version >= latest.version
            for y in yeses
        ):
            taken_back = latest
    return Standing(agreed, pending, taken_back, tuple(yeses))
