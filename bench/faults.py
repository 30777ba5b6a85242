"""`make faults`: a real server under faults, on SQLite and PostgreSQL.

    python -m bench.faults                     # the full run (a few minutes)
    python -m bench.faults --db sqlite --cycles 3 --storm 200   # a short one

Probes, each counted as tried / failed:

- kill: `mutual serve` is killed with SIGKILL while 8 writers save entries, then
  started again, for N cycles. Every save that was answered 200 must be in the
  database afterwards, every entry must have its revision, and on SQLite
  `PRAGMA integrity_check` must say ok and `foreign_key_check` find nothing.
- busy: 20 writers save at once; every answer must be a 2xx (no 500 from
  "database is locked", no 503).
- storm: streams opened and closed again and again; afterwards the server's
  memory (VmRSS) and open file descriptors must be back within 5% of before
  (file descriptors: or within the database pool's size, which a burst may fill).

Only 127.0.0.1. The server runs with the settings `mutual serve` uses, rate
limits off, and is stopped by its PID.
"""

import argparse
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, select, text

from backend.config import ROOT
from backend.models import Entry
from bench.server import CSRF, HOST, SECRET, database, free_port

PASSWORD = "a calm and quiet harbour"  # noqa: S105  (a throwaway account)
WRITERS = 8
BUSY_WRITERS = 20
TOLERANCE = 0.05
# The database pool keeps the connections a burst opened, up to its size (10 + 10
# overflow on PostgreSQL, backend.db.make_engine), one file descriptor each; a
# leak grows with the number of streams, which that slack cannot hide over the
# hundreds of cycles a storm makes.
FD_SLACK = 20
STREAM_THREADS = 8
STREAM_ACCOUNTS = 4  # two threads each: well under the per-account limit


@dataclass
class Probe:
    name: str
    db: str
    tried: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.tried > 0 and self.failed == 0


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) if found else 0

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


def _env(url: str, base: str) -> dict[str, str]:
    return {
        **os.environ,
        "MUTUAL_DATABASE_URL": url,
        "MUTUAL_SECRET_KEY": SECRET,
        "MUTUAL_BASE_URL": base,
        "MUTUAL_LOG_LEVEL": "error",
        "MUTUAL_RATE_LIMITS": "false",
        "MUTUAL_ARGON2_TIME_COST": "1",
        "MUTUAL_ARGON2_MEMORY_KIB": "1024",
        "MUTUAL_ARGON2_PARALLELISM": "1",
    }


def start(url: str, port: int) -> Server:
    """`mutual serve` on `port`, answering /healthz."""
    base = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=_env(url, base))  # noqa: S603
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return Server(base, process)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(Server(base, process))
            raise RuntimeError("the server did not start in 30 s")
        time.sleep(0.05)


def stop(server: Server, *, kill: bool = False) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)


@contextmanager
def serving(url: str) -> Iterator[Server]:
    server = start(url, free_port())
    try:
        yield server
    finally:
        stop(server)


@dataclass
class Writer:
    """One signed-in person's cookies, CSRF token and plan."""

    cookies: dict[str, str]
    token: str
    plan_path: str

    def save(self, base: str, words: str, timeout: float = 30) -> int:
        with httpx.Client(cookies=self.cookies, timeout=timeout) as http:
            return http.post(
                f"{base}{self.plan_path}/entries",
                data={"csrf_token": self.token, "section": "signals", "text": words},
                headers={"HX-Request": "true"},
            ).status_code


def sign_up(base: str, name: str) -> Writer:
    with httpx.Client(base_url=base, timeout=30) as http:

        def token() -> str:
            found = CSRF.search(http.get("/signup").text)
            if found is None:
                raise RuntimeError("no CSRF token on the sign-up page")
            return found.group(1)

        email = f"{name}-{random.randrange(10**9)}@example.org"
        made = http.post(
            "/signup",
            data={
                "csrf_token": token(),
                "email": email,
                "display_name": name,
                "password": PASSWORD,
            },
        )
        if made.status_code != 303:
            raise RuntimeError(f"sign-up answered {made.status_code}")
        signed_in = token()
        plan = http.post("/plans", data={"csrf_token": signed_in, "title": "Faults"})
        if plan.status_code != 303:
            raise RuntimeError(f"making a plan answered {plan.status_code}")
        return Writer(dict(http.cookies), signed_in, plan.headers["location"])


def run_writers(
    count: int, work: Callable[[int], None], seconds: float | None = None
) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds)


# ---------------------------------------------------------------- the probes


def probe_kill(url: str, kind: str, cycles: int, seed: int) -> Probe:
    probe = Probe("kill -9 under 8 writers", kind)
    rng = random.Random(seed)
    port = free_port()
    server = start(url, port)
    writer = sign_up(server.url, "Writer")
    acked: list[str] = []
    lock = threading.Lock()
    try:
        for cycle in range(cycles):
            if cycle:
                server = start(url, port)  # must start again without repair
            down = threading.Event()

            def write(
                n: int,
                cycle: int = cycle,
                down: threading.Event = down,
                base: str = server.url,
            ) -> None:
                number = 0
                while not down.is_set():
                    number += 1
                    words = f"fault-{cycle}-{n}-{number}"
                    try:
                        status = writer.save(base, words, timeout=10)
                    except httpx.HTTPError:
                        return  # the server is gone: this save was never answered
                    if status == 200:
                        with lock:
                            acked.append(words)

            threads = [
                threading.Thread(target=write, args=(n,)) for n in range(WRITERS)
            ]
            for thread in threads:
                thread.start()
            # long enough for saves to be answered first: a save is not instant
            time.sleep(rng.uniform(2.0, 4.0))
            stop(server, kill=True)
            down.set()
            for thread in threads:
                thread.join(15)
    finally:
        stop(server)
    probe.tried = len(acked)
    stored = _stored_texts(url)
    missing = [words for words in acked if words not in stored.texts]
    probe.failed = len(missing) + stored.without_revision + len(stored.integrity)
    probe.notes.append(f"{cycles} kills, {len(missing)} acked saves missing")
    probe.notes.append(f"{stored.without_revision} entries without a revision")
    probe.notes += stored.integrity
    if kind == "sqlite" and not stored.integrity:
        probe.notes.append("integrity_check ok, foreign_key_check empty")
    return probe


