"""'Download everything of mine': one zip of all I wrote and each agreed plan."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from backend.consent import versions
from backend.db import utc_now, write_session
from backend.deps import CurrentAccount, SessionDep, SettingsDep
from backend.export import data
from backend.export.plan_file import plan_json
from backend.export.routes import SAFE, renderer_of, slug, try_again
from backend.export.worker import PdfBusy, PdfError
from backend.models import PlanVersion

router = APIRouter()


@router.get("/account/export", name="export.everything")
def everything(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    document = data.export_of(session, account.id)
    agreed = data.agreed_snapshots(session, account.id)
    session.commit()  # end the read before renders that take seconds
    files: dict[str, bytes] = {}
    for plan, version_id, snapshot in agreed:
        with write_session(request.app.state.engine) as writing:
            # downloaded: from now on this version never changes
            sealing = writing.get(PlanVersion, version_id)
            if sealing is not None:
                versions.seal(writing, sealing)
                writing.commit()
        name = f"plans/{slug(plan.title)}-{str(plan.id)[:8]}-v{snapshot['version']}"
        try:
            files[f"{name}.pdf"] = renderer_of(request).render(
                snapshot,
                owner=account.id,
                paper=settings.paper,
                time_zone=plan.time_zone,
            )
        except (PdfBusy, PdfError):
            return try_again(
                request, 503, f"Your download could not be made just now. {SAFE}"
            )
        files[f"{name}.json"] = plan_json(snapshot)
    day = utc_now().date().isoformat()
    return Response(
        data.bundle(document, files),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="mutual-mine-{day}.zip"',
            "Cache-Control": "no-store",
        },
    )
