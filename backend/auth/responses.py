"""Answers the sign-in, sign-up and reset pages share: a new session, a pause."""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backend.auth.middleware import cookie_header
from backend.auth.ratelimit import TooManyAttempts
from backend.auth.sessions import Cookie, cookie_name
from backend.config import Settings
from backend.web import redirect, render


def signed_in(
    request: Request, settings: Settings, token: str, target: str
) -> Response:
    response = redirect(request, target)
    cookie = Cookie(cookie_name(settings, "sid"), token)
    response.headers.append(
        "set-cookie", cookie_header(cookie, secure=settings.secure_cookies)
    )
    return response


def too_many(
    request: Request,
    template: str,
    context: dict[str, Any],
    block: str,
    error: TooManyAttempts,
) -> Response:
    response = render(
        request,
        template,
        {**context, "errors": {"form": error.message}},
        block=block,
        status=429,
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response
