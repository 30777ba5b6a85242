"""Talking it through: start a talk, write and share answers, read them side by side."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from backend.db import utc_now
from backend.debriefs import service
from backend.deps import CurrentAccount, MemberPlan, SessionDep
from backend.errors import FormError
from backend.models import Plan
from backend.web import is_fragment, path_for, redirect, render

router = APIRouter()
DEBRIEFS = "/plans/{plan_id}/debriefs"
DEBRIEF = DEBRIEFS + "/{debrief_id}"


def _list_context(
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "plan": plan,
        "debriefs": service.summaries(session, plan, account_id),
        "form": form or {"happened_on": utc_now().date().isoformat(), "title": ""},
        "today": utc_now().date().isoformat(),
    }


@router.get(DEBRIEFS, name="debriefs.list")
def debrief_list(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> Response:
    context = _list_context(session, plan, account.id)
    return render(request, "debriefs/list.html", context, block="debrief_list")


@router.post(DEBRIEFS, name="debriefs.start")
def start(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    happened_on: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
) -> Response:
    try:
        debrief = service.start_debrief(
            session, plan, account_id=account.id, happened_on=happened_on, title=title
        )
    except FormError as error:
        form = {"happened_on": happened_on, "title": title}
        return render(
            request,
            "debriefs/list.html",
            {**_list_context(session, plan, account.id, form), "errors": error.errors},
            block="start_form",
            status=422,
        )
    return redirect(
        request,
        path_for(request, "debriefs.detail", plan_id=plan.id, debrief_id=debrief.id),
    )


def _detail(
    request: Request,
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    debrief_id: str | uuid.UUID,
    *,
    block: str,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    said: str = "",
) -> Response:
    view = service.view_debrief(session, plan, debrief_id, account_id)
    if form is None:
        form = {k: getattr(view.mine, k) if view.mine else "" for k in service.KEYS}
    return render(
        request,
        "debriefs/detail.html",
        {
            "plan": plan,
            "view": view,
            "prompts": service.PROMPTS,
            "form": form,
            "errors": errors or {},
            "said": said or request.query_params.get("said", ""),
        },
        block=block,
        status=status,
    )


@router.get(DEBRIEF, name="debriefs.detail")
def detail(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    debrief_id: str,
) -> Response:
    return _detail(request, session, plan, account.id, debrief_id, block="talk")


@router.get(DEBRIEF + "/shared", name="debriefs.shared")
def shared(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    debrief_id: str,
) -> Response:
    """The answers shared so far, side by side: what a live page re-fetches."""
    return _detail(
        request, session, plan, account.id, debrief_id, block="shared_answers"
    )


@router.post(DEBRIEF + "/answers", name="debriefs.answer")
def answer(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    debrief_id: str,
    what_happened: Annotated[str, Form()] = "",
    how_it_felt: Annotated[str, Form()] = "",
    what_safety_means: Annotated[str, Form()] = "",
    what_would_help: Annotated[str, Form()] = "",
    what_to_change: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    form = {
        "what_happened": what_happened,
        "how_it_felt": how_it_felt,
        "what_safety_means": what_safety_means,
        "what_would_help": what_would_help,
        "what_to_change": what_to_change,
    }
    try:
        saved = service.save_answers(
            session,
            plan,
            debrief_id,
            account_id=account.id,
            answers=form,
            share=action == "share",
        )
    except FormError as error:
        return _detail(
            request,
            session,
            plan,
            account.id,
            debrief_id,
            block="answers_area",
            status=422,
            form=form,
            errors=error.errors,
        )
    said = "shared" if action == "share" else "saved"
    if not is_fragment(request):
        target = path_for(
            request, "debriefs.detail", plan_id=plan.id, debrief_id=saved.debrief_id
        )
        return redirect(request, f"{target}?said={said}#my_answers")
    return _detail(
        request,
        session,
        plan,
        account.id,
        saved.debrief_id,
        block="answers_area",
        said=said,
    )
