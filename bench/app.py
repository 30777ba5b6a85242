"""The app as the benchmark serves it: the real app plus one bare floor route.

uvicorn imports `bench.app:create` with --factory. Settings come from the MUTUAL_
environment like the product's. The floor route is a plain Starlette route, so it
passes through every middleware but no dependency: no session lookup, no database.
It exists only here, never in the product. So does the lock route: SQLite's
write-lock times recorded since it was last asked (and forgotten once read); and
the forget route, which empties the kept cards (backend/plans/shelf.py), so the
next page builds every card; and the signals route: when each entry's signal was
handed to the broker, the moment its write committed (wall clock, so the bench
process can set it against when its stream heard it), forgotten once read.
"""

import dataclasses
import time
import uuid
from collections import defaultdict

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from backend.config import Settings
from backend.db import write_lock_times
from backend.live.broker import Broker
from backend.main import create_app

FLOOR_PATH = "/bench/floor"
FLOOR_BODY = "<!doctype html><title>floor</title><p>ok</p>"
LOCKS_PATH = "/bench/locks"
FORGET_PATH = "/bench/forget"
SIGNALS_PATH = "/bench/signals"

_published: defaultdict[str, list[float]] = defaultdict(list)  # entry id → wall times


async def floor(request: Request) -> HTMLResponse:
    return HTMLResponse(FLOOR_BODY)


async def locks(request: Request) -> JSONResponse:
    times = write_lock_times(request.app.state.engine, forget=True)
    return JSONResponse([dataclasses.asdict(t) for t in times])


async def forget(request: Request) -> HTMLResponse:
    request.app.state.shelf.clear()
    return HTMLResponse(FLOOR_BODY)


async def signals(request: Request) -> JSONResponse:
    found = dict(_published)
    _published.clear()
    return JSONResponse(found)


_publish_signal = Broker.publish_signal


def _publish_timed(self: Broker, plan_id: uuid.UUID, kind: str, ident: str) -> None:
    if kind == "entry":
        _published[ident].append(time.time())
    _publish_signal(self, plan_id, kind, ident)


def create() -> FastAPI:
    Broker.publish_signal = _publish_timed  # type: ignore[method-assign]
    app = create_app(Settings())
    app.router.routes.insert(0, Route(FLOOR_PATH, floor, methods=["GET"]))
    app.router.routes.insert(1, Route(LOCKS_PATH, locks, methods=["GET"]))
    app.router.routes.insert(2, Route(FORGET_PATH, forget, methods=["GET"]))
    app.router.routes.insert(3, Route(SIGNALS_PATH, signals, methods=["GET"]))
    return app
