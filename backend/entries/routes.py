"""Writing the plan: add, edit, delete and restore entries, inline or as plain forms."""

import contextlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from backend import changes
from backend.deps import CurrentAccount, MemberPlan, SessionDep, WriterPlan
from backend.entries import rules, service
from backend.entries.diff import word_diff
from backend.entries.sections import BY_KEY, RESPONSES
from backend.errors import FormError, NotFound
from backend.plans.cards import (
    ENTRY,
    card,
    card_view,
    pinned_id,
    plan_path,
    refused,
)
from backend.plans.page import EntryView, plan_page
from backend.plans.shelf import Shelving
from backend.web import is_fragment, redirect, render, shown_before

router = APIRouter()


@router.post("/plans/{plan_id}/entries", name="entries.add")
def add_entry(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    section: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    draft: Annotated[str, Form()] = "",
    debrief_id: Annotated[str, Form()] = "",
    step: Annotated[str, Form()] = "",
) -> Response:
    spec = BY_KEY.get(section)
    step = step if step in BY_KEY else ""  # walking the plan one part at a time
    form = {"section": section, "text": text, "draft": bool(draft)}
    pinned = pinned_id(session, plan, debrief_id)
    pinned_text = str(pinned or "")
    try:
        entry = service.add_entry(
            session,
            plan,
            author_id=account.id,
            section=section,
            text=text,
            draft=bool(draft),
            debrief_id=pinned,
        )
    except FormError as error:
        page = plan_page(session, plan, account.id, only=[])
        return render(
            request,
            "entries/add.html",
            {
                "page": page,
                "plan": plan,
                "spec": spec,
                "form": form,
                "errors": error.errors,
                "pinned_id": pinned_text,
                "step": step,
            },
            block="add_form",
            status=422,
        )
    if not is_fragment(request):
        target = plan_path(request, plan, pinned_text)
        if step:
            target += f"{'&' if '?' in target else '?'}step={step}"
        return redirect(request, f"{target}#entry-{entry.id}")
    page = plan_page(session, plan, account.id, only=[entry.id])
    return render(
        request,
        "entries/add.html",
        {
            "page": page,
            "plan": plan,
            "spec": spec,
            "form": {},
            "added": page.cards[entry.id],
            "pinned_id": pinned_text,
            "step": step,
        },
        blocks=["add_form", "added_card"],
    )


@router.get("/plans/{plan_id}/prompts/{key}", name="entries.prompt")
def prompt(request: Request, plan: MemberPlan, key: str) -> Response:
    """What to write in a section, fetched when its "What to write here" opens, or
    a page of its own without JavaScript."""
    spec = BY_KEY.get(key)
    if spec is None:
        raise NotFound()
    return render(
        request, "entries/prompt.html", {"plan": plan, "spec": spec}, block="prompt"
    )


@router.get(ENTRY, name="entries.card")
def entry_card(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    debrief: str = "",
) -> Response:
    if (unchanged := shown_before(request, plan)) is not None:
        return unchanged
    with changes.watching():
        pinned_text = str(pinned_id(session, plan, debrief) or "")
        shelf = Shelving(request, pinned_text)
        # the partners as read with the session (`Visitor.people`)
        people = request.state.visitor.people
        page, view = card_view(session, plan, account.id, entry_id, shelf, people)
        return render(
            request,
            "entries/entry.html",
            {"page": page, "plan": plan, "card": view, "pinned_id": pinned_text},
            block="entry_card",
            shows=plan,
        )


def _card_part(
    request: Request,
    session: SessionDep,
    plan: MemberPlan,
    account: CurrentAccount,
    entry_id: str,
    debrief: str,
    *,
    part: str,  # "more" or "respond"; `targets`: the menu's "say what this answers"
    targets: bool = False,
    shows: Callable[[EntryView], bool] = lambda view: True,
) -> Response:
    """A part of a card fetched on demand (its block `entry_<part>`), or a page of
    its own without JavaScript; the card itself if the part no longer applies
    (removed meanwhile, say), so the person sees why."""
    entry = service.get_entry(session, plan, entry_id, account.id)
    pinned_text = str(pinned_id(session, plan, debrief) or "")
    # what a response could answer, only where the part offers to link it
    answers = targets and entry.section == RESPONSES
    page = plan_page(session, plan, account.id, only=[entry.id], targets=answers)
    view = page.cards.get(entry.id)
    if view is None or not shows(view):
        return card(request, session, plan, account.id, entry.id, pinned_id=pinned_text)
    return render(
        request,
        "entries/entry.html",
        {
            "page": page,
            "plan": plan,
            "card": view,
            part: True,
            "alone": not is_fragment(request),
            "pinned_id": pinned_text,
        },
        block=f"entry_{part}",
    )


@router.get(ENTRY + "/more", name="entries.more")
def more(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    debrief: str = "",
) -> Response:
    """Everything on a card but its yes: edit, history, remove or ask to take it
    out, feedback, take back, let's talk, say what it answers. Fetched when the
    card's menu opens, or a page of their own without JavaScript."""
    return _card_part(
        request,
        session,
        plan,
        account,
        entry_id,
        debrief,
        part="more",
        targets=True,
    )


@router.get(ENTRY + "/respond", name="entries.respond_form")
def respond_form(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    debrief: str = "",
) -> Response:
    """The form to propose what we'll do when this happens, fetched when the
    pairing block's disclosure opens, or a page of its own without JavaScript."""
    return _card_part(
        request,
        session,
        plan,
        account,
        entry_id,
        debrief,
        part="respond",
        shows=lambda view: view.section.answerable and view.state != "draft",
    )


