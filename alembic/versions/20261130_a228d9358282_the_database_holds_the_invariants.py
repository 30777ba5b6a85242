"""the database holds the invariants

The rules the database can hold on its own, beside the code that keeps them:

- a yes (consent) points at the revision it was given to, by (entry_id,
  version), and goes when that revision goes (ON DELETE CASCADE: an author who
  erases their words takes their partner's yeses to those wordings with them);
- an entry's section is a known one (the list is written out here, and already
  holds "power", the shared section about to be added); a personal entry has an
  owner and a shared one has none; a private draft has an owner;
- a plan has one live invitation, and an entry one open flag (partial unique
  indexes);
- a revision is never updated (a trigger). The one change it allows is the
  database's own: losing its link to a deleted debrief (ON DELETE SET NULL).

Existing rows that would break these are dealt with first:

- a yes whose revision was erased pointed at nothing and counted for nothing:
  it is deleted;
- where an entry has more than one open flag, the newest stays open and the
  others are marked cleared (by no one, now); where a plan has more than one
  live invitation, the newest stays live and the others are marked revoked now.

Entries are not touched: the code never wrote one that breaks the new checks,
and if one exists the upgrade stops rather than change anyone's words.

Downgrade removes the rules; it does not bring back the deleted yeses or
reopen what was cleared or revoked.

On SQLite the trigger belongs to the revision table: a later batch migration
that rebuilds that table must create it again.

Revision ID: a228d9358282
Revises: c3e1f4a2b7d9
Create Date: 2026-11-30 04:31:52.000000

"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'a228d9358282'
down_revision: str | None = 'c3e1f4a2b7d9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECTIONS = "'comes_up', 'bottom_lines', 'hot_buttons', 'reactions', 'edge_responses', 'signals', 'feel_safe', 'differently', 'power'"
PERSONAL = "'comes_up', 'bottom_lines', 'hot_buttons', 'reactions'"

OPEN_FLAG = "cleared_at IS NULL"
LIVE_INVITE = "used_at IS NULL AND revoked_at IS NULL"

REVISION_TRIGGER_SQLITE = """\
CREATE TRIGGER revision_append_only BEFORE UPDATE ON revision
WHEN NOT (NEW.debrief_id IS NULL AND NEW.id IS OLD.id AND NEW.entry_id IS OLD.entry_id AND NEW.version IS OLD.version AND NEW.text IS OLD.text AND NEW.author_id IS OLD.author_id AND NEW.created_at IS OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'a revision is never changed: save a new one');
END"""
REVISION_FUNCTION_POSTGRES = """\
CREATE OR REPLACE FUNCTION revision_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.debrief_id IS NULL AND NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.entry_id IS NOT DISTINCT FROM OLD.entry_id AND NEW.version IS NOT DISTINCT FROM OLD.version AND NEW.text IS NOT DISTINCT FROM OLD.text AND NEW.author_id IS NOT DISTINCT FROM OLD.author_id AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a revision is never changed: save a new one'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$"""
REVISION_TRIGGER_POSTGRES = """\
CREATE TRIGGER revision_append_only BEFORE UPDATE ON revision
FOR EACH ROW EXECUTE FUNCTION revision_append_only()"""


def _keep_newest(name: str, group: str, live: str, ended: str) -> None:
    """Of the live rows in each group, the newest stays live; the others end now."""
    table = sa.table(
        name,
        sa.column('id', sa.Uuid()),
        sa.column(group, sa.Uuid()),
        sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column(ended, sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(table.c.id, table.c[group])
        .where(sa.text(live))
        .order_by(table.c[group], table.c.created_at.desc(), table.c.id.desc())
    ).all()
    seen = set()
    older = []
    for row_id, key in rows:
        if key in seen:
            older.append(row_id)
        seen.add(key)
    if older:
        bind.execute(
            table.update().where(table.c.id.in_(older)).values({ended: datetime.now(UTC)})
        )


def upgrade() -> None:
    op.execute(
        "DELETE FROM consent WHERE NOT EXISTS (SELECT 1 FROM revision"
        " WHERE revision.entry_id = consent.entry_id"
        " AND revision.version = consent.version)"
    )
    _keep_newest('flag', 'entry_id', OPEN_FLAG, 'cleared_at')
    _keep_newest('invite', 'plan_id', LIVE_INVITE, 'revoked_at')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_consent_entry_id_revision'), 'revision', ['entry_id', 'version'], ['entry_id', 'version'], ondelete='CASCADE')

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f('ck_entry_section_known'), f"section IN ({SECTIONS})")
        batch_op.create_check_constraint(
            batch_op.f('ck_entry_owner_iff_personal'),
            f"(section IN ({PERSONAL}) AND owner_id IS NOT NULL)"
            f" OR (section NOT IN ({PERSONAL}) AND owner_id IS NULL)",
        )
        batch_op.create_check_constraint(batch_op.f('ck_entry_draft_owned'), "NOT is_draft OR owner_id IS NOT NULL")

    op.create_index(op.f('ux_flag_open'), 'flag', ['entry_id'], unique=True, sqlite_where=sa.text(OPEN_FLAG), postgresql_where=sa.text(OPEN_FLAG))
    op.create_index(op.f('ux_invite_live'), 'invite', ['plan_id'], unique=True, sqlite_where=sa.text(LIVE_INVITE), postgresql_where=sa.text(LIVE_INVITE))

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(REVISION_FUNCTION_POSTGRES)
        op.execute(REVISION_TRIGGER_POSTGRES)
    else:
        op.execute(REVISION_TRIGGER_SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER revision_append_only ON revision")
        op.execute("DROP FUNCTION revision_append_only()")
    else:
        op.execute("DROP TRIGGER revision_append_only")

    op.drop_index(op.f('ux_invite_live'), table_name='invite')
    op.drop_index(op.f('ux_flag_open'), table_name='flag')

    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_entry_draft_owned'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_entry_owner_iff_personal'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_entry_section_known'), type_='check')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consent_entry_id_revision'), type_='foreignkey')
