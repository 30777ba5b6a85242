"""Consent: a partner's yes to one exact version of an entry."""

import uuid

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from backend.models import Consent, Entry, Membership, PlanVersion


def waiting_counts(
    session: Session, plan_ids: list[uuid.UUID], account_id: uuid.UUID
) -> dict[uuid.UUID, int]:
    """Per plan: live, shared-with-me entries whose current wording I haven't agreed to.

    Only plans with two partners count: with one, there is no one to agree with yet.
    """
    if not plan_ids:
        return {}
    pairs = (
        select(Membership.plan_id)
        .where(col(Membership.plan_id).in_(plan_ids))
        .group_by(col(Membership.plan_id))
        .having(func.count() == 2)
    )
    mine = and_(
        col(Consent.entry_id) == Entry.id,
        col(Consent.account_id) == account_id,
        col(Consent.version) == Entry.version,
        col(Consent.withdrawn_at).is_(None),
    )
    rows = session.exec(
        select(Entry.plan_id, func.count())
        .outerjoin(Consent, mine)
        .where(
            col(Entry.plan_id).in_(pairs),
            col(Entry.deleted_at).is_(None),
            col(Entry.is_draft).is_(False),
            col(Consent.id).is_(None),
        )
        .group_by(col(Entry.plan_id))
    ).all()
    return dict(rows)


def latest_version_numbers(
    session: Session, plan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not plan_ids:
        return {}
    rows = session.exec(
        select(PlanVersion.plan_id, func.max(PlanVersion.number))
        .where(col(PlanVersion.plan_id).in_(plan_ids))
        .group_by(col(PlanVersion.plan_id))
    ).all()
    return dict(rows)
