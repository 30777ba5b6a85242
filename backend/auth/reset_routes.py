"""Forgotten passwords: a single-use link by mail, or from the operator."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend.auth import reset
from backend.auth.ratelimit import Limit, TooManyAttempts, spend
from backend.auth.responses import signed_in, too_many
from backend.auth.service import normalise_email
from backend.auth.tokens import email_key
from backend.deps import HasherDep, SessionDep, SettingsDep
from backend.errors import FormError
from backend.web import render, sender_key

router = APIRouter()


@router.get("/forgot", name="auth.forgot")
def forgot_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return render(
        request, "auth/forgot.html", {"form": {}, "mail": bool(settings.smtp_host)}
    )


@router.post("/forgot")
def forgot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
) -> Response:
    context = {"form": {"email": email}, "mail": bool(settings.smtp_host)}
    if not settings.smtp_host:
        return render(request, "auth/forgot.html", context)
    # counted for every address, with or without an account, so a limit reached
    # says nothing about who has one; the bucket holds a keyed hash, never the address
    address = email_key(request.app.state.secret, normalise_email(email)[:320])
    try:
        spend(
            session,
            [
                Limit(f"forgot:ip:{sender_key(request)}", 5, timedelta(hours=1)),
                Limit(f"forgot:email:{address}", 3, timedelta(hours=1)),
            ],
            enabled=settings.rate_limits,
        )
        reset.request_reset(session, settings, email=email)
    except FormError as error:
        return render(
            request,
            "auth/forgot.html",
            {**context, "errors": error.errors},
            block="forgot_form",
            status=422,
        )
    except TooManyAttempts as error:
        return too_many(request, "auth/forgot.html", context, "forgot_form", error)
    return render(
        request, "auth/forgot.html", {**context, "sent": True}, block="forgot_form"
    )


@router.get("/reset/{token}", name="auth.reset")
def reset_page(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    try:
        reset.usable_reset(session, token=token)
    except reset.ResetLinkGone:
        return _gone(request)
    return render(request, "auth/reset.html", {"token": token})


@router.post("/reset/{token}")
def reset_password(
    request: Request,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    context = {"token": token}
    try:
        spend(
            session,
            [Limit(f"reset:ip:{sender_key(request)}", 10, timedelta(minutes=15))],
            enabled=settings.rate_limits,
        )
        session_token = reset.reset_password(
            session, hasher, settings, token=token, password=password
        )
    except reset.ResetLinkGone:
        return _gone(request)
    except FormError as error:
        return render(
            request,
            "auth/reset.html",
            {**context, "errors": error.errors},
            block="reset_form",
            status=422,
        )
    except TooManyAttempts as error:
        return too_many(request, "auth/reset.html", context, "reset_form", error)
    return signed_in(request, settings, session_token, "/")


def _gone(request: Request) -> HTMLResponse:
    return render(request, "auth/reset.html", {"gone": True}, status=410)
