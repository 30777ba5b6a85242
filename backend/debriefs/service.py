"""Talking it through after a hard moment: a debrief and each partner's answers.

Each partner answers the same prompts on their own. Answers stay their
writer's alone until they share them (invariant 8): every function here that
reads answers for a viewer returns the viewer's own, and only the shared ones of
their partner. Shared answers can still be changed; the partner sees the change.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from backend.db import record_signal, utc_now
from backend.errors import FormError, NotFound
from backend.members import Person, people_of, person
from backend.models import Debrief, DebriefAnswer, Entry, Plan, Revision
from backend.text import clean_line, clean_text

TITLE_MAX = 120
ANSWER_MAX = 4000


@dataclass(frozen=True)
class Prompt:
    key: str
    label: str
    hint: str


PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        "what_happened",
        "What happened, as I saw it",
        "What you saw and heard, in your own words. There is no right version.",
    ),
    Prompt(
        "how_it_felt",
        "How it felt for me, then and since",
        "What it was like in the moment, and how it has been for you since.",
    ),
    Prompt(
        "what_safety_means",
        "What safety and shared responsibility mean for us now",
        "After this, what does being safe with each other mean to you, and what "
        "part does each of us take? Not a promise to be fine: what is real.",
    ),
    Prompt(
        "what_would_help",
        "What will help us regain trust",
        "Something small and real is enough: something you could do, something "
        "your partner could.",
    ),
    Prompt(
        "what_to_change",
        "What I'd like us to change in our plan",
        "Something to add, a wording to change, something to try differently.",
    ),
)
KEYS = tuple(p.key for p in PROMPTS)


@dataclass
class Change:
    """A wording written while this talk was pinned beside the plan."""

    revision: Revision
    entry: Entry
    author: Person


@dataclass
class DebriefView:
    debrief: Debrief
    me: Person
    partner: Person | None
    started_by: Person
    mine: DebriefAnswer | None
    shared: list[tuple[Person, DebriefAnswer]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    @property
    def partner_shared(self) -> bool:
        return any(p.id != self.me.id for p, _ in self.shared)

    @property
    def can_revise(self) -> bool:
        """At least one partner has shared: the talk can sit beside the plan."""
        return bool(self.shared)


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound from None


def checked_start(happened_on: str, title: str, *, today: date) -> tuple[date, str]:
    """The date (not later than tomorrow, for time zones) and a one-line title."""
    errors: dict[str, str] = {}
    name = clean_line(title)
    if len(name) > TITLE_MAX:
        errors["title"] = f"Please keep the title to {TITLE_MAX} characters."
    when = today
    if happened_on.strip():
        try:
            when = date.fromisoformat(happened_on.strip())
        except ValueError:
            errors["happened_on"] = "Please give the date as day, month and year."
        else:
            if when > today + timedelta(days=1):
                errors["happened_on"] = "That date hasn't come yet."
    if errors:
        raise FormError(errors)
    return when, name


def start_debrief(
    session: Session,
    plan: Plan,
    *,
    account_id: uuid.UUID,
    happened_on: str,
    title: str,
) -> Debrief:
    """A new talk about a hard moment; either partner may start one."""
    when, name = checked_start(happened_on, title, today=utc_now().date())
    debrief = Debrief(
        plan_id=plan.id, started_by=account_id, happened_on=when, title=name or None
    )
    session.add(debrief)
    session.flush()
    record_signal(session, plan.id, "debrief", debrief.id)
    session.commit()
    return debrief


def get_debrief(session: Session, plan: Plan, debrief_id: str | uuid.UUID) -> Debrief:
    debrief = session.get(Debrief, _uuid(debrief_id))
    if debrief is None or debrief.plan_id != plan.id:
        raise NotFound
    return debrief


def debriefs_of(session: Session, plan: Plan) -> list[Debrief]:
    return list(
        session.exec(
            select(Debrief)
            .where(Debrief.plan_id == plan.id)
            .order_by(col(Debrief.happened_on).desc(), col(Debrief.created_at).desc())
        ).all()
    )


@dataclass
class DebriefSummary:
    debrief: Debrief
    started_by: Person
    shared_by: list[Person]
    i_shared: bool
    i_wrote: bool


def summaries(
    session: Session, plan: Plan, viewer_id: uuid.UUID
) -> list[DebriefSummary]:
    """Every talk of the plan, newest first, with who has shared so far."""
    debriefs = debriefs_of(session, plan)
    people = people_of(session, plan.id)
    answers = visible_answers(session, [d.id for d in debriefs], viewer_id)
    found = []
    for debrief in debriefs:
        mine = [a for a in answers if a.debrief_id == debrief.id]
        shared = [a for a in mine if a.shared_at is not None]
        found.append(
            DebriefSummary(
                debrief=debrief,
                started_by=person(people, debrief.started_by),
                shared_by=sorted(
                    (person(people, a.account_id) for a in shared),
                    key=lambda p: p.slot,
                ),
                i_shared=any(a.account_id == viewer_id for a in shared),
                i_wrote=any(a.account_id == viewer_id for a in mine),
            )
        )
    return found


def visible_answers(
    session: Session, debrief_ids: list[uuid.UUID], viewer_id: uuid.UUID
) -> list[DebriefAnswer]:
    """The viewer's own answers, and the answers others have shared: nothing else."""
    if not debrief_ids:
        return []
    return list(
        session.exec(
            select(DebriefAnswer).where(
                col(DebriefAnswer.debrief_id).in_(debrief_ids),
                (col(DebriefAnswer.account_id) == viewer_id)
                | col(DebriefAnswer.shared_at).is_not(None),
            )
        ).all()
    )


