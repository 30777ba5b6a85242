"""Live signals shared by every process on one PostgreSQL database.

- A signal (ids only, as in the in-process broker) is delivered to this
  process's streams at once and sent to the others with NOTIFY, after the
  commit that caused it (backend.db's after-commit hook calls `publish`), by
  one sending thread with a connection of its own.
- Each process holds one dedicated LISTEN connection (psycopg 3, async) and
  hands what it hears to its own streams. If that connection drops, every local
  stream is closed, so browsers reconnect and fetch what they missed; new
  streams are refused (503, try again) until the listener is back. It
  reconnects with backoff, from a tenth of a second up to five seconds.
- Open streams are rows of `live_stream`, so the per-account and per-address
  caps and "who is here" hold across processes. The process serving a stream
  renews its row every few seconds; a dead process's rows expire by themselves,
  and the first process to clear them tells the plan's pages.
- Closing a sign-in's, a person's or a leaver's streams (sign-out, leaving a
  plan) goes to every process the same way as a signal.

The payload is a short JSON object of ids: NOTIFY never carries plan words.
"""

import asyncio
import contextlib
import json
import logging
import os
import queue
import random
import threading
import uuid
from datetime import datetime, timedelta

import anyio
import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    delete,
    func,
    insert,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from backend.live.broker import Broker, Listener, StreamBudget, StreamsFull
from backend.models import LiveStream, Membership

log = logging.getLogger("mutual.live")

