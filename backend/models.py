"""Every table of Mutual.

Plans, entries, revisions and consents reference one another, so they live in one
module. Revisions are append-only: a new wording is a new row, never an update.

The database holds the rules it can hold on its own (DESIGN.md, "Invariants"):
a yes points at a revision that exists, an entry's section and owner fit each
other, a plan has one live invitation and an entry one open flag, and a
revision, once written, is never changed.

Every column that holds a person's words is Sealed: stored encrypted, read back
as text (backend/crypto.py). Such a column cannot be compared or sorted in SQL.
"""

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.crypto import Sealed, SealedJSON
from backend.db import utc_now
from backend.entries.sections import PERSONAL, SECTIONS

WORDING = "wording"
REMOVAL = "removal"


def _id() -> uuid.UUID:
    return uuid.uuid4()


def _in(keys: tuple[str, ...]) -> str:
    return ", ".join(f"'{key}'" for key in keys)


# "power" came last to the CHECK that names every section (migration a228d9358282),
# so it stays last here and the constraint reads as it was written. A new
# section needs a migration.
SECTION_KEYS = tuple(sorted((s.key for s in SECTIONS), key=lambda k: k == "power"))
PERSONAL_KEYS = tuple(s.key for s in PERSONAL)


def _unique_while(name: str, column: str, condition: str) -> sa.Index:
    """Unique among the rows that meet `condition` (a partial index)."""
    where = sa.text(condition)
    return sa.Index(
        name, column, unique=True, sqlite_where=where, postgresql_where=where
    )


def _fk(target: str, *, nullable: bool = False, cascade: bool = True) -> Any:
    """A foreign key column; rows of a deleted plan or account go with it."""
    ondelete = "CASCADE" if cascade else "SET NULL"
    return Field(
        default=None if nullable else ...,
        sa_column=sa.Column(
            sa.Uuid,
            sa.ForeignKey(target, ondelete=ondelete),
            nullable=nullable,
            index=True,
        ),
    )


