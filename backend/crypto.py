"""Encryption at rest of every column that holds a person's words.

Each value is a Fernet token (AES-128-CBC with an HMAC-SHA256 over it), so a
copied database file or backup holds no readable words, and a changed byte
makes the value refuse to open instead of reading as something else. The
running server holds the key and reads everything: this is not end-to-end.

Keys come from MUTUAL_ENCRYPTION_KEYS, newest first: the first encrypts, every
one of them decrypts, so a new key can go in front while `mutual rotate-key`
re-encrypts what the older one wrote. Without the setting, a development
server makes one key into var/ (beside the database, so it protects nothing
there); a server with an https:// address refuses to start without it.

A sealed column cannot be compared, sorted or searched in SQL: the same words
encrypt differently every time. Its comparator refuses, so such a query fails
loudly instead of quietly matching nothing.
"""

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cachetools import TTLCache
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.sql import operators

from backend.config import VAR_DIR, Settings
from backend.db import WRITE_OPTION

KEY_FILE = "encryption_key"


class KeyProblem(RuntimeError):
    """The keys are missing, or cannot open what is stored."""


# Tokens sealed or opened lately, with their words: a save opens the entry its
# card was just built from, and the card it answers with opens the wording it
# just sealed. Held as long as a kept card holds its words (backend/plans/shelf.py)
# and within a size, counted in characters of token and words together. A token
# is only ever found whole: one changed byte is a token never seen, and is
# decrypted, and refused.
KEPT_SECONDS = 600
KEPT_CHARACTERS = 8 * 2**20


def _characters(kept: tuple[str, str]) -> int:
    return len(kept[0]) + len(kept[1])