CHANNEL = "mutual_signals"
LISTENER_NAME = "mutual-listen"  # application_name of LISTEN connections
SENDER_NAME = "mutual-notify"  # and of the connections that send NOTIFY
BATCH = 500  # notices sent in one transaction at most
BACKOFF_FIRST = 0.1
BACKOFF_MOST = 5.0
# a connection whose peer vanished without a word is noticed within about a minute
ALIVE = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def conninfo(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq connection info, for psycopg itself."""
    return (
        make_url(database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


class Sender:
    """One thread with one connection of its own sends every NOTIFY, in order.

    The after-commit hook only queues a notice, so a request never waits for a
    pooled connection to announce its commit, and notices that pile up while one
    is sent go together in one transaction (one commit, so one flush). A broken
    connection is replaced once per batch; a batch that still fails is dropped
    (logged by kind): the other processes' pages catch up when they reconnect.
    """

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name=SENDER_NAME, daemon=True
            )
            self._thread.start()

    def put(self, payload: str) -> None:
        self._queue.put(payload)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        running = True
        while running:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    running = False
                    break
                batch.append(more)
            self._send(batch)
        self._close()

    def _send(self, batch: list[str]) -> None:
        for _ in range(2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self._conninfo,
                        autocommit=True,
                        application_name=f"{SENDER_NAME}-{os.getpid()}",
                    )
                with self._conn.transaction(), self._conn.cursor() as cursor:
                    cursor.executemany(
                        "SELECT pg_notify(%s, %s)",
                        [(CHANNEL, payload) for payload in batch],
                    )
                return
            except (psycopg.Error, OSError) as exc:
                log.warning("live signals could not be sent on: %s", _why(exc))
                self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class PostgresBroker(Broker):
    def __init__(
        self,
        engine: Engine,
        database_url: str,
        *,
        listen_url: str | None = None,
        renew_seconds: float = 10.0,
        expire_seconds: float = 30.0,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.renew_seconds = renew_seconds
        self.expire_seconds = expire_seconds
        self.origin = uuid.uuid4().hex  # this process, to skip its own notices
        self._conninfo = make_conninfo(conninfo(database_url), **ALIVE)
        # LISTEN needs a session of its own: behind a transaction-mode pooler
        # the listener connects to PostgreSQL directly, at its own address
        self._listen_conninfo = make_conninfo(
            conninfo(listen_url or database_url), **ALIVE
        )
        self._rows: dict[Listener, uuid.UUID] = {}
        self._listening = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._sender = Sender(self._conninfo)

    # -- lifetime ---------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._listening.is_set()

    async def start(self) -> None:
        self._stopping = False
        self._sender.start()
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="mutual-listen"),
            asyncio.create_task(self._renew_forever(), name="mutual-renew"),
        ]
        # serve at once, but give the listener a moment to be there first
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 5)

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await anyio.to_thread.run_sync(self._sender.stop)
        rows = list(self._rows.values())
        if rows:
            with contextlib.suppress(Exception):
                await anyio.to_thread.run_sync(self._forget, rows)

    # -- sending ----------------------------------------------------------

    def publish(self, plan_id: uuid.UUID, kind: str, *, id: str = "") -> None:
        self.deliver(plan_id, kind, id)
        self._notify({"p": str(plan_id), "k": kind, "i": id})

    def end_session(self, session_hash: str) -> None:
        super().end_session(session_hash)
        if session_hash:
            self._notify({"end": "session", "v": session_hash})

    def end_account(self, account_id: uuid.UUID) -> None:
        super().end_account(account_id)
        self._notify({"end": "account", "v": str(account_id)})

    def end_member(self, plan_id: uuid.UUID, account_id: uuid.UUID) -> None:
        super().end_member(plan_id, account_id)
        self._notify({"end": "member", "p": str(plan_id), "v": str(account_id)})

    def _notify(self, message: dict[str, str]) -> None:
        """NOTIFY the other processes, through the sender's own connection."""
        payload = json.dumps({"o": self.origin, **message}, separators=(",", ":"))
        self._sender.put(payload)

    # -- hearing ----------------------------------------------------------

    def heard(self, payload: str) -> None:
        """One notice from the channel: a signal, or streams to close."""
        try:
            message = json.loads(payload)
            if message.get("o") == self.origin:
                return
            end = message.get("end")
            if end == "session":
                super().end_session(message["v"])
            elif end == "account":
                super().end_account(uuid.UUID(message["v"]))
            elif end == "member":
                super().end_member(uuid.UUID(message["p"]), uuid.UUID(message["v"]))
            else:
                self.deliver(uuid.UUID(message["p"]), message["k"], message["i"])
        except (ValueError, KeyError, TypeError):
            log.warning("an unreadable live notice was ignored")

    async def _listen_forever(self) -> None:
        delay = BACKOFF_FIRST
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._listen_conninfo,
                    autocommit=True,
                    application_name=f"{LISTENER_NAME}-{os.getpid()}",
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    delay = BACKOFF_FIRST
                    async for notice in conn.notifies():
                        self.heard(notice.payload)
            except (psycopg.Error, OSError) as exc:
                if self._stopping:
                    return
                log.warning("the live listener lost its connection: %s", _why(exc))
            finally:
                if self._listening.is_set():
                    self._listening.clear()
                    # streams may have missed signals: closed, they reconnect
                    # and their pages fetch themselves again
                    self._end(lambda _plan, _item: True)
            await asyncio.sleep(delay * (1 + random.random() / 2))  # noqa: S311
            delay = min(delay * 2, BACKOFF_MOST)

    # -- streams in the database -------------------------------------------

    async def open(
        self,
        plan_id: uuid.UUID,
        account_id: uuid.UUID,
        session_hash: str = "",
        *,
        address: str = "",
        budget: StreamBudget | None = None,
    ) -> Listener:
        if not self.ready:
            raise StreamsFull("listener")
        listener = self.subscribe(
            plan_id, account_id, session_hash, address=address, budget=None
        )
        if budget is not None:
            try:
                self._check_here(budget)
                row = await anyio.to_thread.run_sync(
                    self._claim, plan_id, account_id, address, budget
                )
            except BaseException:
                self.unsubscribe(plan_id, listener)
                raise
        else:
            row = await anyio.to_thread.run_sync(
                self._claim, plan_id, account_id, address, None
            )
        self._rows[listener] = row
        return listener

    def _check_here(self, budget: StreamBudget) -> None:
        """The total is this process's own limit (its sockets and memory)."""
        if self.count() > budget.total:
            raise StreamsFull("total")

    async def close(self, plan_id: uuid.UUID, listener: Listener) -> None:
        self.unsubscribe(plan_id, listener)
        row = self._rows.pop(listener, None)
        if row is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(self._forget, [row])
            except Exception as exc:  # it expires by itself
                log.warning("a closed stream stays counted a while: %s", exc)

    def _claim(
        self,
        plan_id: uuid.UUID,
        account_id: uuid.UUID,
        address: str,
        budget: StreamBudget | None,
    ) -> uuid.UUID:
        """Count and add one stream in one transaction, under a lock per account
        and per address, so two processes cannot both take the last place."""
        with self.engine.begin() as conn:
            if budget is not None:
                self._lock_key(conn, f"account:{account_id}")
                if address:
                    self._lock_key(conn, f"address:{address}")
                live = col(LiveStream.expires_at) > func.now()
                mine = conn.execute(
                    select(func.count()).where(
                        live, col(LiveStream.account_id) == account_id
                    )
                ).scalar_one()
                if mine >= budget.per_account:
                    raise StreamsFull("account")
                if address:
                    near = conn.execute(
                        select(func.count()).where(
                            live, col(LiveStream.address) == address
                        )
                    ).scalar_one()
                    if near >= budget.per_address:
                        raise StreamsFull("address")
            row = uuid.uuid4()
            conn.execute(
                insert(LiveStream).values(
                    id=row,
                    plan_id=plan_id,
                    account_id=account_id,
                    address=address[:64],
                    expires_at=self._expiry(),
                )
            )
        return row

    @staticmethod
    def _lock_key(conn: Connection, key: str) -> None:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": key},
        )

    def _expiry(self) -> ColumnElement[datetime]:
        """Expiry by the database's clock, so hosts' clocks need not agree."""
        return func.now() + timedelta(seconds=self.expire_seconds)

    def _forget(self, rows: list[uuid.UUID]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(LiveStream).where(col(LiveStream.id).in_(rows)))

    def present(self, plan_id: uuid.UUID) -> set[uuid.UUID]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(LiveStream.account_id).where(
                    col(LiveStream.plan_id) == plan_id,
                    col(LiveStream.expires_at) > func.now(),
                )
            )
            return set(found.scalars())

    def renew(self) -> None:
        """Keep this process's streams counted; clear rows nobody renewed (their
        process died) and tell those plans' pages who is still here."""
        rows = list(self._rows.values())
        with self.engine.begin() as conn:
            if rows:
                conn.execute(
                    update(LiveStream)
                    .where(col(LiveStream.id).in_(rows))
                    .values(expires_at=self._expiry())
                )
            gone = set(
                conn.execute(
                    delete(LiveStream)
                    .where(col(LiveStream.expires_at) <= func.now())
                    .returning(col(LiveStream.plan_id), col(LiveStream.account_id))
                ).all()
            )
            # only someone who chose to be seen as here is seen to go
            shown = set()
            if gone:
                shown = set(
                    conn.execute(
                        select(Membership.plan_id, Membership.account_id).where(
                            col(Membership.plan_id).in_({plan for plan, _ in gone}),
                            col(Membership.shows_presence),
                        )
                    ).all()
                )
        for plan_id, account_id in gone & shown:
            self.publish(plan_id, "presence", id=str(account_id))

    async def _renew_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.renew_seconds)
            try:
                await anyio.to_thread.run_sync(self.renew)
            except Exception as exc:
                log.warning("open streams could not be renewed: %s", type(exc).__name__)


def _why(exc: BaseException) -> str:
    """What went wrong, by class and SQLSTATE only (messages can quote values)."""
    state = getattr(exc, "sqlstate", None)
    return f"{type(exc).__name__} {state}" if state else type(exc).__name__
