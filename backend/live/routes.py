"""Server-sent events for a plan: signals only, never words."""

import asyncio
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend.db import new_session
from backend.deps import CurrentAccount, MemberPlan, SessionDep
from backend.entries.views import people_of
from backend.errors import DomainError
from backend.live.broker import Broker
from backend.plans import service as plans_service
from backend.web import render

router = APIRouter()
MAX_STREAMS_PER_ACCOUNT = 10
PING_SECONDS = 15


class TooManyStreams(DomainError):
    status = 429


def broker_of(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


def _check_member(
    engine: Engine | Connection, plan_id: str, account_id: uuid.UUID
) -> uuid.UUID:
    with new_session(engine) as session:
        return plans_service.plan_for_member(session, plan_id, account_id).id


@router.get("/plans/{plan_id}/events", name="live.events")
async def events(request: Request, plan_id: str, account: CurrentAccount) -> Response:
    """Authorises once at connect, then holds no database session while it waits."""
    key = await run_in_threadpool(
        _check_member, request.app.state.engine, plan_id, account.id
    )
    broker = broker_of(request)
    if broker.streams_of(account.id) >= MAX_STREAMS_PER_ACCOUNT:
        raise TooManyStreams("Too many open windows of Mutual at once.")
    lifetime = request.app.state.settings.sse_max_seconds
    listener = broker.subscribe(key, account.id)
    broker.publish(key, "presence", account=str(account.id))

    async def stream() -> AsyncIterator[dict[str, str]]:
        deadline = asyncio.get_running_loop().time() + lifetime
        try:
            yield {"event": "hello", "data": "{}"}
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return  # the browser reconnects and is authorised afresh
                try:
                    event = await asyncio.wait_for(
                        listener.queue.get(), timeout=min(remaining, PING_SECONDS)
                    )
                except TimeoutError:
                    continue
                yield {"event": event.kind, "data": event.data}
        finally:
            broker.unsubscribe(key, listener)
            broker.publish(key, "presence", account=str(account.id))

    return EventSourceResponse(
        stream(),
        ping=PING_SECONDS,
        send_timeout=30,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/plans/{plan_id}/presence", name="live.presence")
def presence(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    people = people_of(session, plan.id)
    partner = next((p for p in people.values() if p.id != account.id), None)
    here = partner is not None and partner.id in broker_of(request).present(plan.id)
    return render(
        request,
        "plans/_presence.html",
        {"plan": plan, "partner": partner, "partner_here": here},
    )
