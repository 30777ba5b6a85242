"""When what a plan's pages show last changed, known before anything is rendered.

Every plan keeps a counter, `plan.stamp`, raised once by every transaction that
writes the plan or anything of it: its entries and their wordings, yeses, links
and flags, its versions, notes, debriefs and answers, earlier entries, its
memberships (a look recorded, a presence chosen), invitations, and its partners'
accounts (a new name). It is raised here, in one place, from what the session
flushes; a bulk statement (an UPDATE or DELETE that never loads its rows) cannot
be traced to its plans, so it must say them first with `touch`, and one that
does not is refused.

Every entry keeps one too, `entry.stamp`, raised by every transaction that
changes what its card shows: the entry, its wordings, yeses and flags, and its
links (both ends). A card built once is kept under it (backend/plans/shelf.py).

A page then also depends on time: "5 minutes ago" becomes "6 minutes ago", an
invitation runs out, the day turns. Whatever decides such a thing while a page
is being built says when its answer would change (`expires`), and the page's
tag carries the earliest such moment (`watching`).
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Executable, Table, bindparam, event, select, update
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col

from backend.models import (
    Account,
    Consent,
    Debrief,
    DebriefAnswer,
    EarlierEntry,
    Entry,
    EntryLink,
    Flag,
    Invite,
    Membership,
    Note,
    Plan,
    PlanVersion,
    Revision,
)

TOUCHED = "mutual_touched_plans"
# entries whose cards change, and plans all of whose cards do (a bulk statement)
TOUCHED_ENTRIES = "mutual_touched_entries"
TOUCHED_WHOLE = "mutual_touched_whole_plans"
# a bulk statement said which cards it changes (`touch` with entries, or whole plans)
CARDS_SAID = "mutual_cards_said"
# entries whose stamps this transaction raised as it wrote them
RAISED_ENTRIES = "mutual_raised_entries"
UNSEEN = "mutual_shown_nowhere"
UNTRACKED = "mutual_untracked"
# rows that name their plan
_OF_PLAN = (
    Entry,
    EntryLink,
    PlanVersion,
    EarlierEntry,
    Debrief,
    Note,
    Membership,
    Invite,
)
# rows that name an entry, or a debrief, of their plan
_OF_ENTRY = (Revision, Consent, Flag)
_OF_DEBRIEF = (DebriefAnswer,)
_SHOWN_ROWS = (Plan, Account, *_OF_PLAN, *_OF_ENTRY, *_OF_DEBRIEF)
_SHOWN = {str(model.__tablename__) for model in _SHOWN_ROWS}
# tables a card shows: a bulk statement on them must say which cards it changes
_CARD_TABLES = {str(m.__tablename__) for m in (Entry, EntryLink, *_OF_ENTRY)}


class UntracedChange(RuntimeError):
    """A bulk statement changed what a plan shows without saying which plan."""


def touch(
    session: Session,
    plan_ids: Iterable[uuid.UUID],
    *,
    entries: Iterable[uuid.UUID] | None = None,
) -> None:
    """Say that this transaction changes these plans, for a bulk statement that
    follows (the flush finds every other change by itself): every card of them,
    or only the cards of `entries` (none, for rows no card shows)."""
    plans = set(plan_ids)
    _touch_plans(session, plans)
    if entries is None:
        session.info.setdefault(TOUCHED_WHOLE, set()).update(plans)
        session.info[CARDS_SAID] = True
    else:
        named = set(entries)
        session.info.setdefault(TOUCHED_ENTRIES, set()).update(named)
        if named:
            session.info[CARDS_SAID] = True


def _touch_plans(session: Session, plan_ids: Iterable[uuid.UUID]) -> None:
    session.info.setdefault(TOUCHED, set()).update(plan_ids)


def unseen(statement: Executable) -> Any:
    """Mark a bulk statement whose rows no page shows (an ended invitation)."""
    return statement.execution_options(**{UNSEEN: True})


def untracked(session: Session) -> None:
    """This session writes below the app (rows of an older schema, which has no
    stamps): nothing is raised, and nothing refused."""
    session.info[UNTRACKED] = True


def _plans_of(session: Session, rows: Iterable[Any]) -> set[uuid.UUID]:
    plans: set[uuid.UUID] = set()
    entries: set[uuid.UUID] = set()
    debriefs: set[uuid.UUID] = set()
    accounts: set[uuid.UUID] = set()
    for row in rows:
        if isinstance(row, Plan):
            plans.add(row.id)
        elif isinstance(row, _OF_PLAN):
            plans.add(row.plan_id)
        elif isinstance(row, _OF_ENTRY):
            entries.add(row.entry_id)
        elif isinstance(row, _OF_DEBRIEF):
            debriefs.add(row.debrief_id)
        elif isinstance(row, Account):
            accounts.add(row.id)
    for ident in list(entries):
        entry = session.identity_map.get(identity_key(Entry, ident))
        if entry is not None:
            plans.add(entry.plan_id)
            entries.discard(ident)
    if entries:
        query = select(col(Entry.plan_id)).where(col(Entry.id).in_(entries))
        plans.update(session.execute(query).scalars())
    if debriefs:
        query = select(col(Debrief.plan_id)).where(col(Debrief.id).in_(debriefs))
        plans.update(session.execute(query).scalars())
    if accounts:
        query = select(col(Membership.plan_id)).where(
            col(Membership.account_id).in_(accounts)
        )
        plans.update(session.execute(query).scalars())
    return plans


# an entry's stamp, raised in the UPDATE that writes the entry: built once, as
# building it costs more than the rest of noting a change
_ONE_MORE = col(Entry.stamp) + 1


@event.listens_for(Session, "before_flush")
def _note_changed_plans(session: Session, _context: Any, _instances: Any) -> None:
    changed = [
        row for row in (*session.new, *session.deleted) if isinstance(row, _SHOWN_ROWS)
    ]
    changed += [
        row
        for row in session.dirty
        if isinstance(row, _SHOWN_ROWS)
        and session.is_modified(row, include_collections=False)
    ]
    _note(session, changed)


def write_new(session: Session, row: Revision | Consent) -> None:
    """Write a new wording or yes at once, in one INSERT, without the session's
    unit of work: noted as a flush notes what it writes, so the same stamps are
    raised at the commit. The row stays out of the session, to be read, not
    changed. (A yes points at its wording, and a flush orders rows of two
    tables only by their relationships, which these have none of: written one
    at a time, each is in before the next.)"""
    session.flush()  # what the session holds goes first, as it would
    _note(session, [row])
    table: Table = type(row).__table__  # type: ignore[union-attr]
    values = {column.key: getattr(row, column.key) for column in table.columns}
    session.connection().execute(table.insert(), values)


def _note(session: Session, changed: list[Any]) -> None:
    """Note the plans and the cards that these new, changed or deleted rows
    change, for the stamps raised at the commit."""
    if changed:
        _touch_plans(session, _plans_of(session, changed))
        cards = _entries_of(changed)
        # an entry written anyway raises its own stamp in the same UPDATE, and a
        # new one needs none: only the others take a statement of their own
        raised = session.info.setdefault(RAISED_ENTRIES, set())
        for row in changed:
            if isinstance(row, Entry) and row not in session.deleted:
                if row not in session.new and row.id not in raised:
                    row.stamp = _ONE_MORE  # type: ignore[assignment]
                raised.add(row.id)
        cards -= raised
        if cards:
            session.info.setdefault(TOUCHED_ENTRIES, set()).update(cards)


def _entries_of(rows: Iterable[Any]) -> set[uuid.UUID]:
    """The entries whose cards show these rows: an entry, its wordings, yeses and
    flags, and both ends of a link (a card shows what it answers, and what
    answers it)."""
    found: set[uuid.UUID] = set()
    for row in rows:
        if isinstance(row, Entry):
            found.add(row.id)
        elif isinstance(row, _OF_ENTRY):
            found.add(row.entry_id)
        elif isinstance(row, EntryLink):
            found.update((row.response_id, row.target_id))
    return found


@event.listens_for(Session, "do_orm_execute")
def _refuse_untraced(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    info = state.session.info
    if UNTRACKED in info or state.execution_options.get(UNSEEN):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in _CARD_TABLES and CARDS_SAID not in info:
        raise UntracedChange(
            f"a bulk change to {name} must say its plans and cards first"
            " (changes.touch)"
        )
    if name in _SHOWN and TOUCHED not in info:
        raise UntracedChange(
            f"a bulk change to {name} must say its plans first (changes.touch)"
        )


# built once, bound when it runs: every write transaction sends it
_RAISE_STAMPS = (
    update(Plan)
    .where(col(Plan.id).in_(bindparam("ids", expanding=True)))
    .values(stamp=col(Plan.stamp) + 1)
)


_RAISE_ENTRY_STAMPS = (
    update(Entry)
    .where(col(Entry.id).in_(bindparam("ids", expanding=True)))
    .values(stamp=_ONE_MORE)
)
_RAISE_PLAN_ENTRY_STAMPS = (
    update(Entry)
    .where(col(Entry.plan_id).in_(bindparam("ids", expanding=True)))
    .values(stamp=_ONE_MORE)
)


@event.listens_for(Session, "before_commit")
def _raise_stamps(session: Session) -> None:
    session.flush()
    info = session.info
    touched = info.pop(TOUCHED, None)
    cards = info.pop(TOUCHED_ENTRIES, None)
    whole = info.pop(TOUCHED_WHOLE, None)
    info.pop(CARDS_SAID, None)
    if cards:
        cards -= info.get(RAISED_ENTRIES, set())
    info.pop(RAISED_ENTRIES, None)
    if UNTRACKED in info:
        return
    connection = session.connection()
    if touched:
        connection.execute(_RAISE_STAMPS, {"ids": sorted(touched)})
    if whole:
        connection.execute(_RAISE_PLAN_ENTRY_STAMPS, {"ids": sorted(whole)})
    if cards:
        connection.execute(_RAISE_ENTRY_STAMPS, {"ids": sorted(cards)})


@event.listens_for(Session, "after_rollback")
def _forget_touched(session: Session) -> None:
    for key in (TOUCHED, TOUCHED_ENTRIES, TOUCHED_WHOLE, RAISED_ENTRIES, CARDS_SAID):
        session.info.pop(key, None)


_until: ContextVar[list[datetime] | None] = ContextVar("changes_until", default=None)


def expires(moment: datetime) -> None:
    """What is being built now would read differently from `moment` on."""
    found = _until.get()
    if found is not None:
        found.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def day_after(today: date) -> datetime:
    """Midnight after `today` (a UTC date): when what was worked out from it changes."""
    return datetime.combine(today + timedelta(days=1), time(), UTC)


def soonest() -> datetime | None:
    """The earliest moment collected so far by the `watching` around this code."""
    found = _until.get()
    return min(found) if found else None


@contextmanager
def watching() -> Iterator[list[datetime]]:
    """Collect, while building a page, the moments at which it would change."""
    found: list[datetime] = []
    token = _until.set(found)
    try:
        yield found
    finally:
        _until.reset(token)
