"""Where a request's time goes: pyinstrument over the app, in this process.

    .venv/bin/python -m bench.profile page fragment save agree   # pyinstrument: dev

FastAPI runs `def` routes and dependencies in worker threads, and pyinstrument
samples only the thread it starts on. So for profiling (never for timing) the
thread hop is replaced by a direct call: every frame then lands in one profile.
The reports go to bench/results/profile-<case>.txt (and .html).
"""

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

import anyio.to_thread
import httpx

from backend.config import ROOT
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from bench.seed import Scale, seed
from bench.server import CSRF, bench_settings

OUT = ROOT / "bench" / "results"
BASE = "http://127.0.0.1"


async def _inline(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):  # type: ignore[no-untyped-def]
    return func(*args)


async def profile(cases: list[str], count: int, url: str) -> None:
    from pyinstrument import Profiler

    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    settings = bench_settings(url, BASE)
    engine = make_engine(url)
    seeded = seed(engine, settings, Scale(write_plans=1, live_plans=0))
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    read = seeded.read
    write = seeded.writes[0]

    def client(token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=transport,
            base_url=BASE,
            cookies={"mutual_sid": token},
            headers={"Accept-Encoding": "gzip", "Origin": BASE},
        )

    async def csrf(c: httpx.AsyncClient) -> str:
        found = CSRF.search((await c.get("/")).text)
        assert found is not None
        return found.group(1)

    reader = client(read.partners[0].token)
    writers = [client(p.token) for p in write.partners]
    tokens = [await csrf(w) for w in writers]
    versions = {e.id: e.version for e in write.entries}

    async def page(n: int) -> httpx.Response:
        return await reader.get(f"/plans/{read.id}")

    async def fragment(n: int) -> httpx.Response:
        if n == 0:  # every card once first: the benchmark's cards are kept
            for each in read.entries:
                await reader.get(
                    f"/plans/{read.id}/entries/{each.id}",
                    headers={"HX-Request": "true"},
                )
        entry = read.entries[n % len(read.entries)]
        return await reader.get(
            f"/plans/{read.id}/entries/{entry.id}", headers={"HX-Request": "true"}
        )

    async def save(n: int) -> httpx.Response:
        entry = write.entries[n % len(write.entries)]
        response = await writers[entry.writer].post(
            f"/plans/{write.id}/entries/{entry.id}",
            data={
                "text": f"Take {n} of {name}: we stay near.",
                "base_version": versions[entry.id],
            },
            headers={"HX-Request": "true", "X-CSRF-Token": tokens[entry.writer]},
        )
        versions[entry.id] += 1
        return response

    async def agree(n: int) -> httpx.Response:
        entry = write.entries[n % len(write.entries)]
        other = 1 - entry.writer
        return await writers[other].post(
            f"/plans/{write.id}/entries/{entry.id}/agree",
            data={"version": versions[entry.id]},
            headers={"HX-Request": "true", "X-CSRF-Token": tokens[other]},
        )

    tags: dict[str, str] = {}

    async def again(path: str, headers: dict[str, str]) -> httpx.Response:
        # a repeat view: the tag the first answer gave is sent back
        if path not in tags:
            tags[path] = (await reader.get(path, headers=headers)).headers["etag"]
        return await reader.get(path, headers={**headers, "If-None-Match": tags[path]})

    async def page_304(n: int) -> httpx.Response:
        return await again(f"/plans/{read.id}", {})

    async def fragment_304(n: int) -> httpx.Response:
        paths = [f"/plans/{read.id}/entries/{e.id}" for e in read.entries]
        if n == 0:  # every card's tag first, so only repeat views are profiled
            for path in paths:
                await again(path, {"HX-Request": "true"})
        return await again(paths[n % len(paths)], {"HX-Request": "true"})

    known = {
        "page": page,
        "fragment": fragment,
        "save": save,
        "agree": agree,
        "page_304": page_304,
        "fragment_304": fragment_304,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name in cases:
        # save and agree take turns on the same entries, as in the benchmark
        steps = [known[name]] if name not in ("save", "agree") else [save, agree]
        for n in range(5):
            for step in steps:
                await step(n)
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        for n in range(5, 5 + count):
            for step in steps:
                if step is known[name]:
                    profiler.start()
                response = await step(n)
                if step is known[name]:
                    profiler.stop()
                expected = 304 if name.endswith("304") else 200
                assert response.status_code == expected, (name, response.status_code)
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        (OUT / f"profile-{name}.txt").write_text(text)
        (OUT / f"profile-{name}.html").write_text(profiler.output_html())
        took = profiler.last_session.duration if profiler.last_session else 0
        print(f"{name}: {count} requests, {took / count * 1000:.2f} ms each")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument(
        "cases", nargs="*", default=["page", "fragment", "save", "agree"]
    )
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="profile-", dir=ROOT / "var"))
    url = args.postgres or f"sqlite:///{folder / 'mutual.db'}"
    try:
        upgrade(url)
        asyncio.run(profile(args.cases, args.count, url))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
