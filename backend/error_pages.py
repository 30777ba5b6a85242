"""Error pages: how domain and HTTP errors look to a person."""

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from backend.errors import DomainError
from backend.web import render

MESSAGES = {
    400: ("Something went wrong", "The request could not be understood."),
    403: (
        "That can't be done from here",
        "Please go back, reload the page and try again.",
    ),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not found", "There is nothing here, or it is not yours to see."),
    413: ("Too long", "That was more text than Mutual can take at once."),
    429: ("Let's slow down", "Too many tries in a short time. Please wait a little."),
    408: ("That took too long", "Please try again."),
    500: ("Something went wrong on our side", "Nothing you wrote has been lost."),
    503: ("Not just now", "Mutual is busy for a moment. Please try again shortly."),
}


def error_page(request: Request, status: int, message: str = "") -> Response:
    title, default = MESSAGES.get(status, MESSAGES[400])
    return render(
        request,
        "error.html",
        {"title": title, "message": message or default, "status": status},
        block="message",
        status=status,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        response = error_page(request, exc.status_code)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response
