"""Who is asking: the server-side session behind a cookie, and its CSRF token.

The cookie holds a random 256-bit token; the database holds only its SHA-256.
A session ends after `session_idle_minutes` without a request, or
`session_absolute_hours` after sign-in, whichever comes first.
"""

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Engine, Row, bindparam, delete
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col

from backend.auth.tokens import digest, new_token, sign
from backend.config import Settings
from backend.db import detached, first_alone, utc_now, write_session
from backend.members import Person, in_side_order
from backend.models import Account, AuthSession, Membership, Plan

TOUCH_EVERY = timedelta(seconds=60)
_Row = TypeVar("_Row", bound=SQLModel)

# The last request of each session since its last written touch, so the idle
# clock counts from the last request while writes stay one a minute. Keyed by
# token hash; each holds the written time it was measured from, and counts only
# while the row still says so (this process's requests; another process's
# writes or an ended session make it stale).
_unwritten: dict[str, tuple[datetime, datetime]] = {}
_unwritten_lock = threading.Lock()
_UNWRITTEN_MAX = 10_000


@dataclass
class Cookie:
    name: str
    value: str
    max_age: int | None = None  # None: until the browser closes


@dataclass
class Visitor:
    """What a request knows about its sender before any route runs."""

    account: Account | None = None
    session_hash: str | None = None
    csrf_token: str = ""
    session_expired: bool = False
    expired_account_id: uuid.UUID | None = None
    cookies: list[Cookie] = field(default_factory=list)
    # the plan the address names, read with the session if this person is one
    # of its partners (`deps.get_plan_for_member` takes it from here), and its
    # partners as `members.people_of` reads them
    plan: Plan | None = None
    people: dict[uuid.UUID, Person] | None = None


def cookie_name(settings: Settings, base: str) -> str:
    return f"__Host-mutual_{base}" if settings.secure_cookies else f"mutual_{base}"


def csrf_for_session(secret: str, csrf_secret: str) -> str:
    return sign(secret, f"session:{csrf_secret}")


def csrf_for_anonymous(secret: str, anon: str) -> str:
    return sign(secret, f"anonymous:{anon}")


def last_request(token_hash: str, last_seen_at: datetime) -> datetime:
    """When this session was last used: written, or since then in this process."""
    with _unwritten_lock:
        seen = _unwritten.get(token_hash)
    if seen and seen[0] == last_seen_at:
        return seen[1]
    return last_seen_at


def remember_request(token_hash: str, last_seen_at: datetime, now: datetime) -> None:
    """Count a request the written touch does not: the idle clock runs from it."""
    with _unwritten_lock:
        if len(_unwritten) >= _UNWRITTEN_MAX:
            _unwritten.clear()  # only costs a minute's precision for the rest
        _unwritten[token_hash] = (last_seen_at, now)


class Standing(Enum):
    ENDED = "ended"  # idle or too old: never usable again
    TOUCH_DUE = "touch due"  # usable, once its last use is written
    OPEN = "open"  # usable; this request is remembered, not written


def standing(
    token_hash: str,
    last_seen_at: datetime,
    created_at: datetime,
    settings: Settings,
    now: datetime,
) -> Standing:
    """Whether a session still stands at `now`: it ends after
    `session_idle_minutes` without a request (this process's unwritten ones
    count) or `session_absolute_hours` after sign-in; its last use is written
    at most once a minute."""
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    if (
        now - last_request(token_hash, last_seen_at) > idle
        or now - created_at > absolute
    ):
        return Standing.ENDED
    if now - last_seen_at > TOUCH_EVERY:
        return Standing.TOUCH_DUE
    return Standing.OPEN


# Built once, bound when it runs: this runs before every request. The session
# and its account, and the plan the address names (`plan_id`, or none) if the
# account is one of its partners; columns, made into objects by `_visit`.
_SESSION_COLUMNS = (
    col(AuthSession.account_id),
    col(AuthSession.csrf_secret),
    col(AuthSession.created_at),
    col(AuthSession.last_seen_at),
)
_ACCOUNT_COLUMNS = tuple(Account.__table__.c)  # type: ignore[attr-defined]
_PLAN_COLUMNS = tuple(Plan.__table__.c)  # type: ignore[attr-defined]
# and the plan's partners (`Visitor.people`): the person's side of the page, and
# the other partner's id, name and side, if there is one (a plan has two at most)
_Other = aliased(Membership)
_OtherAccount = aliased(Account)
_PEOPLE_COLUMNS = (
    col(Membership.slot),
    col(_Other.account_id),
    col(_OtherAccount.display_name),
    col(_Other.slot),
)
_SESSION_ACCOUNT_AND_PLAN = (
    sa_select(*_SESSION_COLUMNS, *_ACCOUNT_COLUMNS, *_PLAN_COLUMNS, *_PEOPLE_COLUMNS)
    .select_from(AuthSession)
    .outerjoin(Account, col(Account.id) == AuthSession.account_id)
    .outerjoin(
        Membership,
        (col(Membership.account_id) == AuthSession.account_id)
        & (col(Membership.plan_id) == bindparam("plan_id")),
    )
    .outerjoin(Plan, col(Plan.id) == Membership.plan_id)
    .outerjoin(
        _Other,
        (col(_Other.plan_id) == Membership.plan_id)
        & (col(_Other.account_id) != Membership.account_id),
    )
    .outerjoin(_OtherAccount, col(_OtherAccount.id) == _Other.account_id)
    .where(col(AuthSession.token_hash) == bindparam("token_hash"))
)
_ACCOUNT_AT = len(_SESSION_COLUMNS)
_PLAN_AT = _ACCOUNT_AT + len(_ACCOUNT_COLUMNS)
_PEOPLE_AT = _PLAN_AT + len(_PLAN_COLUMNS)


