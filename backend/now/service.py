"""Right now: the agreed plan as it is read in a hard moment.

Built from the newest agreed version only, through the same reading of a
snapshot as the agreed page (`consent.snapshots.reading_view`): the wordings in
force, never a private draft (invariant 8) nor a change still waiting for a yes
(invariant 6). What a person writes here about this moment is a note: theirs
alone until they send it (invariant 8).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from backend.consent import versions
from backend.consent.snapshots import reading_view
from backend.db import utc_now
from backend.errors import FormError
from backend.members import Person, other_of, people_of
from backend.models import Note, Plan
from backend.notes import service as notes

# What a response can answer, in the order the view pairs them.
ANSWERED = ("hot_buttons", "reactions")
REACTIONS = "reactions"


@dataclass(frozen=True)
class Pair:
    """One hot button or likely reaction, with the agreed responses answering it."""

    item: dict[str, Any]
    owner: str
    section: str  # hot_buttons or reactions
    responses: list[dict[str, Any]]


@dataclass
class RightNow:
    me: Person
    partner: Person | None
    number: int | None = None  # the agreed version read here
    agreed_at: datetime | None = None
    made_at: datetime = field(default_factory=utc_now)
    signals: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    reactions: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(
        default_factory=list
    )
    taken_back: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def agreed(self) -> bool:
        return bool(self.signals or self.responses or self.pairs or self.reactions)


def right_now(session: Session, plan: Plan, viewer_id: uuid.UUID) -> RightNow:
    """What the two of them agreed, in the order it is needed in the moment."""
    people = people_of(session, plan.id)
    found = RightNow(me=people[viewer_id], partner=other_of(people, viewer_id))
    latest = versions.latest_version(session, plan.id)
    if latest is None or not versions.has_agreed(latest.snapshot):
        return found
    view = reading_view(latest.snapshot)
    shared = {spec.key: items for spec, items in view["shared"]}
    found.number = latest.number
    found.agreed_at = latest.updated_at
    found.names = view["names"]
    found.signals = shared.get("signals", [])
    found.responses = shared.get("edge_responses", [])
    found.taken_back = view["taken_back"]
    for partner, groups in view["personal"]:
        for spec, items in groups:
            if spec.key == REACTIONS:
                found.reactions.append((partner, items))
    answered_by = view["answered_by"]
    for key in ANSWERED:
        for partner, groups in view["personal"]:
            for spec, items in groups:
                if spec.key == key:
                    found.pairs += [
                        Pair(item, partner["name"], key, answered_by[item["id"]])
                        for item in items
                        if answered_by.get(item["id"])
                    ]
    return found


FEEL = "what_i_feel"
UNDERNEATH = "what_i_see"
FIELDS = {FEEL: "feel", UNDERNEATH: "underneath"}


def answer_now(
    session: Session,
    plan: Plan,
    *,
    author_id: uuid.UUID,
    feel: str,
    underneath: str,
    send: bool,
) -> Note:
    """Sent to the partner as a note, or kept as the writer's own draft note.

    Kept, it joins a draft note the writer already has (after what is there),
    so the notes page, which reopens one draft, never hides either. With no
    partner yet there is no one to send it to: it is kept."""
    parts = {FEEL: feel.strip(), UNDERNEATH: underneath.strip()}
    if not any(parts.values()):
        raise FormError({"form": "Write in one of the two boxes first."})
    send = send and other_of(people_of(session, plan.id), author_id) is not None
    draft = None if send else notes.own_draft(session, plan, author_id)
    about: dict[str, str | None] = {"entry_id": None, "debrief_id": None}
    if draft is not None:
        parts = {
            key: "\n\n".join(t for t in (getattr(draft, key), parts.get(key, "")) if t)
            for key in notes.KEYS
        }
        about = {
            "entry_id": str(draft.entry_id) if draft.entry_id else None,
            "debrief_id": str(draft.debrief_id) if draft.debrief_id else None,
        }
    try:
        return notes.write_note(
            session,
            plan,
            author_id=author_id,
            parts=parts,
            draft_id=str(draft.id) if draft else None,
            send=send,
            entry_id=about["entry_id"],
            debrief_id=about["debrief_id"],
        )
    except FormError as error:
        raise FormError(
            {FIELDS.get(k, k): v for k, v in error.errors.items()}
        ) from error
