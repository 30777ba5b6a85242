"""A person's words are stored encrypted: a copied database file gives none up.

Every column that holds words is Sealed (backend/crypto.py). These tests write
a sentinel into each of them and look for it where a thief would: the SQLite
files (database, WAL, shared memory) and the raw column values on PostgreSQL.
"""

import os
import stat
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col, select

from backend import changes, crypto
from backend.cli import main
from backend.config import Settings
from backend.crypto import KeyProblem, Keyring, sealed_columns
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import downgrade, upgrade
from backend.models import (
    Consent,
    Debrief,
    DebriefAnswer,
    EarlierEntry,
    Entry,
    Flag,
    Note,
    PlanVersion,
    Revision,
    SavedForm,
)
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.factories import make_account, make_entry, make_plan
from tests.unit.test_db_invariants import empty_database  # noqa: F401  (fixture)

SENTINEL = "zebra-lighthouse-4417"

# Text columns that hold no one's words: names of things, hashes, the person's
# name and address (needed to sign in). A new text column must be sealed or
# named here, after asking whether it holds words.
NOT_WORDS = {
    "account.email",
    "account.display_name",
    "account.password_hash",
    "auth_session.token_hash",
    "auth_session.csrf_secret",
    "password_reset.token_hash",
    "saved_form.token_hash",
    "saved_form.path",
    "rate_event.bucket",
    "plan.time_zone",
    "invite.token_hash",
    "entry.section",
    "revision.kind",
    "plan_version.summary",
    "plan_version.signature",  # entry ids and version numbers
    "live_stream.address",  # a network address, kept while a page is open
    "earlier_entry.section",
}


def _words(column: str) -> str:
    return f"{SENTINEL} in {column}"


def _each(*fields: str) -> dict[str, str]:
    return {field: _words(field) for field in fields}


def _write_everywhere(session: Session) -> dict[str, str]:
    """A sentinel in every sealed column, through the models the app uses."""
    sam, alex = make_account(session, "Sam"), make_account(session, "Alex")
    plan = make_plan(session, sam, alex)
    plan.title = _words("plan.title")
    entry = make_entry(session, plan, sam, section="hot_buttons", text="first")
    entry.text = _words("entry.text")
    entry.removed_note = _words("entry.removed_note")
    revision = Revision(
        entry_id=entry.id,
        version=2,
        text=_words("entry.text"),
        note=_words("revision.note"),
        author_id=sam.id,
    )
    entry.version = 2
    debrief = Debrief(
        plan_id=plan.id, started_by=sam.id, happened_on=date.today(), title="t"
    )
    debrief.title = _words("debrief.title")
    session.add_all([plan, entry, revision, debrief])
    session.flush()
    session.add_all(
        [
            Consent(
                entry_id=entry.id,
                account_id=alex.id,
                version=2,
                withdraw_note=_words("consent.withdraw_note"),
            ),
            Flag(entry_id=entry.id, raised_by=alex.id, note=_words("flag.note")),
            PlanVersion(
                plan_id=plan.id,
                number=1,
                snapshot={"entries": [{"text": _words("plan_version.snapshot")}]},
            ),
            DebriefAnswer(
                debrief_id=debrief.id,
                account_id=sam.id,
                **_each("what_happened", "how_it_felt", "what_safety_means"),
                **_each("what_would_help", "what_to_change"),
            ),
            Note(
                plan_id=plan.id,
                author_id=alex.id,
                **_each("what_i_see", "what_i_feel", "what_i_need", "body"),
            ),
            EarlierEntry(
                plan_id=plan.id,
                brought_by=sam.id,
                section="signals",
                text=_words("earlier_entry.text"),
            ),
            SavedForm(
                token_hash="h" * 64,
                account_id=sam.id,
                path="/plans",
                fields=f'[["text", "{_words("saved_form.fields")}"]]',
            ),
        ]
    )
    session.commit()
    return {"plan_id": str(plan.id), "entry_id": str(entry.id)}


def _raw_values(session: Session) -> dict[str, list[str]]:
    """Every stored value of every sealed column, as the database holds it."""
    conn = session.connection()
    values = {}
    for where in sealed_columns(SQLModel.metadata):
        raw = sa.table(where.table, sa.column(where.column))
        values[str(where)] = list(
            conn.execute(sa.select(raw.c[where.column])).scalars()
        )
    return values


def _underneath(kind: sa.types.TypeEngine) -> sa.types.TypeEngine:
    return kind.impl_instance if isinstance(kind, sa.types.TypeDecorator) else kind


