"""Since you last looked: what your partner did in the plan while you were away.

Visits are kept per partner. Opening the plan page is a visit; visits less than
half an hour apart count as one look, so reloading does not empty the list.
Only the partner's doings count as new, and never anything still private.

What reached a person's open page live has been seen: it is not counted again,
neither while the page stays open (the count does not climb while both are
there) nor at the next look. The page says when it was opened; each live
refresh of its count marks the span from then to now as seen (seen_from,
seen_to on the membership).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Engine,
    bindparam,
    case,
    literal_column,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend import changes
from backend.db import columns, utc_now, write_session
from backend.errors import NotFound
from backend.members import people_of
from backend.models import (
    REMOVAL,
    Consent,
    Debrief,
    DebriefAnswer,
    Entry,
    Membership,
    Note,
    Plan,
    Revision,
)
from backend.plans.service import membership

ONE_LOOK = timedelta(minutes=30)
RECORDED_EVERY = timedelta(minutes=1)


def look_due(last_visit_at: datetime | None, now: datetime) -> bool:
    """Whether a partner's look at the plan page is written: the first, and then
    one a minute apart at most (a look recorded raises the plan's stamp)."""
    return last_visit_at is None or now - last_visit_at >= RECORDED_EVERY


def record_visit(
    session: Session,
    engine: Engine,
    plan_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> bool:
    """Note a look at the plan, in a short write of its own; True if it wrote.

    The request's read is ended first, so no read is open while the write waits.
    The earlier visit moves back only after a gap, so reloads keep the list; a
    look within a minute of the last one is not written again.
    """
    moment = now or utc_now()
    member = membership(session, plan_id, account_id)
    session.commit()
    if member is None or not look_due(member.last_visit_at, moment):
        return False
    with write_session(engine) as writer:
        member = membership(writer, plan_id, account_id)
        if member is None:
            return False
        last = member.last_visit_at
        if last is None or moment - last > ONE_LOOK:
            member.previous_visit_at = last
        member.last_visit_at = moment
        writer.add(member)
        writer.commit()
    return True


def baseline(member: Membership, *, now: datetime | None = None) -> datetime:
    """Where "new" starts: before this look, or else the last one; or joining."""
    moment = now or utc_now()
    last = member.last_visit_at
    if last is not None and moment - last <= ONE_LOOK:
        changes.expires(last + ONE_LOOK)
        return member.previous_visit_at or member.joined_at
    return last or member.joined_at


def saw_live(
    session: Session,
    engine: Engine,
    plan_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    opened: datetime,
    now: datetime | None = None,
) -> None:
    """Everything from `opened` (when the open page was rendered) to now reached
    that page live: keep the span, so a later look does not count it as new."""
    moment = now or utc_now()
    start = min(opened, moment)
    session.commit()
    with write_session(engine) as writer:
        member = membership(writer, plan_id, account_id)
        if member is None:
            return
        if (
            member.seen_from is not None
            and member.seen_to is not None
            and member.seen_from <= start <= member.seen_to
        ):
            start = member.seen_from  # the same open page, or one inside its span
        member.seen_from, member.seen_to = start, moment
        writer.add(member)
        writer.commit()


# One thing new since the last look, as the column query finds it: what it is
# ("entry", "wording", "consent", "note", "debrief"), the row it is, when it
# happened (what "seen" is judged by), and what kind of it ("agreed", "shared").
Fact = tuple[str, uuid.UUID, datetime, str]


@dataclass
class Facts:
    """What is new for a viewer, as ids and times only: nothing is decrypted or
    hydrated. The plan page and the home page need only its count; the "since"
    page reads the rows behind it (`news`)."""

    since: datetime
    first_look: bool = False  # nothing to compare with yet: since joining
    items: list[Fact] = field(default_factory=list)
    # what reached the open page asking (`facts(opened=...)`) and is not yet
    # kept as seen: its span needs writing (`live_line`)
    reached_live: bool = False

    def drop_seen(self, start: datetime | None, end: datetime | None) -> bool:
        """Leave out what happened from `start` to `end`: it reached an open page.
        True if that left anything out."""
        if start is None or end is None:
            return False
        kept = [f for f in self.items if not start < f[2] <= end]
        dropped = len(kept) < len(self.items)
        self.items = kept
        return dropped

    @property
    def count(self) -> int:
        return len(self.items)

    def of(self, what: str) -> list[Fact]:
        return [f for f in self.items if f[0] == what]


@dataclass
class News:
    since: datetime
    first_look: bool = False  # nothing to compare with yet: since joining
    entries: list[Entry] = field(default_factory=list)
    wordings: list[tuple[Revision, Entry]] = field(default_factory=list)
    consents: list[tuple[Consent, Entry, str]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    debriefs: list[tuple[Debrief, str, datetime]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(
            len(items)
            for items in (
                self.entries,
                self.wordings,
                self.consents,
                self.notes,
                self.debriefs,
            )
        )


# The count's statements, built once: a statement built per call costs more CPU
# than running it does. Bound when they run: plan_id, partner (the other
# partner's account id) and since (where "new" starts).
_PLAN: BindParameter[Any] = bindparam("plan_id")
_PARTNER: BindParameter[Any] = bindparam("partner")
_SINCE: BindParameter[Any] = bindparam("since")
_MEMBERS = select(Membership).where(Membership.plan_id == _PLAN)
_WORDINGS = (
    sa_select(
        col(Revision.id),
        col(Revision.entry_id),
        col(Revision.version),
        col(Revision.created_at),
        col(Entry.updated_at),
    )
    .join(Entry, col(Entry.id) == Revision.entry_id)
    .where(
        col(Entry.plan_id) == _PLAN,
        col(Entry.is_draft).is_(False),
        col(Revision.author_id) == _PARTNER,
        col(Revision.created_at) > _SINCE,
    )
)
# each yes with the wording it was given to (its author and kind) and, for one
# taken back, whether the same partner's yes to an earlier wording was kept
# (withdrawn at another moment, or not at all)
_EARLIER = aliased(Consent)
_KEPT = (
    sa_select(col(_EARLIER.id))
    .where(
        col(_EARLIER.entry_id) == Consent.entry_id,
        col(_EARLIER.account_id) == _PARTNER,
        col(_EARLIER.version) < Consent.version,
        col(_EARLIER.withdrawn_at).is_(None)
        | (col(_EARLIER.withdrawn_at) != Consent.withdrawn_at),
    )
    .correlate(Consent)
    .exists()
)
_YESES = (
    sa_select(
        col(Consent.id),
        col(Consent.given_at),
        col(Consent.withdrawn_at),
        col(Entry.owner_id),
        col(Revision.author_id),
        col(Revision.kind),
        case((col(Consent.withdrawn_at).is_not(None), _KEPT), else_=False),
    )
    .join(Entry, col(Entry.id) == Consent.entry_id)
    .outerjoin(
        Revision,
        (col(Revision.entry_id) == Consent.entry_id)
        & (col(Revision.version) == Consent.version),
    )
    .where(
        col(Entry.plan_id) == _PLAN,
        col(Entry.is_draft).is_(False),
        col(Consent.account_id) == _PARTNER,
        (col(Consent.given_at) > _SINCE) | (col(Consent.withdrawn_at) > _SINCE),
    )
)
# What else is new, in one statement: drafts shared with me since (whose words
# were written before), notes sent, talks started, and answers shared or changed
# after sharing. Each row says what it is, then its id and time (an answer: when
# shared, then when last changed).
_LATER: CompoundSelect[str, uuid.UUID, datetime, datetime] = union_all(
    sa_select(
        literal_column("'draft'"),
        col(Entry.id),
        col(Entry.updated_at),
        col(Entry.updated_at),
    ).where(
        col(Entry.plan_id) == _PLAN,
        col(Entry.owner_id) == _PARTNER,
        col(Entry.is_draft).is_(False),
        col(Entry.updated_at) > _SINCE,
    ),
    sa_select(
        literal_column("'note'"), col(Note.id), col(Note.sent_at), col(Note.sent_at)
    ).where(
        col(Note.plan_id) == _PLAN,
        col(Note.author_id) == _PARTNER,
        col(Note.sent_at) > _SINCE,
    ),
    sa_select(
        literal_column("'talk'"),
        col(Debrief.id),
        col(Debrief.created_at),
        col(Debrief.created_at),
    ).where(
        col(Debrief.plan_id) == _PLAN,
        col(Debrief.started_by) == _PARTNER,
        col(Debrief.created_at) > _SINCE,
    ),
    sa_select(
        literal_column("'answer'"),
        col(Debrief.id),
        col(DebriefAnswer.shared_at),
        col(DebriefAnswer.updated_at),
    )
    .join(Debrief, col(Debrief.id) == DebriefAnswer.debrief_id)
    .where(
        col(Debrief.plan_id) == _PLAN,
        col(DebriefAnswer.account_id) == _PARTNER,
        col(DebriefAnswer.shared_at).is_not(None),
        col(DebriefAnswer.updated_at) > _SINCE,
    ),
)
Later = dict[str, list[tuple[uuid.UUID, datetime, datetime]]]


def facts(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    *,
    opened: datetime | None = None,
    members: Sequence[Membership] | None = None,
) -> Facts:
    """What the partner added, reworded, agreed to, wrote or shared since my look,
    and I have not yet seen: not what reached my open page live (`opened`: when
    the page asking was rendered), nor what reached an earlier one.

    Every rule of what counts as new is here, in column queries; the count on
    the plan and home pages and the list of the "since" page both come from it.
    """
    # both memberships in one query: mine, and my partner's if there is one
    # (`members`: both, when already read)
    if members is None:
        members = session.exec(_MEMBERS, params={"plan_id": plan.id}).all()
    me = next((m for m in members if m.account_id == viewer_id), None)
    if me is None:
        raise NotFound
    start = baseline(me)
    found = Facts(since=start, first_look=start == me.joined_at)
    partner = next((m.account_id for m in members if m.account_id != viewer_id), None)
    if partner is None:
        return found
    since = found.since
    asked = {"plan_id": plan.id, "partner": partner, "since": since}
    later: Later = {"draft": [], "note": [], "talk": [], "answer": []}
    for what, ident, at, then in columns(session, _LATER, asked):
        later[what].append((ident, at, then))
    found.items = [
        *_entries_and_wordings(session, asked, later["draft"]),
        *_consents(session, asked),
        *(("note", ident, sent, "") for ident, sent, _ in later["note"]),
        *_debriefs(later, since),
    ]
    found.drop_seen(me.seen_from, me.seen_to)
    if opened is not None:
        found.reached_live = found.drop_seen(opened, utc_now())
    return found


def news(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    *,
    opened: datetime | None = None,
) -> News:
    """The things `facts` counts, each read whole for the "since" page, newest first."""
    found = facts(session, plan, viewer_id, opened=opened)
    listed = News(since=found.since, first_look=found.first_look)
    entry_ids = {f[1] for f in found.of("entry")}
    revisions = _by_id(session, Revision, [f[1] for f in found.of("wording")])
    consents = _by_id(session, Consent, [f[1] for f in found.of("consent")])
    entry_ids |= {r.entry_id for r in revisions.values()}
    entry_ids |= {c.entry_id for c in consents.values()}
    entries = _by_id(session, Entry, list(entry_ids))
    notes = _by_id(session, Note, [f[1] for f in found.of("note")])
    debriefs = _by_id(session, Debrief, list({f[1] for f in found.of("debrief")}))

    def newest(items: list[Fact]) -> list[Fact]:
        return sorted(items, key=lambda f: f[2], reverse=True)

    listed.entries = [entries[f[1]] for f in newest(found.of("entry"))]
    listed.wordings = [
        (revisions[f[1]], entries[revisions[f[1]].entry_id])
        for f in newest(found.of("wording"))
    ]
    listed.consents = [
        (consents[f[1]], entries[consents[f[1]].entry_id], f[3])
        for f in newest(found.of("consent"))
    ]
    listed.notes = [notes[f[1]] for f in newest(found.of("note"))]
    listed.debriefs = [
        (debriefs[f[1]], f[3], f[2]) for f in newest(found.of("debrief"))
    ]
    return listed


def _by_id(session: Session, model: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    return {
        row.id: row
        for row in session.exec(select(model).where(col(model.id).in_(ids))).all()
    }


def _entries_and_wordings(
    session: Session,
    asked: dict[str, Any],
    drafts: list[tuple[uuid.UUID, datetime, datetime]],
) -> list[Fact]:
    """Entries new to me (written, or a draft shared, since), and new wordings of
    the others (`drafts`: the drafts shared since, from `_LATER`)."""
    rows = columns(session, _WORDINGS, asked)
    # an entry counts when it was last changed, as the list shows it
    updated = {entry_id: changed for _, entry_id, _, _, changed in rows}
    added = {entry_id for _, entry_id, version, _, _ in rows if version == 1}
    # drafts shared with me since, whose words were written before
    for entry_id, changed, _ in drafts:
        if entry_id not in updated:
            updated[entry_id] = changed
            added.add(entry_id)
    found: list[Fact] = [
        ("entry", entry_id, updated[entry_id], "") for entry_id in added
    ]
    found += [
        ("wording", ident, created, "")
        for ident, entry_id, version, created, _ in rows
        if entry_id not in added and version > 1
    ]
    return found


def _consents(session: Session, asked: dict[str, Any]) -> list[Fact]:
    """Yeses and take-backs, not the writer's own, with what each was:
    "agreed", "read" (a partner's own words), "removal" (a yes to taking the
    entry out), "taken-back", or "withdrew" (their own proposed change taken back
    before it was agreed: not a yes taken back)."""
    partner = asked["partner"]
    rows = columns(session, _YESES, asked)

    def what(
        withdrawn: datetime | None,
        owner: uuid.UUID | None,
        author: uuid.UUID | None,
        kind: str | None,
        kept: bool,
    ) -> str | None:
        if withdrawn is not None:
            return "withdrew" if author == partner and kept else "taken-back"
        if author == partner:
            return None  # writing a wording is its writer's yes: not news
        if kind == REMOVAL:
            return "removal"
        return "read" if owner and owner != partner else "agreed"

    return [
        ("consent", ident, withdrawn or given, kind)
        for ident, given, withdrawn, owner, author, wording, kept in rows
        if (kind := what(withdrawn, owner, author, wording, bool(kept))) is not None
    ]


def _debriefs(later: Later, since: datetime) -> list[Fact]:
    """Talks the partner started, and answers they shared or changed after sharing."""
    found: list[Fact] = [
        ("debrief", ident, created, "started") for ident, created, _ in later["talk"]
    ]
    for ident, shared, updated in later["answer"]:
        if shared is not None and shared > since:
            found.append(("debrief", ident, shared, "shared"))
        else:
            found.append(("debrief", ident, updated, "changed"))
    return found


def live_line(
    session: Session, engine: Engine, plan: Plan, viewer_id: uuid.UUID, opened: str
) -> dict[str, Any]:
    """The plan page's "new since your last look", re-asked by the open page:
    what reached it since it was opened is seen, and stays seen.

    The span is written only when something the partner did reached the page
    and is not yet kept as seen: asked again after the viewer's own change, or
    with nothing new, the line writes nothing (no write lock, no new stamp).
    Nothing is lost by not writing: what counts as new never starts earlier
    than it did, and what comes later sends its own signal."""
    try:
        moment = datetime.fromisoformat(opened)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        moment = None
    people = people_of(session, plan.id)
    found = facts(session, plan, viewer_id, opened=moment)
    if moment is not None and found.reached_live:
        saw_live(session, engine, plan.id, viewer_id, opened=moment)
    return {
        "plan": plan,
        "news": found,
        "partner_name": next(
            (p.name for p in people.values() if p.id != viewer_id), None
        ),
    }


def page(session: Session, plan: Plan, viewer_id: uuid.UUID) -> dict[str, Any]:
    """What the "since you last looked" page shows this viewer."""
    people = people_of(session, plan.id)
    return {
        "news": news(session, plan, viewer_id),
        "people": people,
        "partner": next((p for p in people.values() if p.id != viewer_id), None),
    }
