"""What the plan page shows, computed for one viewer in a fixed number of queries."""

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from backend.consent.agreed import is_agreed, standing_consents
from backend.consent.service import open_flags
from backend.entries.diff import Piece, word_diff
from backend.entries.sections import BY_KEY, PERSONAL, SECTIONS, Section
from backend.models import (
    Account,
    Consent,
    Debrief,
    Entry,
    EntryLink,
    Flag,
    Membership,
    Plan,
    Revision,
)


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    slot: int

    @property
    def css(self) -> str:
        return f"partner-{self.slot}"


FORMER = Person(uuid.UUID(int=0), "a former partner", 0)


@dataclass
class EntryView:
    entry: Entry
    section: Section
    owner: Person | None
    author: Person
    first_author: Person
    mine: bool
    can_change: bool
    agreed: bool
    state: str  # agreed, waiting-partner, waiting-me, changed, draft, alone, removed
    state_label: str
    action_label: str  # "Agree" or "Acknowledge"; empty when nothing to do
    consented_now: list[tuple[Person, datetime]]
    i_consented: bool
    diff_since_mine: list[Piece] = field(default_factory=list)
    flag: Flag | None = None
    flag_by: Person | None = None
    answers: list[Entry] = field(default_factory=list)
    answered_by: list[Entry] = field(default_factory=list)
    after_talk: Debrief | None = None  # the talk its newest linked wording followed

    @property
    def id(self) -> uuid.UUID:
        return self.entry.id

    @property
    def stamp(self) -> str:
        """Changes whenever anything this card shows changes (used to catch up)."""
        e = self.entry
        raw = "|".join(
            [
                str(e.version),
                str(e.deleted_at),
                str(e.is_draft),
                self.state,
                ",".join(f"{p.id}@{t.isoformat()}" for p, t in self.consented_now),
                str(self.flag.id if self.flag else ""),
                ",".join(str(a.id) for a in self.answers + self.answered_by),
                str(self.after_talk.id if self.after_talk else ""),
            ]
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:12]


@dataclass
class PlanPage:
    plan: Plan
    me: Person
    partner: Person | None
    people: dict[uuid.UUID, Person]
    cards: dict[uuid.UUID, EntryView]
    removed: list[EntryView]

    def personal(self, section: Section, person: Person | None) -> list[EntryView]:
        if person is None:
            return []
        return [
            c
            for c in self.cards.values()
            if c.section.key == section.key and c.owner and c.owner.id == person.id
        ]

    def shared(self, section: Section) -> list[EntryView]:
        return [c for c in self.cards.values() if c.section.key == section.key]

    @property
    def counts(self) -> dict[str, int]:
        states = [c.state for c in self.cards.values()]
        return {
            "agreed": states.count("agreed"),
            "waiting_me": states.count("waiting-me") + states.count("changed"),
            "waiting_partner": states.count("waiting-partner"),
        }

    targets: list[tuple[Person, Entry]] = field(default_factory=list)

    @property
    def link_targets(self) -> list[tuple[Person, Entry]]:
        """Personal entries (shared, not removed) that a response can answer."""
        return self.targets

    @property
    def sections(self) -> tuple[Section, ...]:
        return SECTIONS

    @property
    def personal_sections(self) -> tuple[Section, ...]:
        return PERSONAL


def people_of(session: Session, plan_id: uuid.UUID) -> dict[uuid.UUID, Person]:
    rows = session.exec(
        select(Account.id, Account.display_name, Membership.slot)
        .join(Membership, col(Membership.account_id) == Account.id)
        .where(Membership.plan_id == plan_id)
    ).all()
    return {i: Person(i, name, slot) for i, name, slot in rows}


def plan_page(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    *,
    only: list[uuid.UUID] | None = None,
) -> PlanPage:
    """The plan as `viewer_id` sees it: their drafts, never their partner's."""
    people = people_of(session, plan.id)
    me = people[viewer_id]
    partner = next((p for p in people.values() if p.id != viewer_id), None)
    query = (
        select(Entry)
        .where(Entry.plan_id == plan.id)
        .order_by(col(Entry.created_at), col(Entry.id))
    )
    if only is not None:
        query = query.where(col(Entry.id).in_(only))
    entries = [
        e
        for e in session.exec(query).all()
        if not e.is_draft or e.owner_id == viewer_id
    ]
    ids = [e.id for e in entries]
    consents = standing_consents(session, ids)
    flags = open_flags(session, ids)
    links = _links(session, plan.id)
    by_id = {e.id: e for e in entries}
    if only is not None:
        linked = {i for pair in links for i in pair} - by_id.keys()
        if linked:
            for e in session.exec(select(Entry).where(col(Entry.id).in_(linked))).all():
                if not e.is_draft or e.owner_id == viewer_id:
                    by_id.setdefault(e.id, e)
    old_texts = _texts_i_agreed_to(session, entries, consents, viewer_id)
    talks = _talks_before(session, ids)
    partners = list(people)
    cards: dict[uuid.UUID, EntryView] = {}
    removed: list[EntryView] = []
    for e in entries:
        view = _view(
            e,
            people,
            me,
            partner,
            consents[e.id],
            flags.get(e.id),
            partners,
            old_texts.get(e.id),
        )
        view.answers = [
            by_id[t]
            for r, t in links
            if r == e.id and t in by_id and by_id[t].deleted_at is None
        ]
        view.answered_by = [
            by_id[r]
            for r, t in links
            if t == e.id and r in by_id and by_id[r].deleted_at is None
        ]
        view.after_talk = talks.get(e.id)
        if e.deleted_at:
            removed.append(view)
        else:
            cards[e.id] = view
    targets = [
        (people.get(e.owner_id, FORMER), e)
        for e in session.exec(
            select(Entry)
            .where(
                Entry.plan_id == plan.id,
                col(Entry.owner_id).is_not(None),
                col(Entry.is_draft).is_(False),
                col(Entry.deleted_at).is_(None),
            )
            .order_by(col(Entry.created_at))
        ).all()
        if e.owner_id is not None
    ]
    return PlanPage(plan, me, partner, people, cards, removed, targets)


