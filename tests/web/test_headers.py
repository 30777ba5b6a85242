"""Security headers on every response, and no inline script or style anywhere."""

import json
import re
from pathlib import Path

import pytest

from backend.export import PdfRenderer
from tests.helpers import Client, soup

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# The policy of SECURITY.md (c), written out here rather than imported, so a
# change to the app's policy has to be a change to this test as well.
POLICY = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
    "manifest-src": ["'self'"],
}
NEVER_ALLOWED = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"}
FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-frame-options": "DENY",
}


def parse_csp(header: str) -> dict[str, list[str]]:
    """Directive -> sources, as a browser reads the header; a repeat is an error."""
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        assert name not in policy, f"{name} twice: the browser ignores the second"
        policy[name] = tokens[1:]
    return policy


def assert_headers(response, *, https: bool = False) -> None:
    headers = response.headers
    csp = headers.get_list("content-security-policy")
    assert len(csp) == 1, csp
    policy = parse_csp(csp[0])
    assert policy == POLICY
    for directive, sources in policy.items():
        assert not NEVER_ALLOWED & {s.lower() for s in sources}, directive
    for name, value in FIXED.items():
        assert headers.get_list(name) == [value], name
    allowed = dict(
        feature.strip().split("=", 1)
        for feature in headers["permissions-policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert allowed[feature] == "()", feature
    assert ("strict-transport-security" in headers) is https


def test_headers_on_public_pages_and_static_files(client):
    for path in (
        "/",
        "/login",
        "/signup",
        "/never",
        "/healthz",
        "/static/css/app.css",
        "/static/js/app.js",
        "/static/vendor/htmx.min.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_headers(response)


def test_headers_on_plan_pages_and_their_fragments(partners):
    p = partners.path
    sam = partners.sam
    written = sam.post_form(
        f"{p}/entries", {"section": "signals", "text": "lighthouse"}, htmx=True
    )
    assert written.status_code == 200
    assert_headers(written)
    for path in (p, f"{p}/presence", f"{p}/debriefs", "/account"):
        full = sam.get(path)
        fragment = sam.get(path, headers={"HX-Request": "true"})
        assert full.status_code == fragment.status_code == 200, path
        assert_headers(full)
        assert_headers(fragment)


def test_headers_on_refusals_and_errors(partners, make_client):
    stranger = make_client().sign_up()
    sam, plan = partners.sam, partners.path
    htmx = {"HX-Request": "true"}
    refusals = [
        (404, stranger.get("/no/such/page")),
        (404, stranger.get("/no/such/page", headers=htmx)),
        (404, stranger.get("/static/css/nothing.css")),
        (404, stranger.get(plan)),
        (404, stranger.get(plan, headers=htmx)),
        (403, sam.post(f"{plan}/entries", data={"section": "signals", "text": "x"})),
        (422, sam.post_form(f"{plan}/entries", {"section": "signals"}, htmx=True)),
        (413, sam.post("/plans", data={"title": "x" * (300 * 1024)})),
    ]
    for status, response in refusals:
        assert response.status_code == status, response.request.url
        assert_headers(response)


def test_headers_on_a_server_error(app):
    def boom():
        raise RuntimeError("the words of a plan must not reach a log")

    app.add_api_route("/boom-for-test", boom)
    client = Client(app, raise_server_exceptions=False)
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert_headers(response)
    assert "must not reach" not in response.text


@pytest.mark.slow
def test_headers_on_a_pdf(partners, app):
    with PdfRenderer(workers=1) as renderer:
        app.state.pdf = renderer
        response = partners.sam.get(f"{partners.path}/agreed.pdf?draft=1")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_hsts_only_over_https(settings, engine):
    from backend.main import create_app

    secure = settings.model_copy(update={"base_url": "https://testserver"})
    client = Client(create_app(secure, engine=engine))
    client.base_url = "https://testserver"
    for path in ("/login", "/nope", "/static/css/app.css"):
        response = client.get(path)
        assert_headers(response, https=True)
        hsts = response.headers["strict-transport-security"]
        assert int(re.search(r"max-age=(\d+)", hsts)[1]) >= 365 * 24 * 3600


def test_pages_are_never_cached(client):
    client.sign_up()
    plan = client.post_form("/plans", {"title": "Us"}).headers["location"]
    for path in ("/", plan, "/account"):
        assert client.get(path).headers["cache-control"] == "no-store"


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


# A copy kept offline is script by nature (a service worker and the Cache API
# have no htmx attribute): it has a budget of its own, apart from the pages'.
OFFLINE_COPY = {"copy.js", "copy-worker.js"}


def test_our_own_javascript_stays_small():
    """htmx attributes say what the page does; our scripts only what they cannot."""
    scripts = sorted((TEMPLATES.parent / "static" / "js").glob("*.js"))
    assert scripts
    assert {path.name for path in scripts} >= OFFLINE_COPY
    lines = {path.name: len(path.read_text().splitlines()) for path in scripts}
    pages = sum(n for name, n in lines.items() if name not in OFFLINE_COPY)
    copy = sum(n for name, n in lines.items() if name in OFFLINE_COPY)
    # 150: room for the one loader of on-demand disclosures (menus, forms, prompts)
    assert pages < 150, f"{pages} lines of our own JavaScript"
    assert copy < 240, f"{copy} lines of JavaScript for the offline copy"
