"""Presence by choice, what reached an open page live, revisit proposals, asking back.

- membership.shows_presence: "<name> is here now" only once that person turns it
  on, per plan (off for everyone until then);
- membership.seen_from / seen_to: the span in which changes reached their open
  page live, so "since you last looked" does not count them again;
- plan.revisit_proposed_on / revisit_proposed_by: a day one suggests and the
  other confirms;
- note.asks_back: reflective feedback that ends by asking how the other sees it.

Revision ID: b8fb31b66884
Revises: 5b2c7e9d4a10
Create Date: 2026-11-30 07:24:27.415895

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'b8fb31b66884'
down_revision: str | None = '5b2c7e9d4a10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shows_presence', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('seen_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('seen_to', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asks_back', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revisit_proposed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revisit_proposed_by', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plan_revisit_proposed_by'), ['revisit_proposed_by'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plan_revisit_proposed_by_account'), 'account', ['revisit_proposed_by'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plan_revisit_proposed_by_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plan_revisit_proposed_by'))
        batch_op.drop_column('revisit_proposed_by')
        batch_op.drop_column('revisit_proposed_on')

    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.drop_column('asks_back')

    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('seen_to')
        batch_op.drop_column('seen_from')
        batch_op.drop_column('shows_presence')
