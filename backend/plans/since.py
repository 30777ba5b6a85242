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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from backend.db import utc_now, write_session
from backend.errors import NotFound
from backend.members import people_of
from backend.models import (
    REMOVAL,
    WORDING,
    Consent,
    Debrief,
    DebriefAnswer,
    Entry,
    Membership,
    Note,
    Plan,
    Revision,
)

ONE_LOOK = timedelta(minutes=30)
RECORDED_EVERY = timedelta(minutes=1)


def record_visit(
    session: Session,
    engine: Engine,
    plan_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> None:
    """Note a look at the plan, in a short write of its own.

    The request's read is ended first, so no read is open while the write waits.
    The earlier visit moves back only after a gap, so reloads keep the list; a
    look within a minute of the last one is not written again.
    """
    moment = now or utc_now()
    member = _membership(session, plan_id, account_id)
    session.commit()
    last = member.last_visit_at if member else None
    if member is None or (last is not None and moment - last < RECORDED_EVERY):
        return
    with write_session(engine) as writer:
        member = _membership(writer, plan_id, account_id)
        if member is None:
            return
        last = member.last_visit_at
        if last is None or moment - last > ONE_LOOK:
            member.previous_visit_at = last
        member.last_visit_at = moment
        writer.add(member)
        writer.commit()


def _membership(
    session: Session, plan_id: uuid.UUID, account_id: uuid.UUID
) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.plan_id == plan_id, Membership.account_id == account_id
        )
    ).first()


def baseline(member: Membership, *, now: datetime | None = None) -> datetime:
    """Where "new" starts: before this look, or else the last one; or joining."""
    moment = now or utc_now()
    last = member.last_visit_at
    if last is not None and moment - last <= ONE_LOOK:
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
        member = _membership(writer, plan_id, account_id)
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


