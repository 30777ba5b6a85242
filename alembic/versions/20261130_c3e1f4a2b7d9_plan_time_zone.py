"""plan time zone

Revision ID: c3e1f4a2b7d9
Revises: 9f4daf88ab07
Create Date: 2026-11-30 10:12:41.508230

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c3e1f4a2b7d9'
down_revision: str | None = '9f4daf88ab07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing plans keep NULL: their printed times say they are in UTC
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'time_zone',
                sqlmodel.sql.sqltypes.AutoString(length=64),
                server_default=sa.null(),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
