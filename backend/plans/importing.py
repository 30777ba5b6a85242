"""Starting a new plan from an earlier one: its "mutual-plan" JSON, or the agreed
PDF that carries it (docs/export.md).

Rules:
- The person's own words come back as theirs: their personal entries, and the
  shared entries whose wording they wrote, as new entries they wrote now (with
  nothing agreed: agreeing is for the two people of the new plan).
- Every other word (a former partner's) comes back only as a read-only
  reference "from our earlier plan", never as either partner's words, and goes
  if the person who brought it erases their account.
- A file that is not such a plan, or is broken or hostile, gets one plain
  reason and changes nothing: it is read and checked in full before anything
  is written, and everything is written in one transaction.
"""

import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pypdf import PdfReader
from sqlmodel import Session, col, select

from backend.consent.versions import refresh_plan_version
from backend.entries.sections import BY_KEY, RESPONSES
from backend.entries.service import UNNAMED, add_entry, checked_text
from backend.errors import FormError
from backend.export.plan_file import PLAN_FILE, PLAN_FORMAT, validator
from backend.models import EarlierEntry, EntryLink, Plan
from backend.plans.service import TITLE_MAX, new_plan
from backend.text import clean_line

MAX_BYTES = 200 * 1024  # well under the request limit; a plan file is far smaller
NO_FILE = "Please choose a file: a plan's .json file, or its agreed PDF."
TOO_BIG = "This file is larger than any plan Mutual makes. Nothing was changed."
NOT_A_PLAN = (
    "This file isn't a plan Mutual can read: it may be from somewhere else, "
    "damaged, or changed since. Nothing was changed."
)
NO_PLAN_INSIDE = (
    "This PDF doesn't carry a plan Mutual can read. Only agreed plans printed "
    "from Mutual carry one (not the pocket card or a working draft). "
    "Nothing was changed."
)


@dataclass(frozen=True)
class Earlier:
    section_title: str
    text: str
    written_at: datetime | None


def read_plan_file(data: bytes) -> dict[str, Any]:
    """The "mutual-plan" document in `data` (JSON, or a PDF carrying one);
    FormError with a plain reason for anything else."""
    if not data:
        raise FormError({"file": NO_FILE})
    if len(data) > MAX_BYTES:
        raise FormError({"file": TOO_BIG})
    raw = _embedded(data) if data.startswith(b"%PDF") else data
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
        raise FormError({"file": NOT_A_PLAN}) from None
    if not validator(PLAN_FORMAT).is_valid(document):
        raise FormError({"file": NOT_A_PLAN})
    return dict(document)


def _embedded(data: bytes) -> bytes:
    try:
        found = PdfReader(io.BytesIO(data)).attachments.get(PLAN_FILE)
        content = found[0] if found else None
    except Exception:  # a broken PDF can fail in any of pypdf's ways
        raise FormError({"file": NOT_A_PLAN}) from None
    if not isinstance(content, bytes) or len(content) > MAX_BYTES:
        raise FormError({"file": NO_PLAN_INSIDE})
    return content


def start_from_file(
    session: Session,
    data: bytes,
    *,
    account_id: uuid.UUID,
    time_zone: str | None = None,
) -> Plan:
    """A new plan from an earlier plan's file; FormError, and nothing changed,
    if the file is not one."""
    document = read_plan_file(data)
    return start_from(session, document, account_id=account_id, time_zone=time_zone)


def start_from(
    session: Session,
    document: dict[str, Any],
    *,
    account_id: uuid.UUID,
    time_zone: str | None = None,
) -> Plan:
    """A new plan, with `account_id` as its first partner, from a checked document."""
    me = str(account_id)
    title = clean_line(document["title"])[:TITLE_MAX].strip() or UNNAMED
    plan = new_plan(session, account_id=account_id, title=title, time_zone=time_zone)
    mine: dict[str, uuid.UUID] = {}
    items = [*document["entries"], *document["taken_back"]]
    for position, item in enumerate(items):
        spec = BY_KEY.get(item["section"])
        own = item["owner_id"] == me if item["owner_id"] else item["author_id"] == me
        text = _words(item["text"])
        if not text:
            continue
        if spec is not None and own:
            entry = add_entry(
                session,
                plan,
                author_id=account_id,
                section=spec.key,
                text=text,
                commit=False,
            )
            mine[item["id"]] = entry.id
        else:
            session.add(
                EarlierEntry(
                    plan_id=plan.id,
                    brought_by=account_id,
                    section=item["section"],
                    text=text,
                    position=position,
                    written_at=_moment(item["written_at"]),
                )
            )
    _link_answers(session, plan, items, mine, account_id)
    refresh_plan_version(session, plan)
    session.commit()
    return plan


def _words(raw: str) -> str:
    try:
        return checked_text(raw)
    except FormError:  # nothing left once cleaned
        return ""


def _moment(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _link_answers(
    session: Session,
    plan: Plan,
    items: list[dict[str, Any]],
    mine: dict[str, uuid.UUID],
    account_id: uuid.UUID,
) -> None:
    """My responses answer my own entries again, as they did in the earlier plan."""
    personal = {i["id"] for i in items if i["owner_id"] and i["id"] in mine}
    pairs = {
        (mine[i["id"]], mine[target])
        for i in items
        if i["section"] == RESPONSES and i["id"] in mine
        for target in i["answers"]
        if target in personal
    }
    for response, target in sorted(pairs):
        session.add(
            EntryLink(
                plan_id=plan.id,
                response_id=response,
                target_id=target,
                created_by=account_id,
            )
        )


def earlier_of(session: Session, plan_id: uuid.UUID) -> list[Earlier]:
    """The plan's words "from our earlier plan", in their earlier order."""
    rows = session.exec(
        select(EarlierEntry)
        .where(EarlierEntry.plan_id == plan_id)
        .order_by(col(EarlierEntry.position), col(EarlierEntry.id))
    ).all()
    return [
        Earlier(
            BY_KEY[r.section].title if r.section in BY_KEY else "",
            r.text,
            r.written_at,
        )
        for r in rows
    ]
