"""The benchmark harness, run tiny on SQLite so it never rots; no target is asserted.

The real benchmark is `make bench` (docs/performance.md); this only proves that
every case still runs end to end against a real server and reports its figures.
"""

import json
import threading

import pytest

from bench import run

CASES = {
    "floor",
    "page",
    "page_html",
    "page_304",
    "page_built",
    "fragment",
    "fragment_304",
    "fragment_built",
    "save",
    "agree",
    "writers_many",
    "writers_few",
    "lock",
    "live",
    "pdf",
    "memory",
}


@pytest.mark.slow
def test_every_case_runs_and_reports(tmp_path, capsys):
    out = tmp_path / "latest.json"
    results: dict = {}

    def smoke() -> None:
        # its own thread: the harness runs its own event loop, and another test in
        # this process (the browser's) may already hold one on the main thread
        results.update(run.main(["--smoke", "--db", "sqlite", "--out", str(out)]))

    worker = threading.Thread(target=smoke)
    worker.start()
    worker.join(120)
    assert results, "the smoke benchmark did not finish"

    assert json.loads(out.read_text())["cases"] == results["cases"]
    assert out.with_suffix(".md").read_text().startswith("Run ")
    rows = {row["case"]: row for row in results["cases"]}
    assert set(rows) == CASES
    for row in rows.values():
        assert row["db"] == "sqlite"
        assert row["errors"] == 0, row
        assert {"figure", "ratio", "target", "met"} <= row.keys()
    assert rows["floor"]["ratio"] == 1.0
    for case in ("page", "page_304", "fragment", "fragment_304", "save", "agree"):
        # server CPU per request at one connection, beside the busy figures
        assert rows[case]["figure"] > 0
        assert rows[case]["unit"] == "ms CPU"
        assert isinstance(rows[case]["met"], bool)
    for case in ("page_built", "fragment_built"):
        # the same with nothing kept: a figure beside the others, no target
        assert rows[case]["figure"] > 0
        assert rows[case]["met"] is None
    assert rows["page_html"]["gzip_kb"] < rows["page_html"]["figure"]
    assert rows["lock"]["locks"] > 0
    raw = results["raw"]["sqlite"]
    assert raw["pdf"]["pages"] >= 1
    assert raw["memory"]["streams"] == 4
    assert raw["live"]["samples"] >= 1
    # the signal is timed from the save's commit, which the server recorded: it
    # takes some time, and less than the whole save as the writer sent it
    assert 0 < raw["live"]["p95_ms"] < raw["live"]["after_send"]["p95_ms"]
    # the live stream is never compressed: a compressor would hold signals back
    assert raw["live"]["encodings"] == [""]


def test_a_signal_is_timed_from_the_last_commit_of_its_entry_before_it():
    from bench.cases import since_commit

    published = {"a": [10.0, 20.0], "b": [30.0]}
    heard = [("a", 10.5), ("a", 20.25), ("b", 29.0), ("c", 40.0)]
    took, missing = since_commit(heard, published)
    assert took == [0.5, 0.25]
    # heard before any commit of its entry, or for an entry never committed
    assert missing == 2
