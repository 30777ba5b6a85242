"""`make bench`: every case on SQLite and PostgreSQL, as ratios to the floor.

    python -m bench.run                      # the whole benchmark (a few minutes)
    python -m bench.run --db sqlite --no-browser
    python -m bench.run --smoke --out /tmp/smoke.json   # what the test suite runs
    python -m bench.run --only memory --db sqlite     # one case alone: (g)
    python -m bench.run --only writes --db sqlite     # saves, agrees, writers, locks
    python -m bench.run --only cpu --db sqlite        # CPU of the reads and 304s

Each database gets a fresh seeded copy and its own server. After a warm-up, the
read and write cases run in interleaved rounds; figures are medians over rounds,
each also given as its ratio to the floor measured in the same run.
"""

import argparse
import asyncio
import io
import json
import statistics
import time
from pathlib import Path

from backend.config import ROOT
from backend.db import make_engine
from bench import cases, report
from bench.cases import Bench, Config
from bench.load import Connection, Request, percentile
from bench.seed import Scale, pdf_snapshot, seed
from bench.server import HOST, bench_settings, database, serve

RESULTS = ROOT / "bench" / "results" / "latest.json"


async def rounds(bench: Bench) -> dict[str, list]:
    config = bench.config
    seconds = config.read_seconds or None
    reads = [("floor", cases.floor), ("page", cases.plan_page)]
    reads.append(("fragment", cases.fragment))
    if config.warm_seconds:
        for _, case in reads:
            await case(bench, config.warm_seconds)
        await cases.save(bench, 3)
        await cases.agree(bench, 3)
    found: dict[str, list] = {name: [] for name in ("floor", "page", "fragment")}
    found.update(save=[], agree=[])
    for n in range(config.rounds):
        shift = n % len(reads)
        for name, case in reads[shift:] + reads[:shift]:
            found[name].append(await case(bench, seconds))
        found["save"].append(await cases.save(bench, config.writes_per_connection))
        found["agree"].append(await cases.agree(bench, config.writes_per_connection))
    return found


def count_pages(body: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(body)).pages)


async def pdf(bench: Bench, snapshot: dict) -> dict:
    """The served PDF against a bare render of the same snapshot in this process."""
    from backend.export.pdf import render_pdf

    plan = bench.seeded.pdf
    request = Request(
        "GET", f"/plans/{plan.id}/agreed.pdf", bench.headers(plan.partners[0])
    )
    served: list[float] = []
    bare: list[float] = []
    errors = 0
    pages = 0

    async def fetch() -> float | None:
        nonlocal errors, pages
        conn = Connection(HOST, bench.server.port)
        started = time.perf_counter()
        response = await conn.send(request)
        took = time.perf_counter() - started
        await conn.close()
        if response.status != 200 or not response.body.startswith(b"%PDF"):
            errors += 1
            return None
        pages = count_pages(response.body)
        return took

    await fetch()  # starts the render worker
    render_pdf(snapshot)  # loads fonts here too
    for _ in range(bench.config.rounds):
        for _ in range(bench.config.pdf_renders):
            started = time.perf_counter()
            render_pdf(snapshot)
            bare.append(time.perf_counter() - started)
            took = await fetch()
            if took is not None:
                served.append(took)
    served_ms = statistics.median(served) * 1000 if served else 0.0
    bare_ms = statistics.median(bare) * 1000
    return {
        "served_ms": served_ms,
        "bare_ms": bare_ms,
        "ratio": served_ms / bare_ms if bare_ms else 0.0,
        "pages": pages,
        "renders": len(served),
        "errors": errors,
    }


CPU_CASES = (
    "floor",
    "page",
    "page_304",
    "page_built",
    "fragment",
    "fragment_304",
    "fragment_built",
    "save",
    "agree",
)


async def measure(bench: Bench, snapshot: dict, *, browser: bool) -> dict:
    found = await rounds(bench)
    figures = {name: cases.summarise(results) for name, results in found.items()}
    figures["cpu"] = {}
    for name in CPU_CASES:
        figures["cpu"][name] = vars(await cases.cpu(bench, name))
    figures["html"] = await cases.page_bytes(bench)
    figures["writers"] = {
        str(n): await cases.locks(bench, n)
        for n in (bench.config.connections, bench.config.few_writers)
    }
    figures["pdf"] = await pdf(bench, snapshot)
    try:
        figures["memory"] = await cases.stream_memory(bench)
    except RuntimeError as refused:
        # a refused stream (a cap, a loaded machine) fails this case, not the run
        print(f"memory case failed: {refused}", flush=True)
        figures["memory"] = {"streams": 0, "rss_before_kib": 0, "rss_after_kib": 0}
        figures["memory"].update(kib_per_stream=0.0, errors=1)
    live = await cases.live(bench)
    figures["live"] = {
        **cases.latency_summary(live.after_commit),
        "after_response": cases.latency_summary(live.after_response),
        "after_send": cases.latency_summary(live.after_send),
        "errors": live.errors,
        "streams": live.streams,
        "encodings": live.encodings,
    }
    if browser:
        from bench import browser as phone

        if phone.available():
            figures["browser"] = await asyncio.to_thread(phone.measure, bench)
        else:
            print(f"browser part skipped: no Chromium at {phone.CHROMIUM}")
    return figures


