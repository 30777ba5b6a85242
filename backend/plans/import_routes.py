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
    """A file, or (from a download with several plans) the one chosen of it."""
    # the form was read (and its CSRF token checked) before this route ran
    form = getattr(request.state, "form", None)
    sent = form.get("file") if form is not None else None
    chosen = form.get("plan") if form is not None else None
    time_zone = request.cookies.get(timezones.COOKIE)
    try:
        if isinstance(chosen, str) and chosen:
            me = form.get("me") if form is not None else None
            plan = importing.start_from_file(
                session,
                chosen.encode(),
                account_id=account.id,
                time_zone=time_zone,
                me=me if isinstance(me, str) and me else None,
            )
        else:
            data = b""
            if isinstance(sent, UploadFile):
                with sent.file:  # spooled to disk past a size: closed here
                    data = sent.file.read(importing.MAX_ZIP_BYTES + 1)
            upload = importing.read_upload(data, email=account.email)
            if len(upload.choices) > 1:
                return render(
                    request,
                    "plans/import.html",
                    {"choices": upload.choices},
                    block="import_form",
                )
            only = upload.choices[0]
            plan = importing.start_from(
                session,
                only.document,
                account_id=account.id,
                time_zone=time_zone,
                me=only.me,
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
