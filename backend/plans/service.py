"""Plans and their (at most two) partners: create, list, invite, join, leave."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import changes, timezones
from backend.auth.tokens import digest, new_token
from backend.consent.service import waiting_counts
from backend.consent.versions import latest_version_numbers, refresh_plan_version
from backend.db import record_signal, utc_now
from backend.entries.service import erase_words_of
from backend.errors import FormError, NotFound
from backend.models import Account, Invite, Membership, Plan
from backend.text import clean_line

TITLE_MAX = 120


@dataclass
class PlanSummary:
    plan: Plan
    partner: Account | None
    waiting_for_me: int
    latest_version: int | None


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound from None


def membership(
    session: Session, plan_id: uuid.UUID, account_id: uuid.UUID
) -> Membership | None:
    return session.exec(
        select(Membership).where(
            Membership.plan_id == plan_id, Membership.account_id == account_id
        )
    ).first()


# Built once: a statement built per call costs more CPU than running it does.
_MEMBER_PLAN = (
    select(Plan)
    .join(Membership, col(Membership.plan_id) == Plan.id)
    .where(
        Plan.id == bindparam("plan_id"),
        Membership.account_id == bindparam("account_id"),
    )
)


def plan_for_member(
    session: Session, plan_id: str | uuid.UUID, account_id: uuid.UUID
) -> Plan:
    """The plan if `account_id` is one of its partners; NotFound (404) otherwise.

    One query: the plan joined to the person's membership of it.
    """
    plan = session.exec(
        _MEMBER_PLAN, params={"plan_id": _uuid(plan_id), "account_id": account_id}
    ).first()
    if plan is None:
        raise NotFound
    return plan


def partners(session: Session, plan_id: uuid.UUID) -> list[Account]:
    """The plan's partners in the order they joined (slot 1, then slot 2)."""
    rows = session.exec(
        select(Account, Membership)
        .join(Membership, col(Membership.account_id) == Account.id)
        .where(Membership.plan_id == plan_id)
        .order_by(col(Membership.slot))
    ).all()
    return [account for account, _ in rows]


def partner_of(
    session: Session, plan_id: uuid.UUID, account_id: uuid.UUID
) -> Account | None:
    return next((a for a in partners(session, plan_id) if a.id != account_id), None)


def create_plan(
    session: Session,
    *,
    account_id: uuid.UUID,
    title: str,
    time_zone: str | None = None,
) -> Plan:
    """A new plan with its creator as the first partner, on its creator's clock
    (`time_zone`, from their browser; a name we do not know is not kept)."""
    plan = new_plan(session, account_id=account_id, title=title, time_zone=time_zone)
    session.commit()
    return plan


def new_plan(
    session: Session,
    *,
    account_id: uuid.UUID,
    title: str,
    time_zone: str | None = None,
) -> Plan:
    """`create_plan` without the commit, for a use case that adds more to it."""
    name = clean_line(title)
    if not name:
        raise FormError({"title": "Please give your plan a name, even a simple one."})
    if len(name) > TITLE_MAX:
        raise FormError({"title": f"Please keep the name to {TITLE_MAX} characters."})
    plan = Plan(
        title=name, time_zone=timezones.zone_name(time_zone), created_by=account_id
    )
    session.add(plan)
    session.flush()
    session.add(Membership(plan_id=plan.id, account_id=account_id, slot=1))
    session.flush()
    return plan


def plans_of(session: Session, account_id: uuid.UUID) -> list[Plan]:
    return list(
        session.exec(
            select(Plan)
            .join(Membership, col(Membership.plan_id) == Plan.id)
            .where(Membership.account_id == account_id)
            .order_by(col(Plan.created_at).desc())
        ).all()
    )


def summaries(session: Session, account_id: uuid.UUID) -> list[PlanSummary]:
    """My plans, each with my partner, what waits for me and the latest version."""
    plans = plans_of(session, account_id)
    ids = [p.id for p in plans]
    waiting = waiting_counts(session, ids, account_id)
    versions = latest_version_numbers(session, ids)
    return [
        PlanSummary(
            plan=plan,
            partner=partner_of(session, plan.id, account_id),
            waiting_for_me=waiting.get(plan.id, 0),
            latest_version=versions.get(plan.id),
        )
        for plan in plans
    ]


