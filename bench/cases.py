"""The cases: what one round of each measures, as real authenticated requests."""

import asyncio
import gc
import gzip
import statistics
import time
from dataclasses import dataclass, field

from backend.db import LockTime
from bench.load import (
    Connection,
    EventStream,
    Request,
    Result,
    closed_loop,
    percentile,
)
from bench.seed import EntryRef, Person, PlanRef, Seeded
from bench.server import HOST, Server

# a counted CPU case (the smoke run): batches of requests until the server's
# CPU clock has moved this far, or this many batches
SMOKE_BATCH = 30
SMOKE_CPU_SECONDS = 0.05
SMOKE_BATCHES = 40


@dataclass
class Config:
    connections: int = 16
    read_seconds: float = 3.0
    warm_seconds: float = 1.0
    writes_per_connection: int = 20
    rounds: int = 3
    pdf_renders: int = 4  # per round, served and bare each
    live_passes: int = 2  # saves per live plan
    live_writers: int = 4
    streams: int = 1000
    streams_per_account: int = 5
    cpu_seconds: float = 2.0  # per CPU case: requests at one connection
    few_writers: int = 4

    @classmethod
    def smoke(cls) -> "Config":
        return cls(
            connections=4,
            read_seconds=0.0,
            warm_seconds=0.0,
            writes_per_connection=1,
            rounds=1,
            pdf_renders=1,
            live_passes=1,
            live_writers=1,
            streams=4,
            streams_per_account=1,
            cpu_seconds=0.0,
            few_writers=2,
        )

    @property
    def read_requests(self) -> int | None:
        """Smoke runs bound read cases by count, not time: 5 requests in all."""
        return None if self.read_seconds else 2


@dataclass
class Bench:
    server: Server
    seeded: Seeded
    config: Config
    csrf: dict[str, str] = field(default_factory=dict)  # person id -> token
    versions: dict[str, int] = field(default_factory=dict)  # entry id -> version
    cursors: dict[int, int] = field(default_factory=dict)  # connection -> next entry
    to_agree: dict[int, list[tuple[PlanRef, EntryRef]]] = field(default_factory=dict)

    def headers(self, person: Person, *, htmx: bool = False) -> dict[str, str]:
        headers = {
            "Cookie": f"mutual_sid={person.token}",
            "Accept": "text/html",
            "Accept-Encoding": "gzip",
        }
        if htmx:
            headers["HX-Request"] = "true"
        return headers

    def unsafe_headers(self, person: Person) -> dict[str, str]:
        """What a browser's htmx POST carries: origin, fetch metadata, CSRF header."""
        return {
            **self.headers(person, htmx=True),
            "Origin": self.server.url,
            "Sec-Fetch-Site": "same-origin",
            "X-CSRF-Token": self.csrf[person.id],
        }

    async def run(
        self,
        next_request,
        *,
        seconds=None,
        per_connection=None,
        check=None,
        connections=None,
        expect=200,
    ):
        return await closed_loop(
            HOST,
            self.server.port,
            next_request,
            connections=connections or self.config.connections,
            seconds=seconds,
            per_connection=per_connection,
            check=check,
            expect=expect,
        )


async def floor(bench: Bench, seconds: float | None) -> Result:
    person = bench.seeded.read.partners[0]
    request = Request("GET", "/bench/floor", bench.headers(person))
    return await bench.run(
        lambda c, n: request, seconds=seconds, per_connection=_count(bench, seconds)
    )


def _page_request(bench: Bench) -> Request:
    plan = bench.seeded.read
    return Request("GET", f"/plans/{plan.id}", bench.headers(plan.partners[0]))


def _fragment_requests(bench: Bench) -> list[Request]:
    plan = bench.seeded.read
    headers = bench.headers(plan.partners[0], htmx=True)
    return [
        Request("GET", f"/plans/{plan.id}/entries/{e.id}", headers)
        for e in plan.entries
    ]


async def plan_page(bench: Bench, seconds: float | None) -> Result:
    request = _page_request(bench)
    return await bench.run(
        lambda c, n: request, seconds=seconds, per_connection=_count(bench, seconds)
    )


async def fragment(bench: Bench, seconds: float | None) -> Result:
    requests = _fragment_requests(bench)

    def next_request(c: int, n: int) -> Request:
        return requests[(c * 7 + n) % len(requests)]

    return await bench.run(
        next_request, seconds=seconds, per_connection=_count(bench, seconds)
    )


ALL = 10**6  # agree to every wording saved before, however many


