"""Deleting what has served its purpose, on a schedule inside the server.

Ended sessions, used or expired reset links, saved forms past their hour,
ended invitations and old rate-limit counts are deleted every
`retention_minutes` (an hour by default), starting that long after the server
starts. Each kind is kept a little past its end where a person may still meet
it: an ended session for a day, so a form posted from it is still kept for its
writer, and an ended invitation for a day, so its link still says why it no
longer works.
"""

import asyncio
import logging
from contextlib import suppress
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine, delete, or_
from sqlmodel import Session, col

from backend import changes
from backend.auth.saved import KEEP_FOR
from backend.config import Settings
from backend.db import utc_now, write_session
from backend.models import AuthSession, Invite, PasswordReset, RateEvent, SavedForm

log = logging.getLogger("mutual")

GRACE = timedelta(days=1)
# the longest rate-limit window is an hour
RATE_EVENTS_KEPT = timedelta(days=1)


def sweep(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> dict[str, int]:
    """Delete what has ended; returns how many rows of each kind went."""
    now = now or utc_now()
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    statements = {
        "sessions": delete(AuthSession).where(
            or_(
                col(AuthSession.last_seen_at) < now - idle - GRACE,
                col(AuthSession.created_at) < now - absolute - GRACE,
            )
        ),
        "reset links": delete(PasswordReset).where(
            or_(
                col(PasswordReset.expires_at) < now,
                col(PasswordReset.used_at).is_not(None),
            )
        ),
        "saved forms": delete(SavedForm).where(
            col(SavedForm.created_at) < now - KEEP_FOR
        ),
        # an invitation that has ended is shown on no page
        "invitations": changes.unseen(delete(Invite)).where(
            or_(
                col(Invite.expires_at) < now - GRACE,
                col(Invite.used_at) < now - GRACE,
                col(Invite.revoked_at) < now - GRACE,
            )
        ),
        "rate-limit counts": delete(RateEvent).where(
            col(RateEvent.at) < now - RATE_EVENTS_KEPT
        ),
    }
    deleted = {
        kind: session.exec(statement).rowcount for kind, statement in statements.items()
    }
    session.commit()
    return deleted


def sweep_now(engine: Engine, settings: Settings) -> dict[str, int]:
    with write_session(engine) as session:
        return sweep(session, settings)


async def keep_tidy(engine: Engine, settings: Settings, stop: asyncio.Event) -> None:
    """Sweep every `retention_minutes` until `stop` is set; a failed sweep waits a turn.

    Stopping waits for a sweep under way to finish, so none outlives the server.
    """
    every = settings.retention_minutes * 60
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            deleted = await to_thread.run_sync(sweep_now, engine, settings)
        except Exception as error:  # the next turn tries again
            log.warning("retention sweep failed: %s", type(error).__name__)
            continue
        if any(deleted.values()):
            log.info(
                "retention: deleted %s",
                ", ".join(f"{n} {kind}" for kind, n in deleted.items() if n),
            )
