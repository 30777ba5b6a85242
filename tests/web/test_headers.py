"""Security headers on every response, and no inline script or style anywhere."""

import json
import re
from pathlib import Path

from backend.headers import CSP
from tests.helpers import Client, soup

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_headers(response):
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP
    assert "unsafe-eval" not in CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]


def test_headers_on_pages_errors_and_static(client):
    for path in (
        "/",
        "/login",
        "/signup",
        "/never",
        "/healthz",
        "/nope",
        "/static/css/app.css",
    ):
        _assert_headers(client.get(path))


def test_pages_are_never_cached(client):
    client.sign_up()
    plan = client.post_form("/plans", {"title": "Us"}).headers["location"]
    for path in ("/", plan, "/account"):
        assert client.get(path).headers["cache-control"] == "no-store"


def test_headers_on_a_server_error(app):
    def boom():
        raise RuntimeError("the words of a plan must not reach a log")

    app.add_api_route("/boom-for-test", boom)
    client = Client(app, raise_server_exceptions=False)
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    _assert_headers(response)
    assert "must not reach" not in response.text


def test_server_error_log_carries_no_message(app, caplog):
    words = "-".join(["SENTINEL", "words", "of", "a", "plan"])

    def boom():
        raise RuntimeError(words)

    app.add_api_route("/boom-for-test", boom)
    Client(app, raise_server_exceptions=False).get("/boom-for-test")
    assert "SENTINEL" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_templates_have_no_inline_script_style_or_handlers():
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), path
        assert not re.search(r"\son[a-z]+\s*=", source), path
        assert not re.search(r"\sstyle\s*=", source), path
        assert "hx-on" not in source, path
        assert "| safe" not in source, path
        assert "|safe" not in source, path


def test_rendered_pages_have_no_inline_script_or_style(client):
    client.sign_up()
    plan = client.post_form("/plans", {"title": "Us"}).headers["location"]
    for path in ("/", "/never", plan, "/account"):
        page = soup(client.get(path))
        for script in page.find_all("script"):
            assert script.get("src", "").startswith("/static/"), path
            assert not script.string, path
        assert not page.find_all(style=True), path
        assert not page.find_all("style"), path


def test_htmx_config_keeps_nothing_in_local_storage(client):
    meta = soup(client.get("/")).find("meta", attrs={"name": "htmx-config"})

    config = json.loads(meta["content"])
    assert config["historyCacheSize"] == 0
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["selfRequestsOnly"] is True


def test_no_third_party_urls_in_pages(client):
    client.sign_up()
    for path in ("/", "/never", "/account"):
        page = soup(client.get(path))
        for tag in page.find_all(["script", "link", "img", "iframe"]):
            url = tag.get("src") or tag.get("href") or ""
            assert url.startswith("/"), url


def test_oversized_body_is_refused(client):
    client.sign_up()
    response = client.post("/plans", data={"title": "x" * (300 * 1024)})
    assert response.status_code == 413


def test_every_plain_form_carries_the_same_csrf_token(partners):
    partners.sam.post_form(
        f"{partners.path}/entries", {"section": "signals", "text": "lighthouse"}
    )
    for path in ("/", partners.path, "/account", f"{partners.path}/leave"):
        page = soup(partners.sam.get(path))
        token = json.loads(page.body["hx-headers"])["X-CSRF-Token"]
        forms = page.find_all("form", method="post")
        assert forms, path
        for form in forms:
            field = form.find("input", {"name": "csrf_token"})
            assert field is not None, (path, form.get("action"))
            assert field["value"] == token, (path, form.get("action"))
