"""My plans, a plan's membership, invitations and leaving."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend.deps import CurrentAccount, MemberPlan, SessionDep, SettingsDep, VisitorDep
from backend.entries.routes import plan_context
from backend.errors import FormError
from backend.models import Plan
from backend.plans import service
from backend.web import path_for, redirect, render

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, visitor: VisitorDep, session: SessionDep) -> HTMLResponse:
    if visitor.account is None:
        return render(request, "home.html")
    plans = service.summaries(session, visitor.account.id)
    return render(request, "plans/index.html", {"plans": plans, "form": {}})


@router.post("/plans", name="plans.create")
def create_plan(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    title: Annotated[str, Form()] = "",
) -> Response:
    try:
        plan = service.create_plan(session, account_id=account.id, title=title)
    except FormError as error:
        plans = service.summaries(session, account.id)
        return render(
            request,
            "plans/index.html",
            {"plans": plans, "form": {"title": title}, "errors": error.errors},
            block="new_plan",
            status=422,
        )
    return redirect(request, path_for(request, "plans.detail", plan_id=plan.id))


def _detail(session: Session, plan: Plan, account_id: uuid.UUID) -> dict:
    return {
        **service.membership_view(session, plan, account_id),
        **plan_context(session, plan, account_id),
    }


@router.get("/plans/{plan_id}", name="plans.detail")
def plan_detail(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    return render(request, "plans/detail.html", _detail(session, plan, account.id))


@router.post("/plans/{plan_id}/invite", name="plans.invite")
def make_invite(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    try:
        token = service.make_invite(
            session, plan, account_id=account.id, days=settings.invite_days
        )
    except FormError:
        return redirect(request, path_for(request, "plans.detail", plan_id=plan.id))
    link = f"{settings.base_url.rstrip('/')}/invite/{token}"
    context = _detail(session, plan, account.id)
    return render(
        request,
        "plans/detail.html",
        {**context, "invite_link": link},
        block="invite_panel",
    )


@router.post("/plans/{plan_id}/invite/revoke", name="plans.revoke_invite")
def revoke_invite(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> Response:
    service.revoke_invites(session, plan)
    context = _detail(session, plan, account.id)
    return render(
        request, "plans/detail.html", {**context, "revoked": True}, block="invite_panel"
    )


@router.get("/invite/{token}", name="plans.invite_page")
def invite_page(
    request: Request, token: str, visitor: VisitorDep, session: SessionDep
) -> HTMLResponse:
    account_id = visitor.account.id if visitor.account else None
    try:
        plan, inviter = service.look_at_invite(session, token, account_id)
    except service.InviteProblem as problem:
        return render(
            request, "plans/invite.html", {"problem": problem.message}, status=410
        )
    return render(
        request, "plans/invite.html", {"plan": plan, "inviter": inviter, "token": token}
    )


@router.post("/invite/{token}", name="plans.accept_invite")
def accept_invite(
    request: Request,
    token: str,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    from datetime import timedelta

    from backend.auth.ratelimit import Limit, TooManyAttempts, spend

    client = request.client.host if request.client else "unknown"
    try:
        spend(
            session,
            [Limit(f"invite:ip:{client}", 10, timedelta(minutes=1))],
            enabled=settings.rate_limits,
        )
        plan = service.accept_invite(session, token, account_id=account.id)
    except service.InviteProblem as problem:
        return render(
            request, "plans/invite.html", {"problem": problem.message}, status=409
        )
    except TooManyAttempts as error:
        response = render(
            request, "plans/invite.html", {"problem": error.message}, status=429
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    return redirect(request, path_for(request, "plans.detail", plan_id=plan.id))


@router.get("/plans/{plan_id}/leave", name="plans.leave_page")
def leave_page(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    partner = service.partner_of(session, plan.id, account.id)
    return render(request, "plans/leave.html", {"plan": plan, "partner": partner})


@router.post("/plans/{plan_id}/leave", name="plans.leave")
def leave(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> Response:
    service.leave_plan(session, plan, account_id=account.id)
    return redirect(request, "/?left=1")
