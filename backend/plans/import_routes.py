"""Starting a new plan from an earlier one's file (backend.plans.importing)."""

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend import timezones
from backend.deps import CurrentAccount, SessionDep
from backend.errors import FormError
from backend.plans import importing
from backend.web import path_for, redirect, render

router = APIRouter()


@router.get("/import", name="plans.import_page")
def import_page(request: Request, account: CurrentAccount) -> HTMLResponse:
    return render(request, "plans/import.html", {})


@router.post("/import", name="plans.import_plan")
def import_plan(
    request: Request, account: CurrentAccount, session: SessionDep
) -> Response:
    # the form was read (and its CSRF token checked) before this route ran
    form = getattr(request.state, "form", None)
    sent = form.get("file") if form is not None else None
    data = b""
    if isinstance(sent, UploadFile):
        with sent.file:  # spooled to disk past a size: closed here, not left open
            data = sent.file.read(importing.MAX_BYTES + 1)
    try:
        plan = importing.start_from_file(
            session,
            data,
            account_id=account.id,
            time_zone=request.cookies.get(timezones.COOKIE),
        )
    except FormError as error:
        return render(
            request,
            "plans/import.html",
            {"errors": error.errors},
            block="import_form",
            status=422,
        )
    return redirect(request, path_for(request, "plans.detail", plan_id=plan.id))