class InviteProblem(Exception):
    """Why an invitation can't be used, in words for the person holding it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def make_invite(
    session: Session, plan: Plan, *, account_id: uuid.UUID, days: int
) -> str:
    """A new invitation link token; any earlier unused one stops working.

    A plan has one live invitation (a unique index): the plan's row is locked
    first, so two links asked for at once are made one after the other.
    """
    session.exec(
        select(Plan.id).where(Plan.id == plan.id).with_for_update(key_share=True)
    )
    if len(partners(session, plan.id)) >= 2:
        raise FormError({"invite": "This plan already has two partners."})
    now = utc_now()
    changes.touch(session, [plan.id], entries=())
    session.exec(
        update(Invite)
        .where(
            col(Invite.plan_id) == plan.id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    token = new_token()
    session.add(
        Invite(
            plan_id=plan.id,
            token_hash=digest(token),
            created_by=account_id,
            expires_at=now + timedelta(days=days),
        )
    )
    session.commit()
    return token


_ACTIVE_INVITE = select(Invite).where(
    col(Invite.plan_id) == bindparam("plan_id"),
    col(Invite.used_at).is_(None),
    col(Invite.revoked_at).is_(None),
    col(Invite.expires_at) > bindparam("now"),
)


def active_invite(session: Session, plan_id: uuid.UUID) -> Invite | None:
    invite = session.exec(
        _ACTIVE_INVITE, params={"plan_id": plan_id, "now": utc_now()}
    ).first()
    if invite is not None:
        changes.expires(invite.expires_at)  # gone from the page when it runs out
    return invite


def revoke_invites(session: Session, plan: Plan) -> None:
    changes.touch(session, [plan.id], entries=())
    session.exec(
        update(Invite)
        .where(col(Invite.plan_id) == plan.id, col(Invite.used_at).is_(None))
        .values(revoked_at=utc_now())
    )
    session.commit()


def _usable_invite(session: Session, token: str) -> Invite:
    invite = session.exec(
        select(Invite).where(Invite.token_hash == digest(token))
    ).first()
    if invite is None:
        raise InviteProblem(
            "This invitation link isn't one we know. Please ask for a new one."
        )
    if invite.revoked_at is not None:
        raise InviteProblem("This invitation was withdrawn. Please ask for a new link.")
    if invite.used_at is not None:
        raise InviteProblem("This invitation has already been used.")
    if invite.expires_at <= utc_now():
        raise InviteProblem("This invitation has expired. Please ask for a new link.")
    return invite


def look_at_invite(
    session: Session, token: str, account_id: uuid.UUID | None
) -> tuple[Plan, Account | None]:
    """Who invites whom to which plan; looking never uses the invitation up."""
    invite = _usable_invite(session, token)
    plan = session.get_one(Plan, invite.plan_id)
    inviter = session.get(Account, invite.created_by) if invite.created_by else None
    if account_id and membership(session, plan.id, account_id):
        raise InviteProblem("You are already a partner in this plan.")
    if len(partners(session, plan.id)) >= 2:
        raise InviteProblem("This plan already has two partners.")
    return plan, inviter


def accept_invite(session: Session, token: str, *, account_id: uuid.UUID) -> Plan:
    """Join the plan as its second partner. Only one of two racing joins can win."""
    invite = _usable_invite(session, token)
    if membership(session, invite.plan_id, account_id):
        raise InviteProblem("You are already a partner in this plan.")
    taken = {
        m.slot
        for m in session.exec(
            select(Membership).where(Membership.plan_id == invite.plan_id)
        ).all()
    }
    free = [slot for slot in (1, 2) if slot not in taken]
    if not free:
        raise InviteProblem("This plan already has two partners.")
    now = utc_now()
    changes.touch(session, [invite.plan_id], entries=())
    claimed = session.exec(
        update(Invite)
        .where(
            col(Invite.id) == invite.id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
        .values(used_at=now, used_by=account_id)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise InviteProblem("This invitation has already been used.")
    session.add(Membership(plan_id=invite.plan_id, account_id=account_id, slot=free[0]))
    record_signal(session, invite.plan_id, "plan", invite.plan_id)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InviteProblem("This plan already has two partners.") from None
    return session.get_one(Plan, invite.plan_id)


def leave_plan(session: Session, plan: Plan, *, account_id: uuid.UUID) -> bool:
    """Leave, taking every word you wrote; returns True if the plan is now gone."""
    gone = leave(session, plan, account_id=account_id)
    session.commit()
    return gone


def leave(session: Session, plan: Plan, *, account_id: uuid.UUID) -> bool:
    """Leave without committing (leaving one plan, or erasing an account).

    Your personal entries go, and so does each wording you wrote of a shared
    entry; a shared entry keeps your partner's newest wording, or goes if it has
    none, and your partner sees that a former partner's words were removed. A
    plan left with no partners is deleted with everything in it.
    """
    erase_words_of(session, plan.id, account_id)
    session.exec(
        delete(Membership).where(
            col(Membership.plan_id) == plan.id, col(Membership.account_id) == account_id
        )
    )
    remaining = session.exec(
        select(func.count()).where(col(Membership.plan_id) == plan.id)
    ).one()
    gone = remaining == 0
    if gone:
        session.exec(delete(Plan).where(col(Plan.id) == plan.id))
    else:
        refresh_plan_version(session, plan)
        record_signal(session, plan.id, "plan", plan.id)
    return gone
