"""The agreed plan as a PDF: partners only, never cached, rendered out of process."""

import re
import threading
import unicodedata
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from backend import timezones
from backend.auth.ratelimit import Limit, spend
from backend.consent import agreed, versions
from backend.db import write_session
from backend.deps import CurrentAccount, MemberPlan, SessionDep, SettingsDep
from backend.error_pages import error_page
from backend.errors import NotFound
from backend.export.worker import PdfBusy, PdfError, PdfRenderer
from backend.models import PlanVersion

router = APIRouter()
_lock = threading.Lock()


class NothingAgreed(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "Nothing is agreed yet, so there is nothing to print. A working draft "
            "with everything written so far can be printed from the plan page."
        )


RETRY_SECONDS = 30
SAFE = "Your plan is safe; only the printing waits."


def renderer_of(request: Request) -> PdfRenderer:
    """One pool of render workers per app, started on first use."""
    with _lock:
        renderer = getattr(request.app.state, "pdf", None)
        if renderer is None:
            settings = request.app.state.settings
            renderer = PdfRenderer(
                workers=settings.pdf_workers,
                timeout=settings.pdf_seconds,
                wait=settings.pdf_wait_seconds,
                per_owner=settings.pdf_per_account,
            )
            request.app.state.pdf = renderer
        return renderer


def try_again(request: Request, status: int, message: str) -> Response:
    """The printing could not be done just now; the plan itself is untouched."""
    response = error_page(request, status, message)
    response.headers["Retry-After"] = str(RETRY_SECONDS)
    return response


def slug(title: str) -> str:
    ascii_title = (
        unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    )
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:40].strip("-") or "plan"


@router.get("/plans/{plan_id}/agreed.pdf", name="export.pdf")
def agreed_pdf(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
    version: int | None = None,
    paper: Literal["a4", "letter"] | None = None,
    format: Literal["full", "card"] = "full",
    draft: int = 0,
) -> Response:
    engine = request.app.state.engine
    # Both writes here (the count against the limit, the seal) are short write
    # sessions of their own: a read transaction that turns into a write fails with
    # "database is locked" on SQLite while the partner saves something.
    with write_session(engine) as writing:
        spend(
            writing,
            [Limit(f"pdf:account:{account.id}", 6, timedelta(minutes=1))],
            enabled=settings.rate_limits,
        )
    if draft:
        snapshot = agreed.working_snapshot(session, plan)
        number = "draft"
        found = None
    else:
        found = versions.version(session, plan.id, version)
        if found is None or not versions.has_agreed(found.snapshot):
            raise NothingAgreed
        snapshot = found.snapshot
        number = f"v{found.number}"
    # Done reading: end the read before a render that can take seconds, so it
    # holds no snapshot of the database open meanwhile.
    session.commit()
    if found is not None and found.sealed_at is None:
        # printed or shared: from now on this version never changes
        with write_session(engine) as writing:
            sealing = writing.get(PlanVersion, found.id)
            if sealing is not None:
                versions.seal(writing, sealing)
                writing.commit()
    try:
        body = renderer_of(request).render(
            snapshot,
            owner=account.id,
            paper=paper or settings.paper,
            card=format == "card",
            draft=bool(draft),
            time_zone=plan.time_zone,
            revisit_by=plan.revisit_by.isoformat() if plan.revisit_by else None,
        )
    except PdfBusy as busy:
        if busy.mine:
            return try_again(
                request, 429, f"Your last PDFs are still being made. {SAFE}"
            )
        return try_again(
            request, 503, f"Mutual is making other PDFs; please try again. {SAFE}"
        )
    except PdfError:
        return try_again(
            request, 503, f"The PDF could not be made; please try again. {SAFE}"
        )
    made = datetime.fromisoformat(snapshot["created_at"])
    day = timezones.local(made, timezones.zone(plan.time_zone)).date().isoformat()
    kind = "-card" if format == "card" else ""
    name = f"mutual-{slug(plan.title)}-{number}{kind}-{day}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
