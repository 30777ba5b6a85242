"""Agreeing together: agree, withdraw, talk it over; the agreed plan, its versions."""

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from backend.consent import service
from backend.consent import versions as agreed_plan
from backend.consent.snapshots import reading_view
from backend.deps import CurrentAccount, MemberPlan, SessionDep, WriterPlan
from backend.entries import service as entries
from backend.errors import FormError, NotFound
from backend.plans.cards import ENTRY, card, refused
from backend.plans.page import plan_page
from backend.plans.shelf import Shelving
from backend.web import render

router = APIRouter()


@router.post(ENTRY + "/agree", name="consent.agree")
def agree(
    request: Request,
    plan: WriterPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    version: Annotated[int, Form()] = 0,
) -> Response:
    entry = entries.get_entry(session, plan, entry_id, account.id, for_update=True)
    try:
        service.agree(session, plan, entry, account_id=account.id, version=version)
    except (service.StaleConsent, FormError) as error:
        return refused(request, session, plan, account.id, entry.id, error)
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
    """Take back my yes: never silent, always possible."""
    entry = entries.get_entry(session, plan, entry_id, account.id, for_update=True)
    try:
        service.take_back(session, plan, entry, account_id=account.id, note=note)
    except FormError as error:
        return refused(request, session, plan, account.id, entry.id, error)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/withdraw-proposal", name="consent.withdraw_proposal")
def withdraw_proposal(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
) -> Response:
    """Take back my proposed change before my partner has agreed to it."""
    entry = entries.get_entry(session, plan, entry_id, account.id, for_update=True)
    service.withdraw_proposal(session, plan, entry, account_id=account.id)
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
    # the counts the plan page shows, from its kept cards where they are kept
    counts = plan_page(session, plan, account.id, shelf=Shelving(request, "")).counts
    return render(
        request,
        "consent/agreed.html",
        {
            "plan": plan,
            "version": found,
            "latest": latest,
            "view": reading_view(found.snapshot) if found else None,
            "sealed": found is None or agreed_plan.is_sealed(found),
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
            "open_number": listing[0].number
            if listing and not agreed_plan.is_sealed(listing[0])
            else None,
        },
    )
