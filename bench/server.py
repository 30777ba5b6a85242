"""A bench database (SQLite file or a fresh PostgreSQL database) and a real server.

The server is uvicorn in its own process (`python -m bench.server`), no access
log, started by its PID and stopped by it. Several workers are served as
`mutual serve --workers N` serves them (backend.live.serving.serve), each
listening on a socket of its own. Everything listens on 127.0.0.1 only.
"""

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

from backend.config import ROOT, Settings
from backend.db import LockTime
from backend.migrate import upgrade
from bench.app import LOCKS_PATH, SIGNALS_PATH

HOST = "127.0.0.1"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105
POSTGRES_URL = os.environ.get(
    "MUTUAL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CSRF = re.compile(r"""hx-headers='\{"X-CSRF-Token": "([^"]+)"\}'""")


def bench_settings(url: str, base_url: str = "http://127.0.0.1") -> Settings:
    return Settings(
        database_url=url,
        secret_key=SECRET,
        base_url=base_url,
        log_level="warning",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        rate_limits=False,
        _env_file=None,
    )


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A migrated, empty database of `kind`; dropped (or deleted) afterwards."""
    if kind == "sqlite":
        # on disk beside the product's own, so fsync costs what it costs in use
        (ROOT / "var").mkdir(exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / "var"))
        url = f"sqlite:///{folder / 'mutual.db'}"
        try:
            upgrade(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    base = make_url(POSTGRES_URL)
    name = f"mutual_bench_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _more_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > 65536:
        hard = 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, hard), hard))


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen

    def rss_kib(self) -> int:
        """VmRSS of the server process (the app; PDF workers are other processes)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise RuntimeError("no VmRSS for the server process")
        return int(match.group(1))

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, user and system."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1]
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def lock_times(self) -> list[LockTime]:
        """SQLite's write lock since the last ask: each write's turn on it."""
        response = httpx.get(f"{self.url}{LOCKS_PATH}", timeout=30)
        response.raise_for_status()
        return [LockTime(**turn) for turn in response.json()]

    def signal_times(self) -> dict[str, list[float]]:
        """When each entry's signal left on commit since the last ask: wall times."""
        response = httpx.get(f"{self.url}{SIGNALS_PATH}", timeout=30)
        response.raise_for_status()
        times: dict[str, list[float]] = response.json()
        return times

    def csrf(self, token: str) -> str:
        """The CSRF token a signed-in page carries, read as a browser would."""
        response = httpx.get(f"{self.url}/", cookies={"mutual_sid": token}, timeout=30)
        found = CSRF.search(response.text)
        if response.status_code != 200 or found is None:
            raise RuntimeError(
                f"no CSRF token on the home page ({response.status_code})"
            )
        return found.group(1)


@contextmanager
def serve(
    url: str, *, limit_concurrency: int = 4000, workers: int = 1, shared: bool = False
) -> Iterator[Server]:
    """The bench app under uvicorn (`workers` processes on one port, PostgreSQL
    only above 1); `shared`: the workers accept from one shared socket, as
    `mutual serve` did before each had its own. Stopped by PID on the way out."""
    _more_files()
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {
        **os.environ,
        "MUTUAL_DATABASE_URL": url,
        "MUTUAL_SECRET_KEY": SECRET,
        "MUTUAL_BASE_URL": base,
        "MUTUAL_LOG_LEVEL": "warning",
        "MUTUAL_RATE_LIMITS": "false",
        "MUTUAL_ARGON2_TIME_COST": "1",
        "MUTUAL_ARGON2_MEMORY_KIB": "1024",
        "MUTUAL_ARGON2_PARALLELISM": "1",
        # every bench client comes from 127.0.0.1: the caps per address and in
        # all would refuse the live and memory cases' hundreds of streams
        "MUTUAL_STREAMS_PER_ADDRESS": "5000",
        "MUTUAL_STREAMS_TOTAL": "5000",
    }
    command = [sys.executable, "-m", "bench.server", str(port), str(workers)]
    command += [str(limit_concurrency), "shared" if shared else "own"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    try:
        starting = 60 * workers  # each worker is an interpreter of its own
        deadline = time.monotonic() + starting
        while True:
            if process.poll() is not None:
                raise RuntimeError("the bench server exited while starting")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bench server did not start in {starting} s")
            time.sleep(0.05)
        yield Server(base, port, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.server PORT WORKERS LIMIT own|shared`: the bench app on
    127.0.0.1, each worker with a socket of its own or all on a shared one."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from backend.live import serving

    port, workers, limit, sockets = argv or sys.argv[1:]
    # for measuring the GIL's switch interval (docs/performance.md, item 10)
    interval = os.environ.get("BENCH_SWITCH_INTERVAL")
    if interval:
        sys.setswitchinterval(float(interval))
    config = uvicorn.Config(
        "bench.app:create",
        factory=True,
        host=HOST,
        port=int(port),
        workers=int(workers),
        access_log=False,
        log_level="warning",
        limit_concurrency=int(limit),
        backlog=4096,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=2,
    )
    if sockets == "shared" and config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        serving.serve(config)


if __name__ == "__main__":
    main()