@dataclass
class Cpu:
    """Server CPU per request, one connection at a time."""

    ms: float
    requests: int
    errors: int


async def cpu(bench: Bench, name: str) -> Cpu:
    """Process CPU time of the server over requests sent one after another.

    Far steadier than requests per second on a shared machine: other work slows
    the server down but does not add to its own CPU time.
    """
    seconds = bench.config.cpu_seconds or None
    # the process's CPU clock counts in ticks of 10 ms: a few cheap requests (a
    # card, a 304) can take less than one: the smoke run sends them in batches
    count = None if seconds else SMOKE_BATCH
    if name in ("save", "agree"):
        return await _cpu_writes(bench, name, seconds, count)
    requests = await _cpu_requests(bench, name)

    def next_request(c: int, n: int) -> Request:
        return requests[n % len(requests)]

    expect = 304 if name.endswith("304") else 200
    before = bench.server.cpu_seconds()
    served = errors = 0
    for _ in range(SMOKE_BATCHES):
        result = await bench.run(
            next_request,
            seconds=seconds,
            per_connection=count,
            connections=1,
            expect=expect,
        )
        served, errors = served + result.count, errors + result.errors
        used = bench.server.cpu_seconds() - before
        # a timed run is long enough; a counted one (the smoke run) goes on in
        # batches until the clock has ticked a few times, however fast the
        # machine: 30 repeat views can all fall inside one tick
        if seconds or used >= SMOKE_CPU_SECONDS:
            break
    if name.endswith("_built"):
        # every other request empties the kept cards: a floor's cost, counted in
        served //= 2
    return Cpu(used / max(1, served) * 1000, served, errors)


async def _cpu_requests(bench: Bench, name: str) -> list[Request]:
    if name == "floor":
        person = bench.seeded.read.partners[0]
        return [Request("GET", "/bench/floor", bench.headers(person))]
    plain = [_page_request(bench)] if name.startswith("page") else []
    plain = plain or _fragment_requests(bench)
    if name.endswith("_built"):
        # nothing kept: each preceded by a request that empties the kept cards
        person = bench.seeded.read.partners[0]
        forget = Request("GET", "/bench/forget", bench.headers(person))
        return [r for request in plain for r in (forget, request)]
    if not name.endswith("304"):
        return plain
    # a repeat view: the browser sends back the ETag it was given
    repeats = []
    for request in plain:
        conn = Connection(HOST, bench.server.port)
        response = await conn.send(request)
        await conn.close()
        tag = response.headers.get("etag", "")
        headers = {**request.headers, "If-None-Match": tag}
        repeats.append(Request(request.method, request.path, headers))
    return repeats


async def _cpu_writes(
    bench: Bench, name: str, seconds: float | None, count: int | None
) -> Cpu:
    """Saves by one writer, then the partner's agrees to each of them."""
    before = bench.server.cpu_seconds()
    if name == "save":
        result = await save(bench, count, seconds=seconds, connections=1)
    else:
        result = await agree(bench, ALL, connections=1)
    used = bench.server.cpu_seconds() - before
    return Cpu(used / max(1, result.count) * 1000, result.count, result.errors)


async def page_bytes(bench: Bench) -> dict:
    """The plan page as sent (gzip) and as the browser reads it."""
    conn = Connection(HOST, bench.server.port)
    response = await conn.send(_page_request(bench))
    await conn.close()
    body = response.body
    raw = gzip.decompress(body) if response.headers.get("content-encoding") else body
    return {"raw": len(raw), "gzip": len(body), "status": response.status}


async def locks(bench: Bench, connections: int) -> dict:
    """Saves and agrees by `connections` writers at once, with SQLite's write-lock
    times (waited for, held) over exactly those writes."""
    bench.server.lock_times()  # forget what came before
    saves = await save(
        bench, bench.config.writes_per_connection, connections=connections
    )
    agrees = await agree(bench, ALL, connections=connections)
    times = bench.server.lock_times()
    waited = [t.waited for t in times]
    return {
        "writers": connections,
        "save_p50_ms": saves.percentile(50) * 1000,
        "save_p99_ms": saves.percentile(99) * 1000,
        "agree_p50_ms": agrees.percentile(50) * 1000,
        "agree_p99_ms": agrees.percentile(99) * 1000,
        "errors": saves.errors + agrees.errors,
        **lock_held(times),
        "held_p99_ms": percentile([t.held for t in times], 99) * 1000,
        "waited_p50_ms": percentile(waited, 50) * 1000,
        "waited_p99_ms": percentile(waited, 99) * 1000,
    }


