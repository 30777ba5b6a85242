"""Who the partners of a plan are: their ids, names and sides of the page.

A person who has left a plan, or erased their account, is "a former partner"
wherever their words or actions are still shown; this module is the one place
that says so.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from backend.db import columns
from backend.models import Account, Membership

FORMER_NAME = "a former partner"


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    slot: int

    @property
    def css(self) -> str:
        return f"partner-{self.slot}"


FORMER = Person(uuid.UUID(int=0), FORMER_NAME, 0)


# Built once: a statement built per call costs more CPU than running it does.
_PEOPLE = (
    select(Account.id, Account.display_name, Membership.slot)
    .join(Membership, col(Membership.account_id) == Account.id)
    .where(Membership.plan_id == bindparam("plan_id"))
    .order_by(col(Membership.slot))
)


def people_of(session: Session, plan_id: uuid.UUID) -> dict[uuid.UUID, Person]:
    """The plan's partners (one or two), by account id, in the order of their
    sides of the page."""
    rows = columns(session, _PEOPLE, {"plan_id": plan_id})
    return {i: Person(i, name, slot) for i, name, slot in rows}


def in_side_order(people: Iterable[Person]) -> list[Person]:
    """The partners in the order of their sides of the page, whatever order
    they were read in."""
    return sorted(people, key=lambda p: p.slot)


def person(people: dict[uuid.UUID, Person], account_id: uuid.UUID | None) -> Person:
    """The partner with this id, or FORMER for someone no longer in the plan."""
    return people.get(account_id, FORMER) if account_id else FORMER


def name_of(people: dict[uuid.UUID, Person], account_id: uuid.UUID | None) -> str:
    return person(people, account_id).name


def partner_ids(session: Session, plan_id: uuid.UUID) -> list[uuid.UUID]:
    """Partner account ids in slot order."""
    return list(
        session.exec(
            select(Membership.account_id)
            .where(Membership.plan_id == plan_id)
            .order_by(col(Membership.slot))
        ).all()
    )


def other_of(people: dict[uuid.UUID, Person], account_id: uuid.UUID) -> Person | None:
    """The partner of `account_id`, if they have one yet."""
    return next((p for p in people.values() if p.id != account_id), None)
