"""Each plan version keeps its signature: which entries and wordings it holds.

plan_version.signature is [[entry id, version], ...] (taken-back ones as
"back:<id>"), so a write compares with the version before it without reading
that version's whole snapshot. Versions from before are left empty and read
their signature from their snapshot, the way every version did until now.

Revision ID: 5b0c2e7d91a4
Revises: 5e1a7c0d9b42
Create Date: 2026-11-30 07:35:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0c2e7d91a4"
down_revision: str | None = "5e1a7c0d9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_version") as batch_op:
        batch_op.add_column(sa.Column("signature", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_version") as batch_op:
        batch_op.drop_column("signature")
