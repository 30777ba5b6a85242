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
