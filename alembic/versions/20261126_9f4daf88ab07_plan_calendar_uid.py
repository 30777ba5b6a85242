"""plan calendar uid

Revision ID: 9f4daf88ab07
Revises: 54faf868e5c3
Create Date: 2026-11-26 21:08:04.289107

"""
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '9f4daf88ab07'
down_revision: str | None = '54faf868e5c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_uid', sa.Uuid(), nullable=True))
    # each existing plan gets its own random calendar UID, derived from nothing
    plan = sa.table('plan', sa.column('id', sa.Uuid()), sa.column('calendar_uid', sa.Uuid()))
    bind = op.get_bind()
    for (plan_id,) in bind.execute(sa.select(plan.c.id)).all():
        bind.execute(
            plan.update().where(plan.c.id == plan_id).values(calendar_uid=uuid.uuid4())
        )


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('calendar_uid')
