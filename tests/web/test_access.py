"""The access matrix: who may reach which route, and CSRF on every unsafe one."""

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from tests.helpers import soup
from tests.routes import PUBLIC, all_routes, fill


@pytest.fixture
def world(client, make_client):
    """Sam made a plan, Alex joined it; Casey is signed in but no partner."""
    sam = client.sign_up("Sam")
    plan_path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    invite = soup(sam.post_form(f"{plan_path}/invite")).find("input", id="invite-link")
    token = invite["value"].rsplit("/", 1)[1]
    alex = make_client().sign_up("Alex")
    assert alex.post_form(f"/invite/{token}").status_code == 303
    casey = make_client().sign_up("Casey")
    added = sam.post_form(
        f"{plan_path}/entries", {"section": "signals", "text": "lighthouse"}
    )
    entry = added.headers["location"].rsplit("#entry-", 1)[1]
    talk = sam.post_form(f"{plan_path}/debriefs", {"happened_on": "2026-03-12"})
    note = sam.post_form(f"{plan_path}/notes", {"what_i_need": "a walk"})
    values = {
        "plan_id": plan_path.rsplit("/", 1)[1],
        "token": "not-a-token",
        "entry_id": entry,
        "target_id": entry,
        "debrief_id": talk.headers["location"].rsplit("/", 1)[1],
        "note_id": note.headers["location"].rsplit("#thread-", 1)[1],
        "key": "signals",
    }
    return {
        "sam": sam,
        "alex": alex,
        "casey": casey,
        "values": values,
        "plan_path": plan_path,
    }


def _call(client, method, path, *, token=True):
    if method == "GET":
        return client.get(path)
    data = {"csrf_token": client.csrf()} if token else {}
    return client.request(method, path, data=data)


def _methods(route):
    return sorted(m for m in route.methods if m != "HEAD")


def test_every_route_is_in_the_matrix(app):
    names = {route.name for route in all_routes(app)}
    assert names >= PUBLIC
    assert len(names) > len(PUBLIC)


def test_signed_out_is_sent_to_sign_in(app, world, make_client):
    stranger = make_client()
    for route in all_routes(app):
        if route.name in PUBLIC:
            continue
        path = fill(route.path, world["values"])
        for method in _methods(route):
            response = _call(stranger, method, path)
            assert response.status_code in (303, 401), (method, path)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login"), path


def test_non_partner_gets_404_from_every_plan_route(app, world):
    casey = world["casey"]
    plan_routes = [r for r in all_routes(app) if "{plan_id}" in r.path]
    assert plan_routes
    for route in plan_routes:
        path = fill(route.path, world["values"])
        for method in _methods(route):
            response = _call(casey, method, path)
            assert response.status_code == 404, (method, path)
            assert "Us" not in soup(response).get_text(), path


def test_unknown_plan_and_foreign_plan_look_the_same(world):
    casey = world["casey"]
    foreign = casey.get(world["plan_path"])
    missing = casey.get("/plans/00000000-0000-4000-8000-000000000000")
    garbage = casey.get("/plans/not-a-uuid")
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert soup(foreign).find("main").text == soup(missing).find("main").text


def test_partners_may_use_plan_routes(app, world):
    for who in ("sam", "alex"):
        response = world[who].get(world["plan_path"])
        assert response.status_code == 200
        assert "Sam and Alex" in response.text or "Alex and Sam" in response.text


def _row_counts(session):
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def test_every_unsafe_route_refuses_a_missing_csrf_token(app, world, session):
    sam = world["sam"]
    before = _row_counts(session)
    unsafe = [r for r in all_routes(app) if set(r.methods) - {"GET", "HEAD"}]
    assert unsafe
    for route in unsafe:
        path = fill(route.path, world["values"])
        for method in set(route.methods) - {"GET", "HEAD"}:
            response = _call(sam, method, path, token=False)
            assert response.status_code == 403, (method, path)
            wrong = sam.request(method, path, data={"csrf_token": "0" * 64})
            assert wrong.status_code == 403, (method, path)
    session.expire_all()
    assert _row_counts(session) == before


def test_cross_site_requests_are_refused_even_with_a_token(world):
    sam = world["sam"]
    token = sam.csrf()
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ):
        response = sam.post(
            "/plans", data={"csrf_token": token, "title": "x"}, headers=headers
        )
        assert response.status_code == 403, headers


def test_same_origin_request_with_token_passes(world):
    sam = world["sam"]
    response = sam.post(
        "/plans",
        data={"csrf_token": sam.csrf(), "title": "Another"},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
    )
    assert response.status_code == 303


def test_htmx_header_token_is_accepted(world):
    sam = world["sam"]
    response = sam.post(
        "/plans",
        data={"title": "Via htmx"},
        headers={"X-CSRF-Token": sam.csrf(), "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/plans/")


def test_csrf_token_is_bound_to_the_session(world):
    sam, alex = world["sam"], world["alex"]
    response = alex.post("/plans", data={"csrf_token": sam.csrf(), "title": "x"})
    assert response.status_code == 403