def _links(session: Session, plan_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = session.exec(
        select(EntryLink.response_id, EntryLink.target_id).where(
            EntryLink.plan_id == plan_id
        )
    ).all()
    return [(r, t) for r, t in rows]


def _talks_before(
    session: Session, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Debrief]:
    """Per entry: the talk its newest wording written beside a talk came after."""
    if not entry_ids:
        return {}
    rows = session.exec(
        select(Revision.entry_id, Debrief)
        .join(Debrief, col(Debrief.id) == Revision.debrief_id)
        .where(col(Revision.entry_id).in_(entry_ids))
        .order_by(col(Revision.version))
    ).all()
    return dict(rows)


def _texts_i_agreed_to(
    session: Session,
    entries: list[Entry],
    consents: dict[uuid.UUID, list[Consent]],
    viewer_id: uuid.UUID,
) -> dict[uuid.UUID, str]:
    """For entries changed since I last said yes: the wording I said yes to."""
    wanted: dict[uuid.UUID, int] = {}
    for e in entries:
        mine = [c for c in consents[e.id] if c.account_id == viewer_id]
        if mine and all(c.version != e.version for c in mine):
            wanted[e.id] = max(c.version for c in mine)
    if not wanted:
        return {}
    rows = session.exec(
        select(Revision).where(col(Revision.entry_id).in_(list(wanted)))
    ).all()
    return {r.entry_id: r.text for r in rows if wanted.get(r.entry_id) == r.version}


def _view(
    e: Entry,
    people: dict[uuid.UUID, Person],
    me: Person,
    partner: Person | None,
    consents: list[Consent],
    flag: Flag | None,
    partners: list[uuid.UUID],
    old_text: str | None,
) -> EntryView:
    section = BY_KEY[e.section]
    current = {c.account_id: c for c in consents if c.version == e.version}
    agreed = is_agreed(e, consents, partners)
    i_consented = me.id in current
    owner = people.get(e.owner_id, FORMER) if e.owner_id else None
    state, label = _state(e, agreed, i_consented, partner, current, old_text)
    action = ""
    if state in ("waiting-me", "changed") and partner is not None:
        action = "Acknowledge" if owner and owner.id != me.id else "Agree"
    return EntryView(
        entry=e,
        section=section,
        owner=owner,
        author=people.get(e.updated_by, FORMER) if e.updated_by else FORMER,
        first_author=people.get(e.created_by, FORMER) if e.created_by else FORMER,
        mine=bool(owner and owner.id == me.id),
        can_change=owner is None or owner.id == me.id,
        agreed=agreed,
        state=state,
        state_label=label,
        action_label=action,
        consented_now=[
            (people[a], c.given_at)
            for a, c in sorted(current.items(), key=lambda item: item[1].given_at)
            if a in people
        ],
        i_consented=i_consented,
        diff_since_mine=word_diff(old_text, e.text)
        if state == "changed" and old_text is not None
        else [],
        flag=flag,
        flag_by=people.get(flag.raised_by) if flag and flag.raised_by else None,
    )


def _state(
    e: Entry,
    agreed: bool,
    i_consented: bool,
    partner: Person | None,
    current: dict[uuid.UUID, Consent],
    old_text: str | None,
) -> tuple[str, str]:
    if e.deleted_at is not None:
        return "removed", "Removed"
    if e.is_draft:
        return "draft", "Private draft: only you can see this"
    if partner is None:
        return "alone", "Waiting for your partner to join"
    if agreed:
        return "agreed", "Agreed"
    if i_consented:
        return "waiting-partner", f"Waiting for {partner.name}"
    if old_text is not None:
        return "changed", "Changed since you agreed: look again"
    return "waiting-me", "Waiting for you"
