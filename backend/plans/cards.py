"""Rendering an entry's card, the answer to every action taken on one entry.

Shared by the routes of entries and of consent, so neither imports the other.
"""

import uuid

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from backend.db import reading_after_write
from backend.debriefs.service import pinnable
from backend.entries.service import get_entry
from backend.errors import DomainError, FormError, NotFound
from backend.members import Person
from backend.models import Plan
from backend.plans.page import Card, PlanPage, plan_page
from backend.plans.shelf import Shelving
from backend.web import is_fragment, path_for, redirect, render

ENTRY = "/plans/{plan_id}/entries/{entry_id}"


def card(
    request: Request,
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    entry_id: uuid.UUID,
    *,
    status: int = 200,
    **extra: object,
) -> Response:
    """The entry's card for this viewer; a plain form post goes back to the plan,
    unless something needs saying (a 4xx), which gets a page of its own."""
    if not is_fragment(request) and request.method == "POST" and status < 400:
        target = plan_path(request, plan, str(extra.get("pinned_id") or ""))
        return redirect(request, f"{target}#entry-{entry_id}")
    if request.method == "POST":
        # the change is committed: the card is read without the write lock
        reading_after_write(session, request.app.state.engine)
    # a card that carries nothing of this answer alone (no error, no words sent
    # back) is the card this viewer would get by asking for it now: kept, so the
    # writer's own page, which asks for it again on the signal this write sent,
    # is answered from the shelf
    plain = status < 400 and set(extra) <= {"pinned_id"}
    shelf = Shelving(request, str(extra.get("pinned_id") or "")) if plain else None
    page = plan_page(session, plan, account_id, only=[entry_id], shelf=shelf)
    view = page.find(entry_id)
    if shelf is not None:
        shelf.fill(page, plan)
    return render(
        request,
        "entries/entry.html",
        {"page": page, "plan": plan, "card": view, **extra},
        block="entry_card",
        status=status,
    )


def card_view(
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    entry_id: str | uuid.UUID,
    shelf: Shelving,
    people: dict[uuid.UUID, Person] | None = None,
) -> tuple[PlanPage, Card]:
    """The entry's card (in the plan or removed) as this viewer sees it, with the
    page it belongs to, built or kept (`shelf`); NotFound unless it is an entry
    of this plan the viewer may see. One read: no separate look-up first.
    `people`: the plan's partners, if already read."""
    try:
        key = entry_id if isinstance(entry_id, uuid.UUID) else uuid.UUID(entry_id)
    except ValueError:
        raise NotFound from None
    page = plan_page(session, plan, account_id, only=[key], people=people, shelf=shelf)
    view = page.find(key)
    if view is None:
        raise NotFound
    shelf.fill(page, plan)
    return page, view


def refused(
    request: Request,
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    entry_id: str | uuid.UUID,
    error: DomainError,
) -> Response:
    """The card again, saying why the action on it did not happen; nothing of the
    refused transaction is kept."""
    reading_after_write(session, request.app.state.engine)
    entry = get_entry(session, plan, entry_id, account_id)
    errors = error.errors if isinstance(error, FormError) else {"form": error.message}
    return card(
        request, session, plan, account_id, entry.id, status=error.status, errors=errors
    )


def pinned_id(session: Session, plan: Plan, raw: str) -> uuid.UUID | None:
    """The talk a wording is written beside, if it is one of this plan's; else None."""
    debrief = pinnable(session, plan, raw)
    return debrief.id if debrief else None


def plan_path(request: Request, plan: Plan, pinned: str = "") -> str:
    """The plan page, with the talk still pinned beside it if there is one."""
    target = path_for(request, "plans.detail", plan_id=plan.id)
    return f"{target}?debrief={pinned}" if pinned else target
