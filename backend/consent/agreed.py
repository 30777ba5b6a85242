"""What is agreed: where each entry stands, and the agreed plan as plain data.

An entry's agreed wording is its newest version with a standing yes from both
partners (invariant 2), worked out by `backend.entries.rules.standing`. A newer
wording, or a request to take the entry out, waits beside it as a proposal; the
agreed wording stays in force until both have said yes to the change
(invariant 6). A yes taken back leaves the entry in the plan, marked as taken
back, by whom, when and why, as something to talk about.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, tuple_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend.db import by_ids, columns, utc_now
from backend.entries.rules import (
    Standing,
    Yes,
    in_plan,
    in_plan_clause,
    standing,
    yes_kind,
)
from backend.members import Person, name_of, people_of
from backend.models import REMOVAL, Consent, Entry, EntryLink, Plan, Revision

SNAPSHOT_FORMAT = 2


# Built once: a statement built per call costs more CPU than running it does.
# (six columns: more than sqlmodel's typed select takes, so SQLAlchemy's own)
_EVERY_YES = sa_select(
    col(Consent.entry_id),
    col(Consent.account_id),
    col(Consent.version),
    col(Consent.given_at),
    col(Consent.withdrawn_at),
    col(Consent.withdraw_note),
).order_by(col(Consent.given_at))
_YESES = _EVERY_YES.where(col(Consent.entry_id).in_(bindparam("ids", expanding=True)))
_YESES_OF_ONE = _EVERY_YES.where(col(Consent.entry_id) == bindparam("id"))
_GIVEN_AT = Consent.__table__.c.given_at  # type: ignore[attr-defined]
_ONE_WORDING = (
    col(Revision.entry_id) == bindparam("entry_id"),
    col(Revision.version) == bindparam("version"),
)
_WORDING_TEXT = select(Revision.text).where(*_ONE_WORDING)
_WORDING_KIND = select(Revision.kind).where(*_ONE_WORDING)
# one entry's yeses, each row with the kind of its newest wording (`version`); one
# row of NULL yes columns when it has none
_YESES_AND_KIND = (
    sa_select(
        col(Revision.kind),
        col(Consent.account_id),
        col(Consent.version),
        col(Consent.given_at),
        col(Consent.withdrawn_at),
        col(Consent.withdraw_note),
    )
    .select_from(Revision)
    .outerjoin(Consent, col(Consent.entry_id) == col(Revision.entry_id))
    .where(*_ONE_WORDING)
    .order_by(col(Consent.given_at))
)
# exactly the (entry, version) pairs asked for: with `entry IN … AND version IN …`
# every version asked of any entry came back for all of them, each one decrypted;
# as columns, not `Revision` objects, which cost a third more to make
_REVISIONS = sa_select(
    col(Revision.entry_id),
    col(Revision.version),
    col(Revision.text),
    col(Revision.author_id),
    col(Revision.created_at),
    col(Revision.kind),
    col(Revision.note),
).where(
    tuple_(col(Revision.entry_id), col(Revision.version)).in_(
        bindparam("pairs", expanding=True)
    )
)


class SavedWording(NamedTuple):
    """One saved wording of an entry as it is shown: a revision's own columns."""

    entry_id: uuid.UUID
    version: int
    text: str
    author_id: uuid.UUID | None
    created_at: datetime
    kind: str
    note: str | None


def yeses_of(
    session: Session, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Yes]]:
    """Every yes ever given to these entries, standing or taken back."""
    found: dict[uuid.UUID, list[Yes]] = defaultdict(list)
    if not entry_ids:
        return found
    rows = columns(session, *by_ids(entry_ids, _YESES_OF_ONE, _YESES))
    for entry_id, account_id, version, given, withdrawn, note in rows:
        found[entry_id].append(Yes(account_id, version, given, withdrawn, note))
    return found