def test_every_column_that_holds_words_is_sealed():
    sealed = {str(c) for c in sealed_columns(SQLModel.metadata)}
    text_columns = {
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(_underneath(column.type), sa.String | sa.Text | sa.JSON)
    }
    assert text_columns - sealed == NOT_WORDS
    assert {"revision.text", "debrief_answer.what_happened", "note.body"} <= sealed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_copied_sqlite_file_holds_no_words(session, db_url):
    _write_everywhere(session)
    # the words do read back, so the search below is not looking at nothing
    assert session.exec(
        select(Revision.note).where(col(Revision.note).is_not(None))
    ).one() == _words("revision.note")
    control = make_account(session, f"{SENTINEL} as a name")
    assert control.display_name.startswith(SENTINEL)

    database = Path(db_url.removeprefix("sqlite:///"))
    copies = [database.with_name(database.name + end) for end in ("", "-wal", "-shm")]
    stored = b"".join(p.read_bytes() for p in copies if p.exists())
    # the name is not sealed: it is found, once per copy SQLite keeps of its page
    assert f"{SENTINEL} as a name".encode() in stored
    assert stored.count(SENTINEL.encode()) == stored.count(
        f"{SENTINEL} as a name".encode()
    )


@pytest.mark.parametrize("db_url", ["postgres", "sqlite"], indirect=True)
def test_stored_column_values_are_tokens_that_open_to_the_words(session):
    _write_everywhere(session)
    keys = crypto.keyring()
    for column, values in _raw_values(session).items():
        assert values, column
        for stored in values:
            if stored is None:
                continue
            assert SENTINEL not in stored, column
            assert stored.startswith("gAAAAA"), column  # a Fernet token, version 0x80
            if column in {"entry.text", "revision.text"} and SENTINEL not in keys.open(
                stored
            ):
                continue  # the entry's first wording
            assert SENTINEL in keys.open(stored), column


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_column_bytes_hold_no_words(session):
    """The bytes PostgreSQL keeps for a column, read as bytes, not as text."""
    _write_everywhere(session)
    conn = session.connection()
    for where in sealed_columns(SQLModel.metadata):
        stored = conn.execute(
            sa.text(
                f"SELECT convert_to(\"{where.column}\"::text, 'UTF8') "  # noqa: S608
                f'FROM "{where.table}" WHERE "{where.column}" IS NOT NULL'
            )
        ).scalars()
        for raw in stored:
            assert SENTINEL.encode() not in bytes(raw), where
            assert bytes(raw).startswith(b"gAAAAA"), where


def test_a_changed_byte_refuses_to_open_instead_of_reading_wrong(session):
    ids = _write_everywhere(session)
    conn = session.connection()
    raw = sa.table("flag", sa.column("id"), sa.column("note"))
    stored = conn.execute(sa.select(raw.c.note)).scalar_one()
    flipped = stored[:40] + ("A" if stored[40] != "A" else "B") + stored[41:]
    conn.execute(sa.update(raw).values(note=flipped))
    session.expunge_all()
    with pytest.raises(InvalidToken):
        session.exec(select(Flag)).one()
    assert ids


# words held after sealing or opening


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_words_are_held_a_while_for_their_whole_token_only():
    clock = Clock()
    ring = Keyring([TEST_ENCRYPTION_KEY], clock=clock)
    token = ring.seal("lighthouse")
    # held: the words open again without the key
    ring.all = MultiFernet([Fernet(Fernet.generate_key())])
    assert ring.open(token) == "lighthouse"
    # a token with one byte changed is not the token held: it is refused
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with pytest.raises(InvalidToken):
        ring.open(flipped)
    # let go once a kept card would be: then only the key opens it
    clock.now += crypto.KEPT_SECONDS + 1
    with pytest.raises(InvalidToken):
        ring.open(token)
    assert ring.held() == 0


def test_words_held_stay_within_their_size(monkeypatch):
    monkeypatch.setattr(crypto, "KEPT_CHARACTERS", 10_000)
    ring = Keyring([TEST_ENCRYPTION_KEY])
    tokens = [ring.seal(f"{n} " + "words " * 100) for n in range(40)]
    assert 0 < ring.held() < 40
    # words too long to hold are sealed and opened all the same
    long = "a long talk " * 2_000
    assert ring.open(ring.seal(long)) == long
    assert all(ring.open(t).startswith(f"{n} ") for n, t in enumerate(tokens))
    ring.forget()
    assert ring.held() == 0


