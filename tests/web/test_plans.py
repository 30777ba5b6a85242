"""My plans, invitations and leaving a plan."""

import io
import threading
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlmodel import select

from backend.models import Entry, Invite, Membership, Plan, Revision
from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


def _plan(client, title="Us"):
    return client.post_form("/plans", {"title": title}).headers["location"]


def _invite_token(client, plan_path):
    page = soup(client.post_form(f"{plan_path}/invite"))
    return page.find("input", id="invite-link")["value"].rsplit("/", 1)[1]


def test_create_plan_and_see_it_in_my_plans(client):
    client.sign_up("Sam")
    path = _plan(client, "Sam and Alex")
    assert path.startswith("/plans/")
    page = soup(client.get("/"))
    card = page.select_one(".plan-card")
    assert card.find("a").text == "Sam and Alex"
    assert "Waiting for your partner to join" in card.text


def test_plan_ids_are_random_uuids(client, session):
    client.sign_up()
    _plan(client)
    _plan(client)
    ids = [plan.id for plan in session.exec(select(Plan)).all()]
    assert all(i.version == 4 for i in ids)


def test_empty_title_keeps_the_form(client):
    client.sign_up()
    response = client.post_form("/plans", {"title": "   "}, htmx=True)
    assert response.status_code == 422
    assert "give your plan a name" in response.text
    assert "<html" not in response.text


def test_invite_link_is_shown_once_and_stored_hashed(client, session):
    client.sign_up("Sam")
    path = _plan(client)
    token = _invite_token(client, path)
    assert len(token) >= 43
    stored = session.exec(select(Invite)).one()
    session.commit()  # let go of SQLite's write lock: opening the plan notes a visit
    assert token not in stored.token_hash
    assert token not in client.get(path).text


def test_whole_invitation_story(client, make_client):
    sam = client.sign_up("Sam")
    path = _plan(sam, "Sam and Alex")
    token = _invite_token(sam, path)
    alex = make_client()
    page = soup(alex.get(f"/invite/{token}"))
    assert "Sam invites you" in page.h1.text
    assert "Sam and Alex" in page.text
    signup = page.find("a", string="Make an account")["href"]
    assert signup.startswith("/signup?next=")
    alex.sign_up("Alex")
    join = soup(alex.get(f"/invite/{token}")).find("form", action=f"/invite/{token}")
    assert "Join the plan as Alex" in join.text
    response = alex.post_form(f"/invite/{token}")
    assert response.headers["location"] == path
    assert "With Alex" in sam.get("/").text
    assert "With Sam" in alex.get("/").text


def test_opening_the_link_does_not_use_it(client, make_client, session):
    sam = client.sign_up()
    token = _invite_token(sam, _plan(sam))
    for _ in range(3):
        make_client().get(f"/invite/{token}")
    assert session.exec(select(Invite)).one().used_at is None


def test_used_invite_cannot_bring_a_third_person(client, make_client, session):
    sam = client.sign_up()
    path = _plan(sam)
    token = _invite_token(sam, path)
    make_client().sign_up().post_form(f"/invite/{token}")
    third = make_client().sign_up()
    response = third.post_form(f"/invite/{token}")
    assert response.status_code == 409
    assert "already been used" in response.text
    assert third.get(path).status_code == 404
    plan_id = path.rsplit("/", 1)[1]
    assert len(session.exec(select(Membership)).all()) == 2
    assert {str(m.plan_id) for m in session.exec(select(Membership)).all()} == {plan_id}


def test_full_plan_refuses_a_new_invite(client, make_client):
    sam = client.sign_up()
    path = _plan(sam)
    make_client().sign_up().post_form(f"/invite/{_invite_token(sam, path)}")
    response = sam.post_form(f"{path}/invite")
    assert "invite-link" not in response.text


def test_own_invite_is_refused(client):
    sam = client.sign_up()
    token = _invite_token(sam, _plan(sam))
    response = sam.post_form(f"/invite/{token}")
    assert response.status_code == 409
    assert "already a partner" in response.text


def test_expired_invite(client, make_client, session):
    sam = client.sign_up()
    token = _invite_token(sam, _plan(sam))
    invite = session.exec(select(Invite)).one()
    invite.expires_at -= timedelta(days=8)
    session.add(invite)
    session.commit()
    alex = make_client().sign_up()
    assert "expired" in alex.get(f"/invite/{token}").text
    assert alex.post_form(f"/invite/{token}").status_code == 409


def test_revoked_and_remade_invite(client, make_client):
    sam = client.sign_up()
    path = _plan(sam)
    first = _invite_token(sam, path)
    second = _invite_token(sam, path)
    alex = make_client().sign_up()
    assert "withdrawn" in alex.post_form(f"/invite/{first}").text
    sam.post_form(f"{path}/invite/revoke")
    assert "withdrawn" in alex.post_form(f"/invite/{second}").text
    assert alex.get(path).status_code == 404


def test_unknown_invite(client):
    client.sign_up()
    response = client.get("/invite/nothing-like-a-real-token")
    assert response.status_code == 410
    assert "isn't one we know" in soup(response).text


