"""words of one's own: whose a plan's title is, the removal marker, earlier words

Revision ID: a4ca41cf2df7
Revises: 5b0c2e7d91a4
Create Date: 2026-11-30 07:24:53.660739

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'a4ca41cf2df7'
down_revision: str | None = '5b0c2e7d91a4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('earlier_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('brought_by', sa.Uuid(), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('written_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['brought_by'], ['account.id'], name=op.f('fk_earlier_entry_brought_by_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_earlier_entry_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earlier_entry'))
    )
    with op.batch_alter_table('earlier_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_earlier_entry_brought_by'), ['brought_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_earlier_entry_plan_id'), ['plan_id'], unique=False)

    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('words_removed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plan_created_by'), ['created_by'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plan_created_by_account'), 'account', ['created_by'], ['id'], ondelete='SET NULL')

    # A plan's title is its creator's words. The creator joined first, in slot 1;
    # a slot-1 partner who joined after the other one came in after the creator
    # left, and did not write the title.
    op.execute(
        "UPDATE plan SET created_by = (SELECT m.account_id FROM membership m"
        " WHERE m.plan_id = plan.id AND m.slot = 1 AND NOT EXISTS ("
        "SELECT 1 FROM membership o WHERE o.plan_id = plan.id"
        " AND o.joined_at < m.joined_at))"
    )


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plan_created_by_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plan_created_by'))
        batch_op.drop_column('words_removed_at')
        batch_op.drop_column('created_by')

    with op.batch_alter_table('earlier_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_earlier_entry_plan_id'))
        batch_op.drop_index(batch_op.f('ix_earlier_entry_brought_by'))

    op.drop_table('earlier_entry')
