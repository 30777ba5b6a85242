"""The app as the benchmark serves it: the real app plus one bare floor route.

uvicorn imports `bench.app:create` with --factory. Settings come from the MUTUAL_
environment like the product's. The floor route is a plain Starlette route, so it
passes through every middleware but no dependency: no session lookup, no database.
It exists only here, never in the product. So does the lock route: SQLite's
write-lock times recorded since it was last asked (and forgotten once read); and
the forget route, which empties the kept cards (backend/plans/shelf.py), so the
next page builds every card.
"""

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from backend.config import Settings
from backend.db import write_lock_times
from backend.main import create_app

FLOOR_PATH = "/bench/floor"
FLOOR_BODY = "<!doctype html><title>floor</title><p>ok</p>"
LOCKS_PATH = "/bench/locks"
FORGET_PATH = "/bench/forget"


async def floor(request: Request) -> HTMLResponse:
    return HTMLResponse(FLOOR_BODY)


async def locks(request: Request) -> JSONResponse:
    times = write_lock_times(request.app.state.engine, forget=True)
    return JSONResponse([[round(w, 6), round(h, 6)] for w, h in times])


async def forget(request: Request) -> HTMLResponse:
    request.app.state.shelf.clear()
    return HTMLResponse(FLOOR_BODY)


def create() -> FastAPI:
    app = create_app(Settings())
    app.router.routes.insert(0, Route(FLOOR_PATH, floor, methods=["GET"]))
    app.router.routes.insert(1, Route(LOCKS_PATH, locks, methods=["GET"]))
    app.router.routes.insert(2, Route(FORGET_PATH, forget, methods=["GET"]))
    return app
