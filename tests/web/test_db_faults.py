"""The database connection dies in the middle of a save (PostgreSQL).

The person sees a calm page that asks them to try again, nothing half-written is
kept, and the next request works on a fresh connection.
"""

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from backend.models import Consent, Entry, Revision
from tests.helpers import Client, soup
from tests.web.steps import add, entry_id


# only PostgreSQL has connections to kill: this test runs there alone, never skipped
@pytest.mark.real_engine
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_connection_killed_mid_save_loses_nothing_and_the_next_save_works(
    app, real_engine, partners
):
    assert real_engine.dialect.name == "postgresql"
    p = partners.path
    kept = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    killed: list[int] = []

    def kill_on_revision(conn, cursor, statement, parameters, context, many):
        if killed or not statement.lstrip().upper().startswith("INSERT INTO REVISION"):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        killed.append(pid)
        with real_engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(real_engine, "before_cursor_execute", kill_on_revision)
    sam = Client(app, raise_server_exceptions=False)
    sam.cookies = partners.sam.cookies
    try:
        response = sam.post_form(
            f"{p}/entries", {"section": "signals", "text": "harbour"}, htmx=False
        )
    finally:
        event.remove(real_engine, "before_cursor_execute", kill_on_revision)

    assert killed, "the save never reached its revision"
    assert response.status_code == 503
    assert response.headers["retry-after"]
    page = soup(response)
    assert "try again" in page.get_text()
    assert "Traceback" not in response.text
    assert "OperationalError" not in response.text
    assert "harbour" not in response.text  # the error page quotes nothing back

    with Session(real_engine) as check:
        texts = check.execute(select(Revision.text)).scalars().all()
        assert "harbour" not in texts
        entries = check.execute(select(func.count()).select_from(Entry)).one()[0]
        assert entries == 1
        alone = check.execute(
            select(func.count())
            .select_from(Entry)
            .where(~Entry.id.in_(select(Revision.entry_id)))
        ).one()[0]
        assert alone == 0
        unagreed = check.execute(
            select(func.count())
            .select_from(Entry)
            .where(~Entry.id.in_(select(Consent.entry_id)))
        ).one()[0]
        assert unagreed == 0

    again = add(partners.sam, p, "signals", "harbour")
    assert again.status_code == 200
    page = soup(partners.sam.get(p))
    assert {kept, entry_id(again)} <= {
        card["id"].removeprefix("entry-") for card in page.select("article.entry")
    }