async def measure_memory(bench: Bench, snapshot: dict, *, browser: bool) -> dict:
    """Case (g) alone, as `measure` runs it."""
    return {"memory": await cases.stream_memory(bench)}


async def measure_writes(bench: Bench, snapshot: dict, *, browser: bool) -> dict:
    """The write cases alone, as `measure` runs them: CPU per save and per agree at
    one connection, then the writers at 16 and at 4 with the lock times."""
    await cases.save(bench, 3)
    await cases.agree(bench, 3)
    figures: dict = {"cpu": {}, "held_alone": {}}
    for name in ("floor", "save", "agree"):
        bench.server.lock_times()  # forget what came before
        figures["cpu"][name] = vars(await cases.cpu(bench, name))
        # the write lock held by one writer alone: the work inside it, no queue
        times = bench.server.lock_times()
        if times:
            held = [t.held for t in times]
            figures["held_alone"][name] = {
                **cases.lock_held(times),
                "held_p90_ms": percentile(held, 90) * 1000,
            }
    figures["writers"] = {
        str(n): await cases.locks(bench, n)
        for n in (bench.config.connections, bench.config.few_writers)
    }
    return figures


# the reads, their repeat views and the same with nothing kept
READ_CPU_CASES = tuple(c for c in CPU_CASES if c not in ("save", "agree"))


async def measure_cpu(bench: Bench, snapshot: dict, *, browser: bool) -> dict:
    """The read CPU cases alone, as `measure` runs them, in `rounds` interleaved
    rounds (the floor in each): every round's figure, and their median."""
    for name in READ_CPU_CASES:
        await cases.cpu(bench, name)  # warm-up
    found: dict[str, list[float]] = {name: [] for name in READ_CPU_CASES}
    for _ in range(bench.config.rounds):
        for name in READ_CPU_CASES:
            result = await cases.cpu(bench, name)
            if result.errors:
                raise RuntimeError(f"{name}: {result.errors} unexpected answers")
            found[name].append(round(result.ms, 3))
    return {
        "cpu": {
            name: {"median_ms": statistics.median(ms), "rounds_ms": ms}
            for name, ms in found.items()
        }
    }


ONLY = {"memory": measure_memory, "writes": measure_writes, "cpu": measure_cpu}


def run_database(
    kind: str, scale: Scale, config: Config, *, browser: bool, only: str = ""
) -> dict:
    with database(kind) as url:
        engine = make_engine(url)
        seeded = seed(engine, bench_settings(url), scale)
        snapshot = pdf_snapshot(engine, seeded.pdf.id)
        engine.dispose()
        print(f"[{kind}] seeded in {seeded.seconds:.1f} s", flush=True)
        with serve(url) as server:
            bench = Bench(server, seeded, config)
            posting = [p for plan in seeded.writes for p in plan.partners]
            posting += [plan.partners[0] for plan in seeded.live]
            bench.csrf = {p.id: server.csrf(p.token) for p in posting}
            started = time.perf_counter()
            run = ONLY.get(only, measure)
            figures = asyncio.run(run(bench, snapshot, browser=browser))
            figures["seconds"] = time.perf_counter() - started
            figures["seed_seconds"] = seeded.seconds
            return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--smoke", action="store_true", help="tiny: for the tests")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--only",
        choices=sorted(ONLY),
        help="one case alone; its figures are printed, not put in the report",
    )
    args = parser.parse_args(argv)
    scale = Scale.smoke() if args.smoke else Scale()
    if args.only == "memory":
        # the case opens streams on the live plans alone: the rest is not seeded
        scale = Scale(entries_per_partner=2, revisions=1, write_plans=0, pdf_entries=2)
    elif args.only == "writes":
        scale = Scale(live_plans=0)  # the write cases use the writing plans alone
    elif args.only == "cpu":
        # the read plan alone is read
        scale = Scale(write_plans=0, live_plans=0, pdf_entries=2)
    config = Config.smoke() if args.smoke else Config()
    if args.rounds:
        config.rounds = args.rounds
    started = time.perf_counter()
    by_db = {}
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    for n, kind in enumerate(kinds):
        browser = not (args.smoke or args.no_browser) and n == 0
        by_db[kind] = run_database(
            kind, scale, config, browser=browser, only=args.only or ""
        )
    if args.only:
        print(json.dumps(by_db, indent=2))
        return by_db
    results = report.build(by_db, config, smoke=args.smoke)
    results["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    print(f"results: {args.out} ({results['seconds']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