@dataclass
class Stored:
    texts: set[str]
    without_revision: int
    integrity: list[str]


def _stored_texts(url: str) -> Stored:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # through the model, so the stored words are decrypted
            texts = set(conn.execute(select(Entry.text)).scalars())
            orphans = conn.execute(
                text(
                    "SELECT count(*) FROM entry WHERE NOT EXISTS "
                    "(SELECT 1 FROM revision WHERE revision.entry_id = entry.id)"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    problems: list[str] = []
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database or "") as raw:
            check = raw.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                problems.append(f"integrity_check: {check[:3]}")
            keys = raw.execute("PRAGMA foreign_key_check").fetchall()
            if keys:
                problems.append(f"foreign_key_check: {len(keys)} rows")
    return Stored(texts, int(orphans), problems)


def probe_busy(server: Server, kind: str, saves: int) -> Probe:
    probe = Probe(f"{BUSY_WRITERS} writers at once", kind)
    writer = sign_up(server.url, "Busy")
    answers: list[int] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        for number in range(saves):
            try:
                status = writer.save(server.url, f"busy-{n}-{number}")
            except httpx.HTTPError:
                status = 0
            with lock:
                answers.append(status)

    run_writers(BUSY_WRITERS, write, seconds=120)
    probe.tried = len(answers)
    probe.failed = sum(1 for status in answers if not 200 <= status < 300)
    worst = sorted({status for status in answers if not 200 <= status < 300})
    if worst:
        probe.notes.append(f"answers: {worst}")
    return probe


def probe_storm(server: Server, kind: str, cycles: int) -> Probe:
    probe = Probe(f"stream storm, {cycles} open/close", kind)
    people = [sign_up(server.url, name) for name in ("Rain", "Wind", "Tide", "Hail")]
    failures: list[str] = []
    lock = threading.Lock()

    def open_and_close(person: Writer, count: int) -> int:
        events = f"{server.url}{person.plan_path}/events"
        opened = 0
        with httpx.Client(cookies=person.cookies, timeout=10) as http:
            for _ in range(count):
                try:
                    with http.stream("GET", events) as response:
                        if response.status_code != 200:
                            with lock:
                                failures.append(str(response.status_code))
                            continue
                        for line in response.iter_lines():
                            if line.startswith("event: hello"):
                                break
                        opened += 1
                except httpx.HTTPError as error:
                    with lock:
                        failures.append(type(error).__name__)
        return opened

    def storm(total: int) -> None:
        share = max(1, total // STREAM_THREADS)
        run_writers(
            STREAM_THREADS,
            lambda n: open_and_close(people[n % STREAM_ACCOUNTS], share),
            seconds=300,
        )

    storm(max(STREAM_THREADS, cycles // 10))  # warm up before the baseline
    time.sleep(0.5)
    rss, fds = server.rss_kib(), server.fds()
    storm(cycles)
    after_rss, after_fds = _settled(server, rss, fds)
    probe.tried = cycles
    probe.failed = len(failures)
    probe.notes.append(f"RSS {rss} -> {after_rss} KiB, FDs {fds} -> {after_fds}")
    if after_rss > rss * (1 + TOLERANCE):
        probe.failed += 1
        probe.notes.append("memory did not come back within 5%")
    if after_fds > max(fds * (1 + TOLERANCE), fds + FD_SLACK):
        probe.failed += 1
        probe.notes.append("file descriptors did not come back (beyond the pool)")
    if failures:
        probe.notes.append(f"failed opens: {sorted(set(failures))}")
    return probe


def _settled(server: Server, rss: int, fds: int) -> tuple[int, int]:
    """The figures once closed streams are cleaned up (up to 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        now_rss, now_fds = server.rss_kib(), server.fds()
        back = now_rss <= rss * (1 + TOLERANCE) and now_fds <= fds * (1 + TOLERANCE)
        if back or time.monotonic() > deadline:
            return now_rss, now_fds
        time.sleep(0.2)


# ---------------------------------------------------------------- running


def run(
    kinds: list[str], *, cycles: int, saves: int, storm: int, seed: int = 1
) -> list[Probe]:
    probes: list[Probe] = []
    for kind in kinds:
        with database(kind) as url:
            probes.append(probe_kill(url, kind, cycles, seed))
        with database(kind) as url, serving(url) as server:
            if kind == "sqlite":
                probes.append(probe_busy(server, kind, saves))
            probes.append(probe_storm(server, kind, storm))
    return probes


def table(probes: list[Probe]) -> str:
    lines = [
        "| probe | database | tried | failed | notes |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for probe in probes:
        notes = "; ".join(probe.notes)
        lines.append(
            f"| {probe.name} | {probe.db} | {probe.tried} | {probe.failed} | {notes} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cycles", type=int, default=20, help="kill -9 cycles")
    parser.add_argument("--saves", type=int, default=25, help="saves per busy writer")
    parser.add_argument("--storm", type=int, default=1000, help="stream open/close")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    probes = run(
        kinds, cycles=args.cycles, saves=args.saves, storm=args.storm, seed=args.seed
    )
    sys.stdout.write(table(probes) + "\n")
    return 0 if all(probe.ok for probe in probes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
