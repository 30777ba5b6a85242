"""The pair on the working plan: a hot button or likely reaction, and the
responses that answer it ("what we'll do when this happens").

The working plan shows what is in force and what is waiting (DESIGN.md,
"proposal"): responses both have agreed come first, in their agreed wording;
the ones still waiting for a yes follow, each saying whose yes it waits for.
The agreed page, the PDF and the right-now view list agreed responses only
(backend.consent.snapshots); this is the working page's reading of the same links.
"""

import uuid
from dataclasses import dataclass
from typing import Literal, Protocol

from backend.members import Person

# "" when agreed; otherwise whose yes it waits for, or that a yes was taken back
Waiting = Literal["", "you", "partner", "both", "taken-back"]


class Wording(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def yes_by(self) -> tuple[Person, ...]: ...


class Card(Protocol):
    """What a card knows that a pairing needs (backend.plans.page.EntryView)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def in_force(self) -> Wording | None: ...
    @property
    def pending(self) -> Wording | None: ...
    @property
    def state(self) -> str: ...
    @property
    def edit_text(self) -> str: ...


@dataclass(frozen=True)
class Answer:
    id: uuid.UUID
    text: str
    waiting: Waiting

    @property
    def agreed(self) -> bool:
        return not self.waiting


def answer(card: Card, me: Person, partner: Person | None) -> Answer:
    """One response as the pair shows it: the agreed wording if there is one,
    else the wording waiting, and whose yes it waits for."""
    if card.in_force is not None:
        return Answer(card.id, card.in_force.text, "")
    pending = card.pending
    if pending is None or card.state == "taken-back":
        return Answer(card.id, card.edit_text, "taken-back")
    me_missing = me not in pending.yes_by
    partner_missing = partner is None or partner not in pending.yes_by
    waiting: Waiting = (
        "both" if me_missing and partner_missing else "you" if me_missing else "partner"
    )
    return Answer(card.id, pending.text, waiting)


def answers(cards: list[Card], me: Person, partner: Person | None) -> list[Answer]:
    """Agreed responses first, then those waiting; each group in link order."""
    found = [answer(card, me, partner) for card in cards]
    return [a for a in found if a.agreed] + [a for a in found if not a.agreed]
