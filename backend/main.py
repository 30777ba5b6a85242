"""The application factory."""

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backend import pages
from backend.auth import reset_routes
from backend.auth import routes as auth_routes
from backend.auth.handlers import install_auth_handlers
from backend.auth.middleware import VisitorCookiesMiddleware
from backend.auth.passwords import Hasher
from backend.config import ROOT, Settings
from backend.consent import routes as consent_routes
from backend.crypto import KeyProblem, Keyring, unreadable, use_keys
from backend.db import make_engine, new_session
from backend.debriefs import routes as debrief_routes
from backend.deps import identify_visitor
from backend.entries import routes as entry_routes
from backend.error_pages import error_page, install_error_handlers
from backend.export import download as export_download
from backend.export import routes as export_routes
from backend.head import HeadAsGetMiddleware
from backend.headers import SecurityHeadersMiddleware, apply_security_headers
from backend.limits import BodyLimitMiddleware
from backend.live import routes as live_routes
from backend.live.broker import Broker
from backend.live.budget import RequestBudget
from backend.live.postgres import PostgresBroker
from backend.live.stream import LiveStreams
from backend.notes import routes as note_routes
from backend.now import routes as now_routes
from backend.plans import import_routes
from backend.plans import routes as plan_routes
from backend.plans.shelf import Shelf
from backend.repeat import RepeatViews
from backend.retention import keep_tidy

log = logging.getLogger("mutual")
# Already compressed (PDF streams are deflated) or must stream unbuffered (SSE).
NOT_COMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "text/event-stream",
    "application/pdf",
)


class CompressPages:
    """gzip for pages and static files, for slow phone connections.

    Pages are safe to compress because their only secret, the CSRF token, is
    masked afresh for every response (no stable string for a BREACH-style
    guess). Never the live stream: a compressor would hold signals back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app,
            minimum_size=1000,
            compresslevel=6,
            exclude_content_types=NOT_COMPRESSED,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].endswith("/events"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class CachedStatic(StaticFiles):
    """Static files: their URLs carry a version, so they may be cached for long."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "?")


def _check_sqlite(bind: Engine | Connection) -> None:
    with new_session(bind) as session:
        result = session.connection().exec_driver_sql("PRAGMA quick_check").scalar()
    if result != "ok":
        raise RuntimeError("the SQLite database failed its integrity check")


def _check_keys(bind: Engine | Connection, keys: Keyring) -> None:
    """Refuse to serve words the keys cannot open: fail closed, at once."""
    with new_session(bind) as session:
        problems = unreadable(session.connection(), SQLModel.metadata, keys)
    if problems:
        raise KeyProblem(
            f"the encryption keys cannot open what is stored in {', '.join(problems)}:"
            " set MUTUAL_ENCRYPTION_KEYS to the keys it was written with"
        )


def create_app(
    settings: Settings | None = None, *, engine: Engine | Connection | None = None
) -> FastAPI:
    """The app; given no engine, it makes its own from the settings.

    Given one connection instead, every session joins that connection's
    transaction (the tests roll each one back)."""
    settings = settings or Settings()
    own_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = engine if engine is not None else make_engine(settings.database_url)
        app.state.engine = db
        tidy: asyncio.Task[None] | None = None
        stop = asyncio.Event()
        if own_engine and db.dialect.name == "postgresql" and isinstance(db, Engine):
            # several processes may serve this database: signals go through it
            app.state.broker = PostgresBroker(
                db,
                settings.database_url,
                listen_url=settings.listen_database_url,
                renew_seconds=settings.live_renew_seconds,
                expire_seconds=settings.live_expire_seconds,
            )
        await app.state.broker.start()
        try:
            if db.dialect.name == "sqlite":
                _check_sqlite(db)
            _check_keys(db, app.state.keys)
            # one connection handed in (the tests) is not shared with a task
            if isinstance(db, Engine):
                tidy = asyncio.create_task(keep_tidy(db, settings, stop))
            yield
        finally:
            if tidy is not None:
                stop.set()
                await tidy  # a sweep under way finishes first
            await app.state.broker.stop()
            pdf = getattr(app.state, "pdf", None)
            if pdf is not None:
                pdf.close()
            if own_engine and isinstance(db, Engine):
                db.dispose()

    app = FastAPI(
        title="Mutual",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(identify_visitor)],
    )
    app.state.settings = settings
    app.state.secret = settings.resolved_secret()
    app.state.keys = use_keys(settings)
    app.state.hasher = Hasher(settings)
    app.state.broker = Broker()
    app.state.shelf = Shelf()
    if engine is not None:
        app.state.engine = engine

    install_error_handlers(app)
    install_auth_handlers(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(
            request, 400, "Part of what was sent was missing or unreadable."
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # the type and the frames only: an exception's message can quote user text
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error(
            "%s on %s %s\n%s",
            type(exc).__name__,
            request.method,
            _route(request),
            frames,
        )
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            # the database dropped the connection: nothing was kept, and the
            # pool checks the next one before use, so trying again works
            response = error_page(
                request,
                503,
                "The database could not be reached just now, so that was not "
                "saved. Please wait a moment and try again.",
            )
            response.headers["Retry-After"] = "5"
        else:
            response = error_page(request, 500)
        apply_security_headers(response.headers, https=settings.secure_cookies)
        return response

    app.add_middleware(VisitorCookiesMiddleware, secure=settings.secure_cookies)
    app.add_middleware(BodyLimitMiddleware)
    # Pages and saves have a budget of their own that streams cannot use up.
    app.add_middleware(
        RequestBudget,
        limit=settings.request_concurrency,
        wait=settings.request_wait_seconds,
        body_seconds=settings.request_body_seconds,
    )
    # Outside the body limit, so its 413 carries the headers too.
    app.add_middleware(SecurityHeadersMiddleware, https=settings.secure_cookies)
    # Outermost, so it compresses what the others produced.
    app.add_middleware(CompressPages)
    # Around everything: the app sees a GET, and HEAD gets its headers, no body.
    app.add_middleware(HeadAsGetMiddleware)
    # Outside them all: an open live stream, once they have sent its head.
    app.add_middleware(LiveStreams)
    # At the door: a repeat view that nothing has changed since, before the rest.
    app.add_middleware(RepeatViews, settings=settings, secret=app.state.secret)
    app.mount("/static", CachedStatic(directory=ROOT / "static"), name="static")
    # The busiest first (a card, its actions, the plan's pages): a request is
    # matched against each router's routes in turn. No address is claimed by two
    # routes (tests/unit/test_routes.py), so the order changes no answer.
    app.include_router(entry_routes.router)
    app.include_router(consent_routes.router)
    app.include_router(plan_routes.router)
    app.include_router(pages.router)
    app.include_router(auth_routes.router)
    app.include_router(reset_routes.router)
    app.include_router(live_routes.router)
    app.include_router(export_routes.router)
    app.include_router(export_download.router)
    app.include_router(import_routes.router)
    app.include_router(debrief_routes.router)
    app.include_router(note_routes.router)
    app.include_router(now_routes.router)
    return app
