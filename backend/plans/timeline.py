"""The plan's story in one list, newest first: versions, talks, notes and flags.

Everything here is something both partners can already see: an unshared answer
or an unsent note of the partner never appears, nor anything about their drafts.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.members import Person, people_of, person
from backend.models import (
    Debrief,
    DebriefAnswer,
    Entry,
    Flag,
    Note,
    Plan,
    PlanVersion,
)


@dataclass(frozen=True)
class Moment:
    """One happening: `kind` says which, `who` did it (None: both of you)."""

    at: datetime
    kind: str
    who: Person | None
    subject: Any
    detail: Any = None


def timeline(session: Session, plan: Plan, viewer_id: uuid.UUID) -> list[Moment]:
    people = people_of(session, plan.id)
    moments = [
        *_versions(session, plan),
        *_talks(session, plan, viewer_id, people),
        *_notes(session, plan, people),
        *_flags(session, plan, viewer_id, people),
    ]
    if plan.revisit_requested_at is not None:
        moments.append(
            Moment(
                plan.revisit_requested_at,
                "revisit-asked",
                person(people, plan.revisit_requested_by),
                plan,
            )
        )
    return sorted(moments, key=lambda m: m.at, reverse=True)


def _versions(session: Session, plan: Plan) -> list[Moment]:
    rows = session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan.id)).all()
    return [Moment(v.created_at, "version", None, v) for v in rows]


def _talks(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    people: dict[uuid.UUID, Person],
) -> list[Moment]:
    debriefs = session.exec(select(Debrief).where(Debrief.plan_id == plan.id)).all()
    found = [
        Moment(d.created_at, "talk-started", person(people, d.started_by), d)
        for d in debriefs
    ]
    by_id = {d.id: d for d in debriefs}
    if by_id:
        shared = session.exec(
            select(DebriefAnswer).where(
                col(DebriefAnswer.debrief_id).in_(list(by_id)),
                col(DebriefAnswer.shared_at).is_not(None),
            )
        ).all()
        found += [
            Moment(
                a.shared_at or a.updated_at,
                "talk-shared",
                person(people, a.account_id),
                by_id[a.debrief_id],
            )
            for a in shared
        ]
    return found


def _notes(
    session: Session, plan: Plan, people: dict[uuid.UUID, Person]
) -> list[Moment]:
    rows = session.exec(
        select(Note).where(Note.plan_id == plan.id, col(Note.sent_at).is_not(None))
    ).all()
    return [
        Moment(
            n.sent_at or n.created_at,
            # a reply kept after the note it answered was erased is still a reply
            "reply" if n.reply_to_id or n.body else "note",
            person(people, n.author_id),
            n,
        )
        for n in rows
    ]


def _flags(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    people: dict[uuid.UUID, Person],
) -> list[Moment]:
    rows = session.exec(
        select(Flag, Entry)
        .join(Entry, col(Entry.id) == Flag.entry_id)
        .where(Entry.plan_id == plan.id)
    ).all()
    found = []
    for flag, entry in rows:
        if entry.is_draft and entry.owner_id != viewer_id:
            continue
        found.append(
            Moment(
                flag.created_at,
                "flag-raised",
                person(people, flag.raised_by),
                entry,
                flag,
            )
        )
        if flag.cleared_at is not None:
            found.append(
                Moment(
                    flag.cleared_at,
                    "flag-cleared",
                    person(people, flag.cleared_by),
                    entry,
                    flag,
                )
            )
    return found


def page(session: Session, plan: Plan, viewer_id: uuid.UUID) -> dict[str, Any]:
    return {
        "moments": timeline(session, plan, viewer_id),
        "me": people_of(session, plan.id)[viewer_id],
    }
