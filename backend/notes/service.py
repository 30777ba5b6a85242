"""Reflective feedback: notes in three steps (what I see, feel, need) and replies.

What I see is the story I find myself telling, owned as mine, not a camera's
record; what I feel is what that story does to me; what I need is what I would
like to be different. A note may end by asking how the other sees it, and the
other answers in the same thread.

A note is its writer's alone until it is sent (invariant 8): an unsent note is
a draft that only its writer ever reads back, and the composer re-opens with it.
A reply belongs to the thread of the note it answers.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.db import record_signal, utc_now
from backend.entries.rules import visible_to
from backend.errors import FormError, NotFound
from backend.members import Person, people_of, person
from backend.models import Debrief, Entry, Note, Plan
from backend.text import clean_text

PART_MAX = 2000


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    hint: str


PARTS: tuple[Part, ...] = (
    Part(
        "what_i_see",
        "What I see",
        "Not what a camera would have caught: the story you find yourself"
        " telling about what is going on between you. It is real for you,"
        " and you say it as yours; it may not be how your partner sees it.",
    ),
    Part(
        "what_i_feel",
        "What I feel",
        "What that story is doing to you: what you notice in yourself,"
        " what you find yourself doing or holding back.",
    ),
    Part(
        "what_i_need",
        "What I need",
        "What you would like to be different. It can be small, or a wish to"
        " find a way through this together.",
    ),
)
ASKING_BACK = "Would you tell me how you see it?"
KEYS = tuple(p.key for p in PARTS)


@dataclass
class Thread:
    """A sent note, its sent replies, and what it is about (if anything)."""

    note: Note
    author: Person
    replies: list[tuple[Person, Note]] = field(default_factory=list)
    entry: Entry | None = None
    debrief: Debrief | None = None
    my_reply_draft: Note | None = None


def _uuid(value: str | uuid.UUID | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def about_entry(
    session: Session, plan: Plan, raw: str | uuid.UUID | None, viewer_id: uuid.UUID
) -> Entry | None:
    """An entry of this plan the viewer may see and talk about; else None."""
    key = _uuid(raw)
    entry = session.get(Entry, key) if key else None
    if entry is None or entry.plan_id != plan.id or entry.is_draft:
        return None
    return entry if visible_to(entry, viewer_id) else None


def about_debrief(
    session: Session, plan: Plan, raw: str | uuid.UUID | None
) -> Debrief | None:
    key = _uuid(raw)
    debrief = session.get(Debrief, key) if key else None
    return debrief if debrief is not None and debrief.plan_id == plan.id else None


def own_draft(
    session: Session,
    plan: Plan,
    author_id: uuid.UUID,
    *,
    draft_id: str | uuid.UUID | None = None,
    reply_to: uuid.UUID | None = None,
) -> Note | None:
    """The writer's own unsent note (by id, or the newest for this thread)."""
    query = select(Note).where(
        Note.plan_id == plan.id,
        Note.author_id == author_id,
        col(Note.sent_at).is_(None),
    )
    if draft_id is not None:
        key = _uuid(draft_id)
        if key is None:
            return None
        query = query.where(Note.id == key)
    if reply_to is None:
        # a kept reply whose note is gone is no new note's draft
        query = query.where(
            col(Note.reply_to_id).is_(None), col(Note.words_removed_at).is_(None)
        )
    else:
        query = query.where(Note.reply_to_id == reply_to)
    return session.exec(query.order_by(col(Note.created_at).desc())).first()


def _checked_parts(parts: dict[str, str], *, send: bool) -> dict[str, str]:
    texts = {key: clean_text(parts.get(key, "")).strip() for key in KEYS}
    errors = {
        key: f"Please keep this to {PART_MAX:,} characters; it is {len(text):,} now."
        for key, text in texts.items()
        if len(text) > PART_MAX
    }
    if not any(texts.values()):
        errors["form"] = (
            "Write at least one of the three parts first."
            if send
            else "There is nothing to keep yet."
        )
    if errors:
        raise FormError(errors)
    return texts


def write_note(
    session: Session,
    plan: Plan,
    *,
    author_id: uuid.UUID,
    parts: dict[str, str],
    entry_id: str | None,
    debrief_id: str | None,
    draft_id: str | None,
    send: bool,
    asks_back: bool = False,
) -> Note:
    """Send a note to the partner, or keep it as a draft only its writer sees."""
    texts = _checked_parts(parts, send=send)
    note = (
        own_draft(session, plan, author_id, draft_id=draft_id) if draft_id else None
    ) or Note(plan_id=plan.id, author_id=author_id)
    for key, text in texts.items():
        setattr(note, key, text)
    note.asks_back = asks_back
    entry = about_entry(session, plan, entry_id, author_id)
    debrief = about_debrief(session, plan, debrief_id)
    note.entry_id = entry.id if entry else None
    note.debrief_id = debrief.id if debrief else None
    if send:
        note.sent_at = utc_now()
        record_signal(session, plan.id, "note", note.id)
    session.add(note)
    session.commit()
    return note


def kept_reply(note: Note) -> bool:
    """A reply kept as its thread's start: the note it answered was erased."""
    return (
        note.reply_to_id is None
        and note.words_removed_at is not None
        and bool(note.body)
    )


