"""What happens when a route needs an account the request doesn't bring."""

from urllib.parse import quote

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from backend.auth import saved
from backend.auth.csrf import SessionExpired
from backend.auth.middleware import cookie_header
from backend.auth.sessions import Cookie, Visitor, cookie_name
from backend.db import write_session
from backend.deps import NotSignedIn
from backend.web import redirect


def _login_url(next_path: str, *, expired: bool = False) -> str:
    url = f"/login?next={quote(next_path, safe='/')}"
    return url + "&expired=1" if expired else url


def install_auth_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        target = request.url.path if request.method == "GET" else "/"
        if request.url.query and request.method == "GET":
            target += f"?{request.url.query}"
        visitor: Visitor | None = getattr(request.state, "visitor", None)
        expired = bool(visitor and visitor.session_expired)
        if request.url.path.endswith("/events"):
            return Response(status_code=401)
        return redirect(request, _login_url(target, expired=expired))

    @app.exception_handler(SessionExpired)
    async def _expired(request: Request, exc: SessionExpired) -> Response:
        visitor: Visitor = request.state.visitor
        form = getattr(request.state, "form", None)
        settings = request.app.state.settings
        # paths that carry a secret token are never stored
        tokened = request.url.path.startswith(("/reset/", "/invite/"))
        if visitor.expired_account_id is None or form is None or tokened:
            return redirect(request, _login_url("/", expired=True))
        account_id = visitor.expired_account_id
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]

        def _save() -> str:
            with write_session(request.app.state.engine) as session:
                return saved.save_form(
                    session,
                    account_id=account_id,
                    path=request.url.path,
                    fields=fields,
                )

        token = await run_in_threadpool(_save)
        response = redirect(request, _login_url("/resume", expired=True))
        response.headers.append(
            "set-cookie",
            cookie_header(
                Cookie(cookie_name(settings, "saved"), token),
                secure=settings.secure_cookies,
            ),
        )
        return response
