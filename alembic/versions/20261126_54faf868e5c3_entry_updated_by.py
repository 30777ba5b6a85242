"""entry updated_by

Revision ID: 54faf868e5c3
Revises: a871b0a21821
Create Date: 2026-11-26 20:49:50.363255

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '54faf868e5c3'
down_revision: str | None = 'a871b0a21821'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_by', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_entry_updated_by'), ['updated_by'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_entry_updated_by_account'), 'account', ['updated_by'], ['id'], ondelete='SET NULL')
    # who wrote the current wording: the author of the newest revision
    op.execute(
        "UPDATE entry SET updated_by = (SELECT author_id FROM revision"
        " WHERE revision.entry_id = entry.id ORDER BY version DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entry_updated_by_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_entry_updated_by'))
        batch_op.drop_column('updated_by')

