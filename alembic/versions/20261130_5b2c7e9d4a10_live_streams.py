"""Open live streams in the database, counted by every server process.

Revision ID: 5b2c7e9d4a10
Revises: 1f364ce41eb2
Create Date: 2026-11-30 07:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5b2c7e9d4a10'
down_revision: str | None = '1f364ce41eb2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'live_stream',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('plan_id', sa.Uuid(), nullable=False),
        sa.Column('account_id', sa.Uuid(), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_live_stream')),
    )
    with op.batch_alter_table('live_stream', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_stream_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_stream_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_stream_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_stream_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    op.drop_table('live_stream')
