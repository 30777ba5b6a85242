"""Consent: a partner's yes to one exact version of an entry, and taking it back.

Every change to what is agreed goes through `refresh_plan_version` before the
commit, so the numbered versions of the agreed plan never miss one.
"""

import uuid

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from backend.consent.agreed import refresh_plan_version
from backend.db import utc_now
from backend.errors import Conflict, NotFound
from backend.models import Consent, Entry, Flag, Membership, Plan
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


def record_consent(session: Session, entry: Entry, account_id: uuid.UUID) -> Consent:
    """A standing yes from `account_id` to the entry's current version."""
    # a yes points at its revision (a foreign key), so a wording just added is
    # written first: without relationships, a flush would not order the two
    session.flush()
    consent = session.exec(
        select(Consent).where(
            Consent.entry_id == entry.id,
            Consent.account_id == account_id,
            Consent.version == entry.version,
        )
    ).first()
    if consent is None:
        consent = Consent(
            entry_id=entry.id, account_id=account_id, version=entry.version
        )
    elif consent.withdrawn_at is not None:
        consent.withdrawn_at = None
        consent.withdraw_note = None
        consent.given_at = utc_now()
    session.add(consent)
    session.flush()
    return consent


def agree(
    session: Session, plan: Plan, entry: Entry, *, account_id: uuid.UUID, version: int
) -> Entry:
    """Agree to (or acknowledge) exactly the wording the person was shown."""
    if entry.deleted_at is not None or entry.is_draft:
        raise NotFound
    if version != entry.version:
        raise StaleConsent(entry)
    record_consent(session, entry, account_id)
    refresh_plan_version(session, plan)
    session.commit()
    return entry


def withdraw(
    session: Session, plan: Plan, entry: Entry, *, account_id: uuid.UUID, note: str
) -> Entry:
    """Take back a yes, at any time, with an optional note; the entry re-opens."""
    consent = session.exec(
        select(Consent).where(
            Consent.entry_id == entry.id,
            Consent.account_id == account_id,
            Consent.version == entry.version,
            col(Consent.withdrawn_at).is_(None),
        )
    ).first()
    if consent is not None:
        consent.withdrawn_at = utc_now()
        consent.withdraw_note = clean_text(note).strip()[:NOTE_MAX] or None
        session.add(consent)
        refresh_plan_version(session, plan)
        session.commit()
    return entry


def waiting_counts(
    session: Session, plan_ids: list[uuid.UUID], account_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    """Per plan: live entries shared with me whose current wording I haven't agreed to.

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
        session.commit()
    return flag


def clear_flag(session: Session, entry: Entry, *, account_id: uuid.UUID) -> None:
    flag = open_flags(session, [entry.id]).get(entry.id)
    if flag is not None:
        flag.cleared_at = utc_now()
        flag.cleared_by = account_id
        session.add(flag)
        session.commit()
