"""Server-sent events for a plan (signals only, never words), and the small
fragments a live page re-fetches when signalled, each rendered for its viewer."""

import logging
import uuid
from functools import partial

import anyio
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend.db import new_session
from backend.debriefs.service import pinnable
from backend.deps import CurrentAccount, MemberPlan, SessionDep
from backend.entries import service as entries_service
from backend.entries.sections import BY_KEY
from backend.error_pages import error_page
from backend.errors import NotFound
from backend.live.broker import Broker, Event, Listener, StreamBudget, StreamsFull
from backend.live.stream import HandedOver, LiveStream
from backend.members import people_of
from backend.models import Plan
from backend.plans import service as plans_service
from backend.plans.page import plan_page
from backend.plans.presence import shows_presence
from backend.plans.shelf import Shelving
from backend.web import is_fragment, path_for, redirect, render

router = APIRouter()
log = logging.getLogger("mutual.live")
RETRY_STREAM_SECONDS = 30
STILL_WORKS = "The page still works; reload it to see what changed."


def broker_of(request: Request) -> Broker:
    broker: Broker = request.app.state.broker
    return broker


def announce_presence(
    broker: Broker, plan_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    """Tell a plan's open pages that who is here may have changed: the one place
    presence is published, in every process (streams opening and closing)."""
    broker.publish(plan_id, "presence", id=str(account_id))


def _check_member(
    engine: Engine | Connection, plan_id: str, account_id: uuid.UUID
) -> tuple[uuid.UUID, bool]:
    """The plan's id, and whether this person chose to be seen as here."""
    with new_session(engine) as session:
        key = plans_service.plan_for_member(session, plan_id, account_id).id
        return key, shows_presence(session, key, account_id)


def _shows_now(
    engine: Engine | Connection, plan_id: uuid.UUID, account_id: uuid.UUID
) -> bool:
    with new_session(engine) as session:
        return shows_presence(session, plan_id, account_id)


async def _shown_at_close(
    engine: Engine | Connection,
    plan_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    at_open: bool,
) -> bool:
    """Whether a closing stream's going is told: by the person's choice as it is
    now, not as it was when the page opened (they may have turned it on or off
    since). Asked even when the stream was cancelled; if the database cannot
    say, the choice at opening stands."""
    shown = at_open
    with anyio.CancelScope(shield=True):
        try:
            shown = await anyio.to_thread.run_sync(
                _shows_now, engine, plan_id, account_id
            )
        except Exception as exc:
            log.warning("presence at close unknown: %s", type(exc).__name__)
    return shown


async def _closed(
    broker: Broker,
    engine: Engine | Connection,
    key: uuid.UUID,
    listener: Listener,
    account_id: uuid.UUID,
    announced: bool,
) -> None:
    """A stream ended: no longer counted, and its going told if chosen."""
    await broker.close(key, listener)
    if await _shown_at_close(engine, key, account_id, at_open=announced):
        announce_presence(broker, key, account_id)


def _stamp_of(engine: Engine | Connection, plan_id: uuid.UUID) -> int | None:
    # the stamp alone: the plan's title (sealed) is not opened for it
    with new_session(engine) as session:
        return session.exec(select(Plan.stamp).where(Plan.id == plan_id)).first()


@router.get("/plans/{plan_id}/events", name="live.events")
async def events(
    request: Request, plan_id: str, account: CurrentAccount, stamp: int | None = None
) -> Response:
    """Authorises once at connect, then holds no database session while it waits;
    the open stream is served by backend.live.stream.

    `stamp` is the plan's stamp as the page asking was built: what changed after
    that and before this stream was listening was told to no one, so the stream
    then begins by telling the page to fetch itself again."""
    engine = request.app.state.engine
    key, announced = await run_in_threadpool(_check_member, engine, plan_id, account.id)
    broker = broker_of(request)
    settings = request.app.state.settings
    budget = StreamBudget(
        total=settings.streams_total,
        per_account=settings.streams_per_account,
        per_address=settings.streams_per_address,
    )
    visitor = request.state.visitor
    try:
        listener = await broker.open(
            key,
            account.id,
            visitor.session_hash or "",
            address=request.client.host if request.client else "",
            budget=budget,
        )
    except StreamsFull as full:
        # the page itself keeps working; only its live updates wait
        if full.reason in {"total", "listener"}:
            refused = error_page(
                request, 503, "Live updates are very busy just now. " + STILL_WORKS
            )
        else:
            refused = error_page(
                request, 429, "Too many open windows of Mutual at once. " + STILL_WORKS
            )
        refused.headers["Retry-After"] = str(RETRY_STREAM_SECONDS)
        return refused
    if stamp is not None:
        # read once the listener is open: a change after this is signalled to it
        now = await run_in_threadpool(_stamp_of, engine, key)
        if now != stamp:
            listener.offer(Event("plan", str(key)))
    if announced:
        announce_presence(broker, key, account.id)
    on_close = partial(_closed, broker, engine, key, listener, account.id, announced)
    stream = LiveStream(listener, lifetime=settings.sse_max_seconds, on_close=on_close)
    return HandedOver(stream)


@router.get("/plans/{plan_id}/presence", name="live.presence")
def presence(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    people = people_of(session, plan.id)
    partner = next((p for p in people.values() if p.id != account.id), None)
    here = (
        partner is not None
        and shows_presence(session, plan.id, partner.id)
        and partner.id in broker_of(request).present(plan.id)
    )
    return render(
        request,
        "plans/_presence.html",
        {"plan": plan, "partner": partner, "partner_here": here},
    )


def _to_plan(request: Request, plan: Plan, anchor: str = "") -> Response:
    """These fragments are for live pages only; a plain visit goes to the plan."""
    return redirect(
        request, path_for(request, "plans.detail", plan_id=plan.id) + anchor
    )


@router.get("/plans/{plan_id}/sections/{key}", name="live.section")
def section_list(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    key: str,
    owner: str = "shared",
    debrief: str = "",
) -> Response:
    """One list of the plan page: a section's shared entries, one partner's own
    entries in a personal section, or the removed ones. Drafts only to their owner."""
    spec = BY_KEY.get(key)
    if spec is None and key != "removed":
        raise NotFound
    if not is_fragment(request):
        return _to_plan(request, plan, f"#section-{key}")
    debriefed = pinnable(session, plan, debrief)
    pinned_id = str(debriefed.id) if debriefed else ""
    shelf = Shelving(request, pinned_id)
    page = plan_page(session, plan, account.id, entry_texts=False, shelf=shelf)
    person = None
    if spec is not None and spec.personal:
        person = next((p for p in page.people.values() if str(p.id) == owner), None)
        if person is None:
            raise NotFound
    shelf.fill(page, plan)
    context = {
        "plan": plan,
        "page": page,
        "spec": spec,
        "person": person,
        "pinned_id": pinned_id,
    }
    block = "removed_list" if key == "removed" else "entry_list"
    return render(request, "plans/detail.html", context, block=block)


@router.get("/plans/{plan_id}/summary", name="live.summary")
def summary(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> Response:
    """The counts line: agreed, waiting for me, waiting for my partner. Each
    kept card brings what it adds to them: asked for by every open page of the
    plan after each change, this builds only the cards that changed."""
    if not is_fragment(request):
        return _to_plan(request, plan)
    page = plan_page(session, plan, account.id, shelf=Shelving(request, ""))
    return render(
        request, "plans/detail.html", {"plan": plan, "page": page}, block="summary"
    )


@router.get("/plans/{plan_id}/entries/{entry_id}/meanwhile", name="live.meanwhile")
def meanwhile(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    since: int = 0,
    show: bool = False,
) -> Response:
    """Told beside an open editor: the partner saved a newer wording than the one
    being edited. The editor itself is never touched (invariant 4)."""
    entry = entries_service.get_entry(session, plan, entry_id, account.id)
    if not is_fragment(request):
        return _to_plan(request, plan, f"#entry-{entry.id}")
    page = plan_page(session, plan, account.id, only=[entry.id])
    card = page.cards.get(entry.id)
    newer = (
        card is not None and entry.version > since and entry.updated_by != account.id
    )
    return render(
        request,
        "entries/entry.html",
        {
            "plan": plan,
            "entry": entry,
            "card": card if newer else None,
            "since": since,
            "show": show,
        },
        block="meanwhile",
    )
