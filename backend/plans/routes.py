"""My plans, a plan's membership, invitations and leaving."""

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend import changes, timezones
from backend.auth.ratelimit import Limit, TooManyAttempts, spend
from backend.db import utc_now
from backend.debriefs.service import PROMPTS, pinned_view
from backend.deps import CurrentAccount, MemberPlan, SessionDep, SettingsDep, VisitorDep
from backend.errors import FormError
from backend.models import Plan
from backend.plans import presence, revisit, service, since, timeline
from backend.plans.importing import earlier_of
from backend.plans.page import members_of, plan_page
from backend.plans.shelf import Shelving, forget_words
from backend.plans.start import gentle_start
from backend.web import (
    is_fragment,
    origin_of,
    path_for,
    redirect,
    render,
    sender_key,
    shown_before,
)

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, visitor: VisitorDep, session: SessionDep) -> HTMLResponse:
    if visitor.account is None:
        return render(request, "home.html")
    plans = service.summaries(session, visitor.account.id)
    return render(
        request,
        "plans/index.html",
        {
            "plans": plans,
            "form": {},
            **_looking_again(session, plans, visitor.account.id),
        },
    )


def _looking_again(
    session: Session, plans: list[Any], account_id: uuid.UUID
) -> dict[str, Any]:
    """Per plan on "my plans": what is new for me, and any wish to look again."""
    today = utc_now().date()
    return {
        "news": {s.plan.id: since.facts(session, s.plan, account_id) for s in plans},
        "revisits": {
            s.plan.id: revisit.revisit_of(s.plan, account_id, today=today)
            for s in plans
        },
    }


@router.post("/plans", name="plans.create")
def create_plan(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    title: Annotated[str, Form()] = "",
) -> Response:
    try:
        plan = service.create_plan(
            session,
            account_id=account.id,
            title=title,
            time_zone=request.cookies.get(timezones.COOKIE),
        )
    except FormError as error:
        plans = service.summaries(session, account.id)
        return render(
            request,
            "plans/index.html",
            {
                "plans": plans,
                "form": {"title": title},
                "errors": error.errors,
                **_looking_again(session, plans, account.id),
            },
            block="new_plan",
            status=422,
        )
    return redirect(request, path_for(request, "plans.detail", plan_id=plan.id))


def _detail(
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    *,
    debrief: str = "",
    step: str = "",
    show_all: bool = False,
    request: Request | None = None,
) -> dict[str, Any]:
    """The plan page's context; given the `request`, its cards built ready, or
    kept from before (backend/plans/shelf.py)."""
    pinned = pinned_view(session, plan, debrief, account_id)
    pinned_id = str(pinned.debrief.id) if pinned else ""
    shelf = Shelving(request, pinned_id) if request is not None else None
    # both partners read once, for the header, the cards, the count and presence
    members = members_of(session, plan.id)
    page = plan_page(
        session, plan, account_id, entry_texts=False, members=members, shelf=shelf
    )
    if shelf is not None:
        shelf.fill(page, plan)
    start = gentle_start(page, step=step, show_all=show_all)
    return {
        "plan": plan,
        "me": members.account(account_id),
        "partner": members.other(account_id),
        "invite": service.active_invite(session, plan.id),
        "page": page,
        "start": start,
        # a step asked for stays when the page refreshes itself; the first step
        # of an empty plan gives way to the whole plan once something is in it
        "walking": bool(start and start.step.key == step),
        "show_all": show_all,
        "revisit": revisit.revisit_of(plan, account_id, today=utc_now().date()),
        "news": since.facts(session, plan, account_id, members=members.memberships)
        if shelf is None
        else shelf.at_stamp(
            "news",
            plan,
            account_id,
            lambda: since.facts(session, plan, account_id, members=members.memberships),
        ),
        "opened": utc_now().isoformat(),
        "shows_presence": presence.shown(members.membership(account_id)),
        "pinned": pinned,
        "pinned_id": pinned_id,
        "prompts": PROMPTS,
        "earlier": earlier_of(session, plan.id),
    }


