"""`mutual backup` and `mutual restore`: a live SQLite database, copied and back."""

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from backend.cli import main
from backend.config import Settings
from backend.db import make_engine, new_session, utc_now
from backend.demo import seed_demo
from backend.migrate import upgrade
from backend.models import Account, LiveStream, PasswordReset, Plan, RateEvent
from tests.unit.test_encryption import SENTINEL, _write_everywhere


@pytest.fixture
def live(tmp_path):
    """A populated database at the newest schema: the demo plan, every kind of words."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    seed_demo(
        Settings(
            database_url=url,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            argon2_parallelism=1,
            _env_file=None,
        )
    )
    engine = make_engine(url)
    with Session(engine) as session:
        _write_everywhere(session)
        account = session.exec(select(Account)).first()
        session.add(
            PasswordReset(token_hash="r", account_id=account.id, expires_at=utc_now())
        )
        session.add(RateEvent(bucket="login:ip:127.0.0.1"))
        plan = session.exec(select(Plan)).first()
        session.add(
            LiveStream(
                plan_id=plan.id,
                account_id=account.id,
                address="127.0.0.1",
                expires_at=utc_now(),
            )
        )
        session.commit()
    engine.dispose()
    return url


def _use(monkeypatch, url: str) -> None:
    monkeypatch.setenv("MUTUAL_DATABASE_URL", url)


def _everything(url: str) -> dict[str, list]:
    """Every row of every table, as the app reads it (words decrypted) and as stored."""
    engine = make_engine(url)
    tables = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            tables[table.name] = [
                tuple(row) for row in conn.execute(sa.select(table).order_by(*order))
            ]
            raw = conn.exec_driver_sql(
                f'SELECT * FROM "{table.name}" ORDER BY rowid'  # noqa: S608
            ).all()
            tables[f"{table.name} as stored"] = [tuple(row) for row in raw]
        tables["alembic_version"] = conn.exec_driver_sql(
            "SELECT version_num FROM alembic_version"
        ).all()
    engine.dispose()
    return tables


def test_a_backup_restores_every_table_as_it_was(live, tmp_path, monkeypatch, capsys):
    copy = tmp_path / "backups" / "mutual.backup"
    copy.parent.mkdir()
    _use(monkeypatch, live)
    assert main(["backup", str(copy)]) == 0
    assert "keep the encryption key safe" in capsys.readouterr().out
    # only its owner can read it, and the words in it are sealed
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600
    assert SENTINEL.encode() not in copy.read_bytes()

    restored = f"sqlite:///{tmp_path / 'restored' / 'mutual.db'}"
    _use(monkeypatch, restored)
    assert main(["restore", str(copy)]) == 0
    assert "Restored" in capsys.readouterr().out

    before, after = _everything(live), _everything(restored)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], table
    # every table had rows to compare
    assert [table for table, rows in before.items() if not rows] == []
    assert len(before["revision"]) > 10


def test_a_backup_taken_mid_save_holds_what_was_committed(live, tmp_path, monkeypatch):
    engine = make_engine(live)
    copy = tmp_path / "mid-save.backup"
    with new_session(engine, write=True) as writing:
        writing.add(Account(email="half@x.org", display_name="Half", password_hash="x"))
        writing.flush()  # written, not yet committed, the write lock held
        _use(monkeypatch, live)
        assert main(["backup", str(copy)]) == 0
        writing.commit()
    engine.dispose()
    emails = [row[1] for row in _everything(f"sqlite:///{copy}")["account"]]
    assert "sam.demo@example.org" in emails
    assert "half@x.org" not in emails


def test_restore_writes_only_into_an_empty_database(
    live, tmp_path, monkeypatch, capsys
):
    copy = tmp_path / "mutual.backup"
    _use(monkeypatch, live)
    assert main(["backup", str(copy)]) == 0
    capsys.readouterr()
    # the live database is not empty: it is left as it was
    before = _everything(live)
    assert main(["restore", str(copy)]) == 1
    assert "restore only into an empty database" in capsys.readouterr().err
    assert _everything(live) == before
    # a backup never overwrites a file
    assert main(["backup", str(copy)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "no-such-folder" / "x.backup")]) == 1
    assert "cannot be made: No such file or directory" in capsys.readouterr().err


def test_restore_refuses_what_is_not_a_backup(tmp_path, monkeypatch, capsys):
    _use(monkeypatch, f"sqlite:///{tmp_path / 'new.db'}")
    stray = tmp_path / "notes.txt"
    stray.write_text("not a database at all, just some words")
    assert main(["restore", str(stray)]) == 1
    assert "not a SQLite database" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.backup")]) == 1
    assert "no backup" in capsys.readouterr().err
    assert not Path(tmp_path / "new.db").exists()


def test_on_postgresql_the_commands_point_to_pg_dump(monkeypatch, tmp_path, capsys):
    _use(monkeypatch, "postgresql+psycopg://mutual@127.0.0.1/mutual")
    assert main(["backup", str(tmp_path / "x")]) == 1
    assert "pg_dump" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "x")]) == 1
    assert "pg_restore" in capsys.readouterr().err
