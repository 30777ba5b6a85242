"""Dependencies, as Annotated aliases."""

from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request

from backend.auth import csrf
from backend.auth.passwords import Hasher
from backend.auth.sessions import Visitor, identify
from backend.auth.tokens import mask
from backend.config import Settings
from backend.db import get_session, new_session
from backend.models import Account, Plan
from backend.plans import service as plans_service
from backend.web import origin_of

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# Dependencies that do no I/O are async, so FastAPI runs them in place instead of
# sending each through the thread pool.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class NotSignedIn(Exception):
    """The route needs an account; the handler sends the person to sign in."""


async def identify_visitor(request: Request) -> Visitor:
    """Runs for every route: who is this, and is an unsafe request really theirs?"""
    app_state = request.app.state
    visitor: Visitor = await run_in_threadpool(
        identify,
        app_state.engine,
        app_state.settings,
        app_state.secret,
        dict(request.cookies),
    )
    request.state.visitor = visitor
    request.state.account = visitor.account
    # masked afresh for every response, the same within one page
    request.state.csrf_token = mask(visitor.csrf_token)
    if request.method not in csrf.SAFE_METHODS:
        content_type = request.headers.get("content-type", "")
        form = await request.form() if content_type.startswith(FORM_TYPES) else None
        request.state.form = form
        csrf.check(request, visitor, origin_of(request, app_state.settings), form)
    return visitor


VisitorDep = Annotated[Visitor, Depends(identify_visitor)]


async def require_account(visitor: VisitorDep) -> Account:
    if visitor.account is None:
        raise NotSignedIn
    return visitor.account


CurrentAccount = Annotated[Account, Depends(require_account)]


def get_plan_for_member(
    plan_id: str, account: CurrentAccount, session: SessionDep
) -> Plan:
    """The plan, if the signed-in person is one of its partners; else 404."""
    return plans_service.plan_for_member(session, plan_id, account.id)


MemberPlan = Annotated[Plan, Depends(get_plan_for_member)]


def get_plan_for_writer(
    request: Request, plan_id: str, account: CurrentAccount, session: SessionDep
) -> Plan:
    """The plan, if the signed-in person is one of its partners; else 404. On
    SQLite it is checked in a short read of its own, so the request's write
    session, and with it SQLite's one write lock, begins at the handler's first
    statement, not here: this runs in a thread of its own, and a lock taken here
    would be held across the hop back to the event loop and on into the
    handler's thread.

    Only for writes whose service checks again, inside its own transaction, that
    the person is still a partner (the plan's partners, read there): a partner
    removed between this check and the write cannot write.
    """
    bind = request.app.state.engine
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        # no database-wide write lock to keep short: one session, as for a read
        return plans_service.plan_for_member(session, plan_id, account.id)
    with new_session(bind) as reading:
        plan = plans_service.plan_for_member(reading, plan_id, account.id)
    # handed over without SQL: the write session reads nothing until the handler
    return session.merge(plan, load=False)


WriterPlan = Annotated[Plan, Depends(get_plan_for_writer)]


async def get_hasher(request: Request) -> Hasher:
    hasher: Hasher = request.app.state.hasher
    return hasher


HasherDep = Annotated[Hasher, Depends(get_hasher)]