def yeses_and_kind(session: Session, entry: Entry) -> tuple[list[Yes], str | None]:
    """Every yes ever given to the entry (as `yeses_of`), and the kind of its newest
    wording (a wording, or a request to take it out), in one query."""
    rows = columns(
        session, _YESES_AND_KIND, {"entry_id": entry.id, "version": entry.version}
    )
    kind = rows[0][0] if rows else None
    yeses = [
        Yes(account_id, version, given, withdrawn, note)
        for _, account_id, version, given, withdrawn, note in rows
        if account_id is not None
    ]
    return yeses, kind


def as_stored(session: Session, moment: datetime) -> datetime:
    """A time as the database gives it back once written (SQLite keeps no time
    zone), so that a yes worked out in memory reads as the same yes read back."""
    dialect = session.get_bind().dialect
    kind = _GIVEN_AT.type
    bind = kind.bind_processor(dialect)
    result = kind.result_processor(dialect, None)
    value = bind(moment) if bind else moment
    found: datetime = result(value) if result else value
    return found


def standings(
    session: Session, entries: list[Entry], partners: list[uuid.UUID]
) -> dict[uuid.UUID, Standing]:
    yeses = yeses_of(session, [e.id for e in entries])
    return {e.id: standing(e.version, yeses[e.id], partners) for e in entries}


def standing_of(
    session: Session, entry: Entry, people: dict[uuid.UUID, Person] | None = None
) -> Standing:
    """Where the entry stands now (`people`: the plan's partners, if already read)."""
    partners = list(people if people is not None else people_of(session, entry.plan_id))
    return standing(entry.version, yeses_of(session, [entry.id])[entry.id], partners)


def agreed_text(
    session: Session,
    entry: Entry,
    people: dict[uuid.UUID, Person] | None = None,
    found: Standing | None = None,
) -> str | None:
    """The entry's agreed wording, if it has one (`found`: its standing, if the
    caller has worked it out already)."""
    agreed = (found or standing_of(session, entry, people)).agreed
    if agreed is None:
        return None
    return session.exec(
        _WORDING_TEXT, params={"entry_id": entry.id, "version": agreed}
    ).first()


def newest_is_removal(session: Session, entry: Entry) -> bool:
    """Whether the entry's newest version asks to take it out of the plan."""
    kind = session.exec(
        _WORDING_KIND, params={"entry_id": entry.id, "version": entry.version}
    ).first()
    return kind == REMOVAL


def revisions_at(
    session: Session, wanted: dict[uuid.UUID, set[int]]
) -> dict[tuple[uuid.UUID, int], SavedWording]:
    """The revisions (entry id, version) asked for, in one query."""
    if not wanted:
        return {}
    pairs = [(entry_id, v) for entry_id, asked in wanted.items() for v in asked]
    if not pairs:
        return {}
    rows = columns(session, _REVISIONS, {"pairs": pairs})
    return {(r[0], r[1]): SavedWording(*r) for r in rows}


def agreed_snapshot(session: Session, plan: Plan) -> dict[str, Any]:
    """The agreed plan now: each entry's agreed wording, and what was taken back."""
    people = people_of(session, plan.id)
    agreed, taken_back = _agreed_items(
        session, people, _entries_in_plan(session, plan.id)
    )
    _add_answers(session, plan.id, agreed)
    return _snapshot(plan, people, agreed, taken_back)


