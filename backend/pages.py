"""Pages that belong to no plan: the front door, the promises, the health check."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse

from backend.config import ROOT
from backend.db import database_reachable
from backend.web import render

router = APIRouter()


@router.get("/never", name="never")
def never(request: Request) -> HTMLResponse:
    return render(request, "never.html")


@router.get("/favicon.ico", name="favicon", include_in_schema=False)
def favicon() -> FileResponse:
    """Browsers ask for this before reading the page's own icon link."""
    return FileResponse(
        ROOT / "static" / "img" / "mark.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/healthz", name="healthz")
def healthz(request: Request) -> JSONResponse:
    ok = database_reachable(request.app.state.engine)
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": "reachable" if ok else "unreachable",
        },
        status_code=200 if ok else 503,
    )
