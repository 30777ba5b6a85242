"""Every column that holds a person's words is stored encrypted.

- plan.title and debrief.title lose their 120-character column limit (the
  services keep it; a ciphertext is longer than its words);
- plan_version.snapshot is stored as encrypted text instead of JSON;
- every existing value of these columns is encrypted with the newest key of
  MUTUAL_ENCRYPTION_KEYS (or the development key in var/). A value that
  already opens with the keys is left as it is, so the upgrade can run again
  after an interruption on SQLite, where it is not one transaction.

Downgrading decrypts them again.

Revision ID: 7c2d5e9a4b61
Revises: a4ca41cf2df7
Create Date: 2026-11-30 07:40:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import InvalidToken

from backend.crypto import SealedColumn, keyring, reseal

SEALED = [
    SealedColumn(table, key, column)
    for table, key, columns in (
        ("plan", "id", ("title",)),
        ("saved_form", "token_hash", ("fields",)),
        ("debrief", "id", ("title",)),
        ("entry", "id", ("text", "removed_note")),
        ("plan_version", "id", ("snapshot",)),
        (
            "debrief_answer",
            "id",
            (
                "what_happened",
                "how_it_felt",
                "what_safety_means",
                "what_would_help",
                "what_to_change",
            ),
        ),
        ("flag", "id", ("note",)),
        ("note", "id", ("what_i_see", "what_i_feel", "what_i_need", "body")),
        ("revision", "id", ("text", "note")),
        ("consent", "id", ("withdraw_note",)),
        ("earlier_entry", "id", ("text",)),
    )
    for column in columns
]

revision: str = '7c2d5e9a4b61'
down_revision: str | None = 'a4ca41cf2df7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _types(title: sa.types.TypeEngine, snapshot: sa.types.TypeEngine, cast: str) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("plan", "debrief"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("title", type_=title)
    with op.batch_alter_table("plan_version", schema=None) as batch_op:
        batch_op.alter_column(
            "snapshot",
            type_=snapshot,
            existing_nullable=False,
            postgresql_using=f"snapshot::{cast}" if postgres else None,
        )


def upgrade() -> None:
    _types(sa.String(), sa.String(), "text")
    ring = keyring()

    def seal(stored: str) -> str | None:
        try:
            ring.open(stored)
        except (InvalidToken, UnicodeError):
            return ring.seal(stored)
        return None  # sealed already

    conn = op.get_bind()
    for where in SEALED:
        reseal(conn, where, seal)


def downgrade() -> None:
    ring = keyring()
    conn = op.get_bind()
    for where in SEALED:
        reseal(conn, where, ring.open)
    _types(sa.String(length=120), sa.JSON(), "json")
