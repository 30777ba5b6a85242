"""The `mutual` command: migrate, demo and an operator's reset link."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.cli import address, main
from backend.config import Settings


@pytest.fixture
def database(tmp_path, monkeypatch):
    monkeypatch.setenv("MUTUAL_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MUTUAL_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("MUTUAL_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("MUTUAL_ARGON2_PARALLELISM", "1")


def test_migrate_demo_and_reset_link(database, capsys):
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "sam.demo@example.org" in out
    assert "make run" in out
    assert "http://127.0.0.1:8000/login" in out
    assert main(["reset-link", "SAM.demo@example.org"]) == 0
    assert "/reset/" in capsys.readouterr().out
    assert main(["reset-link", "nobody@example.org"]) == 1
    assert "no account" in capsys.readouterr().err


def test_sqlite_refuses_several_workers(database, capsys):
    assert main(["serve", "--workers", "2"]) == 2
    said = capsys.readouterr().err
    assert "Several processes need PostgreSQL" in said
    assert "--workers 1" in said


def test_serve_says_where_to_open_mutual():
    plain = Settings(database_url="sqlite://")
    assert address("127.0.0.1", 8123, plain) == "http://127.0.0.1:8123"
    assert address("::1", 8123, plain) == "http://[::1]:8123"
    assert address("localhost", 8123, plain) == "http://localhost:8123"
    every = "0.0.0.0"  # noqa: S104
    assert address(every, 80, plain).startswith("http://127.0.0.1:80 ")
    public = Settings(database_url="sqlite://", base_url="https://mutual.example/")
    assert address(every, 8000, public) == "https://mutual.example"


def test_no_workers_at_all_is_refused(database, capsys):
    assert main(["serve", "--workers", "0"]) == 2
    assert "1 or more" in capsys.readouterr().err


def test_processes_starting_together_share_one_generated_secret(tmp_path):
    """Each process makes a candidate; the first to link it wins, all read it."""
    settings = Settings(secret_key=None, _env_file=None)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: settings.resolved_secret(tmp_path), range(16)))
    assert len(keys) == 1
    assert len(keys.pop()) >= 32
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
