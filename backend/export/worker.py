"""Rendering in a small pool of long-lived worker processes, bounded in time and memory.

WeasyPrint's own docs warn that a document can take very long or a lot of memory to
lay out. So no render runs in the web process: each runs in a worker that has a
memory ceiling (RLIMIT_AS). Each worker is a process of its own that serves one
render at a time: a render that overruns its time limit gets its own worker
killed and replaced, and renders on the other workers never notice. Workers start
with "spawn", which is safe in a threaded server, and load WeasyPrint and the fonts
once, at start.

A render waits up to `wait` seconds for a free worker, and one person has at most
`per_owner` renders running or waiting; past either, `PdfBusy` says to try again
shortly. The time limit starts when a worker takes the render, not while it waits.

"spawn" re-imports the program's main module in each worker, so make a PdfRenderer
in an app factory, a lifespan or under `if __name__ == "__main__":`, never at the
top level of a script.
"""

import multiprocessing
import queue
import resource
import signal
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any

DEFAULT_TIMEOUT = 20.0  # seconds for one render, card fitting included
DEFAULT_WAIT = 10.0  # seconds a render may wait for a free worker
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

Task = Callable[[dict[str, Any], dict[str, Any]], bytes]


class PdfError(RuntimeError):
    """The PDF could not be made: it took too long, ran out of memory or crashed."""


class PdfBusy(PdfError):
    """Every worker is busy, or this person already waits for enough PDFs.
    Nothing went wrong: asking again shortly works."""

    def __init__(self, message: str, *, mine: bool = False) -> None:
        super().__init__(message)
        self.mine = mine  # the person's own limit, not everyone's


def _start_worker(memory_limit: int, warm_up: bool = True) -> None:
    # The parent decides when workers stop; Ctrl+C in a terminal must not kill
    # them halfway through a render and print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    if not warm_up:
        return
    # Only workers load WeasyPrint, not the web process. One small render loads the
    # fonts and templates, so the first real render is as quick as the rest.
    from backend.export.pdf import render_pdf

    render_pdf(WARM_UP)


def _ready() -> bool:
    return True


def _render(snapshot: dict[str, Any], options: dict[str, Any]) -> bytes:
    from backend.export.pdf import render_pdf  # see _start_worker

    return render_pdf(snapshot, **options)


class _Worker:
    """One process, one render at a time."""

    def __init__(self, memory_limit: int, warm_up: bool) -> None:
        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(memory_limit, warm_up),
        )
        self.warm: Future[bool] = self.pool.submit(_ready)

    def kill(self) -> None:
        _kill(self.pool)


class PdfRenderer:
    """Renders snapshots to PDF in worker processes; `render` blocks, so call it from
    a thread (FastAPI runs `def` routes in its thread pool), never the event loop.

    `workers` renders run at once, each in a process of its own. `task` is what a
    worker runs (tests give a slow one); `warm_up` loads WeasyPrint at start.
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int = DEFAULT_MEMORY,
        wait: float = DEFAULT_WAIT,
        per_owner: int = 2,
        task: Task = _render,
        warm_up: bool = True,
    ) -> None:
        self.timeout = timeout
        self.wait = wait
        self.per_owner = per_owner
        self._task = task
        self._memory_limit = memory_limit
        self._warm_up = warm_up
        self._lock = threading.Lock()
        self._closed = False
        self._owners: dict[Hashable, int] = {}
        self._all: set[_Worker] = set()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        for _ in range(max(1, workers)):
            self._idle.put(self._new_worker())

    def render(
        self,
        snapshot: dict[str, Any],
        *,
        timeout: float | None = None,
        owner: Hashable | None = None,
        **options: Any,
    ) -> bytes:
        """The PDF for `snapshot` (options as for `render_pdf`), or PdfError when it
        takes longer than `timeout` seconds, runs out of memory or crashes, and
        PdfBusy when no worker is free in time or `owner` has enough waiting. A bad
        snapshot or option raises its own error, as `render_pdf` would."""
        self._check_open()
        self._enter(owner)
        try:
            worker = self._take()
            try:
                return self._run(worker, snapshot, options, timeout or self.timeout)
            except PdfError:
                worker = self._replace(worker)
                raise
            finally:
                self._give_back(worker)
        finally:
            self._leave(owner)

    def close(self) -> None:
        """Stop the workers; a render still running is abandoned."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()

    def __enter__(self) -> "PdfRenderer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(
        self,
        worker: _Worker,
        snapshot: dict[str, Any],
        options: dict[str, Any],
        timeout: float,
    ) -> bytes:
        try:
            # Starting a worker is not the render's fault: wait for it separately.
            worker.warm.result(timeout=STARTUP_TIMEOUT)
            future = worker.pool.submit(self._task, snapshot, options)
            pdf: bytes = future.result(timeout=timeout)
        except FutureTimeout as exc:
            raise PdfError("the PDF took too long to make") from exc
        except (BrokenProcessPool, MemoryError, CancelledError) as exc:
            raise PdfError("the PDF could not be made") from exc
        return pdf

    def _new_worker(self) -> _Worker:
        worker = _Worker(self._memory_limit, self._warm_up)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker:
        """Kill a worker whose render failed (it may still be running) and start
        a fresh one in its place: only this render is affected."""
        with self._lock:
            self._all.discard(worker)
            closed = self._closed
        worker.kill()
        return worker if closed else self._new_worker()

    def _take(self) -> _Worker:
        try:
            return self._idle.get(timeout=self.wait)
        except queue.Empty:
            raise PdfBusy("every PDF worker is busy") from None

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                closing = True
            else:
                closing = False
                self._idle.put(worker)
        if closing:
            worker.kill()

    def _check_open(self) -> None:
        with self._lock:
            if self._closed:
                raise PdfError("the PDF renderer is closed")

    def _enter(self, owner: Hashable | None) -> None:
        if owner is None:
            return
        with self._lock:
            if self._owners.get(owner, 0) >= self.per_owner:
                raise PdfBusy("this person already waits for PDFs", mine=True)
            self._owners[owner] = self._owners.get(owner, 0) + 1

    def _leave(self, owner: Hashable | None) -> None:
        if owner is None:
            return
        with self._lock:
            left = self._owners[owner] - 1
            if left:
                self._owners[owner] = left
            else:
                del self._owners[owner]


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
