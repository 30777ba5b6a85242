"""The database itself refuses what the invariants forbid (DESIGN.md, "Invariants").

Each rule is broken with a statement that goes around the services, and the
legal case beside it must pass, on SQLite and on PostgreSQL.
"""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, delete, make_url, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from backend import changes
from backend.consent import service as consent
from backend.db import make_engine
from backend.entries import service as entries
from backend.entries.sections import SECTIONS
from backend.migrate import downgrade, upgrade
from backend.models import (
    Account,
    Consent,
    Debrief,
    Entry,
    Flag,
    Invite,
    Plan,
    Revision,
)
from backend.plans import service as plans
from tests.conftest import POSTGRES_URL, skip_or_fail
from tests.factories import make_account, make_entry, make_plan
from tests.unit.test_db import _drift

BEFORE_RULES = "c3e1f4a2b7d9"  # the migration before the database held them
LATER = datetime.now(UTC) + timedelta(days=7)


@pytest.fixture
def pair(session):
    sam, alex = make_account(session, "Sam"), make_account(session, "Alex")
    return sam, alex, make_plan(session, sam, alex)


def _write(session: Session, *work) -> None:
    """Add rows or run statements, and send them to the database now."""
    changes.touch(session, [])  # the database's own rules are tried, past the app
    for item in work:
        if isinstance(item, SQLModel):
            session.add(item)
        else:
            session.exec(item)
    session.flush()


def _refused(session: Session, *work) -> None:
    with pytest.raises(IntegrityError):
        _write(session, *work)
    session.rollback()


def _yeses(session: Session, entry: Entry) -> set[tuple]:
    rows = session.exec(select(Consent).where(Consent.entry_id == entry.id)).all()
    return {(c.account_id, c.version) for c in rows}


# 1. a yes is for a wording that exists


def test_a_yes_is_only_for_a_wording_that_exists(session, pair):
    sam, alex, plan = pair
    entry = make_entry(session, plan, sam)  # revision and Sam's yes, in the app's order
    _refused(session, Consent(entry_id=entry.id, account_id=alex.id, version=2))

    _write(session, Consent(entry_id=entry.id, account_id=alex.id, version=1))
    session.commit()
    assert _yeses(session, entry) == {(sam.id, 1), (alex.id, 1)}


def test_erasing_a_wording_takes_the_yeses_to_it(session, pair):
    sam, alex, plan = pair
    entry = make_entry(session, plan, sam, section="edge_responses", text="Stay.")
    entries.edit_entry(
        session,
        plan,
        str(entry.id),
        author_id=alex.id,
        base_version=1,
        text="Stay with me.",
    )
    consent.agree(session, plan, entry, account_id=sam.id, version=2)

    entries.erase_words_of(session, plan.id, alex.id)
    session.commit()

    # Sam's yes to Alex's wording went with it; Sam's own wording is back
    assert _yeses(session, entry) == {(sam.id, 1)}
    session.refresh(entry)
    assert (entry.text, entry.version) == ("Stay.", 3)
    assert [r.text for r in entries.revisions(session, entry)] == ["Stay.", "Stay."]


# 2. an entry's section, owner and draft fit together


def _entry(plan: Plan, section: str, owner: Account | None, *, draft=False) -> Entry:
    return Entry(
        plan_id=plan.id,
        section=section,
        owner_id=owner.id if owner else None,
        text="words",
        is_draft=draft,
    )


def test_an_entry_is_in_a_known_section(session, pair):
    sam, _alex, plan = pair
    _refused(session, _entry(plan, "nonsense", None))

    # every section of the plan, and "power", a shared one about to join them
    known = {s.key: s.personal for s in SECTIONS} | {"power": False}
    for key, personal in known.items():
        _write(session, _entry(plan, key, sam if personal else None))
    session.commit()
    assert {e.section for e in session.exec(select(Entry))} == set(known)


