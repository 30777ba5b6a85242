"""Agreeing together: agree, withdraw, talk it over; the agreed plan, its versions."""

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from backend.consent import agreed as agreed_plan
from backend.consent import service
from backend.consent.snapshots import reading_view
from backend.deps import CurrentAccount, MemberPlan, SessionDep
from backend.entries import service as entries
from backend.entries.routes import ENTRY, card, notify
from backend.entries.views import plan_page
from backend.errors import NotFound
from backend.web import render

router = APIRouter()


@router.post(ENTRY + "/agree", name="consent.agree")
def agree(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    version: Annotated[int, Form()] = 0,
) -> Response:
    entry = entries.get_entry(session, plan, entry_id, account.id, for_update=True)
    try:
        service.agree(session, plan, entry, account_id=account.id, version=version)
    except service.StaleConsent as stale:
        session.rollback()
        return card(
            request,
            session,
            plan,
            account.id,
            stale.entry.id,
            status=409,
            errors={"form": stale.message},
        )
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/withdraw", name="consent.withdraw")
def withdraw(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    note: Annotated[str, Form()] = "",
) -> Response:
    entry = entries.get_entry(session, plan, entry_id, account.id, for_update=True)
    service.withdraw(session, plan, entry, account_id=account.id, note=note)
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/flag", name="consent.flag")
def flag(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    note: Annotated[str, Form()] = "",
) -> Response:
    entry = entries.get_entry(session, plan, entry_id, account.id)
    service.raise_flag(session, entry, account_id=account.id, note=note)
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/unflag", name="consent.unflag")
def unflag(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
) -> Response:
    entry = entries.get_entry(session, plan, entry_id, account.id)
    service.clear_flag(session, entry, account_id=account.id)
    notify(request, entry)
    return card(request, session, plan, account.id, entry.id)


@router.get("/plans/{plan_id}/agreed", name="consent.agreed")
def agreed(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    version: int | None = None,
) -> Response:
    found = agreed_plan.version(session, plan.id, version)
    latest = agreed_plan.latest_version(session, plan.id)
    counts = plan_page(session, plan, account.id).counts
    return render(
        request,
        "consent/agreed.html",
        {
            "plan": plan,
            "version": found,
            "latest": latest,
            "view": reading_view(found.snapshot) if found else None,
            "counts": counts,
            "partner": next(
                (
                    p
                    for p in (found.snapshot["partners"] if found else [])
                    if p["id"] != str(account.id)
                ),
                None,
            ),
        },
    )


@router.get("/plans/{plan_id}/versions", name="consent.versions")
def versions(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    a: int | None = None,
    b: int | None = None,
) -> Response:
    listing = agreed_plan.versions(session, plan.id)
    comparison = None
    if a is not None and b is not None:
        old, new = (
            agreed_plan.version(session, plan.id, a),
            agreed_plan.version(session, plan.id, b),
        )
        if old is None or new is None:
            raise NotFound
        comparison = agreed_plan.compare(old.snapshot, new.snapshot)
    return render(
        request,
        "consent/versions.html",
        {
            "plan": plan,
            "versions": listing,
            "comparison": comparison,
            "a": a,
            "b": b,
        },
    )
