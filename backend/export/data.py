"""Everything a person wrote, as JSON they can take with them (docs/export.md).

The "mutual-export" document: one person's words across their plans: each
entry's wordings they wrote, their yeses, debrief answers, notes and replies,
flags, the plans' names and times. Nothing the partner wrote, except what the
agreed plan of each plan holds (a "mutual-plan" document, backend.export.plan_file).
A private draft is in it: it is its writer's.
"""

import io
import json
import uuid
import zipfile
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.consent import versions
from backend.db import utc_now
from backend.entries.sections import BY_KEY
from backend.export.plan_file import EXPORT_FORMAT, VERSION, plan_document
from backend.models import (
    Account,
    Consent,
    Debrief,
    DebriefAnswer,
    Entry,
    Flag,
    Membership,
    Note,
    Plan,
    Revision,
)
from backend.plans.service import plans_of


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_of(session: Session, account_id: uuid.UUID) -> dict[str, Any]:
    """Everything `account_id` wrote, in every plan they are in."""
    account = session.get_one(Account, account_id)
    return {
        "format": EXPORT_FORMAT,
        "version": VERSION,
        "exported_at": utc_now().isoformat(),
        "account": {
            "display_name": account.display_name,
            "email": account.email,
            "created_at": account.created_at.isoformat(),
        },
        "plans": [
            _plan_of(session, plan, account_id)
            for plan in plans_of(session, account_id)
        ],
    }


def agreed_snapshots(
    session: Session, account_id: uuid.UUID
) -> list[tuple[Plan, uuid.UUID, dict[str, Any]]]:
    """Each of the person's plans that has an agreed version, with its newest
    (the version's id, and its snapshot)."""
    found = []
    for plan in plans_of(session, account_id):
        latest = versions.latest_version(session, plan.id)
        if latest is not None and versions.has_agreed(latest.snapshot):
            found.append((plan, latest.id, latest.snapshot))
    return found


def _plan_of(session: Session, plan: Plan, me: uuid.UUID) -> dict[str, Any]:
    joined = session.exec(
        select(Membership.joined_at).where(
            Membership.plan_id == plan.id, Membership.account_id == me
        )
    ).one()
    latest = versions.latest_version(session, plan.id)
    agreed = (
        latest.snapshot if latest and versions.has_agreed(latest.snapshot) else None
    )
    return {
        "id": str(plan.id),
        "title": plan.title,
        "named_by_me": plan.created_by == me,
        "created_at": plan.created_at.isoformat(),
        "joined_at": joined.isoformat(),
        "entries": _entries_of(session, plan, me),
        "yeses": _yeses_of(session, plan, me),
        "flags": _flags_of(session, plan, me),
        "debriefs_started": _talks_of(session, plan, me),
        "debrief_answers": _answers_of(session, plan, me),
        "notes": _notes_of(session, plan, me),
        "agreed_plan": plan_document(agreed) if agreed else None,
    }


def _entries_of(session: Session, plan: Plan, me: uuid.UUID) -> list[dict[str, Any]]:
    """Entries I own or wrote a wording of, each with only my wordings."""
    rows = session.exec(
        select(Entry, Revision)
        .join(Revision, col(Revision.entry_id) == Entry.id)
        .where(Entry.plan_id == plan.id, Revision.author_id == me)
        .order_by(col(Entry.created_at), col(Entry.id), col(Revision.version))
    ).all()
    entries: dict[uuid.UUID, dict[str, Any]] = {}
    for entry, revision in rows:
        item = entries.setdefault(
            entry.id,
            {
                "id": str(entry.id),
                "section": entry.section,
                "section_title": BY_KEY[entry.section].title
                if entry.section in BY_KEY
                else entry.section,
                "mine": entry.owner_id == me,
                "draft": entry.is_draft,
                "removed_at": _when(entry.deleted_at),
                "removed_note": entry.removed_note if entry.deleted_by == me else None,
                "wordings": [],
            },
        )
        item["wordings"].append(
            {
                "version": revision.version,
                "kind": revision.kind,
                "text": revision.text,
                "note": revision.note,
                "written_at": revision.created_at.isoformat(),
            }
        )
    return list(entries.values())


def _yeses_of(session: Session, plan: Plan, me: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Consent)
        .join(Entry, col(Entry.id) == Consent.entry_id)
        .where(Entry.plan_id == plan.id, Consent.account_id == me)
        .order_by(col(Consent.given_at))
    ).all()
    return [
        {
            "entry_id": str(c.entry_id),
            "version": c.version,
            "given_at": c.given_at.isoformat(),
            "taken_back_at": _when(c.withdrawn_at),
            "taken_back_note": c.withdraw_note,
        }
        for c in rows
    ]


def _flags_of(session: Session, plan: Plan, me: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Flag)
        .join(Entry, col(Entry.id) == Flag.entry_id)
        .where(Entry.plan_id == plan.id, Flag.raised_by == me)
        .order_by(col(Flag.created_at))
    ).all()
    return [
        {
            "entry_id": str(f.entry_id),
            "note": f.note,
            "raised_at": f.created_at.isoformat(),
            "cleared_at": _when(f.cleared_at),
        }
        for f in rows
    ]


def _talks_of(session: Session, plan: Plan, me: uuid.UUID) -> list[dict[str, Any]]:
    """The talks I started: their day, and the name I gave them."""
    rows = session.exec(
        select(Debrief)
        .where(Debrief.plan_id == plan.id, Debrief.started_by == me)
        .order_by(col(Debrief.happened_on))
    ).all()
    return [
        {
            "debrief_id": str(t.id),
            "happened_on": t.happened_on.isoformat(),
            "title": t.title,
        }
        for t in rows
    ]


def _answers_of(session: Session, plan: Plan, me: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Debrief, DebriefAnswer)
        .join(DebriefAnswer, col(DebriefAnswer.debrief_id) == Debrief.id)
        .where(Debrief.plan_id == plan.id, DebriefAnswer.account_id == me)
        .order_by(col(Debrief.happened_on))
    ).all()
    return [
        {
            "debrief_id": str(talk.id),
            "happened_on": talk.happened_on.isoformat(),
            "title": talk.title if talk.started_by == me else None,
            "what_happened": answer.what_happened,
            "how_it_felt": answer.how_it_felt,
            "what_would_help": answer.what_would_help,
            "what_to_change": answer.what_to_change,
            "updated_at": answer.updated_at.isoformat(),
            "shared_at": _when(answer.shared_at),
        }
        for talk, answer in rows
    ]


def _notes_of(session: Session, plan: Plan, me: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Note)
        .where(Note.plan_id == plan.id, Note.author_id == me)
        .order_by(col(Note.created_at))
    ).all()
    return [
        {
            "id": str(n.id),
            "reply_to_id": str(n.reply_to_id) if n.reply_to_id else None,
            "what_i_see": n.what_i_see,
            "what_i_feel": n.what_i_feel,
            "what_i_need": n.what_i_need,
            "body": n.body,
            "created_at": n.created_at.isoformat(),
            "sent_at": _when(n.sent_at),
        }
        for n in rows
    ]


def bundle(document: dict[str, Any], files: dict[str, bytes]) -> bytes:
    """One zip file: mutual-export.json, and beside it each plan's agreed files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "mutual-export.json",
            json.dumps(document, ensure_ascii=False, indent=1),
        )
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()