@pytest.mark.real_engine
def test_racing_joins_make_at_most_two_partners(app, client, make_client, session):
    """Two people hold the same link and press join at the same moment."""
    sam = client.sign_up()
    path = _plan(sam)
    token = _invite_token(sam, path)
    racers = [make_client().sign_up() for _ in range(4)]
    forms = [(racer, racer.csrf()) for racer in racers]
    results = []
    barrier = threading.Barrier(len(forms))

    def join(racer, csrf):
        barrier.wait()
        results.append(racer.post(f"/invite/{token}", data={"csrf_token": csrf}))

    threads = [threading.Thread(target=join, args=pair) for pair in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [303, 409, 409, 409]
    assert len(session.exec(select(Membership)).all()) == 2


def test_leaving_takes_my_words_and_keeps_theirs(client, make_client, session):
    sam = client.sign_up("Sam")
    path = _plan(sam)
    alex = make_client().sign_up("Alex")
    alex.post_form(f"/invite/{_invite_token(sam, path)}")
    plan = session.exec(select(Plan)).one()
    members = {m.slot: m.account_id for m in session.exec(select(Membership)).all()}
    sam_id, alex_id = members[1], members[2]
    mine = Entry(
        plan_id=plan.id,
        section="hot_buttons",
        owner_id=alex_id,
        created_by=alex_id,
        text="ALEX-OWN",
    )
    shared = Entry(
        plan_id=plan.id,
        section="edge_responses",
        created_by=sam_id,
        text="ALEX-REWORDED",
        version=2,
    )
    session.add_all([mine, shared])
    session.flush()
    session.add_all(
        [
            Revision(entry_id=mine.id, version=1, text="ALEX-OWN", author_id=alex_id),
            Revision(entry_id=shared.id, version=1, text="SAM-FIRST", author_id=sam_id),
            Revision(
                entry_id=shared.id, version=2, text="ALEX-REWORDED", author_id=alex_id
            ),
        ]
    )
    session.commit()

    page = soup(alex.get(f"{path}/leave"))
    assert "everything you wrote in this plan goes with you" in page.text
    assert alex.post_form(f"{path}/leave").headers["location"] == "/?left=1"
    assert alex.get(path).status_code == 404

    session.expire_all()
    texts = [r.text for r in session.exec(select(Revision)).all()]
    assert "ALEX-OWN" not in texts
    assert "ALEX-REWORDED" not in texts
    remaining = session.exec(select(Entry)).one()
    assert remaining.text == "SAM-FIRST"
    assert remaining.version == 3
    session.commit()  # let go of SQLite's write lock: opening the plan notes a visit
    assert sam.get(path).status_code == 200


def test_last_partner_leaving_deletes_the_plan(client, session):
    sam = client.sign_up()
    path = _plan(sam)
    assert "it will be deleted" in sam.get(f"{path}/leave").text
    sam.post_form(f"{path}/leave")
    assert session.exec(select(Plan)).all() == []
    assert session.exec(select(Invite)).all() == []


def test_a_partner_who_left_is_a_former_partner_in_earlier_versions(partners):
    """Their words go, and so does their name from what stays: who said yes."""
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    agree(partners.alex, p, eid)
    assert partners.sam.get(f"{p}/agreed.pdf?format=card").status_code == 200
    partners.alex.post_form(f"{p}/leave")
    earlier = soup(partners.sam.get(f"{p}/agreed?version=1")).get_text(" ")
    assert "lighthouse" in earlier
    assert "Alex" not in earlier
    printed = partners.sam.get(f"{p}/agreed.pdf?version=1")
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(printed.content)).pages
    )
    assert "lighthouse" in " ".join(text.split())
    assert "Alex" not in text
    assert "a former partner" in text


def test_without_a_configured_address_links_follow_the_address_in_use(settings, engine):
    """Served on another port with no MUTUAL_BASE_URL, a partner can still join."""
    from backend.main import create_app
    from tests.helpers import Client

    unset = settings.model_copy(update={"base_url": None})
    sam = Client(create_app(unset, engine=engine))
    sam.base_url = "http://127.0.0.1:8123"
    sam.sign_up("Sam")
    path = _plan(sam)
    link = soup(sam.post_form(f"{path}/invite")).find("input", id="invite-link")
    assert link["value"].startswith("http://127.0.0.1:8123/invite/")
    # a browser without fetch metadata is judged by Origin against that same address
    same = {"Origin": "http://127.0.0.1:8123"}
    assert sam.post_form("/plans", {"title": "Here"}, headers=same).status_code == 303
    other = {"Origin": "http://127.0.0.1:8000"}
    assert sam.post_form("/plans", {"title": "There"}, headers=other).status_code == 403


def test_things_between_two_wait_for_the_partner_and_the_page_offers_inviting(
    client, make_client
):
    sam = client.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    between = ("/debriefs", "/feedback", "/since", "/timeline")
    page = soup(sam.get(path))
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    assert not {path + end for end in between} & hrefs
    offer = page.select_one(".plan-tools-later a")
    assert offer["href"] == "#invite_panel"
    assert page.find(id="invite_panel").find("button")
    assert page.find(id="revisit_panel") is None
    assert page.find(id="presence_choice") is None
    link = soup(sam.post_form(f"{path}/invite")).find("input", id="invite-link")
    alex = make_client().sign_up("Alex")
    alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}")
    page = soup(sam.get(path))
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    assert {path + end for end in between} <= hrefs
    assert page.select_one(".plan-tools-later") is None
    assert page.find(id="revisit_panel")
