"""Forgotten passwords: a single-use link, by mail or from whoever runs Mutual.

A link carries a random 256-bit token; the database keeps only its SHA-256. A link
works once, for `reset_minutes`. Using one ends every session of the account and
every other link of it. Asking for a link answers the same way, after the same
work, whether or not there is an account for the address, so the answer never
tells anyone who has an account here.
"""

import logging
import smtplib
import ssl
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, update
from sqlmodel import Session, col

from backend.auth.passwords import Hasher, password_problem
from backend.auth.service import (
    find_by_email,
    has_control_characters,
    normalise_email,
)
from backend.auth.sessions import end_all_sessions, start_session
from backend.auth.tokens import digest, new_token
from backend.config import LOCAL_URL, Settings
from backend.db import make_engine, utc_now, write_session
from backend.errors import DomainError, FormError
from backend.models import Account, PasswordReset

log = logging.getLogger("mutual")

SMTP_TIMEOUT = 5  # seconds for each step of talking to the mail server


class ResetLinkGone(DomainError):
    """An unknown, used or expired link: one answer for all three."""

    status = 410
    title = "This link can't be used any more"

    def __init__(self) -> None:
        super().__init__(
            "This link has expired or has already been used. That's all right: "
            "you can ask for a new one."
        )


def _address(raw: str) -> str:
    try:
        if has_control_characters(raw):
            raise EmailNotValidError("a control character")
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise FormError(
            {"email": "Please enter an email address, like sam@example.org."}
        ) from None
    return normalise_email(result.normalized)


def reset_link(settings: Settings, token: str) -> str:
    return f"{settings.origin(LOCAL_URL)}/reset/{token}"


def _new_reset(session: Session, settings: Settings, account_id: uuid.UUID) -> str:
    token = new_token()
    session.add(
        PasswordReset(
            token_hash=digest(token),
            account_id=account_id,
            expires_at=utc_now() + timedelta(minutes=settings.reset_minutes),
        )
    )
    return token


def _forget_expired(session: Session) -> None:
    session.exec(delete(PasswordReset).where(col(PasswordReset.expires_at) < utc_now()))


def request_reset(session: Session, settings: Settings, *, email: str) -> None:
    """Mail a reset link if the address has an account; the same work if not."""
    address = _address(email)
    account = find_by_email(session, address)
    _forget_expired(session)
    message = None
    if account is not None:
        token = _new_reset(session, settings, account.id)
        message = _reset_mail(settings, account.email, reset_link(settings, token))
    session.commit()
    _deliver(settings, message)


def _reset_mail(settings: Settings, to: str, link: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = "A link to choose a new Mutual password"
    message["Date"] = formatdate(localtime=False)
    # the domain is given so no DNS look-up delays the request
    domain = urlsplit(settings.origin(LOCAL_URL)).hostname or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "Hello,\n\n"
        "someone, probably you, asked for a new password for your Mutual account.\n"
        "To choose one, open this link:\n\n"
        f"{link}\n\n"
        f"It works once, within {settings.reset_minutes} minutes. Choosing a new\n"
        "password signs you out everywhere else.\n\n"
        "If you didn't ask for this, you can let this mail be: your password stays\n"
        "as it is, and nobody has been signed in.\n"
    )
    return message


def _deliver(settings: Settings, message: EmailMessage | None) -> None:
    """Send `message`, or, for an address with no account, only greet the server.

    Either way the request talks to the mail server, so both take about as long.
    Failures are logged by kind only: never the address, the link or the reply.
    """
    if not settings.smtp_host:
        return
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            if message is None:
                smtp.noop()
            else:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("a password reset mail was not sent: %s", type(error).__name__)


def usable_reset(session: Session, *, token: str) -> PasswordReset:
    """The reset behind a link, if it is unused and unexpired; else ResetLinkGone."""
    row = session.get(PasswordReset, digest(token))
    if row is None or row.used_at is not None or row.expires_at <= utc_now():
        raise ResetLinkGone
    return row


def reset_password(
    session: Session, hasher: Hasher, settings: Settings, *, token: str, password: str
) -> str:
    """Set a new password through a link; returns the token of a fresh session.

    The link is claimed with a conditional UPDATE, so of two racing posts only one
    can use it. Every session and every other link of the account ends.
    """
    row = usable_reset(session, token=token)
    problem = password_problem(password)
    if problem:
        session.rollback()
        raise FormError({"password": problem})
    password_hash = hasher.hash(password)
    now = utc_now()
    claimed = session.exec(
        update(PasswordReset)
        .where(
            col(PasswordReset.token_hash) == row.token_hash,
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise ResetLinkGone
    account = session.get_one(Account, row.account_id)
    account.password_hash = password_hash
    account.password_changed_at = now
    session.add(account)
    session.exec(
        update(PasswordReset)
        .where(
            col(PasswordReset.account_id) == account.id,
            col(PasswordReset.used_at).is_(None),
        )
        .values(used_at=now)
    )
    end_all_sessions(session, account.id)
    session_token = start_session(session, account.id, settings)
    session.commit()
    return session_token


def operator_reset_link(settings: Settings, email: str) -> str | None:
    """A reset link for whoever runs Mutual to pass on; None if no such account."""
    engine = make_engine(settings.database_url)
    try:
        with write_session(engine) as session:
            account = find_by_email(session, email)
            if account is None:
                return None
            _forget_expired(session)
            token = _new_reset(session, settings, account.id)
            session.commit()
            return reset_link(settings, token)
    finally:
        engine.dispose()