def view_debrief(
    session: Session, plan: Plan, debrief_id: str | uuid.UUID, viewer_id: uuid.UUID
) -> DebriefView:
    """A talk as the viewer may see it: their own answers, and what was shared."""
    debrief = get_debrief(session, plan, debrief_id)
    people = people_of(session, plan.id)
    me = people[viewer_id]
    answers = visible_answers(session, [debrief.id], viewer_id)
    shared = sorted(
        ((person(people, a.account_id), a) for a in answers if a.shared_at is not None),
        key=lambda pair: pair[0].slot,
    )
    return DebriefView(
        debrief=debrief,
        me=me,
        partner=next((p for p in people.values() if p.id != viewer_id), None),
        started_by=person(people, debrief.started_by),
        mine=next((a for a in answers if a.account_id == viewer_id), None),
        shared=shared,
        changes=changes_after(session, debrief, viewer_id, people),
    )


def save_answers(
    session: Session,
    plan: Plan,
    debrief_id: str | uuid.UUID,
    *,
    account_id: uuid.UUID,
    answers: dict[str, str],
    share: bool,
) -> DebriefAnswer:
    """Keep the writer's answers; share them too when they choose to.

    Saving never shares: only "share" does, and sharing is not taken back.
    """
    debrief = get_debrief(session, plan, debrief_id)
    texts = {key: clean_text(answers.get(key, "")).strip() for key in KEYS}
    errors = {
        key: f"Please keep this to {ANSWER_MAX:,} characters; it is {len(text):,} now."
        for key, text in texts.items()
        if len(text) > ANSWER_MAX
    }
    if share and not any(texts.values()):
        errors["form"] = "Write something in at least one of them before sharing."
    if errors:
        raise FormError(errors)
    answer = session.exec(
        select(DebriefAnswer).where(
            DebriefAnswer.debrief_id == debrief.id,
            DebriefAnswer.account_id == account_id,
        )
    ).first() or DebriefAnswer(debrief_id=debrief.id, account_id=account_id)
    for key, text in texts.items():
        setattr(answer, key, text)
    answer.updated_at = utc_now()
    if share and answer.shared_at is None:
        answer.shared_at = answer.updated_at
    if answer.shared_at is not None:
        # only ever about answers already shared: a private answer is never announced
        record_signal(session, plan.id, "debrief", debrief.id)
    session.add(answer)
    session.commit()
    return answer


def pinnable(
    session: Session, plan: Plan, raw: str | uuid.UUID | None
) -> Debrief | None:
    """A talk of this plan that someone has shared answers in; else None (ignored)."""
    if not raw:
        return None
    try:
        debrief = get_debrief(session, plan, raw)
    except NotFound:
        return None
    shared = session.exec(
        select(DebriefAnswer.id).where(
            DebriefAnswer.debrief_id == debrief.id,
            col(DebriefAnswer.shared_at).is_not(None),
        )
    ).first()
    return debrief if shared else None


def changes_after(
    session: Session,
    debrief: Debrief,
    viewer_id: uuid.UUID,
    people: dict[uuid.UUID, Person],
) -> list[Change]:
    """Wordings written with this talk pinned, newest first; never another's draft."""
    rows = session.exec(
        select(Revision, Entry)
        .join(Entry, col(Entry.id) == Revision.entry_id)
        .where(Revision.debrief_id == debrief.id)
        .order_by(col(Revision.created_at).desc())
    ).all()
    return [
        Change(rev, entry, person(people, rev.author_id))
        for rev, entry in rows
        if not entry.is_draft or entry.owner_id == viewer_id
    ]


def pinned_view(
    session: Session, plan: Plan, raw: str | uuid.UUID | None, viewer_id: uuid.UUID
) -> DebriefView | None:
    """The talk to show beside the plan while revising it, if it can be pinned."""
    debrief = pinnable(session, plan, raw)
    return view_debrief(session, plan, debrief.id, viewer_id) if debrief else None
