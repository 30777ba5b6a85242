"""Keeping a person's words when their session ended before they pressed save.

The posted fields (never a password or token) wait under a random token that
only their own browser holds, until they sign in again or an hour has passed.
"""

import json
import uuid
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from backend.auth.tokens import digest, new_token
from backend.db import utc_now
from backend.models import SavedForm

KEEP_FOR = timedelta(hours=1)
NEVER_KEPT = ("csrf_token", "password", "current_password", "new_password")


def save_form(
    session: Session,
    *,
    account_id: uuid.UUID,
    path: str,
    fields: list[tuple[str, str]],
) -> str:
    """Store the fields; returns the token for the browser's cookie."""
    kept = [(k, v) for k, v in fields if k not in NEVER_KEPT]
    token = new_token()
    session.add(
        SavedForm(
            token_hash=digest(token),
            account_id=account_id,
            path=path,
            fields=json.dumps(kept),
        )
    )
    session.exec(
        delete(SavedForm).where(col(SavedForm.created_at) < utc_now() - KEEP_FOR)
    )
    session.commit()
    return token


def load_form(session: Session, token: str, account_id: uuid.UUID) -> SavedForm | None:
    """The saved form, only for the account whose session it came from."""
    row = session.get(SavedForm, digest(token))
    if row is None or row.account_id != account_id:
        return None
    if utc_now() - row.created_at > KEEP_FOR:
        return None
    return row


def fields_of(row: SavedForm) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in json.loads(row.fields)]


def forget_form(session: Session, token: str) -> None:
    session.exec(delete(SavedForm).where(col(SavedForm.token_hash) == digest(token)))
    session.commit()
