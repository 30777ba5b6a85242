"""Right now: the plan for a hard moment, and keeping a copy of it on a device."""

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import FileResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend.config import ROOT
from backend.deps import CurrentAccount, MemberPlan, SessionDep, VisitorDep
from backend.errors import FormError
from backend.now import service
from backend.web import path_for, redirect, render

router = APIRouter()
NOW = "/plans/{plan_id}/now"
WORKER = ROOT / "static" / "js" / "copy-worker.js"
# Everything this site keeps in the browser: the copies, and the worker serving them.
FORGET = '"cache", "storage"'


@router.get(NOW, name="now.view")
def right_now(
    request: Request, plan: MemberPlan, account: CurrentAccount, session: SessionDep
) -> HTMLResponse:
    context = {"plan": plan, "now": service.right_now(session, plan, account.id)}
    return render(request, "now/view.html", {**context, "form": {}})


@router.post(NOW, name="now.answer")
def answer(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    feel: Annotated[str, Form()] = "",
    underneath: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "keep",
) -> Response:
    send = action == "send"
    try:
        service.answer_now(
            session,
            plan,
            author_id=account.id,
            feel=feel,
            underneath=underneath,
            send=send,
        )
    except FormError as error:
        context = {
            "plan": plan,
            "now": service.right_now(session, plan, account.id),
            "form": {"feel": feel, "underneath": underneath},
            "errors": error.errors,
        }
        return render(request, "now/view.html", context, status=422)
    said = "sent" if send else "kept"
    target = path_for(request, "now.view", plan_id=plan.id)
    return redirect(request, f"{target}?said={said}#for-each-of-us")


@router.get("/copy-worker.js", name="now.worker")
def worker() -> FileResponse:
    """The service worker: served from the top so its scope may be /plans/."""
    return FileResponse(
        WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.post("/forget-device", name="now.forget_device")
def forget_device(request: Request, visitor: VisitorDep) -> Response:
    """Nothing of any plan stays in this browser; the person stays signed in."""
    response = redirect(request, "/account?forgot=1" if visitor.account else "/")
    response.headers["Clear-Site-Data"] = FORGET
    return response