@pytest.mark.parametrize(
    ("section", "owned", "draft"),
    [
        pytest.param("hot_buttons", False, False, id="personal-without-owner"),
        pytest.param("signals", True, False, id="shared-with-owner"),
        pytest.param("signals", False, True, id="shared-draft"),
    ],
)
def test_owner_and_draft_fit_the_section(session, pair, section, owned, draft):
    sam, _alex, plan = pair
    _refused(session, _entry(plan, section, sam if owned else None, draft=draft))


def test_a_personal_draft_is_allowed(session, pair):
    sam, _alex, plan = pair
    _write(session, _entry(plan, "hot_buttons", sam, draft=True))
    session.commit()
    assert session.exec(select(Entry)).one().is_draft


# 3. one open flag per entry, one live invitation per plan


def test_an_entry_has_one_open_flag(session, pair):
    sam, alex, plan = pair
    entry = make_entry(session, plan, sam)
    first = Flag(entry_id=entry.id, raised_by=sam.id)
    _write(session, first)
    session.commit()
    _refused(session, Flag(entry_id=entry.id, raised_by=alex.id))

    now = datetime.now(UTC)
    _write(
        session,
        Flag(entry_id=entry.id, raised_by=alex.id, cleared_at=now),
        update(Flag).where(col(Flag.id) == first.id).values(cleared_at=now),
        Flag(entry_id=entry.id, raised_by=alex.id),
    )
    session.commit()
    flags = session.exec(select(Flag)).all()
    assert sorted(f.cleared_at is None for f in flags) == [False, False, True]


def test_raising_a_flag_twice_keeps_the_one_open(session, pair):
    sam, alex, plan = pair
    entry = make_entry(session, plan, sam)
    first = consent.raise_flag(session, entry, account_id=sam.id, note="")
    again = consent.raise_flag(session, entry, account_id=alex.id, note="")
    assert again.id == first.id
    assert len(session.exec(select(Flag)).all()) == 1


def test_a_plan_has_one_live_invitation(session):
    plan = make_plan(session, make_account(session))
    _write(session, Invite(plan_id=plan.id, token_hash="a", expires_at=LATER))
    session.commit()
    _refused(session, Invite(plan_id=plan.id, token_hash="b", expires_at=LATER))

    now = datetime.now(UTC)
    _write(
        session,
        Invite(plan_id=plan.id, token_hash="c", expires_at=LATER, used_at=now),
        Invite(plan_id=plan.id, token_hash="d", expires_at=LATER, revoked_at=now),
    )
    session.commit()
    assert len(session.exec(select(Invite)).all()) == 3


def test_a_new_link_retires_the_old_one(session):
    sam = make_account(session)
    plan = make_plan(session, sam)
    plans.make_invite(session, plan, account_id=sam.id, days=7)
    token = plans.make_invite(session, plan, account_id=sam.id, days=7)
    invites = session.exec(select(Invite).order_by(col(Invite.created_at))).all()
    assert [i.revoked_at is None for i in invites] == [False, True]
    assert plans.active_invite(session, plan.id).id == invites[1].id
    assert plans.look_at_invite(session, token, None)[0].id == plan.id


# 4. a revision is never changed


@pytest.mark.parametrize("change", ["text", "author_id", "debrief_id"])
def test_a_revision_is_never_changed(session, pair, change):
    sam, alex, plan = pair
    debrief = Debrief(plan_id=plan.id, started_by=sam.id, happened_on=date.today())
    _write(session, debrief)
    entry = make_entry(session, plan, sam, text="lighthouse")
    value = {"text": "other words", "author_id": alex.id, "debrief_id": debrief.id}
    _refused(
        session,
        update(Revision)
        .where(col(Revision.entry_id) == entry.id)
        .values({change: value[change]}),
    )
    revision = session.exec(select(Revision)).one()
    assert (revision.text, revision.author_id, revision.debrief_id) == (
        "lighthouse",
        sam.id,
        None,
    )