def _visit(
    row: Row[Any],
) -> tuple[Account | None, Plan | None, dict[uuid.UUID, Person] | None]:
    """The account, the plan and its partners of a row of
    `_SESSION_ACCOUNT_AND_PLAN`."""
    account = _made(Account, _ACCOUNT_COLUMNS, row[_ACCOUNT_AT:_PLAN_AT])
    plan = _made(Plan, _PLAN_COLUMNS, row[_PLAN_AT:_PEOPLE_AT])
    if account is None or plan is None:
        return account, plan, None
    slot, other_id, other_name, other_slot = row[_PEOPLE_AT:]
    found = [Person(account.id, account.display_name, slot)]
    if other_id is not None:
        found.append(Person(other_id, other_name, other_slot))
    return account, plan, {p.id: p for p in in_side_order(found)}


def _made(
    model: type[_Row], columns: tuple[Any, ...], values: Sequence[Any]
) -> _Row | None:
    if values[0] is None:  # its id: the outer join found none
        return None
    return detached(model, {c.key: v for c, v in zip(columns, values, strict=True)})


def identify(
    engine: Engine,
    settings: Settings,
    secret: str,
    cookies: dict[str, str],
    plan_id: uuid.UUID | None = None,
) -> Visitor:
    """Resolve the session cookie (ending it if expired) or the anonymous cookie.

    Given the id of a plan the address names, the same statement reads the
    plan, if the account is one of its partners (`Visitor.plan`)."""
    visitor = Visitor()
    token = cookies.get(cookie_name(settings, "sid"))
    if token:
        token_hash = digest(token)
        now = utc_now()
        # one statement, on its own: this runs before every request of a
        # signed-in person
        row = first_alone(
            engine,
            _SESSION_ACCOUNT_AND_PLAN,
            {"token_hash": token_hash, "plan_id": plan_id},
        )
        account_id, account, plan = None, None, None
        stands = Standing.ENDED
        if row is not None:
            account_id, csrf_secret, created_at, last_seen_at = row[:_ACCOUNT_AT]
            stands = standing(token_hash, last_seen_at, created_at, settings, now)
            account, plan, people = _visit(row)
        if account and stands is not Standing.ENDED:
            visitor.account = account
            visitor.plan = plan
            visitor.people = people
            visitor.session_hash = token_hash
            visitor.csrf_token = csrf_for_session(secret, csrf_secret)
            if stands is Standing.TOUCH_DUE:
                _touch(engine, token_hash, now)
                with _unwritten_lock:
                    _unwritten.pop(token_hash, None)
            else:
                remember_request(token_hash, last_seen_at, now)
            return visitor
        # An ended session stays recognisable (never usable) until the next sign-in,
        # so a form posted from it can be kept for its writer.
        visitor.session_expired = True
        visitor.expired_account_id = account_id
    anon = cookies.get(cookie_name(settings, "anon"))
    if not anon:
        anon = new_token()
        visitor.cookies.append(Cookie(cookie_name(settings, "anon"), anon))
    visitor.csrf_token = csrf_for_anonymous(secret, anon)
    return visitor


def _touch(engine: Engine, token_hash: str, now: datetime) -> None:
    with write_session(engine) as session:
        row = session.get(AuthSession, token_hash)
        if row:
            row.last_seen_at = now
            session.add(row)
            session.commit()


def start_session(
    session: Session, account_id: uuid.UUID, settings: Settings | None = None
) -> str:
    """A new session (and so a new token) for every sign-in: no fixation."""
    token = new_token()
    hours = settings.session_absolute_hours if settings else 12
    stale = utc_now() - timedelta(hours=hours + 24)
    session.exec(delete(AuthSession).where(col(AuthSession.created_at) < stale))
    session.add(
        AuthSession(
            token_hash=digest(token), account_id=account_id, csrf_secret=new_token()
        )
    )
    return token


def end_session(engine: Engine, token_hash: str) -> None:
    with write_session(engine) as session:
        session.exec(
            delete(AuthSession).where(col(AuthSession.token_hash) == token_hash)
        )
        session.commit()


def end_all_sessions(
    session: Session, account_id: uuid.UUID, *, keep: str | None = None
) -> None:
    """End every session of an account, except `keep` (a token hash) if given."""
    query = delete(AuthSession).where(col(AuthSession.account_id) == account_id)
    if keep:
        query = query.where(col(AuthSession.token_hash) != keep)
    session.exec(query)
