"""Plain factory functions for domain tests."""

import itertools

from sqlmodel import Session

from backend.entries.service import add_entry
from backend.models import Account, Entry, Membership, Plan

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


def make_entry(
    session: Session,
    plan: Plan,
    author: Account,
    *,
    section: str = "signals",
    text: str = "lighthouse",
    draft: bool = False,
) -> Entry:
    """An entry written the way the app writes one: revision and yes included."""
    return add_entry(
        session, plan, author_id=author.id, section=section, text=text, draft=draft
    )