@router.get("/plans/{plan_id}", name="plans.detail")
def plan_detail(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    debrief: str = "",
    step: str = "",
    show_all: Annotated[str, Query(alias="all")] = "",
) -> Response:
    if since.record_visit(session, request.app.state.engine, plan.id, account.id):
        # the look just recorded raised the plan's stamp: the page is built
        # afresh, and tagged by the stamp read before what it shows
        plan = session.merge(plan, load=False)
        session.refresh(plan, attribute_names=["stamp"])
    elif (unchanged := shown_before(request, plan)) is not None:
        return unchanged
    with changes.watching():
        context = _detail(
            session,
            plan,
            account.id,
            debrief=debrief,
            step=step,
            show_all=bool(show_all),
            request=request,
        )
        return render(request, "plans/detail.html", context, shows=plan)


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
    link = f"{origin_of(request, settings)}/invite/{token}"
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
    client = sender_key(request)
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
    request.app.state.broker.end_member(plan.id, account.id)
    forget_words(request)
    return redirect(request, "/?left=1")


@router.post("/plans/{plan_id}/presence", name="plans.presence_choice")
def choose_presence(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    show: Annotated[str, Form()] = "",
) -> Response:
    """Turn "here now" on or off for oneself, in this plan only. Open pages stay
    open: the partner's line follows the choice's own signal, and a stream tells
    of its closing by the choice as it is then (backend.live.routes)."""
    presence.choose_presence(session, plan, account_id=account.id, show=bool(show))
    if not is_fragment(request):
        target = path_for(request, "plans.detail", plan_id=plan.id)
        return redirect(request, f"{target}#presence_choice")
    context = _detail(session, plan, account.id)
    return render(request, "plans/detail.html", context, block="presence_choice")


def _revisit_panel(
    request: Request,
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    *,
    status: int = 200,
    **extra: object,
) -> Response:
    """The revisit panel for htmx; a plain form goes back to the plan page."""
    if status == 200 and not is_fragment(request):
        target = path_for(request, "plans.detail", plan_id=plan.id)
        return redirect(request, f"{target}#revisit_panel")
    context = {**_detail(session, plan, account_id), **extra}
    return render(
        request, "plans/detail.html", context, block="revisit_panel", status=status
    )


@router.post("/plans/{plan_id}/revisit", name="plans.revisit_set")
def propose_revisit(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    revisit_by: Annotated[str, Form()] = "",
) -> Response:
    """Suggest a day; the partner's yes makes it the date for both."""
    try:
        revisit.propose_revisit(
            session, plan, account_id=account.id, revisit_by=revisit_by
        )
    except FormError as error:
        return _revisit_panel(
            request,
            session,
            plan,
            account.id,
            status=422,
            revisit_form={"revisit_by": revisit_by},
            revisit_errors=error.errors,
        )
    return _revisit_panel(request, session, plan, account.id, revisit_said="proposed")


@router.post("/plans/{plan_id}/revisit/confirm", name="plans.revisit_confirm")
def confirm_revisit(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> Response:
    try:
        revisit.confirm_revisit(session, plan, account_id=account.id)
    except FormError as error:
        return _revisit_panel(
            request, session, plan, account.id, status=409, revisit_errors=error.errors
        )
    return _revisit_panel(request, session, plan, account.id, revisit_said="set")


@router.post("/plans/{plan_id}/revisit/request", name="plans.revisit_request")
def request_revisit(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> Response:
    revisit.request_revisit(session, plan, account_id=account.id)
    return _revisit_panel(request, session, plan, account.id, revisit_said="asked")


@router.post("/plans/{plan_id}/revisit/clear", name="plans.revisit_clear")
def clear_revisit(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    what: Annotated[str, Form()] = "",
) -> Response:
    revisit.clear_revisit(session, plan, account_id=account.id, what=what)
    return _revisit_panel(request, session, plan, account.id, revisit_said="cleared")


@router.get("/plans/{plan_id}/revisit.ics", name="plans.revisit_ics")
def revisit_calendar(plan: MemberPlan, account: CurrentAccount) -> Response:
    return Response(
        revisit.calendar_file(plan),
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="mutual-look-again.ics"'},
    )


@router.get("/plans/{plan_id}/since", name="plans.since")
def since_last_look(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    context = {"plan": plan, **since.page(session, plan, account.id)}
    return render(request, "plans/since.html", context, block="news_list")


@router.get("/plans/{plan_id}/news", name="plans.news_line")
def news_line(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    opened: str = "",
) -> Response:
    """Asked by an open plan page when something changed: it was seen there."""
    if not is_fragment(request):
        return redirect(request, path_for(request, "plans.since", plan_id=plan.id))
    engine = request.app.state.engine
    context = since.live_line(session, engine, plan, account.id, opened)
    return render(request, "plans/detail.html", context, block="news_line")


@router.get("/plans/{plan_id}/timeline", name="plans.timeline")
def plan_timeline(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    context = {"plan": plan, **timeline.page(session, plan, account.id)}
    return render(request, "plans/timeline.html", context, block="timeline_list")
