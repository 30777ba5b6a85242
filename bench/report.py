"""Figures into results: each case's figure, its ratio, its target, met or not."""

import contextlib
import os
import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime

from backend.config import ROOT
from bench.cases import Config

# case, figure key, unit, how the ratio is taken, target text, test
CASES = (
    ("floor", "rps", "req/s"),
    ("page", "rps", "req/s"),
    ("fragment", "rps", "req/s"),
    ("save", "rps", "req/s"),
    ("agree", "rps", "req/s"),
)
LABELS = {
    "floor": "floor (bare HTML route)",
    "page": "(a) plan page, full GET",
    "fragment": "(b) entry fragment, htmx GET",
    "save": "(c) save an edit, POST",
    "agree": "(d) agree, POST",
    "live": "(e) live signal after save, p95",
    "pdf": "(f) agreed PDF, median",
    "memory": "(g) memory per idle stream",
}
RPS_TARGETS = {"page": 0.25, "fragment": 0.40, "save": 0.10, "agree": 0.10}
P99_LIMIT_MS = 50.0
LIVE_P95_MS = 50.0
PDF_RATIO = 1.3
STREAM_BYTES = 30_000


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
    rows = [
        _row(
            "floor",
            db,
            figure=round(floor["rps"], 1),
            unit="req/s",
            ratio=1.0,
            p50_ms=round(floor["p50_ms"], 2),
            p99_ms=round(floor["p99_ms"], 2),
            target=None,
            met=None,
            errors=floor["errors"],
        )
    ]
    for case, minimum in RPS_TARGETS.items():
        found = figures[case]
        ratio = found["rps"] / floor["rps"] if floor["rps"] else 0.0
        met = ratio >= minimum
        target = f">= {minimum:.0%} of floor"
        if case in ("save", "agree"):
            met = met and found["p99_ms"] < P99_LIMIT_MS
            target += f", p99 < {P99_LIMIT_MS:.0f} ms"
        rows.append(
            _row(
                case,
                db,
                figure=round(found["rps"], 1),
                unit="req/s",
                ratio=round(ratio, 4),
                p50_ms=round(found["p50_ms"], 2),
                p99_ms=round(found["p99_ms"], 2),
                target=target,
                met=met and found["errors"] == 0,
                errors=found["errors"],
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
    per_stream = memory["kib_per_stream"] * 1024
    rows.append(
        _row(
            "memory",
            db,
            figure=round(per_stream / 1000, 1),
            unit="kB",
            ratio=None,
            ratio_to="none (a floor route holds no memory)",
            streams=memory["streams"],
            rss_before_kib=memory["rss_before_kib"],
            rss_after_kib=memory["rss_after_kib"],
            target=f"< {STREAM_BYTES // 1000} kB",
            met=per_stream < STREAM_BYTES,
            errors=0,
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
        "| case | db | figure | ratio | p50 ms | p99 ms | target | met |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in results["cases"]:
        figure = f"{_fmt(row['figure'])} {row['unit']}"
        ratio = row["ratio"]
        ratio_text = "-" if ratio is None else f"{ratio:.3g}"
        if row.get("ratio_to"):
            ratio_text += f" ({row['ratio_to'].split(' (')[0]})" if ratio else ""
        lines.append(
            f"| {row['label']} | {row['db']} | {figure} | {ratio_text} | "
            f"{_fmt(row.get('p50_ms'))} | {_fmt(row.get('p99_ms'))} | "
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
                f"- {db}, live: {row['streams']} streams open; from sending the save "
                f"to the partner's signal p50 {row['after_send_p50_ms']:.1f} ms, "
                f"p95 {row['after_send_p95_ms']:.1f} ms (the signal leaves before "
                "the response is rendered, so after the response it is 0)"
            )
        elif row["case"] == "pdf":
            lines.append(
                f"- {db}, PDF: {row['pages']} pages; bare render {row['bare_ms']} ms "
                f"in the bench process, served {row['figure']} ms"
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
