"""Plain factory functions for domain tests."""

import itertools

from sqlmodel import Session

from backend.models import Account, Membership, Plan

_numbers = itertools.count(1)


def make_account(session: Session, name: str = "") -> Account:
    number = next(_numbers)
    account = Account(
        email=f"f{number}@example.org",
        display_name=name or f"Person {number}",
        password_hash="not-a-real-hash",
    )
    session.add(account)
    session.commit()
    return account


def make_plan(session: Session, a: Account, b: Account | None = None) -> Plan:
    plan = Plan(title="Us")
    session.add(plan)
    session.flush()
    session.add(Membership(plan_id=plan.id, account_id=a.id, slot=1))
    if b is not None:
        session.add(Membership(plan_id=plan.id, account_id=b.id, slot=2))
    session.commit()
    return plan