def lock_held(times: list[LockTime]) -> dict:
    """How long writes held SQLite's write lock (median), and what the hold was
    made of: the holder's own CPU, its COMMIT, and the rest, which it spent
    waiting (for SQLite's answers, or its turn on the interpreter's lock).
    Each part is its own median, so the three need not add up to the whole."""
    turns = [(t.held, t.cpu, t.commit) for t in times if t.cpu is not None]

    def ms(values: list[float]) -> float:
        return percentile(values, 50) * 1000

    return {
        "locks": len(times),
        "held_p50_ms": ms([t.held for t in times]),
        "held_cpu_p50_ms": ms([cpu for _, cpu, _ in turns]),
        "held_commit_p50_ms": ms([commit for _, _, commit in turns]),
        "held_rest_p50_ms": ms([held - cpu - commit for held, cpu, commit in turns]),
    }


def _count(bench: Bench, seconds: float | None) -> int | None:
    return None if seconds else (bench.config.read_requests or 2)


def _write_slot(bench: Bench, c: int) -> tuple[PlanRef, list[EntryRef]]:
    """Connection c writes in its own plan, or its own share of one."""
    plans = bench.seeded.writes
    plan = plans[c % len(plans)]
    sharers = -(-bench.config.connections // len(plans))
    mine = [e for i, e in enumerate(plan.entries) if i % sharers == c // len(plans)]
    return plan, mine


async def save(
    bench: Bench,
    per_connection: int | None,
    *,
    seconds: float | None = None,
    connections: int | None = None,
) -> Result:
    """A new wording by the entry's writer: new revision, the partner's yes reset."""
    pending: dict[int, tuple[PlanRef, EntryRef]] = {}

    def next_request(c: int, n: int) -> Request:
        plan, mine = _write_slot(bench, c)
        cursor = bench.cursors.get(c, 0)
        bench.cursors[c] = cursor + 1
        entry = mine[cursor % len(mine)]
        pending[c] = (plan, entry)
        writer = plan.partners[entry.writer]
        version = bench.versions.setdefault(entry.id, entry.version)
        text = f"We stay near and keep our voices low, take {cursor + 1}. " * 3
        return Request(
            "POST",
            f"/plans/{plan.id}/entries/{entry.id}",
            bench.unsafe_headers(writer),
            {"text": text.strip(), "base_version": str(version)},
        )

    def saved(c: int, request: Request, response) -> bool:
        plan, entry = pending[c]
        bench.versions[entry.id] += 1
        bench.to_agree.setdefault(c, []).append((plan, entry))
        return True

    return await bench.run(
        next_request,
        per_connection=per_connection,
        seconds=seconds,
        check=saved,
        connections=connections,
    )


async def agree(
    bench: Bench,
    per_connection: int | None,
    *,
    seconds: float | None = None,
    connections: int | None = None,
) -> Result:
    """The other partner agrees to exactly the wording just saved."""

    def next_request(c: int, n: int) -> Request | None:
        queue = bench.to_agree.get(c) or []
        if not queue:
            return None
        plan, entry = queue.pop(0)
        other = plan.partners[1 - entry.writer]
        return Request(
            "POST",
            f"/plans/{plan.id}/entries/{entry.id}/agree",
            bench.unsafe_headers(other),
            {"version": str(bench.versions[entry.id])},
        )

    return await bench.run(
        next_request,
        per_connection=per_connection,
        seconds=seconds,
        connections=connections,
    )


async def open_streams(
    bench: Bench, pairs: list[tuple[PlanRef, Person]], *, at_once: int = 32
) -> list[EventStream]:
    """Open one stream per (plan, person), a few at a time; wait for each hello."""
    gate = asyncio.Semaphore(at_once)
    streams: list[EventStream] = []

    async def one(plan: PlanRef, person: Person) -> None:
        async with gate:
            stream = EventStream(
                HOST,
                bench.server.port,
                f"/plans/{plan.id}/events",
                f"mutual_sid={person.token}",
            )
            streams.append(stream)
            stream.start()
            await asyncio.wait_for(stream.opened.wait(), 30)
            if stream.status != 200:
                raise RuntimeError(f"a stream was refused ({stream.status})")

    await asyncio.gather(*(one(plan, person) for plan, person in pairs))
    return streams


async def close_streams(streams: list[EventStream]) -> None:
    await asyncio.gather(*(s.close() for s in streams))


@dataclass
class LiveResult:
    after_commit: list[float]  # signal arrival minus the save's commit, seconds
    after_response: list[float]  # signal arrival minus save response (0 if before)
    after_send: list[float]  # signal arrival minus save sent
    errors: int
    streams: int
    encodings: list[str]


def since_commit(
    heard: list[tuple[str, float]], published: dict[str, list[float]]
) -> tuple[list[float], int]:
    """Each signal heard, less the last commit of its entry that came before it
    (wall clock, both on this machine); and how many had no such commit."""
    took: list[float] = []
    missing = 0
    for entry_id, arrived in heard:
        before = [t for t in published.get(entry_id, ()) if t <= arrived]
        if before:
            took.append(arrived - max(before))
        else:
            missing += 1
    return took, missing


async def live(bench: Bench, *, via: Server | None = None) -> LiveResult:
    """Every live plan open by both partners; writers save, partners' streams wait.
    Saves go `via` another server when given (streams stay on the bench's own)."""
    plans = bench.seeded.live
    pairs = [(plan, person) for plan in plans for person in plan.partners]
    streams = await open_streams(bench, pairs)
    by_key = {(s.path, s.cookie): s for s in streams}
    after_response: list[float] = []
    after_send: list[float] = []
    heard: list[tuple[str, float]] = []  # (entry id, wall time its signal came)
    errors = 0
    jobs = [plan for _ in range(bench.config.live_passes) for plan in plans]
    gate = asyncio.Semaphore(bench.config.live_writers)

    async def one(plan: PlanRef, n: int) -> None:
        nonlocal errors
        entry = next(e for e in plan.entries if e.writer == 0)
        writer, partner = plan.partners
        stream = by_key[(f"/plans/{plan.id}/events", f"mutual_sid={partner.token}")]
        async with gate:
            version = bench.versions.setdefault(entry.id, entry.version)
            conn = Connection(HOST, (via or bench.server).port)
            arrival = stream.expect(entry.id)
            sent = time.perf_counter()
            response = await conn.send(
                Request(
                    "POST",
                    f"/plans/{plan.id}/entries/{entry.id}",
                    bench.unsafe_headers(writer),
                    {"text": f"Sit with me, pass {n}.", "base_version": str(version)},
                )
            )
            answered = time.perf_counter()
            await conn.close()
            if response.status != 200:
                errors += 1
                return
            bench.versions[entry.id] = version + 1
            try:
                arrived = await asyncio.wait_for(arrival, 10)
            except TimeoutError:
                errors += 1
                return
            after_response.append(max(0.0, arrived.clock - answered))
            after_send.append(arrived.clock - sent)
            heard.append((entry.id, arrived.wall))

    try:
        # one plan's saves must not overlap: each builds on the version before
        for start in range(0, len(jobs), len(plans)):
            batch = jobs[start : start + len(plans)]
            await asyncio.gather(*(one(p, start + i) for i, p in enumerate(batch)))
    finally:
        await close_streams(streams)
    published = await asyncio.to_thread((via or bench.server).signal_times)
    after_commit, missing = since_commit(heard, published)
    encodings = sorted({s.encoding for s in streams})
    return LiveResult(
        after_commit,
        after_response,
        after_send,
        errors + missing,
        len(streams),
        encodings,
    )


async def stream_memory(bench: Bench) -> dict:
    """RSS with `streams` idle streams open minus RSS with none, per stream."""
    config = bench.config
    people = [(plan, p) for plan in bench.seeded.live for p in plan.partners]
    # warmed with as many at once as are opened below: the thread pool and the
    # database connections they grow to are the server's, not the streams'
    warm = await open_streams(bench, people[:64], at_once=64)
    await close_streams(warm)
    await asyncio.sleep(1.0)
    gc.collect()
    before = bench.server.rss_kib()
    pairs = [
        people[(i // config.streams_per_account) % len(people)]
        for i in range(config.streams)
    ]
    streams = await open_streams(bench, pairs, at_once=64)
    await asyncio.sleep(2.0)
    after = bench.server.rss_kib()
    await close_streams(streams)
    return {
        "streams": len(streams),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_stream": (after - before) / max(1, len(streams)),
    }


def summarise(results: list[Result]) -> dict:
    """Medians over rounds: throughput, and latency percentiles of each round."""
    return {
        "rps": statistics.median(r.rps for r in results),
        "p50_ms": statistics.median(r.percentile(50) for r in results) * 1000,
        "p99_ms": statistics.median(r.percentile(99) for r in results) * 1000,
        "requests": sum(r.count for r in results),
        "errors": sum(r.errors for r in results),
        "rounds": [round(r.rps, 1) for r in results],
    }


def latency_summary(values: list[float]) -> dict:
    return {
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "samples": len(values),
    }
