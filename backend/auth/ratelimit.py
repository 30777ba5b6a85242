"""Rate limits counted in the database, so they hold across processes and restarts."""

import math
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from backend.db import utc_now
from backend.errors import DomainError
from backend.models import RateEvent


@dataclass(frozen=True)
class Limit:
    bucket: str
    count: int
    window: timedelta


class TooManyAttempts(DomainError):
    status = 429
    title = "Let's slow down"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        wait = "a minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(
            f"There have been too many tries in a short time. Please wait {wait} and "
            "try again. Nothing you typed has been lost."
        )
        self.retry_after = retry_after


def spend(session: Session, limits: list[Limit], *, enabled: bool = True) -> None:
    """Count one attempt against each limit; TooManyAttempts if any is used up."""
    if not enabled:
        return
    now = utc_now()
    for limit in limits:
        since = now - limit.window
        used, oldest = session.exec(
            select(func.count(), func.min(RateEvent.at)).where(
                RateEvent.bucket == limit.bucket, col(RateEvent.at) > since
            )
        ).one()
        if used >= limit.count and oldest is not None:
            retry = (oldest + limit.window - now).total_seconds()
            session.rollback()
            raise TooManyAttempts(max(1, math.ceil(retry)))
    for limit in limits:
        session.add(RateEvent(bucket=limit.bucket, at=now))
    session.exec(delete(RateEvent).where(col(RateEvent.at) < now - timedelta(days=2)))
    session.commit()


# Slower, never shut: a person's own account, tried from everywhere at once.
SLOW_AFTER = 5  # failures before any pause
FIRST_PAUSE = 0.25  # seconds; doubles with each further failure
LONGEST_PAUSE = 3.0
pause = time.sleep  # tests replace it, to count pauses instead of waiting


def failures(session: Session, bucket: str, window: timedelta) -> int:
    """How many failures `bucket` has had within `window`."""
    used = session.exec(
        select(func.count()).where(
            RateEvent.bucket == bucket, col(RateEvent.at) > utc_now() - window
        )
    ).one()
    session.commit()  # end the read: the route's own writes come after
    return used


def pause_for(failed: int) -> float:
    """Seconds to wait before checking a password after `failed` recent failures."""
    if failed < SLOW_AFTER:
        return 0.0
    return min(LONGEST_PAUSE, FIRST_PAUSE * 2.0 ** (failed - SLOW_AFTER))


def record_failure(session: Session, bucket: str) -> None:
    session.add(RateEvent(bucket=bucket, at=utc_now()))
    session.commit()