@dataclass
class EntryPlace:
    """Where one entry stands in the agreed plan now, worked out once for a write:
    its signature from its standing alone, its snapshot items only if asked."""

    people: dict[uuid.UUID, Person]
    entry: Entry | None  # None when it is not in the plan
    standing: Standing | None

    def signature(self) -> list[tuple[str, int]]:
        if self.entry is None or self.standing is None:
            return []
        key, s = str(self.entry.id), self.standing
        if s.agreed is not None:
            return [(key, s.agreed)]
        if s.taken_back is not None:
            return [("back:" + key, s.taken_back.version)]
        return []

    def items(
        self, session: Session
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Its snapshot items: agreed, and taken back."""
        if self.entry is None or self.standing is None:
            return [], []
        found = {self.entry.id: self.standing}
        return _agreed_items(session, self.people, [self.entry], found)


def entry_place(
    session: Session,
    plan: Plan,
    entry_id: uuid.UUID,
    people: dict[uuid.UUID, Person] | None = None,
) -> EntryPlace:
    """Where one entry stands in the agreed plan now (nowhere if not in the plan).
    `people`: the plan's partners, if the caller has read them already."""
    if people is None:
        people = people_of(session, plan.id)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.plan_id != plan.id or not in_plan(entry):
        return EntryPlace(people, None, None)
    return place_of(people, entry, standing_of(session, entry, people))


def place_of(
    people: dict[uuid.UUID, Person], entry: Entry, found: Standing
) -> EntryPlace:
    """Where `entry` stands in the agreed plan, its standing `found` just now by
    the caller (nowhere if it is not in the plan)."""
    if not in_plan(entry):
        return EntryPlace(people, None, None)
    return EntryPlace(people, entry, found)


def patched_snapshot(
    session: Session,
    plan: Plan,
    old: dict[str, Any],
    entry_id: uuid.UUID,
    place: EntryPlace | None = None,
) -> dict[str, Any] | None:
    """`old` with one entry's place worked out again: what `agreed_snapshot` would
    give now, when only that entry changed since `old` was made.

    None when `old` cannot be patched (another format, other partners, an entry
    no longer in the plan): the caller builds the snapshot whole instead.
    """
    place = place or entry_place(session, plan, entry_id)
    people = place.people
    if old.get("format") != SNAPSHOT_FORMAT or old.get("partners") != _partners(people):
        return None
    in_order = columns(session, _IN_PLAN_IDS, {"plan_id": plan.id})
    order = {str(i): n for n, (i,) in enumerate(in_order)}
    key = str(entry_id)
    kept = [i for i in old["entries"] if i["id"] != key]
    back = [i for i in old.get("taken_back", []) if i["id"] != key]
    if any(i["id"] not in order for i in kept + back):
        return None
    agreed, taken_back = place.items(session)
    # copies: answers are filled in afresh, and `old` stays as it was
    entries = sorted([dict(i) for i in kept] + agreed, key=lambda i: order[i["id"]])
    back = sorted(back + taken_back, key=lambda i: order[i["id"]])
    _add_answers(session, plan.id, entries)
    return _snapshot(plan, people, entries, back)


def _snapshot(
    plan: Plan,
    people: dict[uuid.UUID, Person],
    entries: list[dict[str, Any]],
    taken_back: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "format": SNAPSHOT_FORMAT,
        "plan": {"id": str(plan.id), "title": plan.title},
        "partners": _partners(people),
        "entries": entries,
        "taken_back": taken_back,
    }


def _agreed_items(
    session: Session,
    people: dict[uuid.UUID, Person],
    entries: list[Entry],
    found: dict[uuid.UUID, Standing] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The snapshot items of these entries: agreed, and taken back (`found`:
    their standings, when already worked out)."""
    if found is None:
        found = standings(session, entries, list(people))
    wanted: dict[uuid.UUID, set[int]] = defaultdict(set)
    for e in entries:
        s = found[e.id]
        if s.agreed is not None:
            wanted[e.id].add(s.agreed)
        elif s.taken_back is not None:
            wanted[e.id].add(s.taken_back.version)
    texts = revisions_at(session, wanted)
    agreed: list[dict[str, Any]] = []
    taken_back: list[dict[str, Any]] = []
    for e in entries:
        s = found[e.id]
        if s.agreed is not None:
            agreed.append(_item(e, texts[(e.id, s.agreed)], people, s))
        elif s.taken_back is not None and (e.id, s.taken_back.version) in texts:
            back = s.taken_back
            item = _item(e, texts[(e.id, back.version)], people, s)
            item.update(
                by_id=str(back.account_id),
                by_name=name_of(people, back.account_id),
                at=(back.withdrawn_at or back.given_at).isoformat(),
                note=back.note or "",
            )
            taken_back.append(item)
    return agreed, taken_back


def signature(snapshot: dict[str, Any]) -> list[tuple[str, int]]:
    """What makes two agreed plans the same: entries and wordings, agreed or not."""
    agreed = [(e["id"], e["version"]) for e in snapshot["entries"]]
    back = [("back:" + e["id"], e["version"]) for e in snapshot.get("taken_back", [])]
    return sorted(agreed + back)


def working_snapshot(session: Session, plan: Plan) -> dict[str, Any]:
    """Every shared (not private, not removed) entry's newest wording, marked agreed
    or not: the working draft to print before everything is agreed."""
    people = people_of(session, plan.id)
    entries = _entries_in_plan(session, plan.id)
    found = standings(session, entries, list(people))
    wanted = {e.id: {e.version} for e in entries}
    texts = revisions_at(session, wanted)
    items = []
    for e in entries:
        item = _item(e, texts[(e.id, e.version)], people, found[e.id])
        item["agreed"] = found[e.id].agreed == e.version
        items.append(item)
    _add_answers(session, plan.id, items)
    return {
        "format": SNAPSHOT_FORMAT,
        "plan": {"id": str(plan.id), "title": plan.title},
        "partners": _partners(people),
        "entries": items,
        "taken_back": [],
        "version": None,
        "created_at": utc_now().isoformat(),
    }


def _in_plan(what: Any) -> Any:
    """What is in the plan, in the order it was written: the snapshot's order."""
    return (
        select(what)
        .where(Entry.plan_id == bindparam("plan_id"), in_plan_clause())
        .order_by(col(Entry.created_at), col(Entry.id))
    )


# Built once, bound when they run: a statement built per call costs more CPU
# than running it does, and these run inside a write's lock.
_IN_PLAN = _in_plan(Entry)
_IN_PLAN_IDS = _in_plan(Entry.id)
_PLAN_LINKS = select(EntryLink.response_id, EntryLink.target_id).where(
    EntryLink.plan_id == bindparam("plan_id")
)


def _entries_in_plan(session: Session, plan_id: uuid.UUID) -> list[Entry]:
    return list(session.exec(_IN_PLAN, params={"plan_id": plan_id}).all())


def _partners(people: dict[uuid.UUID, Person]) -> list[dict[str, Any]]:
    return [
        {"id": str(p.id), "name": p.name, "slot": p.slot}
        for p in sorted(people.values(), key=lambda p: p.slot)
    ]


def _item(
    e: Entry, rev: SavedWording, people: dict[uuid.UUID, Person], s: Standing
) -> dict[str, Any]:
    """One wording as the printed and agreed plan keep it: who wrote it, and each
    standing yes to exactly this version."""
    return {
        "id": str(e.id),
        "section": e.section,
        "owner_id": str(e.owner_id) if e.owner_id else None,
        "text": rev.text,
        "version": rev.version,
        "author_id": str(rev.author_id) if rev.author_id else None,
        "author_name": name_of(people, rev.author_id),
        "first_author_name": name_of(people, e.created_by),
        "written_at": rev.created_at.isoformat(),
        "agreed": True,
        "answers": [],
        "yes_word": yes_kind(e),
        "consents": [
            {
                "account_id": str(y.account_id),
                "name": name_of(people, y.account_id),
                "at": y.given_at.isoformat(),
            }
            for y in s.yeses
            if y.standing and y.version == rev.version
        ],
    }


def _add_answers(
    session: Session, plan_id: uuid.UUID, items: list[dict[str, Any]]
) -> None:
    """Each response lists the entries of the same snapshot that it answers."""
    ids = {uuid.UUID(i["id"]) for i in items}
    if not ids:
        return
    links = columns(session, _PLAN_LINKS, {"plan_id": plan_id})
    answers: dict[str, list[str]] = defaultdict(list)
    for response_id, target_id in links:
        if response_id in ids and target_id in ids:
            answers[str(response_id)].append(str(target_id))
    for item in items:
        item["answers"] = sorted(answers.get(item["id"], []))
