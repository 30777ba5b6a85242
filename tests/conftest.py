"""Fixtures: settings -> engine -> app -> clients, on SQLite and on PostgreSQL.

Every database test runs once per backend. PostgreSQL needs
MUTUAL_TEST_POSTGRES_URL; without it those tests skip, except in CI (CI=true),
where a skip would hide a failure and so fails instead.

Isolation: on SQLite each test has a database file of its own. On PostgreSQL each
test runs inside one transaction on one connection, rolled back at its end (see
`engine`); a test that needs several connections at once is marked `real_engine`.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    literal,
    make_url,
    select,
    text,
    union_all,
)
from sqlmodel import Session, SQLModel

import backend.models  # noqa: F401  (registers every table)
from backend.config import Settings
from backend.db import make_engine, new_session
from backend.main import create_app
from backend.migrate import upgrade
from tests.helpers import Client

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("MUTUAL_TEST_POSTGRES_URL")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# a fixed Fernet key, so every process of the run reads what the others wrote
TEST_ENCRYPTION_KEY = "bXV0dWFsLXRlc3Qta2V5LW5ldmVyLWluLXByb2R1Y3Q="


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MUTUAL_SECRET_KEY", TEST_SECRET)
    os.environ.setdefault("MUTUAL_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test served by a real server (`live_url`) gets real connections too.

    The server answers from its own threads, and may still be closing one
    request's session while the test sends the next: one shared connection
    would interleave them.
    """
    for item in items:
        if "live_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_engine)


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run here)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_database(worker_id: str) -> Iterator[str]:
    """One migrated database per xdist worker, made fresh for the run."""
    if not POSTGRES_URL:
        skip_or_fail("MUTUAL_TEST_POSTGRES_URL is not set")
    base = make_url(POSTGRES_URL)
    name = re.sub(r"\W", "_", f"{base.database or 'mutual_test'}_{worker_id}")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "postgres":
        yield request.getfixturevalue("postgres_database")
        return
    # a memory-backed folder when there is one: the same SQLite, fsyncs for free
    shm = Path("/dev/shm")  # noqa: S108  (a private mkdtemp inside it)
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    yield f"sqlite:///{folder / 'mutual.db'}"
    if folder != tmp_path:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_engine(postgres_database: str) -> Iterator[Engine]:
    """The worker's engine for rolled-back tests: each holds one of its connections."""
    engine = make_engine(postgres_database)
    yield engine
    engine.dispose()


@pytest.fixture
def real_engine(db_url: str) -> Iterator[Engine]:
    """An engine whose connections commit for real, as in production.

    For tests that need several connections at once: writers racing each other
    from threads, a real server whose live streams open sessions of their own,
    code that builds its own engine from the settings (the demo seed, the
    operator's reset link). One transaction cannot serve them: a connection is
    not shared between threads, and another connection cannot see rows that were
    never committed. Mark such a test `@pytest.mark.real_engine` (a test using
    `live_url` is marked already) and the `engine` fixture, so `app`, `session`
    and the clients, uses this one. On PostgreSQL every table is emptied after.
    """
    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        SQLModel.metadata.create_all(engine)
    yield engine
    if engine.dialect.name == "postgresql":
        _empty_every_table(engine)
    engine.dispose()


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, db_url: str
) -> Iterator[Engine | Connection]:
    """What the app and the test's sessions bind to.

    SQLite: a fresh database file per test. PostgreSQL: one connection that
    `begin()`s, handed to the app instead of an engine; every session joins its
    transaction with `join_transaction_mode="create_savepoint"` (backend.db
    new_session), so the app's own commits become savepoint releases and the
    whole test is rolled back at its end: nothing to clean, nothing left over.
    Tests marked `real_engine` get `real_engine` instead.
    """
    if db_url.startswith("sqlite") or request.node.get_closest_marker("real_engine"):
        yield request.getfixturevalue("real_engine")
        return
    with request.getfixturevalue("postgres_engine").connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()
        left = _tables_with_rows(conn)
        conn.rollback()
    if left:
        _empty_every_table(request.getfixturevalue("postgres_engine"))
        pytest.fail(
            f"rows in {', '.join(left)} outlived the rolled-back transaction: "
            "something committed on a connection of its own; mark the test "
            "`real_engine`"
        )


def _tables_with_rows(conn: Connection) -> list[str]:
    found = union_all(
        *(
            select(literal(table.name)).where(select(1).select_from(table).exists())
            for table in SQLModel.metadata.sorted_tables
        )
    )
    return list(conn.execute(found).scalars())


def _empty_every_table(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        rate_limits=False,
        _env_file=None,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine | Connection):
    return create_app(settings, engine=engine)


@pytest.fixture
def session(engine: Engine | Connection) -> Iterator[Session]:
    with new_session(engine, write=True) as session:
        yield session


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def make_client(app):
    return lambda: Client(app)


@pytest.fixture
def partners(client, make_client):
    """Sam made a plan and Alex joined it: two signed-in browsers."""
    from tests.helpers import soup

    sam = client.sign_up("Sam")
    plan_path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    link = soup(sam.post_form(f"{plan_path}/invite")).find("input", id="invite-link")
    alex = make_client().sign_up("Alex")
    assert (
        alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}").status_code == 303
    )
    return SimpleNamespace(
        sam=sam, alex=alex, path=plan_path, plan_id=plan_path.rsplit("/", 1)[1]
    )
