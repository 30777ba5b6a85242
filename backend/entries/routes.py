"""Writing the plan: add, edit, delete and restore entries, inline or as plain forms."""

import contextlib
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.debriefs.service import pinnable
from backend.deps import CurrentAccount, MemberPlan, SessionDep
from backend.entries import service
from backend.entries.diff import word_diff
from backend.entries.sections import BY_KEY
from backend.entries.views import plan_page
from backend.errors import FormError
from backend.live.routes import broker_of
from backend.models import Entry, Plan
from backend.web import is_fragment, path_for, redirect, render

router = APIRouter()
ENTRY = "/plans/{plan_id}/entries/{entry_id}"


def notify(request: Request, entry: Entry) -> None:
    """Signal the plan's open pages: ids only, and never about a private draft."""
    if entry.is_draft:
        return
    broker_of(request).publish(
        entry.plan_id,
        "entry",
        id=str(entry.id),
        section=entry.section,
        owner=str(entry.owner_id or "shared"),
    )


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
    """The entry's card for this viewer; a plain form post goes back to the plan."""
    if not is_fragment(request) and request.method == "POST":
        target = _plan_path(request, plan, str(extra.get("pinned_id") or ""))
        return redirect(request, f"{target}#entry-{entry_id}")
    page = plan_page(session, plan, account_id, only=[entry_id])
    view = page.cards.get(entry_id) or next(
        (v for v in page.removed if v.id == entry_id), None
    )
    return render(
        request,
        "entries/entry.html",
        {"page": page, "plan": plan, "card": view, **extra},
        block="entry_card",
        status=status,
    )


def _pinned_id(session: Session, plan: Plan, raw: str) -> uuid.UUID | None:
    """The talk a wording is written beside, if it is one of this plan's; else None."""
    debrief = pinnable(session, plan, raw)
    return debrief.id if debrief else None


def _plan_path(request: Request, plan: Plan, pinned_id: str = "") -> str:
    """The plan page, with the talk still pinned beside it if there is one."""
    target = path_for(request, "plans.detail", plan_id=plan.id)
    return f"{target}?debrief={pinned_id}" if pinned_id else target


@router.post("/plans/{plan_id}/entries", name="entries.add")
def add_entry(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    section: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    draft: Annotated[str, Form()] = "",
    debrief_id: Annotated[str, Form()] = "",
) -> Response:
    spec = BY_KEY.get(section)
    form = {"section": section, "text": text, "draft": bool(draft)}
    pinned = _pinned_id(session, plan, debrief_id)
    pinned_id = str(pinned or "")
    try:
        entry = service.add_entry(
            session,
            plan,
            author_id=account.id,
            section=section,
            text=text,
            draft=bool(draft),
            debrief_id=pinned,
        )
    except FormError as error:
        page = plan_page(session, plan, account.id, only=[])
        return render(
            request,
            "entries/add.html",
            {
                "page": page,
                "plan": plan,
                "spec": spec,
                "form": form,
                "errors": error.errors,
                "pinned_id": pinned_id,
            },
            block="add_form",
            status=422,
        )
    notify(request, entry)
    if not is_fragment(request):
        target = _plan_path(request, plan, pinned_id)
        return redirect(request, f"{target}#entry-{entry.id}")
    page = plan_page(session, plan, account.id, only=[entry.id])
    return render(
        request,
        "entries/add.html",
        {
            "page": page,
            "plan": plan,
            "spec": spec,
            "form": {},
            "added": page.cards[entry.id],
            "pinned_id": pinned_id,
        },
        blocks=["add_form", "added_card"],
    )


@router.get(ENTRY, name="entries.card")
def entry_card(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    debrief: str = "",
) -> Response:
    entry = service.get_entry(session, plan, entry_id, account.id)
    page = plan_page(session, plan, account.id, only=[entry.id])
    view = page.cards.get(entry.id) or next(v for v in page.removed if v.id == entry.id)
    pinned_id = str(_pinned_id(session, plan, debrief) or "")
    return render(
        request,
        "entries/entry.html",
        {"page": page, "plan": plan, "card": view, "pinned_id": pinned_id},
        block="entry_card",
    )


@router.get(ENTRY + "/edit", name="entries.edit_form")
def edit_form(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    debrief: str = "",
) -> Response:
    entry = service.get_entry(session, plan, entry_id, account.id)
    pinned_id = str(_pinned_id(session, plan, debrief) or "")
    if not service.may_change(entry, account.id):
        return card(request, session, plan, account.id, entry.id, pinned_id=pinned_id)
    return render(
        request,
        "entries/entry.html",
        {
            "plan": plan,
            "entry": entry,
            "form": {"text": entry.text, "base_version": entry.version},
            "pinned_id": pinned_id,
        },
        block="entry_editor",
    )


