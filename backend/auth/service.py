"""Accounts: sign up, sign in, change of name or password."""

import unicodedata
import uuid

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.auth.passwords import Hasher, password_problem
from backend.auth.sessions import end_all_sessions, start_session
from backend.config import Settings
from backend.db import utc_now
from backend.errors import FormError
from backend.models import Account
from backend.text import clean_line

SIGN_IN_FAILED = "That email and password don't match an account."
# The same words for every sign-up that fails, so none says an email is taken.
SIGN_UP_FAILED = (
    "We couldn't make an account with these details. If you already have one, "
    "you can sign in, or ask for a new password."
)


def normalise_email(raw: str) -> str:
    return unicodedata.normalize("NFC", raw.strip()).lower()


def has_control_characters(text: str) -> bool:
    """NUL and the like: PostgreSQL refuses them, and no real address has one."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def _checked_email(raw: str) -> str | None:
    if has_control_characters(raw):
        return None
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return normalise_email(result.normalized)


def _checked_name(raw: str, errors: dict[str, str]) -> str:
    name = clean_line(raw)
    if not name:
        errors["display_name"] = "Please say what your partner should call you."
    elif len(name) > 60:
        errors["display_name"] = "Please keep your name to 60 characters."
    return name


def create_account(
    session: Session,
    hasher: Hasher,
    settings: Settings,
    *,
    email: str,
    display_name: str,
    password: str,
) -> tuple[Account, str]:
    """A new account, signed in at once; returns it and its session token."""
    errors: dict[str, str] = {}
    address = _checked_email(email)
    if address is None:
        errors["email"] = "Please enter an email address, like sam@example.org."
    name = _checked_name(display_name, errors)
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if errors:
        raise FormError({"form": SIGN_UP_FAILED, **errors})
    if address is None:  # for the type checker: errors above caught it
        raise FormError({"form": SIGN_UP_FAILED})
    # hashed before looking the address up: a taken one answers no faster
    password_hash = hasher.hash(password)
    if find_by_email(session, address):
        raise FormError({"form": SIGN_UP_FAILED})
    account = Account(email=address, display_name=name, password_hash=password_hash)
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise FormError({"form": SIGN_UP_FAILED}) from None
    token = start_session(session, account.id, settings)
    session.commit()
    return account, token


def find_by_email(session: Session, email: str) -> Account | None:
    if has_control_characters(email):
        return None
    return session.exec(
        select(Account).where(Account.email == normalise_email(email))
    ).first()


def sign_in(
    session: Session, hasher: Hasher, settings: Settings, *, email: str, password: str
) -> str:
    """A new session token for the right email and password; one vague error else."""
    account = find_by_email(session, email) if len(password) <= 1024 else None
    if not hasher.verify(account.password_hash if account else None, password[:1024]):
        raise FormError({"form": SIGN_IN_FAILED})
    if account is None:  # verify() says no without an account; this never runs
        raise FormError({"form": SIGN_IN_FAILED})
    if hasher.needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
        session.add(account)
    token = start_session(session, account.id, settings)
    session.commit()
    return token


def change_password(
    session: Session,
    hasher: Hasher,
    *,
    account_id: uuid.UUID,
    current: str,
    new: str,
    settings: Settings,
) -> str:
    """A new password ends every session of the account; returns a fresh token."""
    account = session.get_one(Account, account_id)
    if not hasher.verify(account.password_hash, current):
        raise FormError({"current_password": "That is not your current password."})
    problem = password_problem(new)
    if problem:
        raise FormError({"new_password": problem})
    account.password_hash = hasher.hash(new)
    account.password_changed_at = utc_now()
    session.add(account)
    end_all_sessions(session, account_id)
    token = start_session(session, account_id, settings)
    session.commit()
    return token


def change_display_name(
    session: Session, *, account_id: uuid.UUID, display_name: str
) -> Account:
    errors: dict[str, str] = {}
    name = _checked_name(display_name, errors)
    if errors:
        raise FormError(errors)
    account = session.get_one(Account, account_id)
    account.display_name = name
    session.add(account)
    session.commit()
    return account


def sign_out_everywhere(session: Session, *, account_id: uuid.UUID) -> None:
    end_all_sessions(session, account_id)
    session.commit()
