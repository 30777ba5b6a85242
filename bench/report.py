"""Figures into results: each case's figure, its ratio, its target, met or not."""

import contextlib
import os
import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime

from backend.config import ROOT
from bench.cases import Config

LABELS = {
    "floor": "floor (bare HTML route)",
    "page": "(a) plan page, full GET",
    "page_html": "(a) plan page, HTML",
    "page_304": "(a) plan page, repeat view (304)",
    "fragment": "(b) entry fragment, htmx GET",
    "fragment_304": "(b) entry fragment, repeat view (304)",
    "page_built": "(a) plan page, every card built (nothing kept)",
    "fragment_built": "(b) entry fragment, its card built (nothing kept)",
    "save": "(c) save an edit, POST",
    "agree": "(d) agree, POST",
    "writers_many": "(c+d) writes, many writers at once",
    "writers_few": "(c+d) writes, a few writers at once",
    "lock": "(c+d) SQLite write lock held",
    "live": "(e) live signal from the save's commit, p95",
    "pdf": "(f) agreed PDF, median",
    "memory": "(g) memory per idle stream",
}
# server CPU per request at one connection, ms
CPU_TARGETS = {
    "page": 8.0,
    "page_304": 0.6,
    "fragment": 1.5,
    "fragment_304": 0.6,
    "save": 5.0,
    "agree": 5.0,
}
# the same, with nothing kept (backend/plans/shelf.py): what a page or card costs
# the first time it is shown, or after a change; no target of their own
CPU_UNKEPT = ("page_built", "fragment_built")
PAGE_HTML_BYTES = 120_000
WRITE_P99_MS = {"many": 150.0, "few": 50.0}
LOCK_HELD_P50_MS = 3.0
LIVE_P95_MS = 50.0
PDF_RATIO = 1.3
STREAM_KIB = 20.0


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        model = next(
            (line.split(":", 1)[1].strip() for line in info if "model name" in line),
            "",
        )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit,
    }


def _row(case: str, db: str, **fields: object) -> dict:
    return {"case": case, "label": LABELS[case], "db": db, **fields}


