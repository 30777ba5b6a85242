"""Cross-site request forgery: refuse cross-site senders, then check the token.

The token is an HMAC of the session's own secret (or, before sign-in, of a
random cookie), sent in a hidden `csrf_token` field or the X-CSRF-Token header.
"""

from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

from backend.auth.sessions import Visitor
from backend.auth.tokens import same, unmask
from backend.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCH = frozenset({"same-origin", "none"})


class SessionExpired(Exception):
    """A form arrived from a browser whose session has ended meanwhile."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site(request: Request, site_url: str) -> bool:
    """Fetch metadata first; browsers without it are judged by Origin or Referer."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in SAME_SITE_FETCH
    expected = _origin(site_url)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == expected
    referer = request.headers.get("referer")
    if referer is not None:
        return _origin(referer) == expected
    return True


def check(
    request: Request, visitor: Visitor, site_url: str, form: FormData | None
) -> None:
    if not same_site(request, site_url):
        raise Forbidden("This request came from another site, so it was refused.")
    sent = request.headers.get("x-csrf-token")
    if sent is None and form is not None:
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    token = unmask(sent) if sent else None
    if token and visitor.csrf_token and same(token, visitor.csrf_token):
        return
    if visitor.session_expired:
        raise SessionExpired
    raise Forbidden(
        "This page was open for a long time or came from somewhere else, so the "
        "request was refused. Please reload the page and try again."
    )