class Account(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    email: str = Field(max_length=320, unique=True)  # stored lower-cased
    display_name: str = Field(max_length=60)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utc_now)
    password_changed_at: datetime = Field(default_factory=utc_now)


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of its cookie token is stored."""

    __tablename__ = "auth_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: uuid.UUID = _fk("account.id")
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    last_seen_at: datetime = Field(default_factory=utc_now)


class PasswordReset(SQLModel, table=True):
    __tablename__ = "password_reset"
    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: uuid.UUID = _fk("account.id")
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime
    used_at: datetime | None = None


class SavedForm(SQLModel, table=True):
    """Text a person posted after their session expired, kept for them to sign in.

    It is found again only through the token in their own browser's cookie.
    """

    __tablename__ = "saved_form"
    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: uuid.UUID = _fk("account.id")
    path: str = Field(max_length=500)
    # JSON of the posted fields, without any password or CSRF token
    fields: str = Field(sa_type=Sealed)
    created_at: datetime = Field(default_factory=utc_now)


class RateEvent(SQLModel, table=True):
    """One attempt counted by a rate limit (sign-in, sign-up, reset, invite)."""

    __tablename__ = "rate_event"
    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=200, index=True)
    at: datetime = Field(default_factory=utc_now, index=True)


class LiveStream(SQLModel, table=True):
    """One open live stream, so every server process counts the same streams.

    Used on PostgreSQL, where several processes serve one database (SQLite keeps
    this in memory). Ids only, no foreign keys: a row lives for minutes at most.
    The process serving the stream renews `expires_at`; when that process dies,
    its rows stop counting by themselves.
    """

    __tablename__ = "live_stream"
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = Field(index=True)
    account_id: uuid.UUID = Field(index=True)
    address: str = Field(default="", max_length=64, index=True)
    expires_at: datetime = Field(index=True)


class Plan(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    title: str = Field(sa_type=Sealed)  # at most 120 characters
    created_at: datetime = Field(default_factory=utc_now)
    revisit_by: date | None = None
    revisit_set_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    revisit_requested_by: uuid.UUID | None = _fk(
        "account.id", nullable=True, cascade=False
    )
    revisit_requested_at: datetime | None = None
    # a day one partner suggests; it becomes revisit_by when the other says yes
    revisit_proposed_on: date | None = None
    revisit_proposed_by: uuid.UUID | None = _fk(
        "account.id", nullable=True, cascade=False
    )
    # random, so a calendar entry for the revisit date says nothing about the plan
    calendar_uid: uuid.UUID | None = Field(default_factory=_id)
    # the creator's IANA zone (e.g. "Europe/Berlin"): the printed plan's clock
    time_zone: str | None = Field(default=None, max_length=64)
    # whose words the title is: it goes with them if they erase their words
    created_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    # the honest marker: a former partner's words were taken out of this plan
    words_removed_at: datetime | None = None
    # raised by every transaction that changes what the plan's pages show
    # (backend/changes.py): a repeat view is answered from it before rendering
    stamp: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Membership(SQLModel, table=True):
    """A partner of a plan. Slot 1 or 2: the database itself refuses a third."""

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "account_id"),
        sa.UniqueConstraint("plan_id", "slot"),
        sa.CheckConstraint("slot IN (1, 2)", name="slot"),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    account_id: uuid.UUID = _fk("account.id")
    slot: int
    joined_at: datetime = Field(default_factory=utc_now)
    last_visit_at: datetime | None = None
    previous_visit_at: datetime | None = None
    # "<name> is here now" is shown to the partner only once this person chooses it
    shows_presence: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    # while their page was open from seen_from to seen_to, what arrived live was seen
    seen_from: datetime | None = None
    seen_to: datetime | None = None


class Invite(SQLModel, table=True):
    """A link that lets the second partner join; a plan has one live link at most."""

    __table_args__ = (
        _unique_while(
            "ux_invite_live", "plan_id", "used_at IS NULL AND revoked_at IS NULL"
        ),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime
    used_at: datetime | None = None
    used_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    revoked_at: datetime | None = None


class Entry(SQLModel, table=True):
    """One item of a section. Personal entries have an owner; shared ones do not.

    `text` and `version` mirror the newest revision so a page needs one query.
    """

    __table_args__ = (
        sa.CheckConstraint(f"section IN ({_in(SECTION_KEYS)})", name="section_known"),
        # a personal entry whose owner erases their account is deleted with it
        sa.CheckConstraint(
            f"(section IN ({_in(PERSONAL_KEYS)}) AND owner_id IS NOT NULL)"
            f" OR (section NOT IN ({_in(PERSONAL_KEYS)}) AND owner_id IS NULL)",
            name="owner_iff_personal",
        ),
        sa.CheckConstraint("NOT is_draft OR owner_id IS NOT NULL", name="draft_owned"),
    )

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    section: str = Field(max_length=40)
    owner_id: uuid.UUID | None = _fk("account.id", nullable=True)
    created_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    created_at: datetime = Field(default_factory=utc_now)
    text: str = Field(sa_type=Sealed)
    version: int = 1
    updated_at: datetime = Field(default_factory=utc_now)
    updated_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    is_draft: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    deleted_at: datetime | None = None
    deleted_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    # why it was taken out, if they said
    removed_note: str | None = Field(default=None, sa_type=Sealed)
    # raised by every change to what its card shows (backend/changes.py)
    stamp: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Revision(SQLModel, table=True):
    """One saved wording of an entry: never updated, never deleted but by erasure.

    A revision of kind "removal" asks to take an agreed entry out of the plan: it
    is a version like any other, and takes effect when both have said yes to it.
    """

    __table_args__ = (sa.UniqueConstraint("entry_id", "version"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    entry_id: uuid.UUID = _fk("entry.id")
    version: int
    text: str = Field(sa_type=Sealed)
    author_id: uuid.UUID | None = _fk("account.id", nullable=True)
    created_at: datetime = Field(default_factory=utc_now)
    debrief_id: uuid.UUID | None = _fk("debrief.id", nullable=True, cascade=False)
    kind: str = Field(
        default=WORDING,
        max_length=10,
        sa_column_kwargs={"server_default": WORDING},
    )
    # why, for a request to take the entry out
    note: str | None = Field(default=None, sa_type=Sealed)


# The words and authorship of a revision never change. The one change allowed
# is the database's own: losing the link to a debrief that was deleted (SET NULL).
# The migration that added these holds the same statements; create_all (the
# SQLite test suite) gets them from the listeners below.
_KEPT = (
    "id",
    "entry_id",
    "version",
    "text",
    "author_id",
    "created_at",
    "kind",
    "note",
)


def _unchanged(same: str) -> str:
    kept = " AND ".join(f"NEW.{column} {same} OLD.{column}" for column in _KEPT)
    return f"NEW.debrief_id IS NULL AND {kept}"


REVISION_TRIGGER_SQLITE = f"""\
CREATE TRIGGER revision_append_only BEFORE UPDATE ON revision
WHEN NOT ({_unchanged("IS")})
BEGIN
    SELECT RAISE(ABORT, 'a revision is never changed: save a new one');