def rows_for(db: str, figures: dict) -> list[dict]:
    floor = figures["floor"]
    floor_ms = floor["p50_ms"] or 1e-9
    cpu = figures["cpu"]
    floor_cpu = cpu["floor"]["ms"] or 1e-9

    def busy(case: str) -> dict:
        """What 16 connections at once saw, beside the CPU figure."""
        found = figures.get(case)
        if not found:
            return {}
        return {
            "rps": round(found["rps"], 1),
            "p50_ms": round(found["p50_ms"], 2),
            "p99_ms": round(found["p99_ms"], 2),
        }

    rows = [
        _row(
            "floor",
            db,
            figure=round(floor_cpu, 3),
            unit="ms CPU",
            ratio=1.0,
            target=None,
            met=None,
            errors=floor["errors"] + cpu["floor"]["errors"],
            **busy("floor"),
        )
    ]

    def cpu_row(case: str, limit: float | None) -> dict:
        found = cpu[case]
        errors = found["errors"] + (figures[case]["errors"] if case in figures else 0)
        return _row(
            case,
            db,
            figure=round(found["ms"], 3),
            unit="ms CPU",
            ratio=round(found["ms"] / floor_cpu, 1),
            ratio_to="floor CPU",
            requests=found["requests"],
            target=f"<= {limit} ms CPU" if limit is not None else None,
            met=(found["ms"] <= limit and errors == 0 and found["requests"] > 0)
            if limit is not None
            else None,
            errors=errors,
            **busy(case),
        )

    for case, limit in CPU_TARGETS.items():
        rows.append(cpu_row(case, limit))
        if case == "page":
            html = figures["html"]
            rows.append(
                _row(
                    "page_html",
                    db,
                    figure=round(html["raw"] / 1000, 1),
                    unit="kB",
                    ratio=None,
                    gzip_kb=round(html["gzip"] / 1000, 1),
                    target=f"<= {PAGE_HTML_BYTES // 1000} kB",
                    met=html["raw"] <= PAGE_HTML_BYTES and html["status"] == 200,
                    errors=0 if html["status"] == 200 else 1,
                )
            )
    rows.extend(cpu_row(case, None) for case in CPU_UNKEPT if case in cpu)
    by_count = sorted(figures["writers"].values(), key=lambda w: -w["writers"])
    for kind, found in zip(("many", "few"), by_count, strict=True):
        worst = max(found["save_p99_ms"], found["agree_p99_ms"])
        limit = WRITE_P99_MS[kind]
        rows.append(
            _row(
                f"writers_{kind}",
                db,
                figure=round(worst, 1),
                unit="ms p99",
                ratio=None,
                writers=found["writers"],
                p50_ms=round(max(found["save_p50_ms"], found["agree_p50_ms"]), 2),
                p99_ms=round(worst, 2),
                target=f"p99 <= {limit:.0f} ms at {found['writers']} writers",
                met=worst <= limit and found["errors"] == 0,
                errors=found["errors"],
            )
        )
    many = by_count[0]
    if db == "sqlite":
        rows.append(
            _row(
                "lock",
                db,
                figure=round(many["held_p50_ms"], 2),
                unit="ms median",
                ratio=None,
                p50_ms=round(many["held_p50_ms"], 2),
                p99_ms=round(many["held_p99_ms"], 2),
                waited_p50_ms=round(many["waited_p50_ms"], 2),
                waited_p99_ms=round(many["waited_p99_ms"], 2),
                held_cpu_p50_ms=round(many["held_cpu_p50_ms"], 2),
                held_commit_p50_ms=round(many["held_commit_p50_ms"], 2),
                held_rest_p50_ms=round(many["held_rest_p50_ms"], 2),
                locks=many["locks"],
                writers=many["writers"],
                target=f"held <= {LOCK_HELD_P50_MS:.0f} ms median",
                met=many["locks"] > 0 and many["held_p50_ms"] <= LOCK_HELD_P50_MS,
                errors=0,
            )
        )
    live = figures["live"]
    rows.append(
        _row(
            "live",
            db,
            figure=round(live["p95_ms"], 2),
            unit="ms",
            ratio=round(live["p95_ms"] / floor_ms, 2),
            ratio_to="floor p50 latency",
            p50_ms=round(live["p50_ms"], 2),
            after_send_p50_ms=round(live["after_send"]["p50_ms"], 2),
            after_send_p95_ms=round(live["after_send"]["p95_ms"], 2),
            after_response_p95_ms=round(live["after_response"]["p95_ms"], 2),
            streams=live["streams"],
            target=f"p95 < {LIVE_P95_MS:.0f} ms",
            met=live["p95_ms"] < LIVE_P95_MS and live["errors"] == 0,
            errors=live["errors"],
        )
    )
    pdf = figures["pdf"]
    rows.append(
        _row(
            "pdf",
            db,
            figure=round(pdf["served_ms"], 1),
            unit="ms",
            ratio=round(pdf["ratio"], 3),
            ratio_to="bare WeasyPrint render",
            bare_ms=round(pdf["bare_ms"], 1),
            floor_ratio=round(pdf["served_ms"] / floor_ms, 1),
            pages=pdf["pages"],
            target=f"<= {PDF_RATIO}x bare render",
            met=pdf["ratio"] <= PDF_RATIO and pdf["errors"] == 0,
            errors=pdf["errors"],
        )
    )
    memory = figures["memory"]
    per_stream = memory["kib_per_stream"]
    rows.append(
        _row(
            "memory",
            db,
            figure=round(per_stream, 1),
            unit="KiB",
            ratio=None,
            ratio_to="none (a floor route holds no memory)",
            streams=memory["streams"],
            rss_before_kib=memory["rss_before_kib"],
            rss_after_kib=memory["rss_after_kib"],
            target=f"<= {STREAM_KIB:.0f} KiB",
            met=per_stream <= STREAM_KIB and not memory.get("errors"),
            errors=memory.get("errors", 0),
        )
    )
    return rows


