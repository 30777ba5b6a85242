"""Sign up, sign in, sign out, and one's own account."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backend.auth import erasure, ratelimit, saved, service
from backend.auth.middleware import cookie_header
from backend.auth.ratelimit import Limit, TooManyAttempts, spend
from backend.auth.responses import signed_in, too_many
from backend.auth.sessions import Cookie, cookie_name, end_session
from backend.auth.tokens import email_key
from backend.config import Settings
from backend.deps import (
    CurrentAccount,
    HasherDep,
    SessionDep,
    SettingsDep,
    VisitorDep,
)
from backend.errors import FormError
from backend.plans.shelf import forget_words
from backend.web import redirect, render, sender_key

router = APIRouter()
ACCOUNT_WINDOW = timedelta(minutes=15)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/signup", name="auth.signup")
def signup_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "auth/signup.html", {"form": {}, "next": next})


@router.post("/signup")
def signup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: str | None = None,
) -> Response:
    form = {"email": email, "display_name": display_name}
    context = {"form": form, "next": next}
    try:
        spend(
            session,
            [Limit(f"signup:ip:{sender_key(request)}", 10, timedelta(hours=1))],
            enabled=settings.rate_limits,
        )
        _, token = service.create_account(
            session,
            hasher,
            settings,
            email=email,
            display_name=display_name,
            password=password,
        )
    except FormError as error:
        return render(
            request,
            "auth/signup.html",
            {**context, "errors": error.errors},
            block="signup_form",
            status=422,
        )
    except TooManyAttempts as error:
        return too_many(request, "auth/signup.html", context, "signup_form", error)
    return signed_in(request, settings, token, safe_next(next))


@router.get("/login", name="auth.login")
def login_page(
    request: Request, visitor: VisitorDep, next: str | None = None, expired: int = 0
) -> HTMLResponse:
    has_saved = bool(
        request.cookies.get(cookie_name(request.app.state.settings, "saved"))
    )
    return render(
        request,
        "auth/login.html",
        {
            "form": {},
            "next": next,
            "expired": expired or visitor.session_expired,
            "saved": has_saved,
        },
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: str | None = None,
) -> Response:
    context = {"form": {"email": email}, "next": next}
    # keyed hash: the bucket never stores an address, and always fits its column
    account = email_key(request.app.state.secret, service.normalise_email(email))
    here = sender_key(request)
    failed_bucket = f"login:failed:{account}"
    try:
        # Hard limits only per address, and per account from one address: someone
        # guessing from elsewhere can never lock a partner out of their own plan.
        spend(
            session,
            [
                Limit(f"login:ip:{here}", 10, timedelta(minutes=1)),
                # the account's hash leads, so erasing the account finds its rows
                Limit(f"login:pair:{account}:{here}", 10, timedelta(minutes=15)),
            ],
            enabled=settings.rate_limits,
        )
        if settings.rate_limits:
            # Across every address the account only gets slower to try, never shut.
            ratelimit.pause(
                ratelimit.pause_for(
                    ratelimit.failures(session, failed_bucket, ACCOUNT_WINDOW)
                )
            )
        token = service.sign_in(
            session, hasher, settings, email=email, password=password
        )
    except FormError as error:
        if settings.rate_limits:
            ratelimit.record_failure(session, failed_bucket)
        return render(
            request,
            "auth/login.html",
            {**context, "errors": error.errors},
            block="login_form",
            status=422,
        )
    except TooManyAttempts as error:
        return too_many(request, "auth/login.html", context, "login_form", error)
    return signed_in(request, settings, token, safe_next(next))


@router.post("/logout", name="auth.logout")
def logout(request: Request, visitor: VisitorDep, settings: SettingsDep) -> Response:
    if visitor.session_hash:
        end_session(request.app.state.engine, visitor.session_hash)
        request.app.state.broker.end_session(visitor.session_hash)
    return _signed_out(redirect(request, "/"), settings)


def _signed_out(response: Response, settings: Settings) -> Response:
    # nothing of the plan stays behind in this browser: pages, cookies, storage
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    response.headers.append(
        "set-cookie",
        cookie_header(
            Cookie(cookie_name(settings, "sid"), "", max_age=0),
            secure=settings.secure_cookies,
        ),
    )
    return response


@router.get("/account", name="auth.account")
def account_page(request: Request, account: CurrentAccount) -> HTMLResponse:
    return render(
        request, "auth/account.html", {"form": {"display_name": account.display_name}}
    )


@router.post("/account/name", name="auth.change_name")
def change_name(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    display_name: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.change_display_name(
            session, account_id=account.id, display_name=display_name
        )
    except FormError as error:
        return render(
            request,
            "auth/account.html",
            {"form": {"display_name": display_name}, "errors": error.errors},
            block="name_form",
            status=422,
        )
    return redirect(request, "/account?saved=name")


@router.post("/account/password", name="auth.change_password")
def change_password(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        token = service.change_password(
            session,
            hasher,
            account_id=account.id,
            current=current_password,
            new=new_password,
            settings=settings,
        )
    except FormError as error:
        return render(
            request,
            "auth/account.html",
            {"form": {"display_name": account.display_name}, "errors": error.errors},
            block="password_form",
            status=422,
        )
    return signed_in(request, settings, token, "/account?saved=password")


@router.post("/account/sign-out-everywhere", name="auth.sign_out_everywhere")
def sign_out_everywhere(
    request: Request, account: CurrentAccount, session: SessionDep
) -> Response:
    service.sign_out_everywhere(session, account_id=account.id)
    request.app.state.broker.end_account(account.id)
    response = redirect(request, "/login?everywhere=1")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@router.post("/account/delete", name="auth.delete_account")
def delete_account(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        erasure.delete_account(
            session,
            hasher,
            account_id=account.id,
            password=password,
            secret=request.app.state.secret,
            sender=sender_key(request),
        )
    except FormError as error:
        return render(
            request,
            "auth/account.html",
            {"form": {"display_name": account.display_name}, "errors": error.errors},
            block="delete_form",
            status=422,
        )
    request.app.state.broker.end_account(account.id)
    forget_words(request)
    return _signed_out(redirect(request, "/?deleted=1"), settings)


@router.get("/resume", name="auth.resume")
def resume(
    request: Request,
    account: CurrentAccount,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """What someone wrote when their session ended, ready to send again."""
    token = request.cookies.get(cookie_name(settings, "saved"))
    row = saved.load_form(session, token, account.id) if token else None
    if row is None:
        return redirect(request, "/")
    return render(
        request, "auth/resume.html", {"path": row.path, "fields": saved.fields_of(row)}
    )
