"""`mutual demo` seeds two partners and a plan that shows every state."""

import pytest
from sqlmodel import select

from backend.demo import PEOPLE, seed_demo
from backend.models import Account, Entry, PlanVersion
from tests.helpers import Client, soup


@pytest.mark.real_engine
def test_demo_seeds_a_realistic_plan_once(settings, engine, session, app):
    message = seed_demo(settings)
    assert "sam.demo@example.org" in message
    seed_demo(settings)  # a second run changes nothing
    assert len(session.exec(select(Account)).all()) == 2
    assert len(session.exec(select(Entry)).all()) == 13
    assert session.exec(select(PlanVersion)).all()
    session.rollback()  # end the read, so the app may write
    sam = Client(app)
    _, email, password = PEOPLE[0]
    assert sam.sign_in(email, password).status_code == 303
    plan_link = soup(sam.get("/")).select_one(".plan-card a")["href"]
    page = soup(sam.get(plan_link))
    states = {p.get_text(" ", strip=True) for p in page.select(".state")}
    assert "✓ Agreed by both of you" in states
    assert any(s.startswith("Waiting for") for s in states)
    assert "Alex proposes a change" in states  # the agreed words stay in force
    assert page.select_one(".in-force")
    assert page.select_one(".flag")
    assert page.select_one(".draft-label")