def build(by_db: dict[str, dict], config: Config, *, smoke: bool) -> dict:
    rows = [row for db, figures in by_db.items() for row in rows_for(db, figures)]
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "smoke": smoke,
        "config": asdict(config),
        "cases": rows,
        "raw": by_db,
    }
    browser = next((f["browser"] for f in by_db.values() if "browser" in f), None)
    if browser is not None:
        results["browser"] = browser
    return results


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Run {results['date']} on {m['cpu']} ({m['cores']} cores), "
        f"Python {m['python']}, commit {m['commit']}.",
        "",
        "Figures are server CPU per request at one connection unless the unit "
        "says otherwise; ratio is to the floor's CPU. req/s, p50 and p99 are at "
        "16 connections at once.",
        "",
        "| case | db | figure | ratio | req/s | p50 ms | p99 ms | target | met |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in results["cases"]:
        figure = f"{_fmt(row['figure'])} {row['unit']}"
        ratio = row["ratio"]
        ratio_text = "-" if ratio is None else f"{ratio:.3g}"
        if row.get("ratio_to"):
            ratio_text += f" ({row['ratio_to'].split(' (')[0]})" if ratio else ""
        lines.append(
            f"| {row['label']} | {row['db']} | {figure} | {ratio_text} | "
            f"{_fmt(row.get('rps'))} | {_fmt(row.get('p50_ms'))} | "
            f"{_fmt(row.get('p99_ms'))} | "
            f"{row['target'] or '-'} | {_fmt(row['met'])} |"
        )
    lines += ["", *_details(results)]
    browser = results.get("browser")
    if browser:
        lines += ["", _browser_table(browser)]
    return "\n".join(lines) + "\n"


def _details(results: dict) -> list[str]:
    lines = []
    for row in results["cases"]:
        db = row["db"]
        if row["case"] == "live":
            lines.append(
                f"- {db}, live: {row['streams']} streams open; from the save's "
                f"commit to the partner's signal p50 {row['p50_ms']:.1f} ms, p95 "
                f"{row['figure']:.1f} ms; from sending the save p50 "
                f"{row['after_send_p50_ms']:.1f} ms, p95 "
                f"{row['after_send_p95_ms']:.1f} ms; after the writer's own answer "
                f"p95 {row['after_response_p95_ms']:.1f} ms (0 when the signal "
                "comes first)"
            )
        elif row["case"] == "pdf":
            lines.append(
                f"- {db}, PDF: {row['pages']} pages; bare render {row['bare_ms']} ms "
                f"in the bench process, served {row['figure']} ms"
            )
        elif row["case"] == "page_html":
            lines.append(
                f"- {db}, plan page: {row['figure']} kB of HTML, "
                f"{row['gzip_kb']} kB as sent (gzip)"
            )
        elif row["case"] == "lock":
            lines.append(
                f"- {db}, write lock over {row['locks']} writes by {row['writers']} "
                f"writers: held p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms; "
                f"waited for p50 {row['waited_p50_ms']} ms, "
                f"p99 {row['waited_p99_ms']} ms. Of the hold (medians of each part): "
                f"the holder's own CPU {row['held_cpu_p50_ms']} ms, its COMMIT "
                f"{row['held_commit_p50_ms']} ms, waiting "
                f"{row['held_rest_p50_ms']} ms"
            )
        elif row["case"] == "memory":
            lines.append(
                f"- {db}, memory: {row['streams']} idle streams took the server from "
                f"{row['rss_before_kib']:,} to {row['rss_after_kib']:,} KiB VmRSS"
            )
    return lines


def _browser_table(browser: dict) -> str:
    lines = [
        f"Phone ({browser['throughput_kbit']} kbit/s, {browser['rtt_ms']} ms RTT):",
        "",
        "| page | load | bytes (transferred) | requests | FCP ms | other hosts |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in browser["pages"]:
        lines.append(
            f"| {row['page']} | {row['load']} | {row['bytes']:,} | {row['requests']} "
            f"| {row['fcp_ms']:.0f} | {row['other_hosts']} |"
        )
    lines.append("")
    for check in browser["checks"]:
        lines.append(f"- {check['what']}: {check['figure']} ({_fmt(check['met'])})")
    return "\n".join(lines)
