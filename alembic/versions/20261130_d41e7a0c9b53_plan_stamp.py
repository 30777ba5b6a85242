"""A plan's stamp: raised by every change to what its pages show.

A repeat view of the plan page or a card is answered 304 from it (with the
session, the reader's zone and the address), before anything is read or
rendered; backend/changes.py raises it.

Revision ID: d41e7a0c9b53
Revises: 1f26c5e0ed3c
Create Date: 2026-11-30 17:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "d41e7a0c9b53"
down_revision: str | None = "1f26c5e0ed3c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stamp", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("stamp")
