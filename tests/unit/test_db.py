"""The database is opened safely, and the schema matches its migrations."""

import sqlite3
import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from backend.db import SQLITE_PRAGMAS, make_engine, new_session, write_lock_times
from backend.migrate import downgrade, upgrade
from backend.models import Account


def test_sqlite_pragmas_on_every_connection(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    for _ in range(2):
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            values = {
                name: raw.execute(f"PRAGMA {name}").fetchone()[0]
                for name in (
                    "journal_mode",
                    "synchronous",
                    "foreign_keys",
                    "busy_timeout",
                    "secure_delete",
                    "trusted_schema",
                )
            }
            conn.invalidate()  # the next round gets a brand-new connection
        assert values == {
            "journal_mode": "wal",
            "synchronous": 2,
            "foreign_keys": 1,
            "busy_timeout": 5000,
            "secure_delete": 1,
            "trusted_schema": 0,
        }


def test_sqlite_writers_queue_instead_of_failing(tmp_path):
    """Sixteen writers that each read then write all succeed, one at a time."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    SQLModel.metadata.create_all(engine)
    errors: list[BaseException] = []
    active = 0
    most_active = 0
    lock = threading.Lock()

    def writer(n: int) -> None:
        nonlocal active, most_active
        try:
            with new_session(engine, write=True) as session:
                session.exec(text("SELECT count(*) FROM account"))
                with lock:
                    active += 1
                    most_active = max(most_active, active)
                time.sleep(0.005)
                session.add(
                    Account(email=f"w{n}@x.org", display_name="w", password_hash="x")
                )
                with lock:
                    active -= 1
                session.commit()
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert most_active == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM account")).scalar() == 16


def test_write_lock_is_released_when_a_write_session_closes_without_commit(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("backend.db.WRITE_LOCK_TIMEOUT", 0.2)
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    SQLModel.metadata.create_all(engine)
    held = new_session(engine, write=True)
    held.exec(text("SELECT 1"))
    # while one writer holds the lock, another gives up after the timeout
    with pytest.raises(OperationalError), new_session(engine, write=True) as other:
        other.exec(text("SELECT 1"))
    held.close()  # no commit
    with new_session(engine, write=True) as session:
        session.add(Account(email="a@x.org", display_name="a", password_hash="x"))
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM account")).all() == [("a@x.org",)]


def test_each_writes_turn_on_the_lock_is_recorded_with_what_it_was_made_of(tmp_path):
    """`make bench` reads how long each write waited for SQLite's write lock and
    held it, and of the hold its own CPU and its COMMIT; a rolled-back write's
    turn is recorded too, without a COMMIT."""
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    SQLModel.metadata.create_all(engine)
    write_lock_times(engine, forget=True)
    with new_session(engine, write=True) as session:
        session.add(Account(email="t@x.org", display_name="t", password_hash="x"))
        session.flush()
        busy = time.thread_time() + 0.02
        while time.thread_time() < busy:  # 20 ms of this thread's CPU, held
            pass
        time.sleep(0.03)  # and 30 ms of waiting, held
        session.commit()
    with new_session(engine, write=True) as session:
        session.exec(text("SELECT 1"))  # rolled back when it closes
    committed, rolled_back = write_lock_times(engine, forget=True)
    assert write_lock_times(engine) == []
    assert committed.waited >= 0
    assert committed.cpu is not None
    assert 0.02 <= committed.cpu < committed.held
    assert committed.held >= 0.05
    assert 0 < committed.commit < committed.held - 0.049
    assert rolled_back.commit == 0
    assert rolled_back.held < committed.held


def test_a_write_session_holds_sqlites_write_lock_from_its_first_statement(tmp_path):
    """Write transactions begin with BEGIN IMMEDIATE: from its first statement,
    even a read, no other writer can start; a read session blocks nobody."""
    path = tmp_path / "i.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)

    def another_writer_can_begin() -> bool:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        other.rollback()
        return True

    try:
        with new_session(engine) as reading:
            reading.exec(text("SELECT 1"))
            assert another_writer_can_begin()
        with new_session(engine, write=True) as writing:
            writing.exec(text("SELECT 1"))
            assert not another_writer_can_begin()
        assert another_writer_can_begin()  # released when the session closed
    finally:
        other.close()


def test_a_write_another_program_holds_the_file_for_is_refused_and_frees_the_lock(
    tmp_path, monkeypatch
):
    """Another program (a backup, a second server) holds SQLite's own write lock:
    BEGIN IMMEDIATE is answered busy once SQLite has waited, the write is refused
    as SQLAlchemy's OperationalError (shown as "try again", never a crash), and
    this process's own write lock is free for the next write."""
    waits = tuple(
        "PRAGMA busy_timeout=50" if p.startswith("PRAGMA busy_timeout") else p
        for p in SQLITE_PRAGMAS
    )
    monkeypatch.setattr("backend.db.SQLITE_PRAGMAS", waits)
    monkeypatch.setattr("backend.db.WRITE_LOCK_TIMEOUT", 1.0)
    path = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError), new_session(engine, write=True) as s:
            s.exec(text("SELECT 1"))
    finally:
        other.rollback()
        other.close()
    with new_session(engine, write=True) as session:
        session.add(Account(email="b@x.org", display_name="b", password_hash="x"))
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM account")).all() == [("b@x.org",)]


def _drift(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return diff


def test_migrations_match_models_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert _drift(url) == []
    downgrade(url, "base")
    upgrade(url)
    assert _drift(url) == []


def test_migrations_match_models_postgres(request):
    url = request.getfixturevalue("postgres_database")
    assert _drift(url) == []


def test_postgres_is_durable(request):
    engine = make_engine(request.getfixturevalue("postgres_database"))
    with engine.connect() as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            assert conn.execute(text(f"SHOW {setting}")).scalar() == "on"
    engine.dispose()


@pytest.mark.parametrize("bad", ["changethis", "short"])
def test_weak_secret_keys_are_refused(bad):
    from pydantic import ValidationError

    from backend.config import Settings

    with pytest.raises(ValidationError):
        Settings(secret_key=bad, _env_file=None)