def test_sealed_columns_refuse_to_be_compared_in_sql():
    with pytest.raises(TypeError, match="encrypted"):
        select(Revision).where(Revision.text == "words")
    with pytest.raises(TypeError, match="encrypted"):
        select(Note).where(col(Note.body).contains("words"))
    with pytest.raises(TypeError, match="encrypted"):
        select(Entry).order_by(col(Entry.text).desc())
    # whether a note was given at all can still be asked
    select(Flag).where(col(Flag.note).is_(None))


# keys


@pytest.fixture
def restore_keys(monkeypatch):
    """Tests below change the process's keys; the others get theirs back."""
    monkeypatch.setattr(crypto, "_keyring", crypto._keyring)


def _settings(db_url: str, keys: str | None, base_url: str = "http://testserver"):
    return Settings(
        database_url=db_url,
        encryption_keys=keys,
        base_url=base_url,
        _env_file=None,
    )


def test_a_server_with_an_https_address_needs_a_key(restore_keys, monkeypatch):
    monkeypatch.delenv("MUTUAL_ENCRYPTION_KEYS")
    with pytest.raises(KeyProblem, match="MUTUAL_ENCRYPTION_KEYS"):
        create_app(_settings("sqlite://", None, "https://mutual.example.org"))


def test_a_bad_key_is_refused_by_the_settings():
    with pytest.raises(ValueError, match="Fernet key"):
        _settings("sqlite://", "not-a-key")


def test_the_development_key_is_made_once_and_private(tmp_path, monkeypatch):
    monkeypatch.setattr(crypto, "VAR_DIR", tmp_path)
    first = crypto.keys_of(_settings("sqlite://", None))
    second = crypto.keys_of(_settings("sqlite://", None))
    assert first == second
    Fernet(first[0])
    mode = stat.S_IMODE(os.stat(tmp_path / crypto.KEY_FILE).st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [crypto.KEY_FILE]


@pytest.mark.real_engine
def test_the_server_will_not_start_with_a_key_that_cannot_open_the_words(
    session, db_url, restore_keys
):
    _write_everywhere(session)
    app = create_app(_settings(db_url, Fernet.generate_key().decode()))
    with pytest.raises(KeyProblem, match="cannot open"), TestClient(app):
        pass


# rotation


def _rotate(db_url, monkeypatch, keys: str, *extra: str) -> int:
    monkeypatch.setenv("MUTUAL_DATABASE_URL", db_url)
    monkeypatch.setenv("MUTUAL_ENCRYPTION_KEYS", keys)
    return main(["rotate-key", "--batch", "2", *extra])


@pytest.mark.real_engine
def test_rotate_key_moves_every_value_to_the_new_key(
    engine, db_url, monkeypatch, restore_keys, capsys
):
    with Session(engine) as session:
        _write_everywhere(session)
    new = Fernet.generate_key().decode()
    assert _rotate(db_url, monkeypatch, f"{new},{TEST_ENCRYPTION_KEY}") == 0
    assert "Everything is under the newest key" in capsys.readouterr().out

    # the old key is gone: everything still reads, through the new one alone
    crypto._keyring = Keyring([new])
    with Session(engine) as session:
        assert session.exec(
            select(Revision.note).where(col(Revision.note).is_not(None))
        ).one() == _words("revision.note")
        assert session.exec(select(PlanVersion)).one().snapshot["entries"][0][
            "text"
        ] == _words("plan_version.snapshot")
        for column, values in _raw_values(session).items():
            old = Keyring([TEST_ENCRYPTION_KEY])
            for stored in filter(None, values):
                with pytest.raises(InvalidToken):
                    old.open(stored)
                assert crypto._keyring.is_newest(stored), column
        # the wordings are still append-only afterwards
        changes.touch(session, [])  # the database's own rule is tried, past the app
        with pytest.raises(sa.exc.IntegrityError):
            session.exec(sa.update(Revision).values(kind="removal"))


@pytest.mark.real_engine
def test_a_rotation_that_stopped_part_way_carries_on(
    engine, db_url, monkeypatch, restore_keys, capsys
):
    with Session(engine) as session:
        _write_everywhere(session)
    new = Fernet.generate_key().decode()
    rotate = Keyring.rotate
    calls = 0

    def fails_after_five(self, token):
        nonlocal calls
        calls += 1
        if calls > 5:
            raise OSError("the machine went away")
        return rotate(self, token)

    monkeypatch.setattr(Keyring, "rotate", fails_after_five)
    with pytest.raises(OSError, match="went away"):
        _rotate(db_url, monkeypatch, f"{new},{TEST_ENCRYPTION_KEY}")
    monkeypatch.setattr(Keyring, "rotate", rotate)
    ring = Keyring([new, TEST_ENCRYPTION_KEY])
    with Session(engine) as session:
        done = [
            stored
            for values in _raw_values(session).values()
            for stored in filter(None, values)
        ]
    # the five values re-encrypted before it stopped were kept
    assert sum(ring.is_newest(v) for v in done) == 5
    capsys.readouterr()
    assert _rotate(db_url, monkeypatch, f"{new},{TEST_ENCRYPTION_KEY}") == 0
    rewritten = sum(
        int(line.rsplit(": ", 1)[1].split()[0])
        for line in capsys.readouterr().out.splitlines()
        if "re-encrypted" in line
    )
    assert rewritten == len(done) - 5


def test_rotation_stops_at_a_value_no_key_opens(
    db_url, real_engine, monkeypatch, restore_keys, capsys
):
    with Session(real_engine) as session:
        _write_everywhere(session)
    strangers = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    assert _rotate(db_url, monkeypatch, strangers) == 1
    assert "none of the keys opens" in capsys.readouterr().err


# the migration


def _plain_rows(url: str) -> uuid.UUID:
    """Rows as the app wrote them before encryption, in plain text."""
    engine = make_engine(url)
    # as SQLAlchemy stores a UUID: 32 hex digits on SQLite, native on PostgreSQL
    uid = (lambda u: u.hex) if url.startswith("sqlite") else (lambda u: u)
    plan_id, entry_id, account_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO account (id, email, display_name, password_hash,"
                " created_at, password_changed_at)"
                " VALUES (:id, 'a@x.org', 'Sam', 'x', :now, :now)"
            ),
            {"id": uid(account_id), "now": "2026-11-01 12:00:00"},
        )
        for statement in (
            "INSERT INTO plan (id, title, created_at) VALUES (:plan, :title, :now)",
            "INSERT INTO entry (id, plan_id, section, text, version, created_at,"
            " updated_at, is_draft) VALUES (:entry, :plan, 'signals', :text, 1,"
            " :now, :now, false)",
            "INSERT INTO revision (id, entry_id, version, text, created_at, kind)"
            " VALUES (:rev, :entry, 1, :text, :now, 'wording')",
            "INSERT INTO plan_version (id, plan_id, number, created_at, updated_at,"
            " snapshot, summary) VALUES (:pv, :plan, 1, :now, :now, :snapshot, '')",
        ):
            conn.execute(
                sa.text(statement),
                {
                    "plan": uid(plan_id),
                    "entry": uid(entry_id),
                    "rev": uid(uuid.uuid4()),
                    "pv": uid(uuid.uuid4()),
                    "title": _words("plan.title"),
                    "text": _words("revision.text"),
                    "snapshot": f'{{"entries": [{{"text": "{SENTINEL}"}}]}}',
                    "now": "2026-11-01 12:00:00",
                },
            )
    engine.dispose()
    return plan_id


