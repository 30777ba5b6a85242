"""Deleting an account: every word its person wrote goes, everywhere.

The one hard delete (DESIGN.md, invariants 5 and 6). In each plan the person
leaves as `plans.service.leave` does: their entries, wordings, yeses, answers,
notes and flags go (the partner keeps their replies to those notes), shared
entries fall back to the partner's own wording, and
the agreed versions that held their words are sealed again without them and
say when that was. Then their sign-ins, password resets, saved forms and every
rate-limit count kept under their email address, their account, or the
address they erase it from go with the account row.
On SQLite the write-ahead log is emptied into the file afterwards, where
`secure_delete` has already zeroed the freed bytes.
"""

import uuid

from sqlalchemy import delete, or_
from sqlmodel import Session, col

from backend import changes
from backend.auth.passwords import Hasher
from backend.auth.tokens import email_key
from backend.db import checkpoint
from backend.errors import FormError
from backend.models import (
    Account,
    AuthSession,
    EarlierEntry,
    PasswordReset,
    RateEvent,
    SavedForm,
)
from backend.plans.service import leave, plans_of

NOT_DELETED = "That is not your password. Nothing has been deleted."


def delete_account(
    session: Session,
    hasher: Hasher,
    *,
    account_id: uuid.UUID,
    password: str,
    secret: str,
    sender: str | None = None,
) -> None:
    """Erase the account and everything of its person, once they give their
    password; a wrong one changes nothing.

    `sender` is the keyed hash of the address the request came from
    (`web.sender_key`): the counts kept under it go too.
    """
    account = session.get_one(Account, account_id)
    if not hasher.verify(account.password_hash, password[:1024]):
        raise FormError({"password": NOT_DELETED})
    # what their partners' pages show changes: the stamps of all their plans rise
    plans = plans_of(session, account_id)
    changes.touch(session, [plan.id for plan in plans])
    for plan in plans:
        leave(session, plan, account_id=account_id)
    # rate-limit buckets hold the email address and the sender's address only
    # as hashes keyed with the secret, or the account's id
    keys = [email_key(secret, account.email), str(account.id)]
    if sender:
        keys.append(sender)
    session.exec(
        delete(RateEvent).where(
            or_(*(col(RateEvent.bucket).contains(key) for key in keys))
        )
    )
    for table, column in (
        (AuthSession, AuthSession.account_id),
        (PasswordReset, PasswordReset.account_id),
        (SavedForm, SavedForm.account_id),
        (EarlierEntry, EarlierEntry.brought_by),
    ):
        session.exec(delete(table).where(col(column) == account_id))
    session.delete(account)
    session.commit()
    checkpoint(session.get_bind())