def sent_note(session: Session, plan: Plan, note_id: str | uuid.UUID) -> Note:
    """A sent note of this plan that starts a thread; NotFound for anything else."""
    key = _uuid(note_id)
    note = session.get(Note, key) if key else None
    if (
        note is None
        or note.plan_id != plan.id
        or note.sent_at is None
        or note.reply_to_id is not None
        or kept_reply(note)
    ):
        raise NotFound
    return note


def write_reply(
    session: Session,
    plan: Plan,
    note_id: str,
    *,
    author_id: uuid.UUID,
    body: str,
    draft_id: str | None,
    send: bool,
) -> Note:
    """A reply in a note's thread: sent, or kept as its writer's draft."""
    root = sent_note(session, plan, note_id)
    text = clean_text(body).strip()
    if not text:
        raise FormError({"body": "There is nothing written here yet."})
    if len(text) > PART_MAX:
        too_long = (
            f"Please keep this to {PART_MAX:,} characters; it is {len(text):,} now."
        )
        raise FormError({"body": too_long})
    reply = (
        own_draft(session, plan, author_id, draft_id=draft_id, reply_to=root.id)
        if draft_id
        else None
    ) or Note(plan_id=plan.id, author_id=author_id, reply_to_id=root.id)
    reply.body = text
    if send:
        reply.sent_at = utc_now()
        record_signal(session, plan.id, "note", root.id)
    session.add(reply)
    session.commit()
    return reply


def threads(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    *,
    only: uuid.UUID | None = None,
) -> list[Thread]:
    """The conversation as the viewer may see it, newest thread first.

    Sent notes of both partners, and the viewer's own reply drafts; never a
    draft of the partner's.
    """
    people = people_of(session, plan.id)
    query = select(Note).where(
        Note.plan_id == plan.id,
        col(Note.sent_at).is_not(None) | (col(Note.author_id) == viewer_id),
    )
    if only is not None:
        query = query.where((col(Note.id) == only) | (col(Note.reply_to_id) == only))
    notes = session.exec(query.order_by(col(Note.created_at))).all()
    roots = [
        n
        for n in notes
        if n.reply_to_id is None
        and (n.sent_at is not None or (kept_reply(n) and n.author_id == viewer_id))
    ]
    entries = _by_id(session, Entry, [n.entry_id for n in roots])
    debriefs = _by_id(session, Debrief, [n.debrief_id for n in roots])
    found = []
    for root in sorted(roots, key=lambda n: n.sent_at or n.created_at, reverse=True):
        mine = [n for n in notes if n.reply_to_id == root.id]
        entry = entries.get(root.entry_id) if root.entry_id else None
        found.append(
            Thread(
                note=root,
                author=person(people, root.author_id),
                replies=[
                    (person(people, n.author_id), n)
                    for n in sorted(mine, key=lambda n: n.sent_at or n.created_at)
                    if n.sent_at is not None
                ],
                entry=entry if entry and visible_to(entry, viewer_id) else None,
                debrief=debriefs.get(root.debrief_id) if root.debrief_id else None,
                my_reply_draft=next(
                    (
                        n
                        for n in reversed(mine)
                        if n.sent_at is None and n.author_id == viewer_id
                    ),
                    None,
                ),
            )
        )
    return found


def _by_id(
    session: Session, table: type[Any], ids: list[uuid.UUID | None]
) -> dict[uuid.UUID, Any]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(table).where(col(table.id).in_(wanted))).all()
    return {row.id: row for row in rows}


def keep_replies_to(
    session: Session, plan_id: uuid.UUID, account_id: uuid.UUID, now: datetime
) -> None:
    """Before a person's notes go with their erased words: the partner's
    replies stay theirs.

    The replies to each of the person's notes stay together: the first becomes
    the thread's start and says when the note it answered was removed. A thread
    the partner started that loses the person's replies says so, too.
    """
    gone = select(Note.id).where(
        Note.plan_id == plan_id,
        Note.author_id == account_id,
        col(Note.reply_to_id).is_(None),
    )
    # the partner's replies, one thread per note of the person's
    threads: dict[uuid.UUID | None, list[Note]] = {}
    for reply in session.exec(
        select(Note).where(
            col(Note.reply_to_id).in_(gone), Note.author_id != account_id
        )
    ).all():
        threads.setdefault(reply.reply_to_id, []).append(reply)
    for kept in threads.values():
        kept.sort(key=lambda n: (n.sent_at is None, n.sent_at or n.created_at))
        first = kept[0]
        first.reply_to_id = None
        first.words_removed_at = now
        for reply in kept[1:]:
            reply.reply_to_id = first.id
        session.add_all(kept)
    answered = select(Note.reply_to_id).where(
        Note.plan_id == plan_id,
        Note.author_id == account_id,
        col(Note.reply_to_id).is_not(None),
        col(Note.sent_at).is_not(None),
    )
    session.exec(
        update(Note)
        .where(
            col(Note.plan_id) == plan_id,
            col(Note.author_id) != account_id,
            col(Note.id).in_(answered),
        )
        .values(words_removed_at=now)
    )
    session.flush()
