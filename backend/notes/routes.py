"""Reflective feedback: write (see, feel, need), keep a draft, reply.

Its pages once lived under /notes: a visit there is sent on (308), and a form
posted from a page opened before the move is still taken as it was.
"""

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from backend.debriefs.service import debriefs_of
from backend.deps import CurrentAccount, MemberPlan, SessionDep
from backend.errors import FormError
from backend.models import Plan
from backend.notes import service
from backend.plans.page import plan_page
from backend.web import is_fragment, path_for, redirect, render

router = APIRouter()
NOTES = "/plans/{plan_id}/feedback"
THREAD = NOTES + "/{note_id}"
OLD = "/plans/{plan_id}/notes"


def _about(raw: str) -> tuple[str | None, str | None]:
    """The composer's "what it is about": an entry, a talk, or nothing."""
    kind, _, key = raw.partition(":")
    if kind == "entry":
        return key or None, None
    if kind == "debrief":
        return None, key or None
    return None, None


def _context(
    session: Session,
    plan: Plan,
    account_id: uuid.UUID,
    *,
    about: str = "",
    form: dict[str, str] | None = None,
    only: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Everything the notes page shows this viewer, the composer filled in."""
    page = plan_page(session, plan, account_id)
    if form is None:
        draft = service.own_draft(session, plan, account_id)
        form = {k: getattr(draft, k) if draft else "" for k in service.KEYS}
        form["draft_id"] = str(draft.id) if draft else ""
        # a new note ends by asking back unless its writer chooses otherwise
        form["asks_back"] = "1" if draft is None or draft.asks_back else ""
        if not about and draft and draft.entry_id:
            about = f"entry:{draft.entry_id}"
        elif not about and draft and draft.debrief_id:
            about = f"debrief:{draft.debrief_id}"
        form["about"] = about
    return {
        "plan": plan,
        "page": page,
        "threads": service.threads(session, plan, account_id, only=only),
        "parts": service.PARTS,
        "asking_back": service.ASKING_BACK,
        "form": form,
        "entries": [c.entry for c in page.cards.values() if not c.entry.is_draft],
        "debriefs": debriefs_of(session, plan),
    }


@router.get(NOTES, name="notes.list")
def notes(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    entry: str = "",
    debrief: str = "",
) -> Response:
    about = f"entry:{entry}" if entry else f"debrief:{debrief}" if debrief else ""
    context = _context(session, plan, account.id, about=about)
    return render(request, "notes/list.html", context, block="conversation")


@router.get(THREAD, name="notes.thread")
def thread(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    note_id: str,
) -> Response:
    """One thread: what a live page re-fetches when a note or a reply arrives."""
    root = service.sent_note(session, plan, note_id)
    context = _context(session, plan, account.id, only=root.id)
    return render(
        request,
        "notes/list.html",
        {**context, "thread": context["threads"][0]},
        block="thread",
    )


@router.post(NOTES, name="notes.send")
@router.post(OLD, name="notes.old_send")  # a page opened before the move
def send(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    what_i_see: Annotated[str, Form()] = "",
    what_i_feel: Annotated[str, Form()] = "",
    what_i_need: Annotated[str, Form()] = "",
    about: Annotated[str, Form()] = "",
    draft_id: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "send",
    asks_back: Annotated[str, Form()] = "",
) -> Response:
    parts = {
        "what_i_see": what_i_see,
        "what_i_feel": what_i_feel,
        "what_i_need": what_i_need,
    }
    form = {**parts, "about": about, "draft_id": draft_id, "asks_back": asks_back}
    entry_id, debrief_id = _about(about)
    try:
        note = service.write_note(
            session,
            plan,
            author_id=account.id,
            parts=parts,
            entry_id=entry_id,
            debrief_id=debrief_id,
            draft_id=draft_id or None,
            send=action != "draft",
            asks_back=bool(asks_back),
        )
    except FormError as error:
        context = _context(session, plan, account.id, form=form)
        return render(
            request,
            "notes/list.html",
            {**context, "errors": error.errors},
            block="composer",
            status=422,
        )
    target = path_for(request, "notes.list", plan_id=plan.id)
    if not is_fragment(request):
        if note.sent_at is None:
            return redirect(request, f"{target}?kept=1#composer")
        return redirect(request, f"{target}#thread-{note.id}")
    if note.sent_at is None:
        context = _context(session, plan, account.id)
        return render(
            request, "notes/list.html", {**context, "kept": True}, block="composer"
        )
    context = _context(session, plan, account.id, only=note.id)
    return render(
        request,
        "notes/list.html",
        {**context, "sent": context["threads"][0]},
        blocks=["composer", "sent_thread"],
    )


@router.post(THREAD + "/replies", name="notes.reply")
@router.post(OLD + "/{note_id}/replies", name="notes.old_reply")
def reply(
    request: Request,
    plan: MemberPlan,
    account: CurrentAccount,
    session: SessionDep,
    note_id: str,
    body: Annotated[str, Form()] = "",
    draft_id: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "send",
) -> Response:
    try:
        answer = service.write_reply(
            session,
            plan,
            note_id,
            author_id=account.id,
            body=body,
            draft_id=draft_id or None,
            send=action != "draft",
        )
    except FormError as error:
        root = service.sent_note(session, plan, note_id)
        context = _context(session, plan, account.id)
        return render(
            request,
            "notes/list.html",
            {
                **context,
                "thread": next(t for t in context["threads"] if t.note.id == root.id),
                "reply_for": root.id,
                "reply_form": {"body": body, "draft_id": draft_id},
                "reply_errors": error.errors,
            },
            block="thread",
            status=422,
        )
    root_id = answer.reply_to_id
    if not is_fragment(request):
        target = path_for(request, "notes.list", plan_id=plan.id)
        return redirect(request, f"{target}#thread-{root_id}")
    context = _context(session, plan, account.id, only=root_id)
    return render(
        request,
        "notes/list.html",
        {**context, "thread": context["threads"][0], "kept": answer.sent_at is None},
        block="thread",
    )


def _moved(request: Request, plan: Plan, rest: str = "") -> Response:
    target = path_for(request, "notes.list", plan_id=plan.id) + rest
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(target, status_code=308)


@router.get(OLD, name="notes.old_list")
def old_list(request: Request, plan: MemberPlan) -> Response:
    return _moved(request, plan)


@router.get(OLD + "/{note_id}", name="notes.old_thread")
def old_thread(request: Request, plan: MemberPlan, note_id: str) -> Response:
    return _moved(request, plan, f"/{quote(note_id)}")
