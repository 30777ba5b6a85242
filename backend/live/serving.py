"""How uvicorn serves Mutual: no global cap, no socket left waiting forever, and
several processes sharing new connections.

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

With several processes (`serve` below), each worker listens on a socket of its
own bound with SO_REUSEPORT, so the kernel spreads new connections over them.
On one shared socket, whichever worker woke first accepted a whole burst of
connections (asyncio accepts up to `backlog` at once), and kept-alive
connections stayed where they landed: one process could serve them all while
the other idled.
"""

import asyncio
import logging
import socket
import sys
from typing import Any, TypeVar

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

from backend.config import Settings
from backend.live.stream import STREAM, LiveStream

MAX_HEAD_BYTES = 16 * 1024  # a request line and headers larger than this get 400
Sock = TypeVar("Sock", bound=socket.socket)


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


def serve(config: uvicorn.Config) -> None:
    """Serve until stopped: in this process, or in `config.workers` processes
    under uvicorn's supervisor, which restarts a worker that dies and passes
    signals on (SIGHUP restarts every worker, one after another)."""
    if config.workers <= 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[listening_socket(config)]).run()


def listening_socket(config: uvicorn.Config) -> socket.socket:
    """What uvicorn's supervisor hands to each worker process it starts: on a
    TCP address on Linux, an `EachWorkerListens`; otherwise (a Unix socket, a
    file descriptor, a system whose SO_REUSEPORT does not spread connections
    over the sockets sharing an address) the one socket they all share."""
    if config.uds or config.fd is not None or not sys.platform.startswith("linux"):
        return config.bind_socket()
    return EachWorkerListens.holding(config.host, config.port)


def _reusable(family: int, kind: type[Sock]) -> Sock:
    """A TCP socket that may share its address with others like it."""
    sock = kind(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


class EachWorkerListens(socket.socket):
    """The serving address, held by the supervisor but never listened on there.

    uvicorn's supervisor sends its sockets to every worker it starts, the first
    ones and any replacement, by pickling them; this one arrives in the worker
    as a new socket bound to the same address with SO_REUSEPORT, on which that
    worker alone listens. A worker that dies takes its socket with it, so new
    connections go to the workers still alive; connections it had accepted, or
    that were still waiting in its queue, are lost with it, as they would be
    with any dead process (Linux moves the waiting ones to another worker if
    the net.ipv4.tcp_migrate_req sysctl is 1).
    """

    @classmethod
    def holding(cls, host: str, port: int) -> "EachWorkerListens":
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # SO_REUSEPORT would let this join another server already listening on
        # the port, so a socket without it asks first whether the port is free
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind_or_exit(probe, (host, port))
            address = probe.getsockname()
        held = _reusable(family, cls)
        _bind_or_exit(held, address)  # port 0 chose one: every worker takes it
        return held

    def __reduce__(self) -> tuple[Any, ...]:
        return (_worker_socket, (self.family, self.getsockname()))


def _worker_socket(family: int, address: Any) -> socket.socket:
    """In a worker process: its own socket on the supervisor's address."""
    sock = _reusable(family, socket.socket)
    _bind_or_exit(sock, address)
    return sock


def _bind_or_exit(sock: socket.socket, address: Any) -> None:
    """Bind, or end the process as uvicorn does when its address is taken: the
    supervisor stops rather than restarting a worker that cannot start."""
    try:
        sock.bind(address)
    except OSError as problem:
        sock.close()
        logging.getLogger("uvicorn.error").error(problem)
        sys.exit(STARTUP_FAILURE)
