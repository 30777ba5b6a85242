"""Sets the cookies that identifying a visitor decided on (anonymous, expired)."""

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.auth.sessions import Cookie, Visitor


def cookie_header(cookie: Cookie, *, secure: bool) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar[cookie.name] = cookie.value
    morsel = jar[cookie.name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure:
        morsel["secure"] = True
    if cookie.max_age is not None:
        morsel["max-age"] = cookie.max_age
    return morsel.OutputString()


class VisitorCookiesMiddleware:
    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                visitor: Visitor | None = scope.get("state", {}).get("visitor")
                if visitor and visitor.cookies:
                    headers = MutableHeaders(scope=message)
                    already = {
                        value.split("=", 1)[0]
                        for value in headers.getlist("set-cookie")
                    }
                    for cookie in visitor.cookies:
                        if cookie.name not in already:
                            headers.append(
                                "set-cookie", cookie_header(cookie, secure=self.secure)
                            )
            await send(message)

        await self.app(scope, receive, send_with_cookies)
