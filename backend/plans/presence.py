"""Being seen as "here now": each partner's own choice, per plan, off until chosen.

Nothing watches a partner (DESIGN.md, "no watching"). Whether a person's open
page is announced to the other is asked of `shows_presence`, the one check used
both where presence is published (the event stream) and where it is read (the
"<name> is here now" line).
"""

import uuid

from sqlmodel import Session

from backend.db import record_signal
from backend.errors import NotFound
from backend.models import Membership, Plan
from backend.plans.service import membership


def shows_presence(session: Session, plan_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    """Has this partner chosen to let the other see when they are here?"""
    return shown(membership(session, plan_id, account_id))


def shown(member: Membership | None) -> bool:
    """`shows_presence` for a membership already read."""
    return bool(member and member.shows_presence)


def choose_presence(
    session: Session, plan: Plan, *, account_id: uuid.UUID, show: bool
) -> None:
    """Turn one's own "here now" on or off; the partner's line follows at once.

    The signal names no one: it only tells open pages to ask again.
    """
    member = membership(session, plan.id, account_id)
    if member is None:
        raise NotFound
    if member.shows_presence != show:
        member.shows_presence = show
        session.add(member)
        record_signal(session, plan.id, "presence")
    session.commit()
