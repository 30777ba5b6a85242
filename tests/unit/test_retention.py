"""What has ended is deleted on a schedule inside the server (backend/retention.py)."""

import time
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.db import utc_now
from backend.main import create_app
from backend.models import AuthSession, Invite, PasswordReset, RateEvent, SavedForm
from backend.retention import sweep
from tests.factories import make_account, make_plan

AGO = {
    "minutes": timedelta(minutes=10),
    "hours": timedelta(hours=2),
    "days": timedelta(days=3),
}


def _signed_in(
    account_id: uuid.UUID, token_hash: str, started: timedelta, seen: timedelta
) -> AuthSession:
    now = utc_now()
    return AuthSession(
        token_hash=token_hash,
        account_id=account_id,
        csrf_secret="c",
        created_at=now - started,
        last_seen_at=now - seen,
    )


def _rows(session: Session) -> None:
    """One row of each kind that has ended, and one beside it that has not."""
    now = utc_now()
    sam = make_account(session, "Sam")
    plan, other = make_plan(session, sam), make_plan(session, sam)
    session.add_all(
        [
            # signed in an hour ago and still here
            _signed_in(sam.id, "fresh-session", timedelta(hours=1), AGO["minutes"]),
            # timed out two hours ago: still known, so a form posted from it is kept
            _signed_in(sam.id, "recently-ended", timedelta(hours=3), AGO["hours"]),
            _signed_in(sam.id, "ended-days-ago", AGO["days"], AGO["days"]),
            PasswordReset(
                token_hash="fresh-link",
                account_id=sam.id,
                expires_at=now + timedelta(minutes=20),
            ),
            PasswordReset(
                token_hash="expired-link",
                account_id=sam.id,
                expires_at=now - AGO["minutes"],
            ),
            PasswordReset(
                token_hash="used-link",
                account_id=sam.id,
                expires_at=now + timedelta(minutes=20),
                used_at=now - AGO["minutes"],
            ),
            SavedForm(
                token_hash="fresh-form",
                account_id=sam.id,
                path="/plans",
                fields="[]",
                created_at=now - AGO["minutes"],
            ),
            SavedForm(
                token_hash="old-form",
                account_id=sam.id,
                path="/plans",
                fields="[]",
                created_at=now - AGO["hours"],
            ),
            Invite(
                plan_id=plan.id,
                token_hash="live-invite",
                expires_at=now + timedelta(days=5),
            ),
            Invite(
                plan_id=other.id,
                token_hash="expired-invite",
                expires_at=now - AGO["days"],
            ),
            Invite(
                plan_id=plan.id,
                token_hash="used-invite",
                expires_at=now + timedelta(days=2),
                used_at=now - AGO["days"],
            ),
            RateEvent(bucket="fresh-count", at=now - AGO["minutes"]),
            RateEvent(bucket="old-count", at=now - AGO["days"]),
        ]
    )
    session.commit()


def _left(session: Session) -> set[str]:
    session.expire_all()
    found = set()
    for name in (
        AuthSession.token_hash,
        PasswordReset.token_hash,
        SavedForm.token_hash,
        Invite.token_hash,
        RateEvent.bucket,
    ):
        found |= set(session.exec(select(name)).all())
    return found


KEPT = {
    "fresh-session",
    "recently-ended",
    "fresh-link",
    "fresh-form",
    "live-invite",
    "fresh-count",
}


def test_a_sweep_deletes_what_has_ended_and_keeps_the_rest(session, settings):
    _rows(session)
    deleted = sweep(session, settings)
    assert _left(session) == KEPT
    assert deleted == {
        "sessions": 1,
        "reset links": 2,
        "saved forms": 1,
        "invitations": 2,
        "rate-limit counts": 1,
    }
    assert sweep(session, settings) == dict.fromkeys(deleted, 0)


@pytest.mark.real_engine
def test_the_server_sweeps_on_its_own_schedule(engine, settings):
    with Session(engine) as session:
        _rows(session)
    settings.retention_minutes = 0.005  # every 0.3 s
    app = create_app(settings)
    with TestClient(app), Session(engine) as session:
        deadline = time.monotonic() + 15
        while _left(session) != KEPT and time.monotonic() < deadline:
            session.rollback()
            time.sleep(0.1)
        assert _left(session) == KEPT