class Keyring:
    """The keys, newest first: the first encrypts, any of them decrypts."""

    def __init__(
        self, keys: list[str], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not keys:
            raise KeyProblem("no encryption key")
        self.newest = Fernet(keys[0])
        self.all = MultiFernet([Fernet(key) for key in keys])
        self._kept: TTLCache[str, tuple[str, str]] = TTLCache(
            maxsize=KEPT_CHARACTERS,
            ttl=KEPT_SECONDS,
            timer=clock,
            getsizeof=_characters,
        )
        self._lock = threading.Lock()

    def seal(self, plain: str) -> str:
        token = self.newest.encrypt(plain.encode()).decode("ascii")
        self._keep(token, plain)
        return token

    def open(self, token: str) -> str:
        with self._lock:
            kept = self._kept.get(token)
        if kept is not None:
            return kept[1]
        plain = self.all.decrypt(token.encode("ascii")).decode()
        self._keep(token, plain)
        return plain

    def _keep(self, token: str, plain: str) -> None:
        if _characters((token, plain)) > KEPT_CHARACTERS:
            return
        with self._lock:
            self._kept[token] = (token, plain)

    def held(self) -> int:
        """How many tokens' words are held."""
        with self._lock:
            return len(self._kept)

    def forget(self) -> None:
        """Let go of every token's words held (`KEPT_SECONDS`)."""
        with self._lock:
            self._kept.clear()

    def is_newest(self, token: str) -> bool:
        try:
            self.newest.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        return self.all.rotate(token.encode("ascii")).decode("ascii")


_keyring: Keyring | None = None


def _key_file() -> str:
    """The development key in var/, made once; two starting at once share one."""
    path = VAR_DIR / KEY_FILE
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        spare = VAR_DIR / f".{KEY_FILE}.{secrets.token_hex(8)}"
        descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(Fernet.generate_key().decode("ascii"))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(spare, path)  # never replaces a key another process made
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    return path.read_text().strip()


def keys_of(settings: Settings) -> list[str]:
    """The keys from the settings, or the development key file."""
    if settings.encryption_keys:
        return [k.strip() for k in settings.encryption_keys.split(",") if k.strip()]
    if (settings.base_url or "").startswith("https://"):
        raise KeyProblem(
            "MUTUAL_ENCRYPTION_KEYS must be set on a server with an https:// "
            "address: a key kept beside the database protects nothing"
        )
    return [_key_file()]


def use_keys(settings: Settings) -> Keyring:
    """Make the settings' keys the ones this process encrypts with."""
    global _keyring
    _keyring = Keyring(keys_of(settings))
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        return use_keys(Settings())
    return _keyring


def _refuse_words(op: Any, other: tuple[Any, ...]) -> None:
    if op in (operators.is_, operators.is_not):
        return
    if other and all(isinstance(o, sa.ColumnElement) for o in other):
        return
    raise TypeError("an encrypted column cannot be compared, sorted or searched in SQL")


class Sealed(sa.types.TypeDecorator[str]):
    """Text stored encrypted; reads back as the text."""

    impl = sa.String
    cache_ok = True

    class comparator_factory(sa.types.TypeDecorator.Comparator[str]):
        # Column against column stays (SQLAlchemy itself compares columns);
        # against words, or ordering by them, is refused.
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            _refuse_words(op, other)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            _refuse_words(op, (other,))
            return super().reverse_operate(op, other, **kwargs)

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if not value:
            # nothing written: a column added later starts empty, not sealed
            return value
        return keyring().open(value)


class SealedJSON(Sealed):
    """A JSON document stored encrypted; reads back as the document."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring().seal(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(keyring().open(value))


@dataclass(frozen=True)
class SealedColumn:
    table: str
    key: str  # the primary key column
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


def sealed_columns(metadata: sa.MetaData) -> list[SealedColumn]:
    found = []
    for table in metadata.sorted_tables:
        (key,) = table.primary_key.columns
        for column in table.columns:
            if isinstance(column.type, Sealed):
                found.append(SealedColumn(table.name, key.name, column.name))
    return found


APPEND_ONLY = "revision"  # its trigger refuses any change to a stored wording
TRIGGER = "revision_append_only"


def _batches(
    conn: sa.Connection, where: SealedColumn, size: int
) -> Iterator[list[tuple[Any, str]]]:
    raw = sa.table(where.table, sa.column(where.key), sa.column(where.column))
    key, value = raw.c[where.key], raw.c[where.column]
    last = None
    while True:
        query = sa.select(key, value).where(value.is_not(None))
        if last is not None:
            query = query.where(key > last)
        rows = [
            (ident, stored)
            for ident, stored in conn.execute(query.order_by(key).limit(size))
        ]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def reseal(
    conn: sa.Connection,
    where: SealedColumn,
    change: Callable[[str], str | None],
    *,
    size: int = 500,
    commit: Callable[[], None] = lambda: None,
) -> int:
    """Rewrite the stored values of one column, a batch at a time.

    `change` returns the new stored value, or None to leave a row as it is (so
    a run that stopped part-way carries on where it was). `commit` ends each
    batch; the revision table's append-only trigger is lifted around each
    batch's writes, inside its transaction.
    """
    raw = sa.table(where.table, sa.column(where.key), sa.column(where.column))
    changed = 0
    lift = append_only_lifted(conn) if where.table == APPEND_ONLY else None
    for rows in _batches(conn, where, size):
        updates = [(ident, change(stored)) for ident, stored in rows]
        updates = [(ident, new) for ident, new in updates if new is not None]
        if updates:
            if lift:
                lift[0]()
            for ident, new in updates:
                conn.execute(
                    sa.update(raw)
                    .where(raw.c[where.key] == ident)
                    .values({where.column: new})
                )
            if lift:
                lift[1]()
            changed += len(updates)
        commit()
    return changed


def append_only_lifted(
    conn: sa.Connection,
) -> tuple[Callable[[], None], Callable[[], None]]:
    """Lift and restore the revision table's append-only trigger.

    Re-encrypting a wording is the one change of a revision that leaves its
    words as they were. Both steps run inside the caller's transaction, so no
    other writer ever sees the table without its trigger.
    """
    if conn.dialect.name == "postgresql":
        return (
            lambda: _run(conn, f"ALTER TABLE {APPEND_ONLY} DISABLE TRIGGER {TRIGGER}"),
            lambda: _run(conn, f"ALTER TABLE {APPEND_ONLY} ENABLE TRIGGER {TRIGGER}"),
        )
    # SQLite: made again from its own stored statement, whatever it says
    made = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
        (TRIGGER,),
    ).scalar()
    if made is None:
        return (lambda: None, lambda: None)
    return (
        lambda: _run(conn, f"DROP TRIGGER {TRIGGER}"),
        lambda: _run(conn, made),
    )


def _run(conn: sa.Connection, statement: str) -> None:
    conn.exec_driver_sql(statement)


def unreadable(conn: sa.Connection, metadata: sa.MetaData, ring: Keyring) -> list[str]:
    """The sealed columns whose first stored value these keys cannot open."""
    problems = []
    for where in sealed_columns(metadata):
        raw = sa.table(where.table, sa.column(where.column))
        stored = conn.execute(
            sa.select(raw.c[where.column])
            .where(raw.c[where.column].is_not(None))
            .limit(1)
        ).scalar()
        if stored is None:
            continue
        try:
            ring.open(stored)
        except (InvalidToken, UnicodeError):
            problems.append(str(where))
    return problems


def rotate(
    engine: sa.Engine,
    metadata: sa.MetaData,
    ring: Keyring,
    *,
    size: int = 500,
    progress: Callable[[str, int], None] = lambda where, done: None,
) -> int:
    """Re-encrypt every stored value under the newest key, a batch per transaction.

    Values already under the newest key are left alone, so a run that stopped
    part-way (or a second run) carries on where the first one was.
    """

    def change(stored: str) -> str | None:
        return None if ring.is_newest(stored) else ring.rotate(stored)

    total = 0
    # on SQLite each batch queues for the write lock like any other writer
    writer = engine.execution_options(**{WRITE_OPTION: True})
    with writer.connect() as conn:
        for where in sealed_columns(metadata):
            try:
                done = reseal(conn, where, change, size=size, commit=conn.commit)
            except InvalidToken:
                raise KeyProblem(
                    f"{where} holds a value none of the keys opens"
                ) from None
            progress(str(where), done)
            total += done
    return total


def left_behind(conn: sa.Connection, metadata: sa.MetaData, ring: Keyring) -> int:
    """How many stored values are not yet under the newest key."""
    count = 0
    for where in sealed_columns(metadata):
        for rows in _batches(conn, where, 1000):
            count += sum(1 for _ident, stored in rows if not ring.is_newest(stored))
    return count
