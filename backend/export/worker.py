"""Rendering in a small pool of long-lived worker processes, bounded in time and memory.

WeasyPrint's own docs warn that a document can take very long or a lot of memory to
lay out. So no render runs in the web process: each runs in a worker that has a
memory ceiling (RLIMIT_AS), and a render that overruns its time limit gets its
worker killed and the pool replaced. Workers start with "spawn", which is safe in a
threaded server, and load WeasyPrint and the fonts once, at start.

"spawn" re-imports the program's main module in each worker, so make a PdfRenderer
in an app factory, a lifespan or under `if __name__ == "__main__":`, never at the
top level of a script.
"""

import multiprocessing
import resource
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

DEFAULT_TIMEOUT = 20.0  # seconds for one render, card fitting included
# Address space per worker; a 200-entry plan peaks at about 320 MiB.
DEFAULT_MEMORY = 1536 * 2**20
STARTUP_TIMEOUT = 60.0  # a cold worker imports WeasyPrint and loads fonts
WARM_UP: dict[str, Any] = {
    "plan": {"title": "Mutual"},
    "version": None,
    "created_at": "2026-01-01T00:00:00+00:00",
    "partners": [],
    "entries": [],
}


class PdfError(RuntimeError):
    """The PDF could not be made: it took too long, ran out of memory or crashed."""


def _start_worker(memory_limit: int) -> None:
    # The parent decides when workers stop; Ctrl+C in a terminal must not kill
    # them halfway through a render and print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    # Only workers load WeasyPrint, not the web process. One small render loads the
    # fonts and templates, so the first real render is as quick as the rest.
    from backend.export.pdf import render_pdf

    render_pdf(WARM_UP)


def _ready() -> bool:
    return True


def _render(snapshot: dict[str, Any], options: dict[str, Any]) -> bytes:
    from backend.export.pdf import render_pdf  # see _start_worker

    return render_pdf(snapshot, **options)


class PdfRenderer:
    """Renders snapshots to PDF in worker processes; `render` blocks, so call it from
    a thread (FastAPI runs `def` routes in its thread pool), never the event loop.

    One worker by default: renders queue, and a render's time limit starts when it
    is handed to the pool, so a queued render shares the wait of the one before it.
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int = DEFAULT_MEMORY,
    ) -> None:
        self.timeout = timeout
        self._workers = workers
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self._closed = False
        self._pool, self._warm = self._start()

    def render(
        self, snapshot: dict[str, Any], *, timeout: float | None = None, **options: Any
    ) -> bytes:
        """The PDF for `snapshot` (options as for `render_pdf`), or PdfError when it
        takes longer than `timeout` seconds, runs out of memory or crashes. A bad
        snapshot or option raises its own error, as `render_pdf` would."""
        pool, warm = self._current()
        try:
            # Starting a worker is not the render's fault: wait for it separately.
            warm.result(timeout=STARTUP_TIMEOUT)
            future = pool.submit(_render, snapshot, options)
            pdf: bytes = future.result(timeout=timeout or self.timeout)
        except FutureTimeout as exc:
            self._replace(pool)
            raise PdfError("the PDF took too long to make") from exc
        except (BrokenProcessPool, MemoryError) as exc:
            self._replace(pool)
            raise PdfError("the PDF could not be made") from exc
        return pdf

    def close(self) -> None:
        """Stop the workers; a render still running is abandoned."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pool = self._pool
        _kill(pool)

    def __enter__(self) -> "PdfRenderer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start(self) -> tuple[ProcessPoolExecutor, "Future[bool]"]:
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._memory_limit,),
        )
        return pool, pool.submit(_ready)

    def _current(self) -> tuple[ProcessPoolExecutor, "Future[bool]"]:
        with self._lock:
            if self._closed:
                raise PdfError("the PDF renderer is closed")
            return self._pool, self._warm

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Kill `broken` and start a fresh pool, unless another thread already did."""
        with self._lock:
            if self._closed or self._pool is not broken:
                return
            self._pool, self._warm = self._start()
        _kill(broken)


def _kill(pool: ProcessPoolExecutor) -> None:
    # A running task cannot be cancelled, only its process killed. Python 3.14 has
    # kill_workers(); before that the executor's process table is the only handle.
    kill_workers = getattr(pool, "kill_workers", None)
    if kill_workers is not None:
        kill_workers()
    else:
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
