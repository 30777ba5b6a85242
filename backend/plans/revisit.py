"""Looking at the plan again: a date, or a wish to, and a file for a calendar.

A date is for both, so it takes both: one partner suggests a day, the other
says yes to it (or suggests another, which turns the question round). Either
may ask to look again without a day; suggesting a day answers that wish.
Either may clear a date once they have looked. The calendar file names the
app and the date only: never the plan's title, its words or the partner's name.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from backend import changes
from backend.db import record_signal, utc_now
from backend.errors import FormError, NotFound
from backend.models import Plan

FURTHEST = timedelta(days=2 * 366)
SUMMARY = "Mutual: look at our plan again"


@dataclass(frozen=True)
class Revisit:
    """What a partner sees about looking at the plan again."""

    by: date | None
    set_by_me: bool
    due: bool
    asked_by_partner: bool
    asked_by_me: bool
    asked_at: datetime | None
    today: date
    proposed_on: date | None = None  # a day suggested, waiting for the other's yes
    proposed_by_me: bool = False
    proposed_by_partner: bool = False


def revisit_of(plan: Plan, viewer_id: uuid.UUID, *, today: date) -> Revisit:
    changes.expires(changes.day_after(today))
    asked = plan.revisit_requested_by
    proposer = plan.revisit_proposed_by if plan.revisit_proposed_on else None
    return Revisit(
        by=plan.revisit_by,
        set_by_me=plan.revisit_set_by == viewer_id,
        due=plan.revisit_by is not None and plan.revisit_by <= today,
        asked_by_partner=asked is not None and asked != viewer_id,
        asked_by_me=asked == viewer_id,
        asked_at=plan.revisit_requested_at,
        today=today,
        proposed_on=plan.revisit_proposed_on if proposer else None,
        proposed_by_me=proposer is not None and proposer == viewer_id,
        proposed_by_partner=proposer is not None and proposer != viewer_id,
    )


def checked_date(raw: str, *, today: date) -> date:
    """A day from today on, within two years; FormError keeps what was typed."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise FormError(
            {"revisit_by": "Please give the date as day, month and year."}
        ) from None
    if day < today:
        raise FormError({"revisit_by": "Please choose today or a day after it."})
    if day > today + FURTHEST:
        raise FormError(
            {"revisit_by": "Please choose a day within the next two years."}
        )
    return day


def propose_revisit(
    session: Session, plan: Plan, *, account_id: uuid.UUID, revisit_by: str
) -> Plan:
    """Suggest a day to look at the plan again; it is set once the other says yes.

    A suggestion answers any wish to look again, and replaces an earlier
    suggestion (the other's too: suggesting another day turns it round).
    """
    plan.revisit_proposed_on = checked_date(revisit_by, today=utc_now().date())
    plan.revisit_proposed_by = account_id
    plan.revisit_requested_by = None
    plan.revisit_requested_at = None
    session.add(plan)
    record_signal(session, plan.id, "plan", plan.id)
    session.commit()
    return plan


def confirm_revisit(session: Session, plan: Plan, *, account_id: uuid.UUID) -> Plan:
    """Say yes to the day the partner suggested: it becomes the date for both.

    Only the other partner confirms a suggestion; one's own needs the other.
    """
    day, proposer = plan.revisit_proposed_on, plan.revisit_proposed_by
    if day is None or proposer is None or proposer == account_id:
        raise FormError({"revisit": "There is no day of your partner's to say yes to."})
    plan.revisit_by = day
    plan.revisit_set_by = proposer
    plan.revisit_proposed_on = None
    plan.revisit_proposed_by = None
    if plan.calendar_uid is None:
        plan.calendar_uid = uuid.uuid4()
    session.add(plan)
    record_signal(session, plan.id, "plan", plan.id)
    session.commit()
    return plan


def request_revisit(session: Session, plan: Plan, *, account_id: uuid.UUID) -> Plan:
    """ "I'd like us to look at our plan again": the partner sees it when they come."""
    if plan.revisit_requested_by is None:
        plan.revisit_requested_by = account_id
        plan.revisit_requested_at = utc_now()
        session.add(plan)
        record_signal(session, plan.id, "plan", plan.id)
        session.commit()
    return plan


def clear_revisit(
    session: Session, plan: Plan, *, account_id: uuid.UUID, what: str
) -> Plan:
    """Either partner clears the date; only the one who asked takes a wish back,
    and only the one who suggested a day takes the suggestion back."""
    if what == "date":
        plan.revisit_by = None
        plan.revisit_set_by = None
    elif what == "request" and plan.revisit_requested_by == account_id:
        plan.revisit_requested_by = None
        plan.revisit_requested_at = None
    elif what == "proposal" and plan.revisit_proposed_by == account_id:
        plan.revisit_proposed_on = None
        plan.revisit_proposed_by = None
    session.add(plan)
    record_signal(session, plan.id, "plan", plan.id)
    session.commit()
    return plan


def calendar_file(plan: Plan, *, now: datetime | None = None) -> str:
    """An all-day event on the revisit date: the app and the date, nothing else."""
    if plan.revisit_by is None:
        raise NotFound
    day = plan.revisit_by
    stamp = (now or utc_now()).strftime("%Y%m%dT%H%M%SZ")
    # random, stored with the plan: stable across downloads, derived from nothing
    uid = plan.calendar_uid or uuid.uuid4()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Mutual//Mutual//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}@mutual",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{SUMMARY}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
