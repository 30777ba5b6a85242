"""Two budgets, so open streams can never starve pages and saves.

Live streams stay open for up to half an hour each; pages and saves take a
moment. A single cap over both (uvicorn's `limit_concurrency`) lets enough open
streams, or half-open sockets, turn every page away. So streams are counted by
the broker (per sign-in address, per account and in total, see live.routes), and
everything else passes through this middleware, which lets a fixed number of
ordinary requests run at once and asks the rest to wait briefly, then to try
again later (503 with Retry-After), rather than queueing without end.
"""

import asyncio
import threading
import time

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RETRY_AFTER = 5


class BodyStalled(HTTPException):
    """A request body stopped arriving. An HTTPException, so the app's own error
    page answers it (FastAPI turns any other error while reading a form into 400)."""

    def __init__(self) -> None:
        super().__init__(408, headers={"Connection": "close"})


def is_stream(scope: Scope) -> bool:
    """The one long-lived route: a plan's live events."""
    return bool(scope["method"] == "GET" and scope["path"].endswith("/events"))


class RequestBudget:
    """At most `limit` ordinary requests at once; a request waits up to `wait`
    seconds for a place. A request body must keep arriving: a read that waits
    longer than `body_seconds` ends the request with 408."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        wait: float = 5.0,
        body_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self.body_seconds = body_seconds
        # a plain counter behind a lock: the tests drive one app from several
        # event loops at once, and an asyncio primitive belongs to one loop
        self._lock = threading.Lock()
        self.running = 0

    def _take(self) -> bool:
        with self._lock:
            if self.running >= self.limit:
                return False
            self.running += 1
            return True

    def _give_back(self) -> None:
        with self._lock:
            self.running -= 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_stream(scope):
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.wait
        while not self._take():
            if time.monotonic() >= deadline:
                await self._busy(scope, receive, send)
                return
            await asyncio.sleep(0.02)

        body_done = False

        async def timed_receive() -> Message:
            # only while the body arrives: afterwards a receive waits for the
            # client to go away, which may rightly take long
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_seconds)
            except TimeoutError:
                raise BodyStalled from None
            if message["type"] != "http.request" or not message.get("more_body"):
                body_done = True
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracking_send)
        except BodyStalled:
            if not started:
                await self._stalled(scope, receive, send)
        finally:
            self._give_back()

    async def _stalled(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            "What was sent stopped arriving. Please send it again.",
            status_code=408,
            headers={"Connection": "close", "Cache-Control": "no-store"},
        )
        await response(scope, receive, send)

    async def _busy(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            "Mutual is very busy just now. Please try again in a moment; "
            "nothing you wrote has been lost.",
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"},
        )
        await response(scope, receive, send)
