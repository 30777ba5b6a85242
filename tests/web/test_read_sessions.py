"""A request that only reads (a GET) reads in a session that cannot write; on
PostgreSQL it sends no BEGIN or ROLLBACK around its statements."""

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from backend import db
from backend.db import WroteWhileReading, new_session
from backend.models import Account, Entry
from tests.web.steps import add, entry_id


# a real engine: the tests' own engine hands every session one connection, in
# a transaction of the test's
@pytest.mark.real_engine
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_read_on_postgres_sends_no_transaction_and_leaves_none_behind(
    real_engine, partners
):
    assert real_engine.dialect.name == "postgresql"
    p = partners.path
    card = f"{p}/entries/{entry_id(add(partners.sam, p, 'signals', 'lighthouse'))}"
    partners.sam.get(p)  # the look at the plan is written now, not below
    seen: list[tuple[str, bool]] = []

    def note(conn, cursor, statement, parameters, context, many):
        seen.append((statement.split()[0], conn.connection.dbapi_connection.autocommit))

    event.listen(real_engine, "before_cursor_execute", note)
    try:
        answer = partners.sam.get(card, headers={"HX-Request": "true"})
    finally:
        event.remove(real_engine, "before_cursor_execute", note)
    assert answer.status_code == 200
    assert "lighthouse" in answer.text
    # every statement of the card read in autocommit: no BEGIN was sent before
    # them, and none is left open
    assert seen
    assert all(autocommit for _, autocommit in seen), seen
    with real_engine.connect() as conn:
        # a connection handed back by the read transacts as before
        assert conn.connection.dbapi_connection.autocommit is False
    # and a write after the reads is still one transaction
    saved = add(partners.sam, p, "signals", "harbour")
    assert saved.status_code == 200
    assert "harbour" in partners.alex.get(p).text
    # the engine the reads autocommit on is made once, and let go with the engine
    assert real_engine in db._autocommitting
    real_engine.dispose()
    assert real_engine not in db._autocommitting


@pytest.mark.real_engine
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_saves_card_on_postgres_is_read_after_its_commit_without_a_transaction(
    real_engine, partners
):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    seen: list[tuple[str, bool]] = []

    def note(conn, cursor, statement, parameters, context, many):
        seen.append((statement.split()[0], conn.connection.dbapi_connection.autocommit))

    def committed(conn):
        seen.append(("COMMIT", conn.connection.dbapi_connection.autocommit))

    event.listen(real_engine, "before_cursor_execute", note)
    event.listen(real_engine, "commit", committed)
    try:
        saved = partners.sam.post_form(
            f"{p}/entries/{eid}",
            {"text": "lighthouse, and the harbour", "base_version": "1"},
            htmx=True,
        )
    finally:
        event.remove(real_engine, "before_cursor_execute", note)
        event.remove(real_engine, "commit", committed)
    assert saved.status_code == 200
    assert "lighthouse, and the harbour" in saved.text
    # the save is one transaction (its UPDATE and INSERTs in it); every
    # statement after its COMMIT (the card sent back) is read in autocommit,
    # with no BEGIN or ROLLBACK around it
    kinds = [kind for kind, _ in seen]
    commit = kinds.index("COMMIT")
    assert [a for k, a in seen[:commit] if k in {"UPDATE", "INSERT"}] == [False] * 4
    after = seen[commit + 1 :]
    assert after, seen
    assert all(autocommit for _, autocommit in after), seen
    with real_engine.connect() as conn:
        assert conn.connection.dbapi_connection.autocommit is False
    # and nothing of the save was held back: the partner reads it
    assert "lighthouse, and the harbour" in partners.alex.get(p).text


def test_a_session_opened_to_read_refuses_to_write(engine, partners):
    add(partners.sam, partners.path, "signals", "lighthouse")
    with new_session(engine, reads_only=True) as reading:
        entry = reading.exec(select(Entry)).first()
        assert entry is not None
        entry.text = "changed while reading"
        with pytest.raises(WroteWhileReading):
            reading.flush()
        reading.rollback()
        reading.add(Account(email="r@x.org", display_name="r", password_hash="x"))
        with pytest.raises(WroteWhileReading):
            reading.flush()
        reading.rollback()
        with pytest.raises(WroteWhileReading):
            reading.execute(update(Entry).values(text="changed while reading"))


def test_a_write_session_done_writing_refuses_to_write_again(engine, partners):
    add(partners.sam, partners.path, "signals", "lighthouse")
    with new_session(engine, write=True) as writing:
        entry = writing.exec(select(Entry)).first()
        assert entry is not None
        entry.text = "lighthouse, changed"
        writing.commit()
        db.reading_after_write(writing, engine)
        # what it committed is read back; a change after that is refused
        assert writing.get(Entry, entry.id).text == "lighthouse, changed"
        entry.text = "changed while answering"
        with pytest.raises(WroteWhileReading):
            writing.flush()
