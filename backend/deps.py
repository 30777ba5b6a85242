"""Dependencies, as Annotated aliases."""

import uuid
from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.requests import Request

from backend.auth import csrf
from backend.auth.passwords import Hasher
from backend.auth.sessions import Visitor, cookie_name, identify
from backend.auth.tokens import mask
from backend.config import Settings
from backend.db import get_session
from backend.errors import NotFound
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
    """Runs for every route: who is this, and is an unsafe request really theirs?
    For an address that names a plan, the same statement reads the plan if the
    person is one of its partners, so the member check asks nothing more."""
    app_state = request.app.state
    engine, settings = app_state.engine, app_state.settings
    asked = (engine, settings, app_state.secret, dict(request.cookies))
    if cookie_name(settings, "sid") in request.cookies:
        # a session to look up: a read of the database, and at most once a
        # minute a write. Never on the event loop, even on SQLite, whose read
        # waits for no lock: it waits for a pooled connection, and when every
        # one is held by a request, only the event loop could give one back
        visitor: Visitor = await run_in_threadpool(
            identify, *asked, _named_plan(request)
        )
    else:
        # no session: nothing to read, so in place
        visitor = identify(*asked)
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


def _named_plan(request: Request) -> uuid.UUID | None:
    """The plan the address names (its `plan_id`), if any."""
    named = request.path_params.get("plan_id")
    if not named:
        return None
    try:
        return uuid.UUID(named)
    except ValueError:
        return None


def _plan_read_with_visitor(request: Request) -> Plan:
    """The plan the address names, as read with the session; 404 if the person
    is not one of its partners (no plan was read) or it names no plan."""
    plan: Plan | None = request.state.visitor.plan
    if plan is None:
        raise NotFound
    return plan


async def get_plan_for_member(
    request: Request, account: CurrentAccount, session: SessionDep
) -> Plan:
    """The plan, if the signed-in person is one of its partners; else 404.

    A read takes the plan read with the session (`identify_visitor`) as it is,
    every column loaded and in no session: it only reads it. A write checks
    again inside its own transaction, as its service does not read the partners
    there: a partner removed since cannot write."""
    plan = _plan_read_with_visitor(request)
    if request.method in csrf.SAFE_METHODS:
        return plan
    found: Plan = await run_in_threadpool(
        plans_service.plan_for_member, session, plan.id, account.id
    )
    return found


MemberPlan = Annotated[Plan, Depends(get_plan_for_member)]


async def get_plan_for_writer(
    request: Request, account: CurrentAccount, session: SessionDep
) -> Plan:
    """The plan, if the signed-in person is one of its partners; else 404: the
    plan read with the session (`identify_visitor`), handed to the request's
    write session without SQL, so that session, and on SQLite the one write
    lock, begins at the handler's first statement.

    Only for writes whose service checks again, inside its own transaction, that
    the person is still a partner (the plan's partners, read there): a partner
    removed between this check and the write cannot write.
    """
    return session.merge(_plan_read_with_visitor(request), load=False)


WriterPlan = Annotated[Plan, Depends(get_plan_for_writer)]


async def get_hasher(request: Request) -> Hasher:
    hasher: Hasher = request.app.state.hasher
    return hasher


HasherDep = Annotated[Hasher, Depends(get_hasher)]
