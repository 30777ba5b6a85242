"""A small, bounded HTTP/1.1 load client on asyncio streams.

Why not httpx for the load itself: on two shared cores, httpx spends about as much
CPU per request as the floor route costs the server, so the floor would measure
the client. This client writes requests as bytes and reads responses with
Content-Length or chunked bodies, nothing more. Setup and control requests use
httpx (see run.py).
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None

    def encode(self, request: Request) -> bytes:
        body = urlencode(request.form).encode() if request.form is not None else b""
        lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in request.headers.items()]
        if request.form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, request: Request) -> Response:
        if self.writer is None:
            await self.open()
        assert self.writer is not None
        assert self.reader is not None
        self.writer.write(self.encode(request))
        return await read_response(self.reader)


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return status, headers


async def read_response(reader: asyncio.StreamReader) -> Response:
    status, headers = await read_head(reader)
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body = b""
    return Response(status, headers, body)


@dataclass
class Result:
    """What one case did in one round."""

    count: int
    errors: int
    seconds: float
    latencies: list[float]  # seconds, one per successful request

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


Next = Callable[[int, int], Request | None]  # (connection, n) -> request or stop
Check = Callable[[int, Request, Response], Awaitable[bool] | bool]


async def closed_loop(
    host: str,
    port: int,
    next_request: Next,
    *,
    connections: int,
    seconds: float | None = None,
    per_connection: int | None = None,
    check: Check | None = None,
    expect: int = 200,
) -> Result:
    """Each connection sends its next request as soon as the last one is answered,
    until `seconds` pass or each has sent `per_connection` requests."""
    if seconds is None and per_connection is None:
        raise ValueError("bound the run by seconds or by requests")
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else None

    async def worker(index: int) -> None:
        nonlocal errors
        conn = Connection(host, port)
        await conn.open()
        n = 0
        try:
            while per_connection is None or n < per_connection:
                if deadline is not None and time.perf_counter() >= deadline:
                    break
                request = next_request(index, n)
                if request is None:
                    break
                sent = time.perf_counter()
                try:
                    response = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError):
                    errors += 1
                    await conn.close()
                    n += 1
                    continue
                took = time.perf_counter() - sent
                ok = response.status == expect
                if ok and check is not None:
                    verdict = check(index, request, response)
                    ok = await verdict if not isinstance(verdict, bool) else verdict
                if ok:
                    latencies.append(took)
                else:
                    errors += 1
                if response.headers.get("connection") == "close":
                    await conn.close()
                n += 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    return Result(len(latencies), errors, time.perf_counter() - started, latencies)


class Arrival(NamedTuple):
    clock: float  # time.perf_counter(): against other times in this process
    wall: float  # time.time(): against times the server recorded


class EventStream:
    """One SSE stream over a raw connection: records when each event arrives."""

    def __init__(self, host: str, port: int, path: str, cookie: str) -> None:
        self.host, self.port, self.path, self.cookie = host, port, path, cookie
        self.status = 0
        self.encoding = ""  # Content-Encoding of the stream: must stay empty
        self.opened = asyncio.Event()
        self.seen: list[tuple[float, str, str]] = []  # (arrived, event, data)
        self.waiters: dict[str, asyncio.Future[Arrival]] = {}
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    def expect(self, entry_id: str) -> "asyncio.Future[Arrival]":
        """A future that gets the arrival time of the next `entry` signal for it."""
        future: asyncio.Future[Arrival] = asyncio.get_running_loop().create_future()
        self.waiters[entry_id] = future
        return future

    async def _run(self) -> None:
        try:
            reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(
                (
                    f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
                    f"Cookie: {self.cookie}\r\nAccept: text/event-stream\r\n"
                    "Accept-Encoding: gzip\r\n\r\n"
                ).encode()
            )
            self.status, headers = await read_head(reader)
            self.encoding = headers.get("content-encoding", "")
            if self.status != 200:
                self.opened.set()
                return
            chunked = headers.get("transfer-encoding") == "chunked"
            buffer = b""
            while True:
                if chunked:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    data = await reader.readexactly(size + 2)
                    if size == 0:
                        return
                    buffer += data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                    buffer += data
                arrived = Arrival(time.perf_counter(), time.time())
                while b"\r\n\r\n" in buffer or b"\n\n" in buffer:
                    cut = b"\r\n\r\n" if b"\r\n\r\n" in buffer else b"\n\n"
                    raw, buffer = buffer.split(cut, 1)
                    self._event(raw.decode(), arrived)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            self.opened.set()

    def _event(self, raw: str, arrived: Arrival) -> None:
        kind, data = "message", ""
        for line in raw.splitlines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
        if kind == "hello":
            self.opened.set()
        self.seen.append((arrived.clock, kind, data))
        if kind == "entry":
            for entry_id, future in list(self.waiters.items()):
                if entry_id in data and not future.done():
                    future.set_result(arrived)
                    del self.waiters[entry_id]

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self.task
