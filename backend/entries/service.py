"""Entries and their append-only revisions: who wrote which wording, and when.

Writing a wording records its writer's consent to it (invariant 2). Every edit
names the version it was based on; a stale base is refused, never merged
silently (invariant 4). Revisions are only ever added, except when their
author takes back their words (invariant 5).
"""

import uuid
from datetime import datetime

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from backend import changes
from backend.consent.agreed import (
    agreed_text,
    newest_is_removal,
    place_of,
    standing_of,
    yeses_of,
)
from backend.consent.service import (
    NOTE_MAX,
    record_consent,
    with_yes,
    withdraw_proposal,
)
from backend.consent.versions import hold_plan, refresh_plan_version
from backend.db import record_signal, utc_now
from backend.entries import rules
from backend.entries.rules import Yes, standing
from backend.entries.sections import BY_KEY, RESPONSES
from backend.errors import Conflict, FormError, NotFound
from backend.members import FORMER_NAME, Person, people_of
from backend.models import (
    REMOVAL,
    WORDING,
    Consent,
    Debrief,
    DebriefAnswer,
    EarlierEntry,
    Entry,
    EntryLink,
    Flag,
    Note,
    Plan,
    PlanVersion,
    Revision,
)
from backend.notes.service import keep_replies_to
from backend.text import clean_text

MAX_LENGTH = 4000
UNNAMED = "Our plan"  # a plan's name once whoever gave it has taken their words back


class StaleEdit(Conflict):
    """Someone saved a newer wording since this edit began."""

    def __init__(self, entry: Entry, attempted: str) -> None:
        super().__init__("This entry was changed while you were writing.")
        self.entry = entry
        self.attempted = attempted


def checked_text(raw: str) -> str:
    """Cleaned entry text, or FormError (the editor keeps what was typed)."""
    text = clean_text(raw).strip("\n ")
    if not text.strip():
        raise FormError({"text": "There is nothing written here yet."})
    if len(text) > MAX_LENGTH:
        raise FormError(
            {
                "text": f"Please keep this to {MAX_LENGTH:,} characters; "
                f"it is {len(text):,} now."
            }
        )
    return text


# Built once: a statement built per call costs more CPU than running it does.
_ENTRY = select(Entry).where(
    Entry.id == bindparam("entry_id"), Entry.plan_id == bindparam("plan_id")
)
_ENTRY_FOR_UPDATE = _ENTRY.with_for_update()


