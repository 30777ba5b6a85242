"""Stand-in renders for the PDF workers' tests: quick to start, slow on request.

They run in the worker processes, so they live in a module of their own that a
worker can import without loading the test suite."""

import time
from typing import Any


def sleepy(snapshot: dict[str, Any], options: dict[str, Any]) -> bytes:
    time.sleep(snapshot.get("sleep", 0))
    return b"%PDF-" + str(snapshot.get("name", "")).encode()


def sleepy_for_a_while(snapshot: dict[str, Any], options: dict[str, Any]) -> bytes:
    time.sleep(5)
    return b"%PDF-late"
