"""The app as the benchmark serves it: the real app plus one bare floor route.

uvicorn imports `bench.app:create` with --factory. Settings come from the MUTUAL_
environment like the product's. The floor route is a plain Starlette route, so it
passes through every middleware but no dependency: no session lookup, no database.
It exists only here, never in the product.
"""

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from backend.config import Settings
from backend.main import create_app

FLOOR_PATH = "/bench/floor"
FLOOR_BODY = "<!doctype html><title>floor</title><p>ok</p>"


async def floor(request: Request) -> HTMLResponse:
    return HTMLResponse(FLOOR_BODY)


def create() -> FastAPI:
    app = create_app(Settings())
    app.router.routes.insert(0, Route(FLOOR_PATH, floor, methods=["GET"]))
    return app
