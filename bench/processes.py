"""More than one process on PostgreSQL: what a second process buys, and how fast a
save reaches a stream held by another process.

    python -m bench.processes                 # the full case (a few minutes)
    python -m bench.processes --smoke         # what the test suite runs

1. Throughput, 1 process against 2 (`--workers 2`, one port), in the same run on
   the same seeded database: the entry fragment (GET) and a save (POST).
   Target: the fragment at least 1.5x with 2 processes. Two processes are
   measured twice: each listening on a socket of its own (as `mutual serve`
   does) and both accepting from one shared socket (as it did before), with the
   keep-alive connections each process held during every fragment round.
2. Cross-process signal: two servers A and B, every live plan open by both
   partners on B (200 streams at full scale), saves sent through A; the time
   from A's answer to the signal's arrival on B. Target: p95 under 100 ms.
"""

import argparse
import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, literal_column, select, text

from backend.config import ROOT
from backend.db import make_engine
from backend.live.postgres import LISTENER_NAME
from bench import cases
from bench.cases import Bench, Config
from bench.seed import Scale, seed
from bench.server import Server, bench_settings, database, serve

RESULTS = ROOT / "bench" / "results" / "processes.json"
FRAGMENT_RATIO = 1.5
SETUPS = {  # name: (processes, sharing one socket)
    "one": (1, False),
    "shared": (2, True),
    "two": (2, False),
}
CROSS_P95_MS = 100.0


def listeners(url: str) -> int:
    """How many processes are listening for signals on this database."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name LIKE :name"
                    " AND datname = current_database()"
                ),
                {"name": f"{LISTENER_NAME}-%"},
            ).scalar()
        return int(found or 0)
    finally:
        engine.dispose()


def worker_pids(url: str) -> list[int]:
    """The processes listening for signals on this database: each names its pid."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(
                text(
                    "SELECT application_name FROM pg_stat_activity"
                    " WHERE application_name LIKE :name"
                    " AND datname = current_database()"
                ),
                {"name": f"{LISTENER_NAME}-%"},
            ).scalars()
            return sorted(int(name.rsplit("-", 1)[1]) for name in names)
    finally:
        engine.dispose()


ESTABLISHED, LISTENING = "01", "0A"  # TCP states as /proc/net/tcp writes them


