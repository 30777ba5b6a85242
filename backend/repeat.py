"""A repeat view of a plan page or an entry card, answered at the door.

A browser that sends back the tag it was given for `GET /plans/{id}` or
`GET /plans/{id}/entries/{eid}` (`web.shown_before`) is answered 304 here,
before any other middleware, FastAPI or the ORM runs: one thread hop, one
statement of plain columns, no decryption. It answers only where the app
itself would answer 304 and write nothing, by the same rules (`sessions.standing`,
`since.look_due`, `web.shown_key`); in every other case, and on any error of
its own, the request goes on to the app untouched, which answers as it always
has: a session to end or touch, a look to record, a non-partner's 404, a
changed plan's page.
"""

import logging
import re
import uuid
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Engine, bindparam, select
from sqlmodel import col
from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from backend import timezones
from backend.auth.sessions import (
    Standing,
    cookie_name,
    csrf_for_session,
    remember_request,
    standing,
)
from backend.auth.tokens import digest
from backend.config import Settings
from backend.db import first_alone, utc_now
from backend.headers import apply_security_headers
from backend.models import Account, AuthSession, Membership, Plan
from backend.plans.since import look_due
from backend.web import (
    UNCHANGED_VARY,
    asks_for_part,
    shown_key,
    shown_tags,
    unchanged_tag,
)

log = logging.getLogger("mutual")

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# the plan page and an entry card, exactly as the routes spell their ids
SHOWN_PATH = re.compile(rf"/plans/(?P<plan>{_UUID})(?P<card>/entries/{_UUID})?")

# Built once, bound when it runs: the session (whose account must exist), its
# account's membership of the plan, and the plan's stamp. No row: no session,
# no account, or not a partner; the app answers those.
_REPEAT = (
    select(
        col(AuthSession.csrf_secret),
        col(AuthSession.last_seen_at),
        col(AuthSession.created_at),
        col(Membership.last_visit_at),
        col(Plan.stamp),
    )
    .select_from(AuthSession)
    .join(Account, col(Account.id) == AuthSession.account_id)
    .join(
        Membership,
        (col(Membership.account_id) == AuthSession.account_id)
        & (col(Membership.plan_id) == bindparam("plan_id")),
    )
    .join(Plan, col(Plan.id) == Membership.plan_id)
    .where(col(AuthSession.token_hash) == bindparam("token_hash"))
)


class RepeatViews:
    """Answers a repeat view that nothing has changed since with 304, with the
    headers the app's own 304 carries. `enabled` off: everything goes on."""

    def __init__(self, app: ASGIApp, *, settings: Settings, secret: str) -> None:
        self.app = app
        self.settings = settings
        self.secret = secret
        self.sid = cookie_name(settings, "sid")
        self.enabled = True
        self.answered = 0
        # what the app's 304 carries after its ETag, security headers included
        after = MutableHeaders(raw=[(b"vary", UNCHANGED_VARY.encode("latin-1"))])
        apply_security_headers(after, https=settings.secure_cookies)
        self.after_tag = list(after.raw)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not self.enabled
            or (found := SHOWN_PATH.fullmatch(scope["path"])) is None
        ):
            await self.app(scope, receive, send)
            return
        try:
            tag = await self._unchanged(scope, found)
        except Exception as error:  # the app answers, as it would have
            log.warning(
                "a repeat view went on to the app after %s", type(error).__name__
            )
            tag = None
        if tag is None:
            await self.app(scope, receive, send)
            return
        self.answered += 1
        await send(
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [(b"etag", tag.encode("latin-1")), *self.after_tag],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _unchanged(self, scope: Scope, found: re.Match[str]) -> str | None:
        """The tag to answer 304 with, or None for the app to answer."""
        headers = Headers(scope=scope)
        if (
            scope.get("root_path")
            or "content-length" in headers
            or "transfer-encoding" in headers
        ):
            return None
        tags = shown_tags(headers.get("if-none-match"), utc_now().timestamp())
        cookie = headers.get("cookie")
        cookies = cookie_parser(cookie) if cookie else {}
        token = cookies.get(self.sid)
        bind = getattr(scope["app"].state, "engine", None)
        if not tags or not token or bind is None:
            return None
        url = URL(scope=scope)
        asked = {
            "plan_id": found["plan"],
            "zone": cookies.get(timezones.COOKIE, ""),
            "path": url.path,
            "query": url.query,
            "part": asks_for_part(headers),
        }
        page = found["card"] is None
        return await anyio.to_thread.run_sync(
            self._answer, bind, digest(token), tags, asked, page
        )

    def _answer(
        self,
        bind: Engine | Connection,
        token_hash: str,
        tags: list[tuple[str, str]],
        asked: dict[str, Any],
        page: bool,
    ) -> str | None:
        # a UUID, as the column binds it: text on SQLite, uuid on PostgreSQL
        params = {"token_hash": token_hash, "plan_id": uuid.UUID(asked["plan_id"])}
        # one statement, on its own: no BEGIN before it, no ROLLBACK after
        row = first_alone(bind, _REPEAT, params)
        if row is None:
            return None
        csrf_secret, last_seen_at, created_at, last_visit_at, stamp = row
        now: datetime = utc_now()
        # the app would end the session, or write its touch: it answers
        stands = standing(token_hash, last_seen_at, created_at, self.settings, now)
        if stands is not Standing.OPEN:
            return None
        # the app would record this look, and build the page afresh
        if page and look_due(last_visit_at, now):
            return None
        key = shown_key(
            stamp=stamp,
            csrf_token=csrf_for_session(self.secret, csrf_secret),
            **asked,
        )
        tag = unchanged_tag(tags, key)
        if tag is not None:
            remember_request(token_hash, last_seen_at, now)
        return tag
