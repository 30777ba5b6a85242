"""The fault harness (`make faults`, bench/faults.py), run short so it never rots.

A real `mutual serve` is killed with SIGKILL under writers, contended by 20
writers at once (SQLite) and stormed with streams; every probe must come out with
nothing failed. The full run is `make faults` (docs/reliability.md).
"""

import pytest

from bench import faults
from bench import server as bench_server
from tests.conftest import POSTGRES_URL, skip_or_fail

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_short_fault_run_loses_and_leaks_nothing(kind, monkeypatch):
    if kind == "postgres":
        if not POSTGRES_URL:
            skip_or_fail("MUTUAL_TEST_POSTGRES_URL is not set")
        monkeypatch.setattr(bench_server, "POSTGRES_URL", POSTGRES_URL)
    found = faults.run([kind], cycles=2, saves=3, storm=150, seed=7)
    names = [probe.name for probe in found]
    assert names[0] == "kill -9 under 8 writers"
    assert ("20 writers at once" in names) == (kind == "sqlite")
    for probe in found:
        assert probe.tried > 0, probe
        assert probe.failed == 0, faults.table(found)


def test_the_table_counts_tried_and_failed():
    probes = [
        faults.Probe("kill -9 under 8 writers", "sqlite", tried=40, failed=0),
        faults.Probe("stream storm", "postgres", tried=9, failed=2, notes=["x", "y"]),
    ]
    lines = faults.table(probes).splitlines()
    assert lines[2] == "| kill -9 under 8 writers | sqlite | 40 | 0 |  |"
    assert lines[3] == "| stream storm | postgres | 9 | 2 | x; y |"
    assert not probes[1].ok
    assert probes[0].ok
