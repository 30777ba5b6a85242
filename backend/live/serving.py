"""How uvicorn serves Mutual: no global cap, and no socket left waiting forever.

uvicorn's `limit_concurrency` counts open streams and idle sockets alike, so it is
left off: backend.live.budget keeps ordinary requests and streams apart instead.
uvicorn has no time limit for a request's head: a socket that sends half a
request line and waits holds its place until the client gives up. The protocol
below closes any connection whose request head has not arrived within
`header_seconds` (from connecting, or from the first byte after a keep-alive
pause); idle keep-alive sockets close after `timeout_keep_alive` as before.

When the server stops (SIGTERM, or `should_exit`), uvicorn asks each connection
to shut down and waits for its answer to finish. A live stream never finishes by
itself, so the protocol ends the one it is serving: the server stops at once and
the browser reconnects (to another process, or when this one is back).
"""

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from backend.config import Settings
from backend.live.stream import STREAM, LiveStream

MAX_HEAD_BYTES = 16 * 1024  # a request line and headers larger than this get 400


class HeadTimeoutProtocol(H11Protocol):
    header_seconds: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        if self._head_timer is None and (before is None or before.response_complete):
            self._arm()  # bytes of a new request after a keep-alive pause
        super().data_received(data)
        if self.cycle is not before:
            self._disarm()  # a request began: its head is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        super().shutdown()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            stream = cycle.scope.get("state", {}).get(STREAM)
            if isinstance(stream, LiveStream):
                stream.stop()

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(
            self.header_seconds, self._expire, self.cycle
        )

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expire(self, cycle_when_armed: object) -> None:
        self._head_timer = None
        if self.cycle is not cycle_when_armed:
            return  # a request began in time; it is served as usual
        if not self.transport.is_closing():
            self.transport.close()


class MutualHttpProtocol(HeadTimeoutProtocol):
    """The protocol as worker processes name it (by import string): each worker
    sets its time limit from the settings in `worker_app`."""


def worker_app() -> Any:
    """The app in one of several worker processes (`mutual serve --workers N`):
    settings from the environment, as the parent read them."""
    from backend.logs import install_log_filters
    from backend.main import create_app

    settings = Settings()
    MutualHttpProtocol.header_seconds = settings.request_header_seconds
    install_log_filters()
    return create_app(settings)


def protocol_with(header_seconds: float) -> type[H11Protocol]:
    return type(
        "MutualHttpProtocol", (HeadTimeoutProtocol,), {"header_seconds": header_seconds}
    )


def server_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for Mutual; `options` add host and port, proxy headers,
    or change a default."""
    chosen: dict[str, Any] = {
        "http": protocol_with(settings.request_header_seconds),
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 3,
        "log_level": settings.log_level,
    }
    chosen.update(options)
    if chosen.get("workers", 1) > 1:
        # worker processes import the app and protocol themselves
        app = f"{__name__}:worker_app"
        chosen.update(factory=True, http=f"{__name__}:MutualHttpProtocol")
    return uvicorn.Config(app, **chosen)
