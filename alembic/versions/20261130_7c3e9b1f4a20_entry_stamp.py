"""An entry's stamp: raised by every change to what its card shows.

A card built once is kept (backend/plans/shelf.py) under its entry's stamp and
those of the entries it is linked to, so the plan page builds again only the
cards that changed; backend/changes.py raises it.

Revision ID: 7c3e9b1f4a20
Revises: d41e7a0c9b53
Create Date: 2026-11-30 20:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "7c3e9b1f4a20"
down_revision: str | None = "d41e7a0c9b53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stamp", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.drop_column("stamp")