@router.post(ENTRY, name="entries.edit")
def edit_entry(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    text: Annotated[str, Form()] = "",
    base_version: Annotated[int, Form()] = 0,
    debrief_id: Annotated[str, Form()] = "",
) -> Response:
    form = {"text": text, "base_version": base_version}
    pinned = _pinned_id(session, plan, debrief_id)
    pinned_id = str(pinned or "")
    try:
        entry = service.edit_entry(
            session,
            plan,
            entry_id,
            author_id=account.id,
            base_version=base_version,
            text=text,
            debrief_id=pinned,
        )
    except service.StaleEdit as stale:
        current = stale.entry
        page = plan_page(session, plan, account.id, only=[current.id])
        return render(
            request,
            "entries/entry.html",
            {
                "plan": plan,
                "entry": current,
                "page": page,
                "card": page.cards.get(current.id),
                "form": {"text": stale.attempted, "base_version": current.version},
                "conflict": True,
                "diff": word_diff(stale.attempted, current.text),
                "pinned_id": pinned_id,
            },
            block="entry_editor",
            status=409,
        )
    except FormError as error:
        entry = service.get_entry(session, plan, entry_id, account.id)
        return render(
            request,
            "entries/entry.html",
            {
                "plan": plan,
                "entry": entry,
                "form": form,
                "errors": error.errors,
                "pinned_id": pinned_id,
            },
            block="entry_editor",
            status=422,
        )
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id, pinned_id=pinned_id)


def _simple_action(action: Callable[..., Entry]) -> Callable[..., Response]:
    def handler(
        request: Request,
        plan: MemberPlan,
        account: CurrentAccount,
        session: SessionDep,
        entry_id: str,
    ) -> Response:
        try:
            entry = action(session, plan, entry_id, account_id=account.id)
        except FormError as error:
            entry = service.get_entry(session, plan, entry_id, account.id)
            return card(
                request,
                session,
                plan,
                account.id,
                entry.id,
                status=422,
                errors=error.errors,
            )
        notify(request, entry)
        return card(request, session, plan, account.id, entry.id)

    return handler


router.add_api_route(
    ENTRY + "/delete",
    _simple_action(service.delete_entry),
    methods=["POST"],
    name="entries.delete",
)
router.add_api_route(
    ENTRY + "/restore",
    _simple_action(service.restore_entry),
    methods=["POST"],
    name="entries.restore",
)
router.add_api_route(
    ENTRY + "/share",
    _simple_action(service.share_draft),
    methods=["POST"],
    name="entries.share",
)


@router.get(ENTRY + "/history", name="entries.history")
def history(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
) -> Response:
    entry = service.get_entry(session, plan, entry_id, account.id)
    page = plan_page(session, plan, account.id, only=[entry.id])
    revisions = service.revisions(session, entry)
    steps = [
        (
            rev,
            page.people.get(rev.author_id) if rev.author_id else None,
            word_diff(revisions[i - 1].text, rev.text) if i else None,
        )
        for i, rev in enumerate(revisions)
    ]
    return render(
        request,
        "entries/entry.html",
        {"plan": plan, "entry": entry, "steps": list(reversed(steps)), "page": page},
        block="entry_history",
    )


@router.post(ENTRY + "/links", name="entries.link")
def link(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    target_id: Annotated[str, Form()] = "",
) -> Response:
    with contextlib.suppress(FormError, ValueError):
        service.link_response(
            session, plan, entry_id, target_id=target_id, account_id=account.id
        )
    entry = service.get_entry(session, plan, entry_id, account.id)
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/links/{target_id}/delete", name="entries.unlink")
def unlink(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    target_id: str,
) -> Response:
    with contextlib.suppress(ValueError):
        service.unlink_response(
            session, plan, entry_id, target_id=target_id, account_id=account.id
        )
    entry = service.get_entry(session, plan, entry_id, account.id)
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id)


@router.get("/plans/{plan_id}/stamps", name="entries.stamps")
def stamps(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> JSONResponse:
    """Ids and change stamps (no words), so a reconnected page can catch up."""
    page = plan_page(session, plan, account.id)
    return JSONResponse(
        {
            "entries": [
                {
                    "id": str(c.id),
                    "stamp": c.stamp,
                    "section": c.section.key,
                    "owner": str(c.entry.owner_id or "shared"),
                }
                for c in page.cards.values()
            ]
        }
    )


def plan_context(session: Session, plan: Plan, account_id: uuid.UUID) -> dict[str, Any]:
    return {"page": plan_page(session, plan, account_id)}