END"""
REVISION_FUNCTION_POSTGRES = f"""\
CREATE OR REPLACE FUNCTION revision_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {_unchanged("IS NOT DISTINCT FROM")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a revision is never changed: save a new one'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$"""
REVISION_TRIGGER_POSTGRES = """\
CREATE TRIGGER revision_append_only BEFORE UPDATE ON revision
FOR EACH ROW EXECUTE FUNCTION revision_append_only()"""

for _statement, _dialect in (
    (REVISION_TRIGGER_SQLITE, "sqlite"),
    (REVISION_FUNCTION_POSTGRES, "postgresql"),
    (REVISION_TRIGGER_POSTGRES, "postgresql"),
):
    sa.event.listen(
        SQLModel.metadata.tables["revision"],
        "after_create",
        # SQLAlchemy's DDL() carries no annotations
        sa.DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
    )


class Consent(SQLModel, table=True):
    """A partner's yes to one version of one entry ("agree" or "heard").

    Taking a yes back keeps its row, with when and why: a later yes to the same
    version is a new row, so the history of both stays.
    """

    __table_args__ = (
        sa.Index(
            "uq_consent_standing",
            "entry_id",
            "account_id",
            "version",
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        ),
        # a yes is to a wording that exists, and goes when its author erases it
        sa.ForeignKeyConstraint(
            ["entry_id", "version"],
            ["revision.entry_id", "revision.version"],
            ondelete="CASCADE",
        ),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    entry_id: uuid.UUID = _fk("entry.id")
    account_id: uuid.UUID = _fk("account.id")
    version: int
    given_at: datetime = Field(default_factory=utc_now)
    withdrawn_at: datetime | None = None
    withdraw_note: str | None = Field(default=None, sa_type=Sealed)


class EntryLink(SQLModel, table=True):
    """A response (shared entry) answers a personal entry."""

    __tablename__ = "entry_link"
    __table_args__ = (sa.UniqueConstraint("response_id", "target_id"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    response_id: uuid.UUID = _fk("entry.id")
    target_id: uuid.UUID = _fk("entry.id")
    created_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    created_at: datetime = Field(default_factory=utc_now)


class Flag(SQLModel, table=True):
    """ "Let's talk about this" on an entry, until either partner clears it.

    An entry has one open flag at most.
    """

    __table_args__ = (_unique_while("ux_flag_open", "entry_id", "cleared_at IS NULL"),)

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    entry_id: uuid.UUID = _fk("entry.id")
    raised_by: uuid.UUID | None = _fk("account.id", nullable=True)
    note: str | None = Field(default=None, sa_type=Sealed)
    created_at: datetime = Field(default_factory=utc_now)
    cleared_at: datetime | None = None
    cleared_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)


class PlanVersion(SQLModel, table=True):
    """A numbered snapshot of the agreed plan.

    Changes to what is agreed during one sitting gather into one version; it is
    sealed after 30 quiet minutes, or as soon as it is printed or shared, and a
    sealed version never changes again.
    """

    __tablename__ = "plan_version"
    __table_args__ = (sa.UniqueConstraint("plan_id", "number"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    number: int
    created_at: datetime = Field(default_factory=utc_now)
    # changes of one sitting gather into one version until it is sealed
    updated_at: datetime = Field(default_factory=utc_now)
    sealed_at: datetime | None = None
    snapshot: dict[str, Any] = Field(sa_column=sa.Column(SealedJSON, nullable=False))
    summary: str = ""
    # [[entry id, version], ...] of the snapshot: kept so that a write need not
    # read the snapshot to compare with it; empty on versions made before it was
    signature: list[Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON, nullable=True)
    )


class EarlierEntry(SQLModel, table=True):
    """Words from an earlier plan that were not the words of whoever brought it.

    A read-only reference "from our earlier plan": shown to both partners, never
    as either partner's words, and gone if the partner who brought it erases
    their account.
    """

    __tablename__ = "earlier_entry"
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    brought_by: uuid.UUID = _fk("account.id")
    section: str = Field(max_length=40)
    text: str = Field(sa_type=Sealed)
    position: int = 0
    written_at: datetime | None = None


class Debrief(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    started_by: uuid.UUID | None = _fk("account.id", nullable=True, cascade=False)
    happened_on: date
    title: str | None = Field(default=None, sa_type=Sealed)  # at most 120
    created_at: datetime = Field(default_factory=utc_now)


class DebriefAnswer(SQLModel, table=True):
    """One partner's answers to a debrief's prompts: private until they share them."""

    __tablename__ = "debrief_answer"
    __table_args__ = (sa.UniqueConstraint("debrief_id", "account_id"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    debrief_id: uuid.UUID = _fk("debrief.id")
    account_id: uuid.UUID = _fk("account.id")
    what_happened: str = Field(default="", sa_type=Sealed)
    how_it_felt: str = Field(default="", sa_type=Sealed)
    what_safety_means: str = Field(default="", sa_type=Sealed)
    what_would_help: str = Field(default="", sa_type=Sealed)
    what_to_change: str = Field(default="", sa_type=Sealed)
    updated_at: datetime = Field(default_factory=utc_now)
    shared_at: datetime | None = None


class Note(SQLModel, table=True):
    """Reflective feedback (see, feel, need) or a reply; unsent until sent_at."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    plan_id: uuid.UUID = _fk("plan.id")
    author_id: uuid.UUID = _fk("account.id")
    # not cascading: a partner's reply outlives the note it answered when that
    # note's writer erases their words (notes.service.keep_replies_to)
    reply_to_id: uuid.UUID | None = _fk("note.id", nullable=True, cascade=False)
    entry_id: uuid.UUID | None = _fk("entry.id", nullable=True, cascade=False)
    debrief_id: uuid.UUID | None = _fk("debrief.id", nullable=True, cascade=False)
    what_i_see: str = Field(default="", sa_type=Sealed)
    what_i_feel: str = Field(default="", sa_type=Sealed)
    what_i_need: str = Field(default="", sa_type=Sealed)
    body: str = Field(default="", sa_type=Sealed)
    # the closing invitation: "would you tell me how you see it?"
    asks_back: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    created_at: datetime = Field(default_factory=utc_now)
    sent_at: datetime | None = None
    # when words of a former partner in this thread were removed: the note it
    # answered (this is a reply kept as its thread's start), or replies to it
    words_removed_at: datetime | None = None


# every session raises the stamps of the plans it changes (registered on import)
import backend.changes  # noqa: E402, F401
