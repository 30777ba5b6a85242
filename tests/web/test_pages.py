"""The front door, the promises page and the health check."""

import pytest

from tests.helpers import soup


def test_home_signed_out_says_what_mutual_is(client):
    response = client.get("/")
    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == "en"
    assert "A plan the two of you make together" in page.h1.text
    assert page.find("a", string="Start a plan")["href"] == "/signup"


def test_every_footer_links_the_promises(client):
    for path in ("/", "/login", "/signup", "/never"):
        footer = soup(client.get(path)).find("footer")
        assert footer.find("a", href="/never"), path


def test_never_page_names_what_mutual_never_does(client):
    text = soup(client.get("/never")).get_text(" ")
    for promise in ("No scores", "No alerts", "No tracking", "Only the two of you"):
        assert promise in text


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


@pytest.mark.real_engine
def test_healthz_reports_unreachable_database(client, app, engine):
    engine.dispose()
    app.state.engine = type(engine)  # not an engine at all: every connect fails
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_unknown_page_is_a_calm_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert soup(response).h1.text == "Not found"


def test_404_fragment_for_htmx_is_only_the_message(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.text
    assert 'id="message"' in response.text
    assert "HX-Request" in response.headers["vary"]


def test_static_files_are_cached_and_versioned(client):
    page = soup(client.get("/"))
    css = page.find("link", rel="stylesheet")["href"]
    assert css.startswith("/static/css/app.css?v=")
    response = client.get(css)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]


def test_pages_are_compressed_and_their_token_never_repeats(client):
    htmx = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "gzip"})
    assert htmx.headers.get("content-encoding") == "gzip"
    client.sign_up()
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip"
    # the CSRF token is spelled differently on every page, so a compressed page
    # gives a BREACH-style guess nothing stable to find, and each spelling works
    tokens = {client.csrf() for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        response = client.post("/plans", data={"csrf_token": token, "title": "x"})
        assert response.status_code == 303


def test_every_page_names_its_icon_and_the_browser_finds_one(client):
    page = soup(client.get("/"))
    icon = page.find("link", rel="icon")
    assert icon["type"] == "image/svg+xml"
    assert client.get(icon["href"]).status_code == 200
    fallback = client.get("/favicon.ico")
    assert fallback.status_code == 200
    assert fallback.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in fallback.text
