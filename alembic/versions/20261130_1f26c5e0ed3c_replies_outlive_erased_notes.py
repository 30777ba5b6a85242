"""A partner's reply outlives the note it answered.

- note.reply_to_id no longer cascades: when a note's writer erases their
  words, the replies their partner wrote to it stay (the service keeps them
  together as a thread of their own);
- note.words_removed_at says when words of a former partner were taken out
  of a thread (a time, not words: it is not sealed);
- rate-limit rows that named a sender's address in the clear are dropped:
  from now on buckets hold a keyed hash of it (the counts start afresh).

Revision ID: 1f26c5e0ed3c
Revises: 7c2d5e9a4b61
Create Date: 2026-11-30 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "1f26c5e0ed3c"
down_revision: str | None = "7c2d5e9a4b61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_note_reply_to_id_note"


def upgrade() -> None:
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "words_removed_at",
                sqlmodel.sql.sqltypes.UTCDateTime(),
                nullable=True,
            )
        )
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.create_foreign_key(
            FK, "note", ["reply_to_id"], ["id"], ondelete="SET NULL"
        )
    rate_event = sa.table("rate_event", sa.column("bucket", sa.String))
    op.execute(
        rate_event.delete().where(
            sa.or_(
                rate_event.c.bucket.contains(":ip:"),
                rate_event.c.bucket.startswith("login:pair:"),
            )
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_="foreignkey")
        batch_op.create_foreign_key(
            FK, "note", ["reply_to_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_column("words_removed_at")