def get_entry(
    session: Session,
    plan: Plan,
    entry_id: str | uuid.UUID,
    viewer_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Entry:
    """An entry of this plan that the viewer may see; NotFound otherwise."""
    try:
        key = entry_id if isinstance(entry_id, uuid.UUID) else uuid.UUID(entry_id)
    except ValueError:
        raise NotFound from None
    query = _ENTRY_FOR_UPDATE if for_update else _ENTRY
    entry = session.exec(query, params={"entry_id": key, "plan_id": plan.id}).first()
    if entry is None or not rules.visible_to(entry, viewer_id):
        raise NotFound
    return entry


def _require_change(entry: Entry, account_id: uuid.UUID) -> None:
    if not rules.may_change(entry, account_id):
        raise FormError({"form": "Only the person who wrote this can change it."})


def add_entry(
    session: Session,
    plan: Plan,
    *,
    author_id: uuid.UUID,
    section: str,
    text: str,
    draft: bool = False,
    debrief_id: uuid.UUID | None = None,
    commit: bool = True,
) -> Entry:
    """A new entry: personal sections belong to their writer; drafts are personal.

    `commit=False` leaves the transaction open, for a use case that adds several
    and commits once, at its end.
    """
    entry = _new_entry(
        session,
        plan,
        author_id=author_id,
        section=section,
        text=text,
        draft=draft,
        debrief_id=debrief_id,
    )
    if commit:
        session.commit()
    return entry


def _new_entry(
    session: Session,
    plan: Plan,
    *,
    author_id: uuid.UUID,
    section: str,
    text: str,
    draft: bool,
    debrief_id: uuid.UUID | None,
) -> Entry:
    spec = BY_KEY.get(section)
    if spec is None:
        raise NotFound
    wording = checked_text(text)
    entry = Entry(
        plan_id=plan.id,
        section=section,
        owner_id=author_id if spec.personal else None,
        created_by=author_id,
        updated_by=author_id,
        text=wording,
        is_draft=draft and spec.personal,
    )
    session.add(entry)
    session.flush()
    _signal(session, entry, appeared=True)
    _save_wording(
        session,
        plan,
        entry,
        author_id=author_id,
        debrief_id=debrief_id,
    )
    return entry


def add_response(
    session: Session,
    plan: Plan,
    target_id: str,
    *,
    author_id: uuid.UUID,
    text: str,
    debrief_id: uuid.UUID | None = None,
) -> Entry:
    """A new shared response that answers a hot button or reaction, in one step.

    The response and the link to what it answers are written together or not at
    all; like any shared entry, the response waits for both partners' yes.
    """
    target = get_entry(session, plan, target_id, author_id)
    if not rules.may_answer(RESPONSES, target):
        raise FormError({"respond": "A response can answer an entry in the plan."})
    response = _new_entry(
        session,
        plan,
        author_id=author_id,
        section=RESPONSES,
        text=text,
        draft=False,
        debrief_id=debrief_id,
    )
    _link(session, plan, response, target, account_id=author_id)
    session.commit()
    return response


def edit_entry(
    session: Session,
    plan: Plan,
    entry_id: str,
    *,
    author_id: uuid.UUID,
    base_version: int,
    text: str,
    debrief_id: uuid.UUID | None = None,
) -> Entry:
    """A new wording, based on `base_version`; StaleEdit if that is not current.

    On an entry with an agreed wording this is a proposal: the agreed wording
    stays in force until both have said yes to the new one (invariant 6).
    """
    entry = get_entry(session, plan, entry_id, author_id, for_update=True)
    # what is read from here on is passed to the plan's version as it is
    hold_plan(session, plan.id)
    people = people_of(session, plan.id)
    if author_id not in people:
        # no longer a partner: the route may have checked before this transaction
        raise NotFound
    _require_change(entry, author_id)
    if entry.deleted_at is not None:
        raise FormError({"form": "This entry was removed. Restore it to change it."})
    wording = checked_text(text)
    if base_version != entry.version:
        raise StaleEdit(entry, clean_text(text))
    if wording == entry.text and not newest_is_removal(session, entry):
        return entry
    before = standing_of(session, entry, people)
    if wording == agreed_text(session, entry, people, before):
        # back to what is agreed: that is taking my proposal back, not a new one
        return withdraw_proposal(session, plan, entry, account_id=author_id)
    _new_version(entry, wording, author_id)
    session.add(entry)
    _signal(session, entry)
    _save_wording(
        session,
        plan,
        entry,
        author_id=author_id,
        debrief_id=debrief_id,
        people=people,
        yeses=list(before.yeses),
    )
    session.commit()
    return entry


def _new_version(entry: Entry, text: str, author_id: uuid.UUID) -> None:
    entry.version += 1
    entry.text = text
    entry.updated_at = utc_now()
    entry.updated_by = author_id


def _save_wording(
    session: Session,
    plan: Plan,
    entry: Entry,
    *,
    author_id: uuid.UUID,
    debrief_id: uuid.UUID | None,
    kind: str = WORDING,
    note: str | None = None,
    people: dict[uuid.UUID, Person] | None = None,
    yeses: list[Yes] | None = None,
) -> None:
    """Append the entry's newest version as a revision; writing it is saying yes.
    (`people`: the plan's partners, `yeses`: every yes to the entry before this
    wording, if the caller has read them already.)"""
    changes.write_new(
        session,
        Revision(
            entry_id=entry.id,
            version=entry.version,
            text=entry.text,
            author_id=author_id,
            debrief_id=debrief_id,
            kind=kind,
            note=note,
        ),
    )
    added = record_consent(session, entry, author_id, new_wording=True)
    place = None
    if people is not None and yeses is not None:
        # where the entry stands now: the yeses before, and the writer's yes
        found = standing(entry.version, with_yes(session, yeses, added), list(people))
        place = place_of(people, entry, found)
    refresh_plan_version(session, plan, entry_id=entry.id, people=people, place=place)


def remove_entry(
    session: Session,
    plan: Plan,
    entry_id: str,
    *,
    account_id: uuid.UUID,
    note: str = "",
) -> Entry:
    """Take an entry out; on a shared entry with an agreed wording, ask to.

    One's own personal entry, or a shared entry never agreed, goes at once and
    can be restored; the partner sees who did it and why, if they said. An agreed
    shared entry stays in force until both say yes to taking it out (invariant 6).
    """
    entry = get_entry(session, plan, entry_id, account_id, for_update=True)
    _require_change(entry, account_id)
    why = clean_text(note).strip()[:NOTE_MAX] or None
    if entry.deleted_at is not None:
        return entry
    if rules.takes_both(entry, standing_of(session, entry)):
        if newest_is_removal(session, entry):
            return entry
        # the request quotes the words in force, not a wording nobody stands behind
        _new_version(entry, agreed_text(session, entry) or entry.text, account_id)
        session.add(entry)
        _signal(session, entry)
        _save_wording(
            session,
            plan,
            entry,
            author_id=account_id,
            debrief_id=None,
            kind=REMOVAL,
            note=why,
        )
        session.commit()
        return entry
    entry.deleted_at = utc_now()
    entry.deleted_by = account_id
    entry.removed_note = why
    session.add(entry)
    _signal(session, entry)
    refresh_plan_version(session, plan, entry_id=entry.id)
    session.commit()
    return entry


def restore_entry(
    session: Session, plan: Plan, entry_id: str, *, account_id: uuid.UUID
) -> Entry:
    """Undo a removal made by one person alone; one agreed by both is final."""
    entry = get_entry(session, plan, entry_id, account_id, for_update=True)
    _require_change(entry, account_id)
    if entry.deleted_at is not None and not newest_is_removal(session, entry):
        entry.deleted_at = None
        entry.deleted_by = None
        entry.removed_note = None
        session.add(entry)
        _signal(session, entry, appeared=True)
        refresh_plan_version(session, plan, entry_id=entry.id)
        session.commit()
    return entry


def share_draft(
    session: Session, plan: Plan, entry_id: str, *, account_id: uuid.UUID
) -> Entry:
    """The owner shows a private draft to their partner."""
    entry = get_entry(session, plan, entry_id, account_id, for_update=True)
    _require_change(entry, account_id)
    if entry.is_draft:
        entry.is_draft = False
        entry.updated_at = utc_now()
        session.add(entry)
        _signal(session, entry, appeared=True)
        refresh_plan_version(session, plan, entry_id=entry.id)
        session.commit()
    return entry


def _signal(session: Session, entry: Entry, *, appeared: bool = False) -> None:
    """Tell the plan's open pages, by id: never about a private draft (invariant 8)."""
    if entry.is_draft:
        return
    record_signal(session, entry.plan_id, "entry", entry.id)
    if appeared:
        record_signal(session, entry.plan_id, "section", entry.section)


def revisions(session: Session, entry: Entry) -> list[Revision]:
    return list(
        session.exec(
            select(Revision)
            .where(Revision.entry_id == entry.id)
            .order_by(col(Revision.version))
        ).all()
    )


def yeses_by_version(
    session: Session, entry: Entry, revs: list[Revision]
) -> dict[int, list[rules.Yes]]:
    """Per version, the yeses given to it and when, taken back or not.

    Writing a wording is its writer's yes (invariant 2): that one is the
    version's own line, not listed again.
    """
    authors = {rev.version: rev.author_id for rev in revs}
    found: dict[int, list[rules.Yes]] = {}
    for yes in yeses_of(session, [entry.id])[entry.id]:
        if yes.account_id != authors.get(yes.version):
            found.setdefault(yes.version, []).append(yes)
    return found


def link_response(
    session: Session,
    plan: Plan,
    response_id: str,
    *,
    target_id: str,
    account_id: uuid.UUID,
) -> EntryLink:
    """Say that a response answers a personal entry (a hot button, a reaction)."""
    response = get_entry(session, plan, response_id, account_id)
    target = get_entry(session, plan, target_id, account_id)
    if not rules.may_answer(response.section, target):
        raise FormError({"target": "A response can answer a partner's own entry."})
    existing = session.exec(
        select(EntryLink).where(
            EntryLink.response_id == response.id, EntryLink.target_id == target.id
        )
    ).first()
    if existing:
        return existing
    link = _link(session, plan, response, target, account_id=account_id)
    session.commit()
    return link


def _link(
    session: Session,
    plan: Plan,
    response: Entry,
    target: Entry,
    *,
    account_id: uuid.UUID,
) -> EntryLink:
    link = EntryLink(
        plan_id=plan.id,
        response_id=response.id,
        target_id=target.id,
        created_by=account_id,
    )
    session.add(link)
    _signal(session, response)
    _signal(session, target)
    return link


def unlink_response(
    session: Session,
    plan: Plan,
    response_id: str,
    *,
    target_id: str,
    account_id: uuid.UUID,
) -> None:
    response = get_entry(session, plan, response_id, account_id)
    target = uuid.UUID(target_id)
    changes.touch(session, [plan.id], entries=[response.id, target])
    session.exec(
        delete(EntryLink).where(
            col(EntryLink.response_id) == response.id,
            col(EntryLink.target_id) == target,
        )
    )
    _signal(session, response)
    record_signal(session, plan.id, "entry", target)
    session.commit()


def erase_words_of(session: Session, plan_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Take back every word one partner wrote in a plan (their own erasure).

    The only path on which revisions are ever deleted. Shared entries fall back
    to the newest wording someone else wrote, or go if no such wording is left.
    """
    entry_ids = select(Entry.id).where(Entry.plan_id == plan_id)
    changes.touch(session, [plan_id])
    session.exec(
        delete(Entry).where(
            col(Entry.plan_id) == plan_id, col(Entry.owner_id) == account_id
        )
    )
    for table, column in (
        (Revision, Revision.author_id),
        (Consent, Consent.account_id),
        (Flag, Flag.raised_by),
    ):
        session.exec(
            delete(table).where(
                col(table.entry_id).in_(entry_ids), col(column) == account_id
            )
        )
    named = _erase_what_they_said(session, plan_id, account_id)
    for entry in session.exec(select(Entry).where(Entry.plan_id == plan_id)).all():
        _fall_back(session, entry)
    now = utc_now()
    _scrub_snapshots(session, plan_id, str(account_id), now, title=named)
    # the honest marker the partner sees: words of a former partner were removed
    session.exec(
        update(Plan).where(col(Plan.id) == plan_id).values(words_removed_at=now)
    )
    session.flush()


def _erase_what_they_said(
    session: Session, plan_id: uuid.UUID, account_id: uuid.UUID
) -> bool:
    """Their notes, answers and words about the plan beside its entries; True if
    the plan's name was theirs (it is "Our plan" now)."""
    keep_replies_to(session, plan_id, account_id, utc_now())
    session.exec(
        delete(Note).where(
            col(Note.plan_id) == plan_id, col(Note.author_id) == account_id
        )
    )
    # words of an earlier plan they brought were never the partner's
    session.exec(
        delete(EarlierEntry).where(
            col(EarlierEntry.plan_id) == plan_id,
            col(EarlierEntry.brought_by) == account_id,
        )
    )
    debrief_ids = select(Debrief.id).where(Debrief.plan_id == plan_id)
    # a talk's title is the words of whoever started it
    session.exec(
        update(Debrief)
        .where(col(Debrief.plan_id) == plan_id, col(Debrief.started_by) == account_id)
        .values(title=None)
    )
    session.exec(
        delete(DebriefAnswer).where(
            col(DebriefAnswer.debrief_id).in_(debrief_ids),
            col(DebriefAnswer.account_id) == account_id,
        )
    )
    # why they took an entry out
    session.exec(
        update(Entry)
        .where(col(Entry.plan_id) == plan_id, col(Entry.deleted_by) == account_id)
        .values(removed_note=None)
    )
    named = session.exec(
        update(Plan)
        .where(col(Plan.id) == plan_id, col(Plan.created_by) == account_id)
        .values(title=UNNAMED, created_by=None)
    )
    return bool(named.rowcount)


def _scrub_snapshots(
    session: Session,
    plan_id: uuid.UUID,
    account_id: str,
    now: datetime,
    *,
    title: bool,
) -> None:
    """Old versions of the agreed plan lose the words the person wrote, too, and
    their name: where they said yes or took a yes back, "a former partner" did.

    A version that held any of it is sealed again without it, and says when its
    former partner's words were removed (the agreed page and its PDF show that).
    """
    for version in session.exec(
        select(PlanVersion).where(PlanVersion.plan_id == plan_id)
    ).all():
        before = version.snapshot
        snapshot = dict(before)
        if title:
            snapshot["plan"] = {**snapshot["plan"], "title": UNNAMED}
        gone = {p["name"] for p in snapshot["partners"] if p["id"] == account_id}
        kept = {p["name"] for p in snapshot["partners"] if p["id"] != account_id}
        # a name is replaced only where it cannot be the other partner's too
        gone -= kept
        snapshot["partners"] = [
            {**p, "name": FORMER_NAME} if p["id"] == account_id else p
            for p in snapshot["partners"]
        ]
        snapshot["entries"] = [
            {
                **e,
                "first_author_name": FORMER_NAME
                if e.get("first_author_name") in gone
                else e.get("first_author_name", ""),
                "consents": [
                    {**c, "name": FORMER_NAME} if c["account_id"] == account_id else c
                    for c in e.get("consents", [])
                ],
            }
            for e in snapshot["entries"]
            if e.get("owner_id") != account_id and e.get("author_id") != account_id
        ]
        snapshot["taken_back"] = [
            # why they took their yes back is their words, too
            {**e, "by_name": FORMER_NAME, "note": ""}
            if e.get("by_id") == account_id
            else e
            for e in snapshot.get("taken_back", [])
            if e.get("owner_id") != account_id and e.get("author_id") != account_id
        ]
        if snapshot == before:
            continue
        snapshot["words_removed_at"] = now.isoformat()
        version.snapshot = snapshot
        version.signature = None  # worked out from the scrubbed snapshot when asked
        version.sealed_at = version.sealed_at or now
        session.add(version)


def _fall_back(session: Session, entry: Entry) -> None:
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
        entry.updated_by = newest.author_id
        session.add(
            Revision(
                entry_id=entry.id,
                version=entry.version,
                text=newest.text,
                author_id=newest.author_id,
            )
        )
        session.add(entry)
