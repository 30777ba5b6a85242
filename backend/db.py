"""Engines and sessions: SQLite opened safely, PostgreSQL through psycopg 3.

SQLite holds one writer at a time. A write session's writing transaction begins
with BEGIN IMMEDIATE and, inside this process, queues on a lock first, so
colliding writers wait their turn instead of falling into SQLite's busy-retry
sleeps; the lock is released at its commit (or rollback). Read sessions begin
deferred, and so does a write session once `reading_after_write` says it is done
writing: the answer rendered after a commit does not hold up the next writer.
Where the app is handed one connection instead of an engine (the tests, on
PostgreSQL), every session nests in that connection's transaction.
"""

import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Connection, Engine, Row, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import ORMExecuteState, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlmodel import Session, SQLModel, create_engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA trusted_schema=OFF",
)
WRITE_OPTION = "mutual_write"
ALONE_OPTION = "mutual_alone"
_Ts = TypeVarTuple("_Ts")
_Model = TypeVar("_Model", bound=SQLModel)
_S = TypeVar("_S")
WRITE_LOCK_TIMEOUT = 30.0
LOCK_TIMES_KEPT = 20_000


@dataclass(frozen=True)
class LockTime:
    """One write's turn on SQLite's write lock, in seconds: how long it waited
    for it and held it; of the hold, the holding thread's own CPU time and the
    COMMIT (writing and syncing the log). The rest of the hold is the holder
    waiting: for the database's answers, or for its turn on the interpreter."""

    waited: float
    held: float
    cpu: float | None  # None when the turn ended in another thread
    commit: float


@dataclass
class _Turn:
    """A write's turn on the lock while it lasts (`perf_counter` and
    `thread_time` readings)."""

    asked: float
    got: float
    cpu_at: float
    thread: int = field(default_factory=threading.get_ident)
    commit: float = 0.0

    def ended(self) -> LockTime:
        now, cpu_now = time.perf_counter(), time.thread_time()
        mine = threading.get_ident() == self.thread
        cpu = cpu_now - self.cpu_at if mine else None
        return LockTime(self.got - self.asked, now - self.got, cpu, self.commit)


