"""The plan page and its cards, as one viewer sees them, in a fixed number of queries.

What an entry's card says comes from `backend.entries.rules` (who may change
it, who sees it, which wording is in force and which is waiting, agree or
heard); this module only turns those answers into words and groups them.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from markupsafe import Markup
from sqlalchemy import BindParameter, bindparam, case, inspect
from sqlalchemy import select as sa_select
from sqlalchemy.orm import QueryableAttribute, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from backend.consent.agreed import SavedWording, revisions_at, yeses_of
from backend.db import by_ids, columns
from backend.entries import rules
from backend.entries.diff import Piece, word_diff
from backend.entries.rules import Standing, YesWord
from backend.entries.sections import BY_KEY, PERSONAL, SECTIONS, Section
from backend.members import Person, other_of, people_of, person
from backend.models import (
    REMOVAL,
    Account,
    Debrief,
    Entry,
    EntryLink,
    Flag,
    Membership,
    Plan,
    Revision,
)
from backend.plans import pairing
from backend.plans.shelf import ShelvedCard, Shelving, Tally


@dataclass(frozen=True)
class Wording:
    """One version of an entry as a card shows it."""

    text: str
    version: int
    author: Person
    written_at: datetime
    yes_by: tuple[Person, ...]
    removal: bool = False
    note: str | None = None


@dataclass(frozen=True)
class TakenBack:
    by: Person
    at: datetime
    note: str | None


@dataclass
class EntryView:
    entry: Entry
    section: Section
    owner: Person | None
    first_author: Person
    mine: bool
    can_change: bool
    yes_word: YesWord | None  # what my yes to it would mean; None on my own words
    state: str  # agreed, proposal, removal, open, taken-back, draft, alone, removed
    state_label: str
    in_force: Wording | None  # the agreed wording, if any
    pending: Wording | None  # the wording (or request) waiting for a yes, if any
    action_label: str = ""  # the yes button; empty when there is nothing to say yes to
    can_withdraw_proposal: bool = False
    takes_both: bool = False  # changing or removing it is a proposal to the partner
    can_take_back: bool = False
    changed_since_my_yes: bool = False  # I said yes to an older wording
    taken_back: TakenBack | None = None
    changes: list[Piece] = field(default_factory=list)
    removed_by: Person | None = None
    restorable: bool = False
    flag: Flag | None = None
    flag_by: Person | None = None
    answers: list[Entry] = field(default_factory=list)
    answered_by: list[pairing.Answer] = field(default_factory=list)
    after_talk: Debrief | None = None  # the talk its newest linked wording followed
    html: Markup | None = None  # built ahead of the page (backend/plans/shelf.py)

    @property
    def id(self) -> uuid.UUID:
        return self.entry.id

    @property
    def shown(self) -> Wording | None:
        """The wording a reader follows: the agreed one, or else the newest."""
        return self.in_force or self.pending

    @property
    def agreed(self) -> bool:
        return self.in_force is not None

    @property
    def edit_text(self) -> str:
        """What the editor starts from: the wording waiting, or the one in force."""
        if self.pending is not None and not self.pending.removal:
            return self.pending.text
        return self.shown.text if self.shown else self.entry.text


Card = EntryView | ShelvedCard


@dataclass
class PlanPage:
    plan: Plan
    me: Person
    partner: Person | None
    people: dict[uuid.UUID, Person]
    # the cards built for this page (with a shelf: only those not kept)
    cards: dict[uuid.UUID, EntryView]
    removed: list[EntryView]
    targets: list[tuple[Person, Entry]] = field(default_factory=list)
    # with a shelf: the cards kept from before, and every card, built or kept, in
    # the page's order (in the plan, and removed)
    kept: dict[uuid.UUID, ShelvedCard] = field(default_factory=dict)
    listed: list[Card] | None = None
    listed_removed: list[Card] | None = None

    @property
    def in_plan(self) -> list[Card]:
        """Every card in the plan (not removed), in order."""
        return list(self.cards.values()) if self.listed is None else self.listed

    @property
    def removed_cards(self) -> list[Card]:
        if self.listed_removed is None:
            return list(self.removed)
        return self.listed_removed

    def find(self, entry_id: uuid.UUID) -> Card | None:
        """The card of an entry on this page, in the plan or removed."""
        return next(
            (c for c in [*self.in_plan, *self.removed_cards] if c.id == entry_id), None
        )

    def personal(self, section: Section, who: Person | None) -> list[Card]:
        if who is None:
            return []
        return [
            c
            for c in self.in_plan
            if c.section.key == section.key and c.owner and c.owner.id == who.id
        ]

    def shared(self, section: Section) -> list[Card]:
        return [c for c in self.in_plan if c.section.key == section.key]

    def tally(self, view: EntryView) -> Tally:
        """What a card adds to the counts."""
        pending = view.pending
        return Tally(
            agreed=view.agreed,
            waiting_me=bool(view.action_label),
            waiting_partner=bool(
                pending is not None
                and not view.action_label
                and self.partner is not None
                and self.partner not in pending.yes_by
                and self.me in pending.yes_by
            ),
        )

    @property
    def counts(self) -> dict[str, int]:
        tallies = [
            c.tally if isinstance(c, ShelvedCard) else self.tally(c)
            for c in self.in_plan
        ]
        return {
            "agreed": sum(1 for t in tallies if t.agreed),
            "waiting_me": sum(1 for t in tallies if t.waiting_me),
            "waiting_partner": sum(1 for t in tallies if t.waiting_partner),
        }

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


@dataclass(frozen=True)
class Members:
    """A plan's partners (one or two) with their memberships, in slot order:
    read once for the plan page, and handed to each part of it that asks."""

    rows: Sequence[tuple[Account, Membership]]

    @property
    def people(self) -> dict[uuid.UUID, Person]:
        return {a.id: Person(a.id, a.display_name, m.slot) for a, m in self.rows}

    @property
    def memberships(self) -> list[Membership]:
        return [m for _, m in self.rows]

    def account(self, account_id: uuid.UUID) -> Account | None:
        return next((a for a, _ in self.rows if a.id == account_id), None)

    def other(self, account_id: uuid.UUID) -> Account | None:
        return next((a for a, _ in self.rows if a.id != account_id), None)

    def membership(self, account_id: uuid.UUID) -> Membership | None:
        return next((m for a, m in self.rows if a.id == account_id), None)


_MEMBERS = (
    select(Account, Membership)
    .join(Membership, col(Membership.account_id) == Account.id)
    .where(Membership.plan_id == bindparam("plan_id"))
    .order_by(col(Membership.slot))
)


def members_of(session: Session, plan_id: uuid.UUID) -> Members:
    """Both partners and their memberships, in one query."""
    return Members(session.exec(_MEMBERS, params={"plan_id": plan_id}).all())


def plan_page(
    session: Session,
    plan: Plan,
    viewer_id: uuid.UUID,
    *,
    only: list[uuid.UUID] | None = None,
    targets: bool = False,
    entry_texts: bool = True,
    members: Members | None = None,
    people: dict[uuid.UUID, Person] | None = None,
    shelf: Shelving | None = None,
) -> PlanPage:
    """The plan as `viewer_id` sees it: their drafts, never their partner's.

    `targets`: also the entries a response can answer (for the card's menu).
    `entry_texts`: every entry's own text, decrypted; without it, the whole
    plan's entries carry only the texts its cards show (see `_CARDS_SHOWN`).
    `members`, or `people`: the partners, when already read.
    `shelf`: cards kept from before are taken from it, and only the rest built
    (`Shelving.fill` builds them, where the page is rendered).
    """
    if members is not None:
        people = members.people
    elif people is None:
        people = people_of(session, plan.id)
    me = people[viewer_id]
    partner = other_of(people, viewer_id)
    # the links first, so that a card asked for alone is read in one query with
    # the entries it is linked to
    links = _links(session, plan.id, only)
    asked = set(only) if only is not None else None
    linked = None if only is None else list(set(only) | {i for p in links for i in p})
    kept: dict[uuid.UUID, ShelvedCard] = {}
    order: list[tuple[uuid.UUID, bool]] = []  # with a shelf: (entry, removed)
    if shelf is not None:
        # what every card is kept under, in columns; whole rows only for the rest
        shelf.meet(plan.id, people, viewer_id)
        light = _light(session, plan.id, viewer_id, linked)
        stamps = {row[0]: row[1] for row in light}
        ends: dict[uuid.UUID, list[uuid.UUID]] = {}  # each entry's links, either way
        for response, target in links:
            ends.setdefault(response, []).append(target)
            ends.setdefault(target, []).append(response)
        for ident, stamp, section, owner_id, deleted_at, talk_id, talk_on in light:
            if asked is not None and ident not in asked:
                continue
            order.append((ident, deleted_at is not None))
            talk = (talk_id, talk_on) if talk_id is not None else None
            found = shelf.find(ident, stamp, ends.get(ident, []), stamps, talk)
            if found is not None:
                owner = person(people, owner_id) if owner_id else None
                kept[ident] = ShelvedCard(ident, BY_KEY[section], owner, found)
        building = {i for i, _ in order if i not in kept}
        # the cards to build, and the entries linked to them: a pairing says
        # which responses are in force
        needed = building | {i for p in links if building & set(p) for i in p}
        needed &= stamps.keys()
        rows = _cards_shown(session, plan.id, viewer_id, list(needed)) if needed else []
        asked = building
    elif only is None and not entry_texts:
        rows = _cards_shown(session, plan.id, viewer_id)
    elif only is None:
        rows = session.exec(
            _CARDS, params={"plan_id": plan.id, "viewer": viewer_id}
        ).all()
    else:
        rows = session.exec(
            _CARDS_OF,
            params={"plan_id": plan.id, "viewer": viewer_id, "ids": linked},
        ).all()
    entries = [e for e, _, _ in rows if asked is None or e.id in asked]
    flags = {e.id: flag for e, flag, _ in rows if flag is not None}
    talks = {e.id: talk for e, _, talk in rows if talk is not None}
    # linked entries the viewer may not see (a partner's draft) are left out
    by_id = {e.id: e for e, _, _ in rows}
    every = list(by_id.values())
    partners = list(people)
    yeses = yeses_of(session, list(by_id)) if by_id else {}
    found_standing = {
        e.id: rules.standing(e.version, yeses[e.id], partners) for e in every
    }
    wanted: dict[uuid.UUID, set[int]] = {}
    for e in every:
        s = found_standing[e.id]
        wanted[e.id] = {v for v in (s.agreed, s.pending, e.version) if v is not None}
    revisions = revisions_at(session, wanted) if wanted else {}
    views = {
        e.id: _view(e, found_standing[e.id], revisions, people, me, partner)
        for e in every
    }
    cards: dict[uuid.UUID, EntryView] = {}
    removed: list[EntryView] = []
    for e in entries:
        view = views[e.id]
        flag = flags.get(e.id)
        view.flag = flag
        view.flag_by = people.get(flag.raised_by) if flag and flag.raised_by else None
        view.answers = _live(by_id, [t for r, t in links if r == e.id])
        responses = _live(by_id, [r for r, t in links if t == e.id])
        view.answered_by = pairing.answers(
            [views[r.id] for r in responses], me, partner
        )
        view.after_talk = talks.get(e.id)
        if e.deleted_at:
            removed.append(view)
        else:
            cards[e.id] = view
    answerable = link_targets(session, plan, people) if targets else []
    page = PlanPage(plan, me, partner, people, cards, removed, answerable)
    if shelf is not None:
        built = {v.id: v for v in removed} | cards
        page.kept = kept
        page.listed = [kept.get(i) or built[i] for i, gone in order if not gone]
        page.listed_removed = [kept.get(i) or built[i] for i, gone in order if gone]
    return page


def link_targets(
    session: Session, plan: Plan, people: dict[uuid.UUID, Person]
) -> list[tuple[Person, Entry]]:
    """Personal entries a response can answer: shared, not removed."""
    return [
        (person(people, e.owner_id), e)
        for e in session.exec(
            select(Entry)
            .where(
                Entry.plan_id == plan.id,
                col(Entry.owner_id).is_not(None),
                rules.in_plan_clause(),
            )
            .order_by(col(Entry.created_at))
        ).all()
    ]


def _live(by_id: dict[uuid.UUID, Entry], ids: list[uuid.UUID]) -> list[Entry]:
    return [by_id[i] for i in ids if i in by_id and by_id[i].deleted_at is None]


def _wording(
    rev: SavedWording, s: Standing, people: dict[uuid.UUID, Person]
) -> Wording:
    return Wording(
        text=rev.text,
        version=rev.version,
        author=person(people, rev.author_id),
        written_at=rev.created_at,
        yes_by=tuple(
            people[a]
            for a in sorted(s.standing_for(rev.version), key=lambda a: people[a].slot)
            if a in people
        ),
        removal=rev.kind == REMOVAL,
        note=rev.note,
    )


def _view(
    e: Entry,
    s: Standing,
    revisions: dict[tuple[uuid.UUID, int], SavedWording],
    people: dict[uuid.UUID, Person],
    me: Person,
    partner: Person | None,
) -> EntryView:
    owner = person(people, e.owner_id) if e.owner_id else None
    in_force = (
        _wording(revisions[(e.id, s.agreed)], s, people)
        if s.agreed is not None
        else None
    )
    pending = (
        _wording(revisions[(e.id, s.pending)], s, people)
        if s.pending is not None
        else None
    )
    word = rules.yes_word(e, me.id)
    view = EntryView(
        entry=e,
        section=BY_KEY[e.section],
        owner=owner,
        first_author=person(people, e.created_by),
        mine=bool(owner and owner.id == me.id),
        can_change=rules.may_change(e, me.id),
        yes_word=word,
        state="",
        state_label="",
        in_force=in_force,
        pending=pending,
    )
    if s.taken_back is not None:
        back = s.taken_back
        view.taken_back = TakenBack(
            person(people, back.account_id),
            back.withdrawn_at or back.given_at,
            back.note,
        )
    if in_force and pending:
        view.changes = word_diff(in_force.text, pending.text)
    waiting = pending is not None and me not in pending.yes_by
    if word and partner and waiting and not e.is_draft and e.deleted_at is None:
        view.action_label = _action_label(word, view)
    view.can_withdraw_proposal = bool(
        word == "agree" and in_force and pending and me in pending.yes_by
    )
    view.can_take_back = bool(word == "agree" and in_force and me in in_force.yes_by)
    view.takes_both = partner is not None and rules.takes_both(e, s)
    view.changed_since_my_yes = any(
        y.standing and y.account_id == me.id and y.version < e.version for y in s.yeses
    )
    view.state, view.state_label = _state(e, view, me, partner, revisions, people)
    return view


def _action_label(word: YesWord, view: EntryView) -> str:
    pending = view.pending
    if word == "heard":
        return "I've read the change" if view.in_force else "I've read this"
    if pending is not None and pending.removal:
        return "Agree to take it out"
    return "Agree to the change" if view.in_force else "Agree"


def _state(
    e: Entry,
    view: EntryView,
    me: Person,
    partner: Person | None,
    revisions: dict[tuple[uuid.UUID, int], SavedWording],
    people: dict[uuid.UUID, Person],
) -> tuple[str, str]:
    if e.deleted_at is not None:
        newest = revisions.get((e.id, e.version))
        if newest is not None and newest.kind == REMOVAL:
            return "removed", "Taken out of the plan by both of you"
        view.restorable = view.can_change
        view.removed_by = person(people, e.deleted_by) if e.deleted_by else None
        return "removed", "Removed"
    if e.is_draft:
        return "draft", "Private draft: only you can see this"
    if partner is None:
        return "alone", "Waiting for your partner to join"
    pending, in_force = view.pending, view.in_force
    mine = pending is not None and me in pending.yes_by
    other = partner.name
    if pending is not None and pending.removal:
        if mine:
            return (
                "removal",
                f"You asked to take this out; it stays until {other} agrees",
            )
        return "removal", f"{pending.author.name} asks to take this out"
    if in_force is not None and pending is not None:
        if view.yes_word == "heard":
            return "proposal", f"{pending.author.name} changed this since you read it"
        if view.yes_word is None:
            return "proposal", f"Your new wording, for {other} to read"
        if mine:
            return "proposal", f"Your change is waiting for {other}"
        return "proposal", f"{pending.author.name} proposes a change"
    if in_force is not None:
        if e.owner_id is None:
            return "agreed", "Agreed by both of you"
        if view.mine:
            return "agreed", f"Heard by {other}"
        return "agreed", "You've read this"
    if view.taken_back is not None:
        back = view.taken_back
        who = "You" if back.by.id == me.id else back.by.name
        return "taken-back", f"{who} took back the yes: to talk about"
    if view.yes_word is None:
        return "open", f"{other} hasn't read this yet"
    if mine:
        return "open", f"Waiting for {other}"
    if view.changed_since_my_yes and pending is not None:
        return "open", f"{pending.author.name} changed this since your yes"
    if view.yes_word == "agree":
        return "open", "Waiting for you"
    return "open", f"New from {view.owner.name if view.owner else other}"


# The page's statements are built once, here: a statement built per call costs
# more CPU than running it does.
_LINKS = select(EntryLink.response_id, EntryLink.target_id).where(
    EntryLink.plan_id == bindparam("plan_id")
)
_IDS: BindParameter[uuid.UUID] = bindparam("ids", expanding=True)
_LINKS_OF = _LINKS.where(
    col(EntryLink.response_id).in_(_IDS) | col(EntryLink.target_id).in_(_IDS)
)
# one entry (a card asked for alone, most often) with `=` (`db.by_ids`)
_ID: BindParameter[uuid.UUID] = bindparam("id")
_LINKS_OF_ONE = _LINKS.where(
    (col(EntryLink.response_id) == _ID) | (col(EntryLink.target_id) == _ID)
)


def _links(
    session: Session, plan_id: uuid.UUID, ids: list[uuid.UUID] | None
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    if ids is None:
        rows = columns(session, _LINKS, {"plan_id": plan_id})
    else:
        statement, asked = by_ids(ids, _LINKS_OF_ONE, _LINKS_OF)
        rows = columns(session, statement, {"plan_id": plan_id, **asked})
    return [(r, t) for r, t in rows]


# The entries a viewer may see, oldest first, each with its open flag (one at
# most: a unique index) and the talk its newest wording written beside a talk
# came after (or None).
_TALK_ID = (
    select(Revision.debrief_id)
    .where(Revision.entry_id == Entry.id, col(Revision.debrief_id).is_not(None))
    .order_by(col(Revision.version).desc())
    .limit(1)
    .correlate(Entry)
    .scalar_subquery()
)
_CARDS = (
    select(Entry, Flag, Debrief)
    .outerjoin(Flag, (col(Flag.entry_id) == Entry.id) & col(Flag.cleared_at).is_(None))
    .outerjoin(Debrief, col(Debrief.id) == _TALK_ID)
    .where(
        Entry.plan_id == bindparam("plan_id"),
        # the rule itself, with the viewer bound when the statement runs
        rules.visible_clause(cast(uuid.UUID, bindparam("viewer"))),
    )
    .order_by(col(Entry.created_at), col(Entry.id))
)
_CARDS_OF = _CARDS.where(col(Entry.id).in_(bindparam("ids", expanding=True)))
# A card shows the text of a wording (`revisions_at`), and its entry's own text
# only when the entry is removed, or as what a response answers: only those are
# read and decrypted; every other entry's text is left unloaded (`defer`).
_SHOWN_TEXT = case(
    (
        col(Entry.deleted_at).is_not(None)
        | col(Entry.id).in_(
            select(EntryLink.target_id).where(EntryLink.plan_id == bindparam("plan_id"))
        ),
        col(Entry.text),
    ),
    else_=None,
)
_CARDS_SHOWN = _CARDS.add_columns(_SHOWN_TEXT).options(
    defer(cast("QueryableAttribute[str]", Entry.text))
)


_CARDS_SHOWN_OF = _CARDS_SHOWN.where(
    col(Entry.id).in_(bindparam("ids", expanding=True))
)
_CARDS_SHOWN_OF_ONE = _CARDS_SHOWN.where(col(Entry.id) == _ID)


def _cards_shown(
    session: Session,
    plan_id: uuid.UUID,
    viewer_id: uuid.UUID,
    ids: list[uuid.UUID] | None = None,
) -> Sequence[tuple[Entry, Flag, Debrief]]:
    if ids is None:
        rows = session.execute(
            _CARDS_SHOWN, {"plan_id": plan_id, "viewer": viewer_id}
        ).all()
    else:
        statement, asked = by_ids(ids, _CARDS_SHOWN_OF_ONE, _CARDS_SHOWN_OF)
        params = {"plan_id": plan_id, "viewer": viewer_id, **asked}
        rows = session.execute(statement, params).all()
    for entry, _, _, text in rows:
        if text is not None and "text" in inspect(entry).unloaded:
            set_committed_value(entry, "text", text)
    return [(entry, flag, talk) for entry, flag, talk, _ in rows]


# What a card is kept under (backend/plans/shelf.py), and where it goes on the
# page, in columns: a page whose cards are all kept reads no more of its entries.
_LIGHT = (
    sa_select(
        col(Entry.id),
        col(Entry.stamp),
        col(Entry.section),
        col(Entry.owner_id),
        col(Entry.deleted_at),
        col(Debrief.id),
        col(Debrief.happened_on),
    )
    .outerjoin(Debrief, col(Debrief.id) == _TALK_ID)
    .where(
        col(Entry.plan_id) == bindparam("plan_id"),
        rules.visible_clause(cast(uuid.UUID, bindparam("viewer"))),
    )
    .order_by(col(Entry.created_at), col(Entry.id))
)
_LIGHT_OF = _LIGHT.where(col(Entry.id).in_(bindparam("ids", expanding=True)))
_LIGHT_OF_ONE = _LIGHT.where(col(Entry.id) == _ID)
Light = tuple[
    uuid.UUID, int, str, uuid.UUID | None, datetime | None, uuid.UUID | None, Any
]


def _light(
    session: Session,
    plan_id: uuid.UUID,
    viewer_id: uuid.UUID,
    ids: list[uuid.UUID] | None,
) -> list[Light]:
    asked: dict[str, Any] = {"plan_id": plan_id, "viewer": viewer_id}
    statement = _LIGHT
    if ids is not None:
        statement, of_ids = by_ids(ids, _LIGHT_OF_ONE, _LIGHT_OF)
        asked.update(of_ids)
    rows = columns(session, statement, asked)
    return [cast(Light, tuple(row)) for row in rows]