@dataclass
class News:
    since: datetime
    first_look: bool = False  # nothing to compare with yet: since joining
    entries: list[Entry] = field(default_factory=list)
    wordings: list[tuple[Revision, Entry]] = field(default_factory=list)
    consents: list[tuple[Consent, Entry, str]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    debriefs: list[tuple[Debrief, str, datetime]] = field(default_factory=list)

    def drop_seen(self, start: datetime | None, end: datetime | None) -> None:
        """Leave out what happened from `start` to `end`: it reached an open page."""
        if start is None or end is None:
            return
        low, high = start, end

        def unseen(moment: datetime | None) -> bool:
            return moment is None or not low < moment <= high

        self.entries = [e for e in self.entries if unseen(e.updated_at)]
        self.wordings = [w for w in self.wordings if unseen(w[0].created_at)]
        self.consents = [
            c for c in self.consents if unseen(c[0].withdrawn_at or c[0].given_at)
        ]
        self.notes = [n for n in self.notes if unseen(n.sent_at)]
        self.debriefs = [d for d in self.debriefs if unseen(d[2])]

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


def news(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    *,
    opened: datetime | None = None,
) -> News:
    """What the partner added, reworded, agreed to, wrote or shared since my look,
    and I have not yet seen: not what reached my open page live (`opened`: when
    the page asking was rendered), nor what reached an earlier one."""
    me = _membership(session, plan.id, viewer_id)
    if me is None:
        raise NotFound
    start = baseline(me)
    found = News(since=start, first_look=start == me.joined_at)
    partner = session.exec(
        select(Membership.account_id).where(
            Membership.plan_id == plan.id, Membership.account_id != viewer_id
        )
    ).first()
    if partner is None:
        return found
    _entries_and_wordings(session, plan, partner, found)
    found.consents = _consents(session, plan, partner, found.since)
    found.notes = list(
        session.exec(
            select(Note)
            .where(
                Note.plan_id == plan.id,
                Note.author_id == partner,
                col(Note.sent_at) > found.since,
            )
            .order_by(col(Note.sent_at).desc())
        ).all()
    )
    found.debriefs = _debriefs(session, plan, partner, found.since)
    found.drop_seen(me.seen_from, me.seen_to)
    if opened is not None:
        found.drop_seen(opened, utc_now())
    return found


def _entries_and_wordings(
    session: Session, plan: Plan, partner: uuid.UUID, found: News
) -> None:
    since = found.since
    rows = session.exec(
        select(Revision, Entry)
        .join(Entry, col(Entry.id) == Revision.entry_id)
        .where(
            Entry.plan_id == plan.id,
            col(Entry.is_draft).is_(False),
            Revision.author_id == partner,
            col(Revision.created_at) > since,
        )
        .order_by(col(Revision.created_at).desc())
    ).all()
    added = {entry.id: entry for rev, entry in rows if rev.version == 1}
    # drafts shared with me since, whose words were written before
    for entry in session.exec(
        select(Entry).where(
            Entry.plan_id == plan.id,
            Entry.owner_id == partner,
            col(Entry.is_draft).is_(False),
            col(Entry.updated_at) > since,
        )
    ).all():
        if not any(e.id == entry.id for _, e in rows):
            added[entry.id] = entry
    found.entries = sorted(added.values(), key=lambda e: e.updated_at, reverse=True)
    found.wordings = [
        (rev, entry) for rev, entry in rows if entry.id not in added and rev.version > 1
    ]


def _consents(
    session: Session, plan: Plan, partner: uuid.UUID, since: datetime
) -> list[tuple[Consent, Entry, str]]:
    """(consent, entry, what it was): yeses and take-backs, not the writer's own.

    What it was: "agreed", "read" (a partner's own words), "removal" (a yes to
    taking the entry out), "taken-back", or "withdrew" (their own proposed change
    taken back before it was agreed: not a yes taken back).
    """
    rows = session.exec(
        select(Consent, Entry)
        .join(Entry, col(Entry.id) == Consent.entry_id)
        .where(
            Entry.plan_id == plan.id,
            col(Entry.is_draft).is_(False),
            Consent.account_id == partner,
            (col(Consent.given_at) > since) | (col(Consent.withdrawn_at) > since),
        )
    ).all()
    ids = [e.id for _, e in rows]
    kinds = {
        (entry_id, version): (author, kind)
        for entry_id, version, author, kind in session.exec(
            select(
                Revision.entry_id, Revision.version, Revision.author_id, Revision.kind
            ).where(col(Revision.entry_id).in_(ids))
        ).all()
    }
    theirs = session.exec(
        select(Consent).where(
            col(Consent.entry_id).in_(ids), Consent.account_id == partner
        )
    ).all()

    def what(consent: Consent, entry: Entry) -> str | None:
        author, kind = kinds.get((entry.id, consent.version), (None, WORDING))
        if consent.withdrawn_at is not None:
            kept = any(
                c.entry_id == entry.id
                and c.version < consent.version
                and c.withdrawn_at != consent.withdrawn_at
                for c in theirs
            )
            return "withdrew" if author == partner and kept else "taken-back"
        if author == partner:
            return None  # writing a wording is its writer's yes: not news
        if kind == REMOVAL:
            return "removal"
        return "read" if entry.owner_id and entry.owner_id != partner else "agreed"

    found = [
        (consent, entry, kind)
        for consent, entry in rows
        if (kind := what(consent, entry)) is not None
    ]
    return sorted(
        found, key=lambda item: item[0].withdrawn_at or item[0].given_at, reverse=True
    )


def _debriefs(
    session: Session, plan: Plan, partner: uuid.UUID, since: datetime
) -> list[tuple[Debrief, str, datetime]]:
    """Talks the partner started, and answers they shared or changed after sharing."""
    found: list[tuple[Debrief, str, datetime]] = [
        (d, "started", d.created_at)
        for d in session.exec(
            select(Debrief).where(
                Debrief.plan_id == plan.id,
                Debrief.started_by == partner,
                col(Debrief.created_at) > since,
            )
        ).all()
    ]
    for answer, debrief in session.exec(
        select(DebriefAnswer, Debrief)
        .join(Debrief, col(Debrief.id) == DebriefAnswer.debrief_id)
        .where(
            Debrief.plan_id == plan.id,
            DebriefAnswer.account_id == partner,
            col(DebriefAnswer.shared_at).is_not(None),
            col(DebriefAnswer.updated_at) > since,
        )
    ).all():
        if answer.shared_at is not None and answer.shared_at > since:
            found.append((debrief, "shared", answer.shared_at))
        else:
            found.append((debrief, "changed", answer.updated_at))
    return sorted(found, key=lambda item: item[2], reverse=True)


def live_line(
    session: Session, engine: Engine, plan: Plan, viewer_id: uuid.UUID, opened: str
) -> dict[str, Any]:
    """The plan page's "new since your last look", re-asked by the open page:
    what reached it since it was opened is seen, and stays seen."""
    try:
        moment = datetime.fromisoformat(opened)
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        saw_live(session, engine, plan.id, viewer_id, opened=moment)
    else:
        moment = None
    people = people_of(session, plan.id)
    return {
        "plan": plan,
        "news": news(session, plan, viewer_id, opened=moment),
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
