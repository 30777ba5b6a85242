"""An open live stream, kept small because most of them only wait.

The route (`live.routes.events`) authorises the request and opens the broker's
listener; what it returns (`HandedOver`) sends the answer's head and the first
`hello` through every middleware, as any answer goes (security headers, cookies,
no compression, HEAD), and hands the stream over. `LiveStreams`, the outermost
middleware, then serves it once everything inside has returned: the router,
dependencies and middleware give the request a copy of its scope and state, so
what they leave there (the visitor, their exit stacks) goes with them and an
open stream keeps none of it while it waits. Past the head, the other middleware
does nothing to a stream's body (the stream is never compressed), so nothing is
lost by writing it from outside them.

While it waits a stream is this object and its listener, the request's own task
waiting in `serve`, one small task waiting for the browser to go, and one timer
for the next ping. Signals wake it and are written at once. It ends when the
browser goes, when its listener is ended (signed out, left the plan, the
PostgreSQL listener dropped), when its lifetime is up, or when the server stops
(`stop`, called by backend.live.serving's protocol for each open connection).
"""

import asyncio
from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.live.broker import Event, Listener

PING_SECONDS = 15
SEND_SECONDS = 30  # a browser that takes no bytes for this long is dropped
STREAM = "live_stream"  # the request state's key for the stream being served
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"connection", b"keep-alive"),
    (b"x-accel-buffering", b"no"),  # a proxy must pass each signal on at once
]
HELLO = b"event: hello\r\ndata: {}\r\n\r\n"
PING = b": ping\r\n\r\n"
END: Message = {"type": "http.response.body", "body": b"", "more_body": False}


class StreamStalled(Exception):
    """The browser stopped taking what is sent; its connection is closed."""


def encode(event: Event) -> bytes:
    """Two SSE events per signal: `entry` for whoever follows every entry, and
    `entry-<id>` for the one card that listens for itself."""
    data = event.id or "{}"
    sent = f"event: {event.kind}\r\ndata: {data}\r\n\r\n"
    if event.id:
        sent += f"event: {event.kind}-{event.id}\r\ndata: {data}\r\n\r\n"
    return sent.encode()


class LiveStream:
    __slots__ = (
        "gone",
        "lifetime",
        "listener",
        "on_close",
        "ping_due",
        "timer",
        "waiter",
    )

    def __init__(
        self,
        listener: Listener,
        *,
        lifetime: float,
        on_close: Callable[[], Awaitable[None]],
    ) -> None:
        self.listener = listener
        self.lifetime = lifetime
        self.on_close = on_close  # stops counting it, tells who is here
        self.ping_due = False
        self.gone = False
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def stop(self) -> None:
        """The server is stopping: end the stream, so the browser reconnects."""
        self.listener.end()

    async def open(self, send: Send) -> None:
        """The answer's head and the first signal: the stream listens."""
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await self._write(send, HELLO)

    async def serve(self, receive: Receive, send: Send) -> None:
        """Until the stream ends; then it stops counting (`on_close`)."""
        loop = asyncio.get_running_loop()
        listener = self.listener
        listener.wake = self.wake
        ends_at = loop.time() + self.lifetime
        self.timer = loop.call_later(
            min(PING_SECONDS, self.lifetime), self._tick, ends_at
        )
        watcher = loop.create_task(self._until_gone(receive))
        try:
            while not self.gone:
                if listener.ended:
                    await send(END)  # the browser reconnects, authorised afresh
                    return
                chunk = b"".join(encode(event) for event in listener.events)
                listener.events.clear()
                if self.ping_due:
                    chunk += PING
                    self.ping_due = False
                if chunk:
                    await self._write(send, chunk)
                    continue
                self.waiter = loop.create_future()
                await self.waiter
                self.waiter = None
        finally:
            self.timer.cancel()
            watcher.cancel()
            await self.on_close()

    def _tick(self, ends_at: float) -> None:
        """A ping is due, or the stream's lifetime is up."""
        loop = self.listener.loop
        left = ends_at - loop.time()
        if left <= 0:
            self.listener.end()
            return
        self.ping_due = True
        self.wake()
        self.timer = loop.call_later(min(PING_SECONDS, left), self._tick, ends_at)

    async def _until_gone(self, receive: Receive) -> None:
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            self.gone = True
            self.wake()

    @staticmethod
    async def _write(send: Send, chunk: bytes) -> None:
        try:
            async with asyncio.timeout(SEND_SECONDS):
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": True}
                )
        except TimeoutError:
            raise StreamStalled from None


class HandedOver(Response):
    """What the route returns for a stream it opened: the head and `hello` are
    sent through the middleware; the request's state carries the stream out to
    `LiveStreams`, which serves it."""

    def __init__(self, stream: LiveStream) -> None:
        super().__init__(status_code=200)
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream.open(send)
        except BaseException:
            await self.stream.on_close()
            raise
        scope["state"][STREAM] = self.stream


def is_live(scope: Scope) -> bool:
    return bool(
        scope["type"] == "http"
        and scope["method"] in {"GET", "HEAD"}
        and scope["path"].endswith("/events")
    )


class LiveStreams:
    """Serves a stream handed over by the route, after the app has returned."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_live(scope):
            await self.app(scope, receive, send)
            return
        inner = {**scope, "state": dict(scope.get("state", {}))}
        try:
            await self.app(inner, receive, send)
        except BaseException:
            scope.update(inner)  # an error is told of as for any request
            stream = inner["state"].pop(STREAM, None)
            if isinstance(stream, LiveStream):
                await stream.on_close()
            raise
        stream = inner["state"].get(STREAM)
        if not isinstance(stream, LiveStream):
            return  # refused: answered by the app
        del inner
        state = scope.setdefault("state", {})
        state[STREAM] = stream  # where the server's protocol finds it to stop it
        try:
            await stream.serve(receive, send)
        finally:
            del state[STREAM]
