"""Backing up a SQLite database while it serves, and restoring into an empty one.

The copy is made with SQLite's online backup API, so it is consistent even
while people write. A backup holds the words as stored: encrypted, so it is
useless without the encryption key, which is kept apart from it (README).
PostgreSQL has its own tools for this (pg_dump, pg_restore; README).
"""

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from backend.crypto import keyring, unreadable
from backend.db import make_engine

POSTGRES = "On PostgreSQL, back up with pg_dump and restore with pg_restore (README)."


class BackupProblem(Exception):
    """Why a backup or restore was not made; nothing was changed."""


def sqlite_file(url: str) -> Path:
    if not url.startswith("sqlite"):
        raise BackupProblem(POSTGRES)
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupProblem("That SQLite database has no file to back up.")
    return Path(database)


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _new_private_file(path: Path) -> None:
    """An empty file only its owner can read: a backup holds every account."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupProblem(f"{path} exists already: choose a new file.") from None
    except OSError as error:
        raise BackupProblem(f"{path} cannot be made: {error.strerror}.") from None


def _copy(source: Path, target: Path) -> None:
    with (
        sqlite3.connect(_read_only(source), uri=True) as src,
        sqlite3.connect(target) as dst,
    ):
        src.execute("PRAGMA busy_timeout=5000")
        src.backup(dst)
    src.close()
    dst.close()


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(_read_only(path), uri=True) as conn:
        if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupProblem(f"{path} is not a sound SQLite database.")
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    conn.close()
    return [name for (name,) in rows]


def backup(url: str, target: Path) -> None:
    """Copy the live database at `url` into the new file `target`."""
    source = sqlite_file(url)
    if not source.exists():
        raise BackupProblem(f"There is no database at {source}.")
    _new_private_file(target)
    try:
        _copy(source, target)
        _tables(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def restore(url: str, source: Path) -> list[str]:
    """Copy the backup `source` into the database at `url`, which must be empty.

    The restored database is then brought to the newest schema. Returns the
    columns the current keys cannot open (the server would refuse to start).
    """
    from backend.migrate import upgrade

    target = sqlite_file(url)
    if not source.is_file():
        raise BackupProblem(f"There is no backup at {source}.")
    try:
        tables = _tables(source)
    except sqlite3.DatabaseError:
        raise BackupProblem(f"{source} is not a SQLite database.") from None
    if "alembic_version" not in tables:
        raise BackupProblem(f"{source} is not a backup of Mutual.")
    if target.exists() and _tables(target):
        raise BackupProblem(
            f"{target} already holds data: restore only into an empty database."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        _new_private_file(target)
    _copy(source, target)
    upgrade(url)
    import backend.models  # noqa: F401  (registers every table)

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return unreadable(conn, SQLModel.metadata, keyring())
    finally:
        engine.dispose()
