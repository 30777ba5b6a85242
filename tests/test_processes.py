"""Two real `mutual serve` processes on one PostgreSQL database.

A save through one process reaches a stream of the other; who is here and the
per-account stream cap hold across them; a listener connection killed in the
database is survived; a killed process leaves the other serving and its streams
stop counting by themselves. Everything listens on 127.0.0.1, every wait has a
deadline, and each process is stopped by its own PID.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from backend.live.postgres import CHANNEL, LISTENER_NAME, conninfo
from tests.conftest import TEST_SECRET
from tests.helpers import Client, soup
from tests.web.steps import add, entry_id
from tests.web.test_live import OpenPage, Stream

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_engine,
    pytest.mark.parametrize("db_url", ["postgres"], indirect=True),
]


class Browser(httpx.Client):
    """One person's browser against a real server: the test client's helpers."""

    csrf = Client.csrf
    post_form = Client.post_form
    sign_up = Client.sign_up


@dataclass
class Process:
    url: str
    popen: subprocess.Popen

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(
    db_url: str,
    *,
    workers: int = 1,
    listen_url: str = "",
    port: int = 0,
    stderr: int | None = None,
) -> Process:
    port = port or _free_port()
    env = {
        **os.environ,
        "MUTUAL_DATABASE_URL": db_url,
        "MUTUAL_LISTEN_DATABASE_URL": listen_url,
        "MUTUAL_SECRET_KEY": TEST_SECRET,
        "MUTUAL_BASE_URL": "http://127.0.0.1",
        "MUTUAL_LOG_LEVEL": "warning",
        "MUTUAL_RATE_LIMITS": "false",
        "MUTUAL_ARGON2_TIME_COST": "1",
        "MUTUAL_ARGON2_MEMORY_KIB": "1024",
        "MUTUAL_ARGON2_PARALLELISM": "1",
        "MUTUAL_STREAMS_PER_ACCOUNT": "2",
        "MUTUAL_LIVE_RENEW_SECONDS": "0.5",
        "MUTUAL_LIVE_EXPIRE_SECONDS": "2",
    }
    command = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    popen = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)  # noqa: S603
    return Process(f"http://127.0.0.1:{port}", popen)


def _ready(*processes: Process) -> None:
    deadline = time.monotonic() + 60
    for process in processes:
        while True:
            assert process.popen.poll() is None, "the server exited while starting"
            try:
                if httpx.get(f"{process.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the servers did not start in 60 s"
            time.sleep(0.05)


def _over_the_socket(db_url: str, engine: Engine) -> str:
    """The same database reached over PostgreSQL's Unix socket, not TCP: as a
    listener would bypass a transaction-mode pooler."""
    with engine.connect() as conn:
        folders = conn.execute(text("SHOW unix_socket_directories")).scalar()
    folder = str(folders).split(",")[0].strip()
    assert folder, "this PostgreSQL has no Unix socket to listen through"
    url = make_url(db_url).set(host=None, port=None)
    return url.set(query={**url.query, "host": folder}).render_as_string(
        hide_password=False
    )


@pytest.fixture
def two(db_url: str, real_engine: Engine) -> Iterator[tuple[Process, Process]]:
    """Process A; process B, whose listener has an address of its own."""
    a, b = _start(db_url), None
    try:
        b = _start(db_url, listen_url=_over_the_socket(db_url, real_engine))
        _ready(a, b)
        yield a, b
    finally:
        for process in (a, b):
            if process is not None:
                process.stop()


@dataclass
class Couple:
    sam: Browser
    alex: Browser
    path: str


@pytest.fixture
def couple(two: tuple[Process, Process]) -> Iterator[Couple]:
    """Sam signs up through A and makes a plan; Alex signs up and joins through B."""
    a, b = two
    sam = Browser(base_url=a.url, timeout=10)
    sam.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    link = soup(sam.post_form(f"{path}/invite")).find("input", id="invite-link")
    alex = Browser(base_url=b.url, timeout=10)
    alex.sign_up("Alex")
    joined = alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}")
    assert joined.status_code == 303
    # being seen as here is each person's choice: both choose it here
    for person in (sam, alex):
        chosen = person.post_form(f"{path}/presence", {"show": "1"})
        assert chosen.status_code in (200, 303)
    yield Couple(sam, alex, path)
    sam.close()
    alex.close()


def _stream(process: Process, couple: Couple, who: str) -> Stream:
    stream = Stream(f"{process.url}{couple.path}/events", getattr(couple, who).cookies)
    stream.next("hello")
    return stream


def _listener_pid(engine: Engine, process: Process) -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": f"{LISTENER_NAME}-{process.popen.pid}"},
        ).scalar()


def _is_here(browser: Browser, couple: Couple) -> bool:
    fragment = browser.get(f"{couple.path}/presence", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    return "is here now" in fragment.text


def _wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.05)


def test_a_save_through_one_process_reaches_a_stream_of_the_other(two, couple, db_url):
    _, b = two
    alex_stream = _stream(b, couple, "alex")
    words = "SENTINEL-crossing-words"
    with psycopg.connect(conninfo(db_url), autocommit=True) as spy:
        spy.execute(f"LISTEN {CHANNEL}")
        try:
            saved = add(couple.sam, couple.path, "signals", words)
            sent = time.monotonic()
            assert saved.status_code == 200
            eid = entry_id(saved)
            assert alex_stream.next(f"entry-{eid}", timeout=5) == eid
            assert time.monotonic() - sent < 1.0
            notices = list(spy.notifies(timeout=1, stop_after=3))
        finally:
            alex_stream.close()
    # Alex's page fetches the card through B, as Alex
    card = couple.alex.get(f"{couple.path}/entries/{eid}", headers={"HX-Request": "1"})
    assert words in card.text
    # what went through the database named ids only
    assert notices
    for notice in notices:
        assert words not in notice.payload
        assert len(notice.payload.encode()) < 8000
    assert eid in [json.loads(notice.payload)["i"] for notice in notices]


def test_the_listener_may_have_an_address_of_its_own(two, couple, real_engine):
    a, b = two

    def listener_over_tcp(process: Process) -> bool | None:
        with real_engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT client_addr IS NOT NULL FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": f"{LISTENER_NAME}-{process.popen.pid}"},
            ).scalar()

    assert listener_over_tcp(a) is True
    assert listener_over_tcp(b) is False  # B's came in over the socket
    # and B's pool still goes over TCP, as A's does
    with real_engine.connect() as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE client_addr IS NULL"
                " AND application_name NOT LIKE :listener"
                " AND pid <> pg_backend_pid() AND datname = current_database()"
            ),
            {"listener": f"{LISTENER_NAME}-%"},
        ).scalar()
    assert others == 0
    # B hears a save made through A
    stream = _stream(b, couple, "alex")
    try:
        eid = entry_id(add(couple.sam, couple.path, "signals", "heard over the socket"))
        assert stream.next(f"entry-{eid}", timeout=5) == eid
    finally:
        stream.close()


def test_presence_and_the_stream_cap_hold_across_processes(two, couple):
    a, b = two
    sam_stream = _stream(a, couple, "sam")
    opened: list[OpenPage] = []
    try:
        assert not _is_here(couple.sam, couple)
        opened.append(OpenPage(b.url, couple.alex, couple.path))
        alex_id = sam_stream.next("presence", timeout=5)
        assert sam_stream.next(f"presence-{alex_id}") == alex_id
        assert _is_here(couple.sam, couple)  # asked of A, Alex is on B
        # two streams each, counted in the database: a second on A, then no third
        opened.append(OpenPage(a.url, couple.alex, couple.path))
        with Browser(base_url=a.url, cookies=couple.alex.cookies) as on_a:
            third = on_a.get(f"{couple.path}/events")
        assert third.status_code == 429
        assert "Too many open windows" in third.text
        for stream in opened:
            stream.close()
        opened.clear()
        _wait_for(lambda: not _is_here(couple.sam, couple), 5, "Alex leaving")
        # signing out through A closes that sign-in's stream on B
        on_b = _stream(b, couple, "alex")
        try:
            with Browser(base_url=a.url, cookies=couple.alex.cookies) as alex_on_a:
                assert alex_on_a.post_form("/logout").status_code == 303
            on_b.until("closed", timeout=5)
        finally:
            on_b.close()
    finally:
        for stream in opened:
            stream.close()
        sam_stream.close()


def test_a_killed_listener_connection_is_survived(two, couple, real_engine):
    _, b = two
    alex_stream = _stream(b, couple, "alex")
    pid = _listener_pid(real_engine, b)
    assert pid is not None, "B has no listener connection"
    with real_engine.connect() as conn:
        assert conn.execute(
            text("SELECT pg_terminate_backend(:p)"), {"p": pid}
        ).scalar()
    # B closes its streams, so its browsers reconnect and fetch what they missed
    alex_stream.until("closed", timeout=5)
    alex_stream.close()
    missed = add(couple.sam, couple.path, "signals", "said while it was down")
    assert missed.status_code == 200
    _wait_for(
        lambda: _listener_pid(real_engine, b) not in {None, pid}, 10, "reconnecting"
    )
    reopened = None
    deadline = time.monotonic() + 10
    while reopened is None:
        stream = Stream(f"{b.url}{couple.path}/events", couple.alex.cookies)
        kind, _ = stream.events.get(timeout=5)
        if kind == "hello":
            reopened = stream
        else:
            stream.close()
            assert time.monotonic() < deadline, "B refused streams for 10 s"
            time.sleep(0.2)
    try:
        # catch-up: the page as B serves it now holds what was said meanwhile
        assert "said while it was down" in couple.alex.get(couple.path).text
        later = add(couple.sam, couple.path, "signals", "and after")
        eid = entry_id(later)
        assert reopened.next(f"entry-{eid}", timeout=5) == eid
    finally:
        reopened.close()


def test_killing_one_process_leaves_the_other_serving(two, couple):
    a, b = two
    alex_stream = _stream(b, couple, "alex")
    sam_stream = _stream(a, couple, "sam")
    try:
        _wait_for(lambda: _is_here(couple.alex, couple), 5, "Sam arriving")
        a.stop(signal.SIGKILL)
        # Sam's stream on A is gone with A; it stops counting by itself
        alex_stream.until("presence", timeout=10)
        _wait_for(lambda: not _is_here(couple.alex, couple), 10, "Sam's stream ending")
        # Sam carries on through B
        with Browser(base_url=b.url, cookies=couple.sam.cookies) as sam_on_b:
            saved = add(sam_on_b, couple.path, "signals", "still here")
        assert saved.status_code == 200
        eid = entry_id(saved)
        assert alex_stream.next(f"entry-{eid}", timeout=5) == eid
    finally:
        alex_stream.close()
        sam_stream.close()


def test_mutual_serve_runs_several_workers_on_postgres(db_url, real_engine):
    from bench.processes import listeners

    served = _start(db_url, workers=2)
    try:
        _ready(served)

        _wait_for(lambda: listeners(db_url) == 2, 20, "two workers listening")
        for _ in range(10):
            assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200
    finally:
        served.stop()


def _port(process: Process) -> int:
    return int(process.url.rsplit(":", 1)[1])


def _listening(pid: int, port: int) -> bool:
    """Whether the process holds a socket listening on the port."""
    from bench.processes import LISTENING, held

    return held([pid], port, LISTENING)[0] > 0


def _busy_for_a_moment(process: Process, pids: list[int], count: int) -> list[int]:
    """While the first worker is busy for half a second (stopped here), `count`
    keep-alive connections open and each asks for a page; then it carries on.
    Every connection is answered, and stays open, as a proxy keeps them. How
    many connections each worker holds."""
    from bench.processes import held

    opened: list[socket.socket] = []
    try:
        os.kill(pids[0], signal.SIGSTOP)
        try:
            for _ in range(count):
                conn = socket.create_connection(("127.0.0.1", _port(process)), 5)
                opened.append(conn)
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(0.5)
        finally:
            os.kill(pids[0], signal.SIGCONT)
        for conn in opened:
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = conn.recv(4096)
                assert chunk, "a connection closed unanswered"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200")
        return held(pids, _port(process))
    finally:
        for conn in opened:
            conn.close()


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def _workers(process: Process, db_url: str, other_than: int = 0) -> list[int]:
    """The two worker processes, once both are listening for signals and on the port."""
    from bench.processes import worker_pids

    def ready() -> bool:
        pids = [pid for pid in worker_pids(db_url) if pid != other_than]
        return len(pids) == 2 and all(_listening(pid, _port(process)) for pid in pids)

    _wait_for(ready, 60, "two workers listening")
    return [pid for pid in worker_pids(db_url) if pid != other_than]


def test_both_workers_serve_connections_opened_while_one_is_busy(db_url):
    """On one shared socket, the idle worker took every connection opened while
    the other was busy, and kept them while they stayed open: one process did
    all the work from then on. Each worker now has a socket of its own, and
    the kernel spreads new connections over them."""
    served = _start(db_url, workers=2)
    try:
        _ready(served)
        first = _workers(served, db_url)
        held = _busy_for_a_moment(served, first, 32)
        assert sum(held) == 32
        assert min(held) > 0, f"one process holds every connection: {held}"

        # a worker killed: the other serves every new connection,
        killed = first[0]
        os.kill(killed, signal.SIGKILL)
        _wait_for(lambda: _gone(killed), 10, "the killed worker ending")
        for _ in range(10):
            assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200
        # and the supervisor starts another, which takes its share
        now = _workers(served, db_url, other_than=killed)
        assert first[1] in now
        held = _busy_for_a_moment(served, now, 32)
        assert min(held) > 0, f"one process holds every connection: {held}"
    finally:
        served.stop()


def test_a_second_server_on_a_port_in_use_does_not_start(db_url):
    from bench.processes import listeners

    first = _start(db_url, workers=2)
    try:
        _ready(first)
        _wait_for(lambda: listeners(db_url) == 2, 20, "two workers listening")
        port = int(first.url.rsplit(":", 1)[1])
        second = _start(db_url, workers=2, port=port, stderr=subprocess.PIPE)
        try:
            _, said = second.popen.communicate(timeout=60)
        finally:
            second.stop()
        assert second.popen.returncode != 0
        assert b"in use" in said
        assert listeners(db_url) == 2  # the second never served
    finally:
        first.stop()


def test_replicas_starting_together_migrate_one_after_another(db_url):
    base = make_url(db_url)
    name = f"{base.database}_fresh"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = base.set(database=name).render_as_string(hide_password=False)
    try:
        command = [sys.executable, "-m", "backend.cli", "migrate"]
        env = {**os.environ, "MUTUAL_DATABASE_URL": fresh}
        both = [
            subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)  # noqa: S603
            for _ in range(2)
        ]
        for process in both:
            _, said = process.communicate(timeout=120)
            assert process.returncode == 0, said.decode()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_processes_bench_runs_and_reports(db_url, tmp_path, monkeypatch):
    """`python -m bench.processes`, tiny: every figure is there; no target asserted."""
    from bench import processes
    from bench import server as bench_server
    from tests.conftest import POSTGRES_URL

    monkeypatch.setattr(bench_server, "POSTGRES_URL", POSTGRES_URL)
    # in a thread of its own: a browser test before it may leave this thread's
    # event loop running, and the bench runs its own
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(
            processes.main, ["--smoke", "--out", str(tmp_path / "processes.json")]
        ).result()
    assert json.loads((tmp_path / "processes.json").read_text()) == found
    for setup, workers in (("one", 1), ("shared", 2), ("two", 2)):
        for case in ("fragment", "save"):
            assert found[setup][case]["rps"] > 0
            assert found[setup][case]["errors"] == 0
        # every setup's saves wrote new wordings, none a repeat left unwritten
        assert found[setup]["per_save"]["rows"] >= 1
        for split in found[setup]["fragment_split"]:
            assert len(split["cpu_seconds"]) == workers
    assert found["ratio"]["fragment"] > 0
    assert found["ratio_shared"]["fragment"] > 0
    assert found["cross"]["errors"] == 0
    assert found["cross"]["samples"] >= 1
    assert found["per_save"]["rows"] >= 1  # a save adds a revision at least
    assert found["per_save"]["wal_bytes"] > 0
    assert found["notify"]["heard"] == found["notify"]["sent"] > 0