@router.get(ENTRY + "/edit", name="entries.edit_form")
def edit_form(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    debrief: str = "",
) -> Response:
    entry = service.get_entry(session, plan, entry_id, account.id)
    pinned_text = str(pinned_id(session, plan, debrief) or "")
    if not rules.may_change(entry, account.id):
        return card(request, session, plan, account.id, entry.id, pinned_id=pinned_text)
    page = plan_page(session, plan, account.id, only=[entry.id])
    view = page.cards.get(entry.id)
    return render(
        request,
        "entries/entry.html",
        {
            "plan": plan,
            "entry": entry,
            "form": {
                "text": view.edit_text if view else entry.text,
                "base_version": entry.version,
            },
            "pinned_id": pinned_text,
            # a change to agreed shared words is a proposal: say so before Save
            "proposing_to": page.partner if view and view.takes_both else None,
        },
        block="entry_editor",
    )


@router.post(ENTRY, name="entries.edit")
def edit_entry(
    request: Request,
    plan: WriterPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    text: Annotated[str, Form()] = "",
    base_version: Annotated[int, Form()] = 0,
    debrief_id: Annotated[str, Form()] = "",
) -> Response:
    form = {"text": text, "base_version": base_version}
    pinned = pinned_id(session, plan, debrief_id)
    pinned_text = str(pinned or "")
    try:
        entry = service.edit_entry(
            session,
            plan,
            entry_id,
            author_id=account.id,
            base_version=base_version,
            text=text,
            debrief_id=pinned,
        )
    except service.StaleEdit as stale:
        current = stale.entry
        page = plan_page(session, plan, account.id, only=[current.id])
        return render(
            request,
            "entries/entry.html",
            {
                "plan": plan,
                "entry": current,
                "page": page,
                "card": page.cards.get(current.id),
                "form": {"text": stale.attempted, "base_version": current.version},
                "conflict": True,
                "diff": word_diff(stale.attempted, current.text),
                "pinned_id": pinned_text,
            },
            block="entry_editor",
            status=409,
        )
    except FormError as error:
        entry = service.get_entry(session, plan, entry_id, account.id)
        return render(
            request,
            "entries/entry.html",
            {
                "plan": plan,
                "entry": entry,
                "form": form,
                "errors": error.errors,
                "pinned_id": pinned_text,
            },
            block="entry_editor",
            status=422,
        )
    return card(request, session, plan, account.id, entry.id, pinned_id=pinned_text)


@router.post(ENTRY + "/delete", name="entries.delete")
def remove(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Remove at once, or ask to take an agreed entry out (the service decides)."""
    try:
        entry = service.remove_entry(
            session, plan, entry_id, account_id=account.id, note=note
        )
    except FormError as error:
        return refused(request, session, plan, account.id, entry_id, error)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/restore", name="entries.restore")
def restore(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
) -> Response:
    try:
        entry = service.restore_entry(session, plan, entry_id, account_id=account.id)
    except FormError as error:
        return refused(request, session, plan, account.id, entry_id, error)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/share", name="entries.share")
def share(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
) -> Response:
    try:
        entry = service.share_draft(session, plan, entry_id, account_id=account.id)
    except FormError as error:
        return refused(request, session, plan, account.id, entry_id, error)
    return card(request, session, plan, account.id, entry.id)


@router.get(ENTRY + "/history", name="entries.history")
def history(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
) -> Response:
    entry = service.get_entry(session, plan, entry_id, account.id)
    page = plan_page(session, plan, account.id, only=[entry.id])
    revisions = service.revisions(session, entry)
    steps = [
        (
            rev,
            page.people.get(rev.author_id) if rev.author_id else None,
            word_diff(revisions[i - 1].text, rev.text) if i else None,
        )
        for i, rev in enumerate(revisions)
    ]
    context = {
        "plan": plan,
        "entry": entry,
        "steps": list(reversed(steps)),
        "page": page,
        # the times of each yes live here, not on the card
        "yeses": service.yeses_by_version(session, entry, revisions),
        "yes_word": rules.yes_kind(entry),
    }
    return render(request, "entries/entry.html", context, block="entry_history")


@router.post(ENTRY + "/links", name="entries.link")
def link(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    target_id: Annotated[str, Form()] = "",
) -> Response:
    with contextlib.suppress(FormError, ValueError):
        service.link_response(
            session, plan, entry_id, target_id=target_id, account_id=account.id
        )
    entry = service.get_entry(session, plan, entry_id, account.id)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/links/{target_id}/delete", name="entries.unlink")
def unlink(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    target_id: str,
) -> Response:
    with contextlib.suppress(ValueError):
        service.unlink_response(
            session, plan, entry_id, target_id=target_id, account_id=account.id
        )
    entry = service.get_entry(session, plan, entry_id, account.id)
    return card(request, session, plan, account.id, entry.id)


@router.post(ENTRY + "/responses", name="entries.respond")
def respond(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry_id: str,
    response_text: Annotated[str, Form()] = "",
    debrief_id: Annotated[str, Form()] = "",
) -> Response:
    """Propose what we'll do when this happens: a new response that answers it."""
    pinned = pinned_id(session, plan, debrief_id)
    pinned_text = str(pinned or "")
    try:
        service.add_response(
            session,
            plan,
            entry_id,
            author_id=account.id,
            text=response_text,
            debrief_id=pinned,
        )
    except FormError as error:
        session.rollback()
        entry = service.get_entry(session, plan, entry_id, account.id)
        errors = {"respond": next(iter(error.errors.values()))}
        return card(
            request,
            session,
            plan,
            account.id,
            entry.id,
            status=422,
            errors=errors,
            respond_text=response_text,
            pinned_id=pinned_text,
        )
    entry = service.get_entry(session, plan, entry_id, account.id)
    return card(request, session, plan, account.id, entry.id, pinned_id=pinned_text)
