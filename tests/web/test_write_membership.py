"""A save and an agree check membership before their write transaction begins
(with the session, so SQLite's write lock starts in the handler), and again
inside it: a partner who leaves in between cannot write."""

import uuid

import pytest
from sqlalchemy import delete, func
from sqlmodel import select

from backend import changes, deps
from backend.consent import service as consent
from backend.db import new_session
from backend.entries import service as entries
from backend.errors import NotFound
from backend.models import Account, Consent, Membership, Plan, Revision
from tests.web.steps import add, agree, entry_id


def _removed_after_the_check(app, monkeypatch, account_id: uuid.UUID) -> None:
    """The next member check passes (the plan read with the session), then the
    person stops being a partner."""
    check = deps.identify

    def then_removed(*args):
        visitor = check(*args)
        if visitor.plan is None:  # a request that names no plan
            return visitor
        with new_session(app.state.engine, write=True) as other:
            changes.touch(other, [visitor.plan.id])
            other.exec(
                delete(Membership).where(
                    Membership.plan_id == visitor.plan.id,
                    Membership.account_id == account_id,
                )
            )
            other.commit()
        return visitor

    monkeypatch.setattr(deps, "identify", then_removed)


def _count(app, what, entry: str) -> int:
    with new_session(app.state.engine) as session:
        return session.exec(
            select(func.count()).select_from(what).where(what.entry_id == entry)
        ).one()


def _account_id(app, partners, name: str) -> uuid.UUID:
    with new_session(app.state.engine) as session:
        return session.exec(
            select(Account.id)
            .join(Membership, Membership.account_id == Account.id)
            .where(
                Membership.plan_id == uuid.UUID(partners.plan_id),
                Account.display_name == name,
            )
        ).one()


def test_a_partner_removed_before_agreeing_cannot_agree(app, partners, monkeypatch):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "I go quiet"))
    alex = _account_id(app, partners, "Alex")
    before = _count(app, Consent, uuid.UUID(eid))
    _removed_after_the_check(app, monkeypatch, alex)
    assert agree(partners.alex, p, eid).status_code == 404
    assert _count(app, Consent, uuid.UUID(eid)) == before


def test_a_partner_removed_before_saving_cannot_save(app, partners, monkeypatch):
    p = partners.path
    eid = entry_id(add(partners.alex, p, "signals", "I go quiet"))
    alex = _account_id(app, partners, "Alex")
    before = _count(app, Revision, uuid.UUID(eid))
    _removed_after_the_check(app, monkeypatch, alex)
    saved = partners.alex.post_form(
        f"{p}/entries/{eid}",
        {"text": "I go very quiet", "base_version": "1"},
        htmx=True,
    )
    assert saved.status_code == 404
    assert _count(app, Revision, uuid.UUID(eid)) == before


def test_any_other_write_checks_again_inside_its_own_transaction(
    app, partners, monkeypatch
):
    p = partners.path
    alex = _account_id(app, partners, "Alex")
    _removed_after_the_check(app, monkeypatch, alex)
    assert add(partners.alex, p, "signals", "I go quiet").status_code == 404
    with new_session(app.state.engine) as session:
        assert not session.exec(select(Revision)).all()


def test_the_services_refuse_someone_who_is_not_a_partner(app, partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "I go quiet"))
    alex = _account_id(app, partners, "Alex")
    with new_session(app.state.engine, write=True) as session:
        changes.touch(session, [uuid.UUID(partners.plan_id)])
        session.exec(delete(Membership).where(Membership.account_id == alex))
        plan = session.get(Plan, uuid.UUID(partners.plan_id))
        entry = entries.get_entry(session, plan, eid, alex)
        with pytest.raises(NotFound):
            consent.agree(session, plan, entry, account_id=alex, version=1)
        with pytest.raises(NotFound):
            entries.edit_entry(
                session, plan, eid, author_id=alex, base_version=1, text="louder"
            )
        session.rollback()