def test_a_revision_is_not_changed_through_the_orm_either(session, pair):
    sam, _alex, plan = pair
    make_entry(session, plan, sam, text="lighthouse")
    revision = session.exec(select(Revision)).one()
    revision.text = "other words"
    _refused(session, revision)
    assert session.exec(select(Revision.text)).one() == "lighthouse"


def test_a_deleted_debrief_only_unlinks_the_wordings_written_in_it(session, pair):
    sam, _alex, plan = pair
    debrief = Debrief(plan_id=plan.id, started_by=sam.id, happened_on=date.today())
    _write(session, debrief)
    entries.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="differently",
        text="Talk before bed.",
        debrief_id=debrief.id,
    )
    _write(session, delete(Debrief).where(col(Debrief.id) == debrief.id))
    session.commit()
    revision = session.exec(select(Revision)).one()
    session.refresh(revision)
    assert (revision.text, revision.debrief_id) == ("Talk before bed.", None)


# the same rules whichever way the schema was built, and the migration itself

RULES = {
    "consent_revision",
    "section_known",
    "owner_iff_personal",
    "draft_owned",
    "flag_open",
    "invite_live",
    "revision_append_only",
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path, worker_id) -> Iterator[str]:
    """A database with no tables, of its own, for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if not POSTGRES_URL:
        skip_or_fail("MUTUAL_TEST_POSTGRES_URL is not set")
    base = make_url(POSTGRES_URL)
    name = re.sub(r"\W", "_", f"{base.database}_empty_{worker_id}")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(url: str) -> dict:
    """Two partners, a plan with an entry, an open flag and a live invitation."""
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        sam, alex = make_account(session), make_account(session)
        plan = make_plan(session, sam, alex)
        entry = make_entry(session, plan, sam)
        session.add(Flag(entry_id=entry.id, raised_by=sam.id))
        session.add(Invite(plan_id=plan.id, token_hash="live", expires_at=LATER))
        session.commit()
    engine.dispose()
    return {"sam": sam, "plan": plan, "entry": entry}


# The entry and revision tables as they were before the rules: rows written the
# way the app of that time wrote them, without the columns added since.
OLD_ENTRY = sa.table(
    "entry",
    *(sa.column(c, sa.Uuid) for c in ("id", "plan_id", "created_by", "updated_by")),
    *(sa.column(c) for c in ("section", "text", "version", "is_draft")),
    *(sa.column(c, sa.DateTime(timezone=True)) for c in ("created_at", "updated_at")),
)
OLD_REVISION = sa.table(
    "revision",
    *(sa.column(c, sa.Uuid) for c in ("id", "entry_id", "author_id")),
    sa.column("version"),
    sa.column("text"),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


OLD_PLAN = sa.table(
    "plan",
    sa.column("id", sa.Uuid),
    sa.column("title"),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
OLD_MEMBERSHIP = sa.table(
    "membership",
    *(sa.column(c, sa.Uuid) for c in ("id", "plan_id", "account_id")),
    sa.column("slot"),
    sa.column("joined_at", sa.DateTime(timezone=True)),
)


def _old_plan(session: Session, *partners) -> Plan:
    plan = Plan(id=uuid.uuid4(), title="Us")
    changes.untracked(session)  # an old schema: it has no stamps to raise
    session.execute(
        sa.insert(OLD_PLAN).values(id=plan.id, title="Us", created_at=_day(1))
    )
    for slot, partner in enumerate(partners, start=1):
        session.execute(
            sa.insert(OLD_MEMBERSHIP).values(
                id=uuid.uuid4(),
                plan_id=plan.id,
                account_id=partner.id,
                slot=slot,
                joined_at=_day(1),
            )
        )
    return plan


def _old_entry(plan: Plan, section: str, *, owner=None, draft=False):
    return sa.insert(OLD_ENTRY).values(
        id=uuid.uuid4(),
        plan_id=plan.id,
        section=section,
        text="words",
        version=1,
        is_draft=draft,
        created_at=_day(1),
        updated_at=_day(1),
    )


def _rules_held(url: str, seeded: dict) -> set[str]:
    """Each rule broken once, in a transaction of its own: which were refused."""
    plan, entry, sam = seeded["plan"], seeded["entry"], seeded["sam"]
    attempts = {
        "consent_revision": Consent(entry_id=entry.id, account_id=sam.id, version=9),
        "section_known": _old_entry(plan, "nonsense"),
        "owner_iff_personal": _old_entry(plan, "hot_buttons"),
        "draft_owned": _old_entry(plan, "signals", draft=True),
        "flag_open": Flag(entry_id=entry.id, raised_by=sam.id),
        "invite_live": Invite(plan_id=plan.id, token_hash="second", expires_at=LATER),
        "revision_append_only": update(Revision).values(text="other words"),
    }
    held = set()
    engine = make_engine(url)
    for rule, attempt in attempts.items():
        with Session(engine) as session:
            try:
                _write(session, attempt)
            except IntegrityError:
                held.add(rule)
    engine.dispose()
    return held


@pytest.mark.parametrize("build", ["create_all", "migrations"])
def test_every_rule_holds_however_the_schema_was_built(empty_database, build):
    if build == "create_all":
        engine = make_engine(empty_database)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
    else:
        upgrade(empty_database)
    assert _rules_held(empty_database, _seed(empty_database)) == RULES


def _day(n: int) -> datetime:
    return datetime(2026, 11, n, 12, tzinfo=UTC)


def test_the_upgrade_settles_old_rows_that_break_the_rules(empty_database):
    url = empty_database
    upgrade(url, BEFORE_RULES)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        sam, alex = make_account(session), make_account(session)
        # written as the app of that time wrote it: columns added later are absent
        plan = _old_plan(session, sam, alex)
        entry = Entry(plan_id=plan.id, section="signals", text="lighthouse")
        now = _day(1)
        session.execute(
            sa.insert(OLD_ENTRY).values(
                id=entry.id,
                plan_id=plan.id,
                created_by=sam.id,
                updated_by=sam.id,
                section="signals",
                text="lighthouse",
                version=1,
                is_draft=False,
                created_at=now,
                updated_at=now,
            )
        )
        session.execute(
            sa.insert(OLD_REVISION).values(
                id=uuid.uuid4(),
                entry_id=entry.id,
                author_id=sam.id,
                version=1,
                text="lighthouse",
                created_at=now,
            )
        )
        session.add(Consent(entry_id=entry.id, account_id=sam.id, version=1))
        # Alex's yes to a version whose wording was erased
        session.add(Consent(entry_id=entry.id, account_id=alex.id, version=2))
        flags = [Flag(entry_id=entry.id, created_at=_day(n)) for n in (1, 3, 2)]
        invites = [
            Invite(
                plan_id=plan.id,
                token_hash=str(n),
                created_at=_day(n),
                expires_at=LATER,
                **extra,
            )
            for n, extra in (
                (1, {}),
                (4, {}),
                (2, {}),
                (3, {"used_at": _day(3), "used_by": alex.id}),
            )
        ]
        session.add_all(flags + invites)
        session.commit()
    upgrade(url)

    with Session(engine) as session:
        assert _yeses(session, entry) == {(sam.id, 1)}
        still_open = session.exec(select(Flag).where(col(Flag.cleared_at).is_(None)))
        assert [f.id for f in still_open] == [flags[1].id]
        live = session.exec(
            select(Invite).where(
                col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None)
            )
        )
        assert [i.id for i in live] == [invites[1].id]
        used = session.get_one(Invite, invites[3].id)
        assert (used.used_by, used.revoked_at) == (alex.id, None)
    engine.dispose()
    assert _drift(url) == []

    seeded = {"sam": sam, "plan": plan, "entry": entry}
    assert _rules_held(url, seeded) == RULES
    downgrade(url, BEFORE_RULES)
    assert _rules_held(url, seeded) == set()
    upgrade(url)
    assert _drift(url) == []
    assert _rules_held(url, seeded) == RULES