# per SQLite engine: its newest writes' turns on the lock, for `make bench`
_lock_times: "weakref.WeakKeyDictionary[Engine, deque[LockTime]]" = (
    weakref.WeakKeyDictionary()
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """Build the engine for a database URL, with the safety settings of its kind."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        # a failed statement's error (and so any log of it) never holds what was written
        hide_parameters=True,
    )


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False}, hide_parameters=True
    )
    write_lock = threading.Lock()
    times: deque[LockTime] = deque(maxlen=LOCK_TIMES_KEPT)
    _lock_times[engine] = times

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # take transaction control away from pysqlite so BEGIN is ours to emit
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            asked = time.perf_counter()
            if not write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
                raise OperationalError("BEGIN IMMEDIATE", {}, Exception("write lock"))
            conn.info["holds_write_lock"] = _Turn(
                asked, time.perf_counter(), time.thread_time()
            )
            try:
                _send(conn, "BEGIN IMMEDIATE")
            except Exception:
                _release(conn)
                raise
        elif not conn.get_execution_options().get(ALONE_OPTION):
            _send(conn, "BEGIN")

    def _send(conn: Any, sql: str) -> None:
        # straight to the driver: SQLAlchemy's handling of a statement costs
        # more than a BEGIN does; an error is raised as SQLAlchemy would
        dbapi = conn.dialect.loaded_dbapi
        try:
            conn.connection.dbapi_connection.execute(sql)
        except dbapi.Error as error:
            raise DBAPIError.instance(sql, {}, error, dbapi.Error) from error

    def _release(conn: Any) -> None:
        turn: _Turn | None = conn.info.pop("holds_write_lock", None)
        if turn is not None:
            write_lock.release()
            times.append(turn.ended())

    def _commit(conn: Any) -> None:
        # SQLAlchemy tells us of a commit before it sends COMMIT. Released here,
        # the lock would let the next writer's BEGIN IMMEDIATE meet a COMMIT
        # still writing (and syncing) the log: SQLite then answers it busy, and
        # it sleeps in SQLite's busy handler (1, 2, 5, 10 ... 100 ms) well past
        # the commit. So COMMIT is sent here, inside the lock; SQLAlchemy's own
        # COMMIT after it finds no transaction left and does nothing.
        if "holds_write_lock" not in conn.info:
            return
        dbapi_conn = conn.connection.dbapi_connection
        started = time.perf_counter()
        try:
            dbapi_conn.commit()
        except conn.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                "COMMIT", {}, error, conn.dialect.loaded_dbapi.Error
            ) from error
        finally:
            conn.info["holds_write_lock"].commit = time.perf_counter() - started
            _release(conn)

    def _rollback(conn: Any) -> None:
        # the same for ROLLBACK: the lock goes once SQLite's has gone
        if "holds_write_lock" not in conn.info:
            return
        try:
            if not (conn.closed or conn.invalidated):
                conn.connection.dbapi_connection.rollback()
        except conn.dialect.loaded_dbapi.Error:
            pass  # SQLAlchemy's own ROLLBACK after this meets it and reports it
        finally:
            _release(conn)

    event.listen(engine, "commit", _commit)
    event.listen(engine, "rollback", _rollback)
    return engine


Publish = Callable[[uuid.UUID, str, str], None]
SIGNALS = "mutual_signals"
PUBLISH = "mutual_publish"


def new_session(
    bind: Engine | Connection,
    *,
    write: bool = False,
    reads_only: bool = False,
    publish: Publish | None = None,
) -> Session:
    """A session; write sessions take SQLite's write lock when they begin.

    Given a connection already inside a transaction, the session joins it: its
    commits release a savepoint, and the outer transaction stays its owner's.
    `reads_only`: the session refuses to write (`WroteWhileReading`); on
    PostgreSQL it reads without a transaction (`_without_transaction`).
    `publish` receives the signals its transactions record, after each commit.
    """
    if isinstance(bind, Connection):
        session = Session(
            bind=bind,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
    else:
        written = bind.execution_options(**{WRITE_OPTION: True}) if write else bind
        session = Session(bind=written, expire_on_commit=False)
    if reads_only:
        _only_read(session, bind)
    if publish is not None:
        session.info[PUBLISH] = publish
    return session


READS_ONLY = "mutual_reads_only"
# per PostgreSQL engine: the same engine, its connections autocommitting (made
# once: making one costs more than a card's statement); forgotten at `dispose`,
# as the entry refers to its engine and so would keep it
_autocommitting: "weakref.WeakKeyDictionary[Engine, Engine]" = (
    weakref.WeakKeyDictionary()
)


def _only_read(session: Session, bind: Engine | Connection) -> None:
    """From here on the session only reads: it refuses to write, and on
    PostgreSQL reads without a transaction. (A connection handed in keeps its
    own transaction.)"""
    if isinstance(bind, Engine):
        postgres = bind.dialect.name == "postgresql"
        session.bind = _without_transaction(bind) if postgres else bind
    session.info[READS_ONLY] = True


def _without_transaction(engine: Engine) -> Engine:
    """PostgreSQL, for a session that only reads: its statements are sent without
    a BEGIN before them or a ROLLBACK after (two round trips), and it is closed
    without one. Under PostgreSQL's READ COMMITTED each statement reads the
    moment it starts, in a transaction or not, so the reads see the same.
    (SQLite's read transaction does hold one moment for all of them: there,
    reads keep theirs.)"""
    found = _autocommitting.get(engine)
    if found is None:
        found = _autocommitting[engine] = engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
        event.listen(engine, "engine_disposed", _forget_autocommitting)
    return found


def _forget_autocommitting(engine: Engine) -> None:
    _autocommitting.pop(engine, None)


class WroteWhileReading(RuntimeError):
    """A session opened to read (a GET's) was asked to write: a write takes a
    session of its own (`write_session`)."""


@event.listens_for(Session, "before_flush")
def _refuse_flush_while_reading(session: Session, _context: Any, _rows: Any) -> None:
    if session.info.get(READS_ONLY) and (
        session.new or session.dirty or session.deleted
    ):
        raise WroteWhileReading("a session opened to read was asked to write")


@event.listens_for(Session, "do_orm_execute")
def _refuse_statement_while_reading(state: ORMExecuteState) -> None:
    reading = state.session.info.get(READS_ONLY)
    if reading and (state.is_insert or state.is_update or state.is_delete):
        raise WroteWhileReading("a session opened to read was asked to write")


def on_its_own(bind: Engine | Connection) -> dict[str, Any]:
    """Execution options for a read of one statement, which needs no
    transaction of its own: no BEGIN before it, no ROLLBACK after. SQLite runs
    a statement sent outside a transaction as a transaction of its own;
    PostgreSQL's connection autocommits (set on the driver, no round trip, and
    undone when the connection goes back to the pool). Never for more than one
    statement: two would not read the same moment. A connection handed in (the
    tests) keeps its own transaction."""
    if isinstance(bind, Connection):
        return {}
    if bind.dialect.name == "postgresql":
        return {"isolation_level": "AUTOCOMMIT"}
    return {ALONE_OPTION: True}


def first_alone(
    bind: Engine | Connection,
    statement: TypedReturnsRows[*_Ts],
    params: dict[str, Any],
) -> Row[*_Ts] | None:
    """The first row of one statement read on its own (`on_its_own`), outside
    any session: on a connection of the pool, or in the transaction of the one
    connection handed in (the tests)."""
    if isinstance(bind, Connection):
        return bind.execute(statement, params).first()
    with bind.connect() as conn:
        conn.execution_options(**on_its_own(bind))
        return conn.execute(statement, params).first()


def detached(model: type[_Model], values: dict[str, Any]) -> _Model:
    """A row read as columns, as the object the ORM would have loaded and then
    let go of: read-only where it is, or handed to a session with
    `merge(load=False)`, without SQL. Cheaper than loading it through a session,
    and than the model's own constructor, which checks every field."""
    found: _Model = inspect(model).class_manager.new_instance()
    # straight into a new object's dict; made detached, they are its committed
    # values, as set_committed_value would make each one, a call at a time
    instance_dict(found).update(values)
    make_transient_to_detached(found)
    return found


def reading_after_write(session: Session, bind: Engine | Connection) -> None:
    """From here on the session only reads, as a GET's does (`new_session(...,
    reads_only=True)`): end what it has not committed (a refused action's
    leftovers); then SQLite begins later transactions deferred, so that rendering
    the answer after a commit holds no write lock, and PostgreSQL reads without a
    transaction. A write after this is refused (`WroteWhileReading`)."""
    if session.in_transaction():
        session.rollback()
    _only_read(session, bind)


def by_ids(ids: Sequence[Any], one: _S, many: _S) -> tuple[_S, dict[str, Any]]:
    """The statement to read these ids with, and its parameters: `one`, which
    compares `= :id`, for a single id; else `many`, an expanding `IN :ids`.
    An expanding `IN` has its SQL written again at every run, which on a hot
    read of one entry (a card, a save) costs more than the statement does."""
    if len(ids) == 1:
        return one, {"id": ids[0]}
    return many, {"ids": list(ids)}


def columns(
    session: Session,
    statement: TypedReturnsRows[*_Ts],
    params: dict[str, Any] | None = None,
) -> Sequence[Row[*_Ts]]:
    """The rows of a statement that selects columns, not objects, run on the
    session's own connection and transaction: the same rows `session.execute`
    gives, without the ORM's handling of each execution, which on a hot read
    costs more than the statement itself. What the session has not yet flushed
    is flushed first, as the session would before a query."""
    if session.autoflush:
        session.flush()  # nothing to do, and cheap, when nothing is pending
    return session.connection().execute(statement, params).all()


def write_lock_times(
    bind: Engine | Connection, *, forget: bool = False
) -> list[LockTime]:
    """SQLite's newest writes in this process: their turns on the write lock."""
    times = _lock_times.get(bind) if isinstance(bind, Engine) else None
    if times is None:
        return []
    found = list(times)
    if forget:
        times.clear()
    return found


def record_signal(
    session: Session, plan_id: uuid.UUID, kind: str, ident: object = ""
) -> None:
    """Note that this transaction changed something a plan's open pages show.

    A signal is `(plan_id, kind, id)`: ids only, never words. It is sent after
    the commit, by the hook below, and dropped if the transaction rolls back.
    """
    signal = (plan_id, kind, str(ident))
    pending: list[tuple[uuid.UUID, str, str]] = session.info.setdefault(SIGNALS, [])
    if signal not in pending:
        pending.append(signal)


@event.listens_for(Session, "after_commit")
def _publish_signals(session: Session) -> None:
    pending = session.info.pop(SIGNALS, [])
    publish: Publish | None = session.info.get(PUBLISH)
    if publish is None:
        return
    for plan_id, kind, ident in pending:
        publish(plan_id, kind, ident)


@event.listens_for(Session, "after_rollback")
def _drop_signals(session: Session) -> None:
    session.info.pop(SIGNALS, None)


@contextmanager
def write_session(bind: Engine | Connection) -> Iterator[Session]:
    with new_session(bind, write=True) as session:
        yield session


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; requests that may change state get a write session.

    Opening a session asks nothing of the database, so it is made in place, not
    in a thread of its own. Closing it ends the transaction it may still hold: in
    place on SQLite (a local call, no waiting: a read or a rollback takes no
    lock), in a thread on PostgreSQL, where it is a round trip."""
    write = request.method not in {"GET", "HEAD", "OPTIONS"}
    broker = request.app.state.broker
    bind = request.app.state.engine
    session = new_session(
        bind, write=write, reads_only=not write, publish=broker.publish_signal
    )
    try:
        yield session
    finally:
        if session.in_transaction() and not (_local(bind) or _autocommits(session)):
            await run_in_threadpool(session.close)
        else:
            session.close()


def _autocommits(session: Session) -> bool:
    """Whether the session reads without a transaction: closing it asks the
    database nothing."""
    bind = session.bind
    options = bind.get_execution_options() if bind is not None else {}
    return bool(options.get("isolation_level") == "AUTOCOMMIT")


def _local(bind: Engine | Connection) -> bool:
    """SQLite: the database is a file this process reads itself."""
    return bind.dialect.name == "sqlite"


def checkpoint(bind: Engine | Connection) -> None:
    """SQLite: move the write-ahead log into the database file and empty it.

    With `secure_delete` on, a deleted row's bytes are zeroed in the file; the
    log can still hold older copies of its pages until this runs. PostgreSQL:
    nothing to do here.
    """
    if isinstance(bind, Connection) or bind.dialect.name != "sqlite":
        return
    raw = bind.raw_connection()
    try:
        # not through SQLAlchemy: no BEGIN may come first, or it cannot finish
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


def database_reachable(bind: Engine | Connection) -> bool:
    try:
        with new_session(bind) as session:
            session.connection().exec_driver_sql("SELECT 1")
    except Exception:
        return False
    return True
