"""The session lookup reads the partners of the plan the address names in the
same statement (`Visitor.people`), as `members.people_of` reads them, so a card
asks nothing more for them."""

import uuid

from backend.auth.sessions import identify
from backend.db import new_session
from backend.members import people_of
from backend.plans import page as page_module
from tests.helpers import soup
from tests.web.steps import add, entry_id


def _visitor(app, client, plan_id):
    state = app.state
    cookies = dict(client.cookies.items())
    return identify(state.engine, state.settings, state.secret, cookies, plan_id)


def _people(app, plan_id):
    with new_session(app.state.engine) as session:
        return people_of(session, plan_id)


def test_the_lookup_reads_the_partners_as_people_of_does(app, partners):
    plan_id = uuid.UUID(partners.plan_id)
    for client in (partners.sam, partners.alex):
        visitor = _visitor(app, client, plan_id)
        assert visitor.plan is not None
        assert visitor.people == _people(app, plan_id)
        assert len(visitor.people) == 2

    # a plan Sam is in alone: Sam alone; Alex, not one of its partners: nothing
    alone = partners.sam.post_form("/plans", {"title": "Mine"}).headers["location"]
    alone_id = uuid.UUID(alone.rsplit("/", 1)[1])
    visitor = _visitor(app, partners.sam, alone_id)
    assert visitor.people == _people(app, alone_id)
    assert list(visitor.people) == [visitor.account.id]
    stranger = _visitor(app, partners.alex, alone_id)
    assert stranger.account is not None
    assert (stranger.plan, stranger.people) == (None, None)
    # an address that names no plan
    assert _visitor(app, partners.sam, None).people is None


def test_a_card_names_the_partners_without_reading_them_again(
    app, partners, monkeypatch
):
    p = partners.path
    eid = entry_id(add(partners.alex, p, "signals", "lighthouse"))

    def read_again(*_args, **_kwargs):
        raise AssertionError("the partners were read again")

    monkeypatch.setattr(page_module, "people_of", read_again)
    app.state.shelf.clear()  # built, not kept
    card = partners.sam.get(f"{p}/entries/{eid}", headers={"HX-Request": "true"})
    assert card.status_code == 200
    assert "lighthouse" in card.text
    assert "Alex" in soup(card).get_text()