def held(pids: list[int], port: int, state: str = ESTABLISHED) -> list[int]:
    """How many sockets on `port` in `state` each process holds, from /proc: its
    open files that /proc/net/tcp lists on that port in that state."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, now, inode = fields[1], fields[3], fields[9]
            if now == state and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(f"socket:[{inode}]")
    counts = []
    for pid in pids:
        count = 0
        with contextlib.suppress(OSError):  # the process has ended
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):  # closed since it was listed
                    count += os.readlink(fd) in found
        counts.append(count)
    return counts


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(url: str, workers: int, *, shared: bool = False) -> Iterator[Server]:
    """A server of `workers` processes, returned once every one is listening."""
    with serve(url, workers=workers, shared=shared) as server:
        deadline = time.monotonic() + 60
        while listeners(url) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} processes did not all start in 60 s")
            time.sleep(0.1)
        yield server


async def _fragment_round(
    bench: Bench, pids: list[int], seconds: float | None
) -> tuple[cases.Result, dict]:
    """One fragment round; the connections each process held halfway through,
    and the CPU each used over the round."""
    port = bench.server.port
    split: dict = {"connections": [], "cpu_seconds": []}
    before = [cpu_seconds(pid) for pid in pids]
    looked = threading.Timer(
        (seconds or 0) / 2, lambda: split.update(connections=held(pids, port))
    )
    if seconds:  # a smoke round is over before anyone could look
        looked.start()
    result = await cases.fragment(bench, seconds)
    if seconds:
        looked.join()
    split["cpu_seconds"] = [
        round(cpu_seconds(pid) - was, 2) for pid, was in zip(pids, before, strict=True)
    ]
    return result, split


async def _throughput(bench: Bench, url: str) -> dict:
    """Fragment and save rounds; and the rows and commits the saves wrote."""
    config = bench.config
    seconds = config.read_seconds or None
    pids = worker_pids(url)
    if config.warm_seconds:
        await cases.fragment(bench, config.warm_seconds)
        await cases.save(bench, 3)
    fragment, save, splits = [], [], []
    written = {"wal_bytes": 0, "rows": 0}
    for _ in range(config.rounds):
        result, split = await _fragment_round(bench, pids, seconds)
        fragment.append(result)
        splits.append(split)
        before = _writes(url)
        save.append(await cases.save(bench, config.writes_per_connection))
        after = _writes(url)
        for key in written:
            written[key] += after[key] - before[key]
    saves = sum(r.count for r in save) or 1
    return {
        "fragment": cases.summarise(fragment),
        "fragment_split": splits,
        "save": cases.summarise(save),
        "per_save": {key: value / saves for key, value in written.items()},
    }


def _writes(url: str) -> dict[str, int]:
    """Where the database stands: WAL written so far, rows in every table."""
    from sqlmodel import SQLModel

    engine = create_engine(url)
    counts = [
        select(func.count()).select_from(table).scalar_subquery()
        for table in SQLModel.metadata.sorted_tables
    ]
    everything = counts[0]
    for count in counts[1:]:
        everything = everything + count
    wal = func.pg_wal_lsn_diff(func.pg_current_wal_lsn(), literal_column("'0/0'"))
    try:
        with engine.connect() as conn:
            wal, rows = conn.execute(select(wal, everything)).one()
        return {"wal_bytes": int(wal), "rows": int(rows)}
    finally:
        engine.dispose()


def notify_rate(url: str, senders: int = 4, seconds: float = 3.0) -> dict:
    """How many notifications per second the database takes, each in its own
    transaction (as the app sends them), from `senders` connections at once, and
    how many one listener heard."""
    import threading

    import psycopg

    from backend.live.postgres import conninfo

    info = conninfo(url)
    sent = [0] * senders
    stop = time.monotonic() + seconds

    def send(n: int) -> None:
        with psycopg.connect(info, autocommit=True) as conn:
            while time.monotonic() < stop:
                conn.execute("SELECT pg_notify('mutual_bench', 'x')")
                sent[n] += 1

    with psycopg.connect(info, autocommit=True) as listener:
        listener.execute("LISTEN mutual_bench")
        threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        heard = sum(1 for _ in listener.notifies(timeout=seconds + 2))
        for thread in threads:
            thread.join()
    return {
        "per_second": sum(sent) / seconds,
        "senders": senders,
        "sent": sum(sent),
        "heard": heard,
    }


def _bench(server: Server, seeded, config: Config, carried: dict) -> Bench:
    """A bench on `server` that carries on from the last: the entries' versions,
    and each connection's next wording, so no save repeats an earlier one (an
    entry saved with the words it already has is left as it is, unwritten)."""
    bench = Bench(server, seeded, config, **carried)
    posting = [p for plan in seeded.writes for p in plan.partners]
    posting += [plan.partners[0] for plan in seeded.live]
    bench.csrf = {p.id: server.csrf(p.token) for p in posting}
    return bench


def measure(scale: Scale, config: Config, *, throughput: bool = True) -> dict:
    with database("postgres") as url:
        engine = make_engine(url)
        seeded = seed(engine, bench_settings(url), scale)
        engine.dispose()
        carried: dict = {"versions": {}, "cursors": {}}
        by_setup = {}
        for setup, (workers, shared) in SETUPS.items() if throughput else ():
            with serving(url, workers, shared=shared) as server:
                bench = _bench(server, seeded, config, carried)
                by_setup[setup] = asyncio.run(_throughput(bench, url))
                print(f"[{setup}] {by_setup[setup]}", flush=True)
        with ExitStack() as stack:
            a = stack.enter_context(serving(url, 1))
            b = stack.enter_context(serve(url))
            while listeners(url) < 2:
                time.sleep(0.1)
            bench = _bench(b, seeded, config, carried)
            live = asyncio.run(cases.live(bench, via=a))
        notify = notify_rate(url, seconds=config.read_seconds or 0.5)
    cross = cases.latency_summary(live.after_commit)
    cross["after_send_p95_ms"] = cases.latency_summary(live.after_send)["p95_ms"]
    cross["after_response_p95_ms"] = cases.latency_summary(live.after_response)[
        "p95_ms"
    ]
    found: dict = {"notify": notify}
    if throughput:
        one = by_setup["one"]

        def against_one(found: dict) -> dict:
            return {
                case: (found[case]["rps"] / one[case]["rps"])
                if one[case]["rps"]
                else 0.0
                for case in ("fragment", "save")
            }

        ratio = against_one(by_setup["two"])
        found.update(
            by_setup,
            ratio=ratio,
            ratio_shared=against_one(by_setup["shared"]),
            fragment_met=ratio["fragment"] >= FRAGMENT_RATIO,
            per_save=one["per_save"],
        )
    return {
        **found,
        "cross": {
            **cross,
            "streams": live.streams,
            "errors": live.errors,
            "met": cross["p95_ms"] < CROSS_P95_MS and live.errors == 0,
        },
    }


def table(found: dict) -> str:
    cross = found["cross"]
    lines = [
        "| case | 1 process | 2 processes | 2 vs 1 | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    if "ratio" in found:
        one = found["one"]
        for setup, ratios, label in (
            ("two", found["ratio"], "own sockets"),
            ("shared", found["ratio_shared"], "one shared socket"),
        ):
            for case, target in (("fragment", f"≥ {FRAGMENT_RATIO}x"), ("save", "")):
                two = found[setup]
                lines.append(
                    f"| {case}, {label} | {one[case]['rps']:.0f} req/s | "
                    f"{two[case]['rps']:.0f} req/s | {ratios[case]:.2f}x | {target} |"
                )
            rounds = ", ".join(f"{r:.0f}" for r in found[setup]["fragment"]["rounds"])
            held = "; ".join(
                "+".join(str(n) for n in split["connections"]) or "-"
                for split in found[setup]["fragment_split"]
            )
            lines.append(
                f"| fragment rounds, {label} | "
                f"{', '.join(f'{r:.0f}' for r in one['fragment']['rounds'])} | "
                f"{rounds} (connections held per process: {held}) | | |"
            )
    lines.append(
        f"| signal A→B, p95 at {cross['streams']} streams | | "
        f"{cross['p95_ms']:.1f} ms after A committed (p50 {cross['p50_ms']:.1f}; "
        f"{cross['after_send_p95_ms']:.1f} after the save was sent, "
        f"{cross['after_response_p95_ms']:.1f} after A answered) | | "
        f"< {CROSS_P95_MS:.0f} ms |"
    )
    if "per_save" in found:
        rows = found["per_save"]
        lines.append(
            f"| written per save (1 process) | {rows['rows']:.1f} new rows, "
            f"{rows['wal_bytes'] / 1024:.1f} KiB of WAL | | | |"
        )
    notify = found["notify"]
    lines.append(
        f"| NOTIFY, one transaction each, {notify['senders']} senders | | "
        f"{notify['per_second']:.0f}/s ({notify['heard']} of {notify['sent']} heard)"
        " | | |"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m bench.processes", description=__doc__
    )
    parser.add_argument("--smoke", action="store_true", help="tiny: for the tests")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--cross-only",
        action="store_true",
        help="only the signal from one process to another (seeds live plans only)",
    )
    args = parser.parse_args(argv)
    scale = Scale.smoke() if args.smoke else Scale()
    config = Config.smoke() if args.smoke else Config()
    if args.cross_only:
        scale = Scale(
            entries_per_partner=2,
            revisions=1,
            write_plans=1,
            live_plans=scale.live_plans,
            pdf_entries=2,
        )
    found = measure(scale, config, throughput=not args.cross_only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=2) + "\n")
    print(table(found))
    print(f"results: {args.out}")
    return found


if __name__ == "__main__":
    main()
