"""Instructions per request, counted by valgrind's callgrind: steady where timings
are not, so a change of a few per cent can be told from the machine's noise.

    .venv/bin/python -m bench.count                 # every case below
    .venv/bin/python -m bench.count save save+card
    .venv/bin/python -m bench.count card --requests 100

The bench's read plan and one plan to write in are seeded once into a SQLite
file. For each case the app is then called in process (threads and all), under
callgrind, twice on fresh copies of that file: with every card asked for once
(so kept) and nothing more, and with that and the requests counted. The
difference, divided by their number, is one request's instructions.

A save is a new wording of one of the write plan's entries by the partner who
may change it, answered with its card, as the bench's writers send it: the same
saves, in the same order, on every copy. `save+card` counts a save with what the
writer's own page asks next, the same card again, on the live signal the save
sent; less `save`, that is the second card's cost. `save+agree` counts a save
and the partner's agree to the wording just saved; less `save`, an agree's cost.
`summary` is the counts line of the read plan, which every open page of a plan
asks for after each change.

Needs `valgrind` (Debian's package); slow: a few minutes a case. Compare the
figures of two commits, not their absolute size: they count this process's own
instructions, not the kernel's work for it.
"""

import argparse
import asyncio
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from backend.config import ROOT
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from bench.seed import Scale, seed
from bench.server import CSRF, bench_settings

CASES = ("card", "page", "save", "save+card", "save+agree", "summary")
COLLECTED = re.compile(r"Collected : (\d+)")
PLAN_FILE = "plan.json"  # the seeded plan, as the counted process reads it


def _scope(
    path: str,
    token: str,
    *,
    card: bool,
    method: str = "GET",
    more: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"cookie", f"mutual_sid={token}".encode()),
        (b"accept-encoding", b"gzip"),
        *(more or []),
    ]
    if card:
        headers.append((b"hx-request", b"true"))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def _requests(db: Path, plan: dict[str, Any], case: str, count: int) -> None:
    """What runs under callgrind: the cards once, then `count` requests."""
    url = f"sqlite:///{db}"
    app = create_app(bench_settings(url), engine=make_engine(url))

    async def ask(
        path: str, token: str, *, card: bool, form: dict[str, Any] | None = None
    ) -> bytes:
        sent: list[Any] = []
        body = urlencode(form or {}).encode()
        more = (
            []
            if form is None
            else [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode()),
                (b"origin", b"http://127.0.0.1"),
                (b"x-csrf-token", csrf[token].encode()),
            ]
        )

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        method = "GET" if form is None else "POST"
        await app(
            _scope(path, token, card=card, method=method, more=more), receive, send
        )
        if sent[0]["status"] != 200:
            raise SystemExit(f"{method} {path} answered {sent[0]['status']}")
        return b"".join(m.get("body", b"") for m in sent[1:])

    page = f"/plans/{plan['id']}"
    cards = [f"{page}/entries/{e}" for e in plan["entries"]]
    csrf: dict[str, str] = {}
    async with app.router.lifespan_context(app):
        for path in cards:
            await ask(path, plan["token"], card=True)
        await ask(page, plan["token"], card=False)  # the look is recorded
        writes = plan["writes"]
        for token in writes["tokens"]:
            home = await ask("/", token, card=False)
            if home[:2] == b"\x1f\x8b":  # gzip's own mark
                home = gzip.decompress(home)
            found = CSRF.search(home.decode())
            assert found is not None
            csrf[token] = found.group(1)
        versions = {e: v for e, v, _ in writes["entries"]}
        for n in range(count):
            if case == "card":
                await ask(cards[n % len(cards)], plan["token"], card=True)
            elif case == "page":
                await ask(page, plan["token"], card=False)
            elif case == "summary":
                await ask(f"{page}/summary", plan["token"], card=True)
            else:
                entry, _, writer = writes["entries"][n % len(writes["entries"])]
                text = f"Take {n}: we stay near, and we say so."
                await ask(
                    f"/plans/{writes['id']}/entries/{entry}",
                    writes["tokens"][writer],
                    card=True,
                    form={"text": text, "base_version": versions[entry]},
                )
                versions[entry] += 1
                if case == "save+card":  # the writer's page, on its own signal
                    await ask(
                        f"/plans/{writes['id']}/entries/{entry}",
                        writes["tokens"][writer],
                        card=True,
                    )
                elif case == "save+agree":  # the partner agrees to it
                    await ask(
                        f"/plans/{writes['id']}/entries/{entry}/agree",
                        writes["tokens"][1 - writer],
                        card=True,
                        form={"version": versions[entry]},
                    )


def _seeded(folder: Path) -> dict[str, Any]:
    db = folder / "seeded.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    found = seed(
        make_engine(url), bench_settings(url), Scale(write_plans=1, live_plans=0)
    )
    read, write = found.read, found.writes[0]
    return {
        "db": str(db),
        "id": str(read.id),
        "token": read.partners[0].token,
        "entries": [str(e.id) for e in read.entries],
        "writes": {
            "id": str(write.id),
            "tokens": [p.token for p in write.partners],
            "entries": [(e.id, e.version, e.writer) for e in write.entries],
        },
    }


def _collected(folder: Path, plan: dict[str, Any], case: str, count: int) -> int:
    copy = folder / f"{case}-{count}.db"
    shutil.copy(plan["db"], copy)
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    run = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.count",
            "--inner",
            str(folder / PLAN_FILE),
            str(copy),
            case,
            str(count),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    found = COLLECTED.search(run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"callgrind did not finish:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.count", description=__doc__)
    parser.add_argument("cases", nargs="*", help=f"of {', '.join(CASES)}; all")
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="default: 200 cards, 40 pages, 100 of the others",
    )
    parser.add_argument("--inner", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if unknown := set(args.cases) - set(CASES):
        parser.error(f"no such case: {', '.join(sorted(unknown))}")
    if args.inner:
        asked, db, case, count = args.inner
        plan = json.loads(Path(asked).read_text())
        asyncio.run(_requests(Path(db), plan, case, int(count)))
        return {}
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-count-") as name:
        folder = Path(name)
        plan = _seeded(folder)
        (folder / PLAN_FILE).write_text(json.dumps(plan))
        for case in args.cases or CASES:
            count = args.requests or {"card": 200, "page": 40}.get(case, 100)
            base = _collected(folder, plan, case, 0)
            more = _collected(folder, plan, case, count)
            figures[case] = (more - base) / count
            print(f"{case}: {figures[case] / 1e6:.2f} million instructions a request")
    return figures


if __name__ == "__main__":
    main()
