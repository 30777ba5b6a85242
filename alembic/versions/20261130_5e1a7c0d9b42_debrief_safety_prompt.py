"""debrief: what safety and shared responsibility mean for us now

A talk after a hard moment gains a prompt of its own; answers are kept one
column per prompt, so it is a column. Answers written before it are empty there.

Revision ID: 5e1a7c0d9b42
Revises: b8fb31b66884
Create Date: 2026-11-30 07:45:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5e1a7c0d9b42'
down_revision: str | None = 'b8fb31b66884'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('debrief_answer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'what_safety_means',
                sqlmodel.sql.sqltypes.AutoString(),
                server_default='',
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('debrief_answer', schema=None) as batch_op:
        batch_op.drop_column('what_safety_means')
