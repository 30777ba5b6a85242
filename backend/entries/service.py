"""Entries and their append-only revisions: who wrote which wording, and when."""

import uuid

from sqlalchemy import delete
from sqlmodel import Session, col, select

from backend.models import (
    Consent,
    Debrief,
    DebriefAnswer,
    Entry,
    Flag,
    Note,
    Revision,
)


def erase_words_of(session: Session, plan_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Take back every word one partner wrote in a plan (their own erasure).

    The only path on which revisions are ever deleted. Shared entries fall back
    to the newest wording someone else wrote, or go if no such wording is left.
    """
    entry_ids = select(Entry.id).where(Entry.plan_id == plan_id)
    session.exec(
        delete(Entry).where(
            col(Entry.plan_id) == plan_id, col(Entry.owner_id) == account_id
        )
    )
    session.exec(
        delete(Revision).where(
            col(Revision.entry_id).in_(entry_ids), col(Revision.author_id) == account_id
        )
    )
    session.exec(
        delete(Consent).where(
            col(Consent.entry_id).in_(entry_ids), col(Consent.account_id) == account_id
        )
    )
    session.exec(
        delete(Flag).where(
            col(Flag.entry_id).in_(entry_ids), col(Flag.raised_by) == account_id
        )
    )
    session.exec(
        delete(Note).where(
            col(Note.plan_id) == plan_id, col(Note.author_id) == account_id
        )
    )
    debrief_ids = select(Debrief.id).where(Debrief.plan_id == plan_id)
    session.exec(
        delete(DebriefAnswer).where(
            col(DebriefAnswer.debrief_id).in_(debrief_ids),
            col(DebriefAnswer.account_id) == account_id,
        )
    )
    for entry in session.exec(select(Entry).where(Entry.plan_id == plan_id)).all():
        newest = session.exec(
            select(Revision)
            .where(Revision.entry_id == entry.id)
            .order_by(col(Revision.version).desc())
        ).first()
        if newest is None:
            session.delete(entry)
        elif newest.version != entry.version or newest.text != entry.text:
            # the wording shown is now one the partner wrote; a new version number
            # makes sure no earlier consent counts for it
            entry.version = max(entry.version, newest.version) + 1
            entry.text = newest.text
            session.add(
                Revision(
                    entry_id=entry.id,
                    version=entry.version,
                    text=newest.text,
                    author_id=newest.author_id,
                )
            )
            session.add(entry)
    session.flush()