def _stored(url: str, table: str, column: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(
            sa.text(f"SELECT {column} FROM {table}")  # noqa: S608
        ).scalar_one()
    engine.dispose()
    return str(value)


def test_the_migration_encrypts_what_was_written_before_and_back(empty_database):  # noqa: F811
    url = empty_database
    upgrade(url, "1f364ce41eb2")
    _plain_rows(url)
    upgrade(url)
    for table, column in (
        ("plan", "title"),
        ("entry", "text"),
        ("revision", "text"),
        ("plan_version", "snapshot"),
    ):
        assert SENTINEL not in _stored(url, table, column), (table, column)
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.exec(select(Revision.text)).one() == _words("revision.text")
        assert session.exec(select(PlanVersion.snapshot)).one() == {
            "entries": [{"text": SENTINEL}]
        }
        # the wordings' trigger came through the rewrite
        changes.touch(session, [])  # the database's own rule is tried, past the app
        with pytest.raises(sa.exc.IntegrityError):
            session.exec(sa.update(Revision).values(kind="removal"))
    engine.dispose()
    downgrade(url, "1f364ce41eb2")
    assert _stored(url, "revision", "text") == _words("revision.text")
    assert SENTINEL in _stored(url, "plan_version", "snapshot")


def test_the_privacy_page_says_what_encryption_protects_and_what_not(client):
    text = " ".join(client.get("/never").text.split())
    assert (
        "A copy of the server's disk, or a backup, is unreadable without the key"
        in (text)
    )
    assert "The running server holds the key" in text
    assert "this is not end-to-end encryption" in text
