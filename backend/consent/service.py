"""Consent: a partner's yes to one exact version of an entry, and taking it back.

A yes counts only for the version it was given to (invariant 2). Every change
to what is agreed goes through `refresh_plan_version` before the commit, so the
numbered versions of the agreed plan never miss one.
"""

import uuid

from sqlalchemy import and_, bindparam, func, update
from sqlmodel import Session, col, select

from backend import changes
from backend.consent.agreed import (
    agreed_text,
    as_stored,
    place_of,
    standing_of,
    yeses_and_kind,
)
from backend.consent.versions import hold_plan, refresh_plan_version
from backend.db import record_signal, utc_now
from backend.entries.rules import Yes, in_plan, yes_word
from backend.entries.rules import standing as rules_standing
from backend.errors import Conflict, FormError, NotFound
from backend.members import people_of
from backend.models import REMOVAL, Consent, Entry, Flag, Membership, Plan
from backend.text import clean_text

NOTE_MAX = 1000


class StaleConsent(Conflict):
    """The wording changed between reading it and saying yes to it."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(
            "This was changed just now, so your yes was not recorded. "
            "Please read the new wording."
        )
        self.entry = entry


# Built once: a statement built per call costs more CPU than running it does.
_STANDING_YES = select(Consent.id).where(
    Consent.entry_id == bindparam("entry_id"),
    Consent.account_id == bindparam("account_id"),
    Consent.version == bindparam("version"),
    col(Consent.withdrawn_at).is_(None),
)


def record_consent(
    session: Session, entry: Entry, account_id: uuid.UUID, *, new_wording: bool = False
) -> Consent | None:
    """A standing yes from `account_id` to the entry's newest version; the yes
    added, or None if one was standing already.

    `new_wording`: the version was written just now, so no yes to it can exist
    yet (a yes points at its wording) and none is looked for.
    """
    standing = (
        None
        if new_wording
        else session.exec(
            _STANDING_YES,
            params={
                "entry_id": entry.id,
                "account_id": account_id,
                "version": entry.version,
            },
        ).first()
    )
    if standing is not None:
        return None
    return _add_yes(session, entry, account_id)


def _add_yes(session: Session, entry: Entry, account_id: uuid.UUID) -> Consent:
    consent = Consent(entry_id=entry.id, account_id=account_id, version=entry.version)
    changes.write_new(session, consent)
    return consent


def with_yes(session: Session, yeses: list[Yes], consent: Consent | None) -> list[Yes]:
    """`yeses` (read before `consent` was added) with it, as they would be read now."""
    if consent is None:
        return yeses
    given = as_stored(session, consent.given_at)
    return [*yeses, Yes(consent.account_id, consent.version, given)]


def agree(
    session: Session, plan: Plan, entry: Entry, *, account_id: uuid.UUID, version: int
) -> Entry:
    """Agree to (or say "heard" to) exactly the wording the person was shown.

    A yes to a request to take the entry out, once both have said it, takes the
    entry out of the plan.
    """
    # after the entry (its row lock, the route's): what is read from here on
    # is passed to the plan's version as it is
    hold_plan(session, plan.id)
    people = people_of(session, plan.id)
    if account_id not in people:
        # no longer a partner: the route may have checked before this transaction
        raise NotFound
    if not in_plan(entry):
        raise NotFound
    if version != entry.version:
        raise StaleConsent(entry)
    if yes_word(entry, account_id) is None:
        raise FormError({"form": "These are your own words: they need no yes."})
    # every yes to the entry and its newest wording's kind, read once: the yes
    # added here is added to them, not read again
    yeses, kind = yeses_and_kind(session, entry)
    mine = any(
        y.standing and y.account_id == account_id and y.version == entry.version
        for y in yeses
    )
    added = None if mine else _add_yes(session, entry, account_id)
    standing = rules_standing(
        entry.version, with_yes(session, yeses, added), list(people)
    )
    if standing.agreed == entry.version and kind == REMOVAL:
        entry.deleted_at = utc_now()
        entry.deleted_by = account_id
        session.add(entry)
    record_signal(session, plan.id, "entry", entry.id)
    # the standing just worked out is the one the version records: nothing
    # changed the entry's yeses since
    place = place_of(people, entry, standing)
    refresh_plan_version(session, plan, entry_id=entry.id, place=place)
    session.commit()
    return entry


def withdraw_proposal(
    session: Session, plan: Plan, entry: Entry, *, account_id: uuid.UUID
) -> Entry:
    """The proposer takes back a proposed change (or request to take the entry out)
    before the partner has agreed to it; the agreed wording simply stays."""
    standing = standing_of(session, entry)
    if standing.agreed is None or standing.pending is None:
        return entry
    _withdraw(session, entry, account_id, newer_than=standing.agreed, note=None)
    if standing_of(session, entry).pending is None:
        # nobody stands behind the newest wording now: the entry reads as agreed
        entry.text = agreed_text(session, entry) or entry.text
        session.add(entry)
    record_signal(session, plan.id, "entry", entry.id)
    refresh_plan_version(session, plan, entry_id=entry.id)
    session.commit()
    return entry


def take_back(
    session: Session, plan: Plan, entry: Entry, *, account_id: uuid.UUID, note: str
) -> Entry:
    """Take back my yes to a shared entry, at any time, never silently: it stays in
    the plan, marked as taken back, by me, now, with my note, to talk about."""
    if yes_word(entry, account_id) != "agree":
        raise FormError(
            {"form": "Only an agreement to shared words can be taken back."}
        )
    cleaned = clean_text(note).strip()[:NOTE_MAX] or None
    if _withdraw(session, entry, account_id, newer_than=None, note=cleaned):
        record_signal(session, plan.id, "entry", entry.id)
        refresh_plan_version(session, plan, entry_id=entry.id)
        session.commit()
    return entry


def _withdraw(
    session: Session,
    entry: Entry,
    account_id: uuid.UUID,
    *,
    newer_than: int | None,
    note: str | None,
) -> int:
    """Withdraw this person's standing yeses to the entry (newer ones only, if
    asked); the rows stay, with when and why."""
    changes.touch(session, [entry.plan_id], entries=[entry.id])
    query = update(Consent).where(
        and_(
            col(Consent.entry_id) == entry.id,
            col(Consent.account_id) == account_id,
            col(Consent.withdrawn_at).is_(None),
        )
    )
    if newer_than is not None:
        query = query.where(col(Consent.version) > newer_than)
    result = session.exec(query.values(withdrawn_at=utc_now(), withdraw_note=note))
    session.expire_all()
    return int(result.rowcount or 0)


def waiting_counts(
    session: Session, plan_ids: list[uuid.UUID], account_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    """Per plan: newest wordings shared with me that I haven't said yes to yet.

    Only plans with two partners count: with one, there is no one to agree with yet.
    """
    if not plan_ids:
        return {}
    pairs = (
        select(Membership.plan_id)
        .where(col(Membership.plan_id).in_(plan_ids))
        .group_by(col(Membership.plan_id))
        .having(func.count() == 2)
    )
    mine = and_(
        col(Consent.entry_id) == Entry.id,
        col(Consent.account_id) == account_id,
        col(Consent.version) == Entry.version,
        col(Consent.withdrawn_at).is_(None),
    )
    rows = session.exec(
        select(Entry.plan_id, func.count())
        .outerjoin(Consent, mine)
        .where(
            col(Entry.plan_id).in_(pairs),
            col(Entry.deleted_at).is_(None),
            col(Entry.is_draft).is_(False),
            (col(Entry.owner_id).is_(None)) | (col(Entry.owner_id) != account_id),
            col(Consent.id).is_(None),
        )
        .group_by(col(Entry.plan_id))
    ).all()
    return dict(rows)


def open_flags(session: Session, entry_ids: list[uuid.UUID]) -> dict[uuid.UUID, Flag]:
    if not entry_ids:
        return {}
    rows = session.exec(
        select(Flag).where(
            col(Flag.entry_id).in_(entry_ids), col(Flag.cleared_at).is_(None)
        )
    ).all()
    return {flag.entry_id: flag for flag in rows}


def raise_flag(
    session: Session, entry: Entry, *, account_id: uuid.UUID, note: str
) -> Flag:
    """A "let's talk about this" flag: shown to both until either clears it.

    An entry has one open flag (a unique index): the entry's row is locked
    first, so two flags raised at once make one.
    """
    session.exec(
        select(Entry.id).where(Entry.id == entry.id).with_for_update(key_share=True)
    )
    flag = open_flags(session, [entry.id]).get(entry.id)
    if flag is None:
        flag = Flag(
            entry_id=entry.id,
            raised_by=account_id,
            note=clean_text(note).strip()[:NOTE_MAX] or None,
        )
        session.add(flag)
        record_signal(session, entry.plan_id, "entry", entry.id)
        session.commit()
    return flag


def clear_flag(session: Session, entry: Entry, *, account_id: uuid.UUID) -> None:
    flag = open_flags(session, [entry.id]).get(entry.id)
    if flag is not None:
        flag.cleared_at = utc_now()
        flag.cleared_by = account_id
        session.add(flag)
        record_signal(session, entry.plan_id, "entry", entry.id)
        session.commit()
