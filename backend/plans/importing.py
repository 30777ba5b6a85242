"""Starting a new plan from an earlier one: its "mutual-plan" JSON, the agreed
PDF that carries it, or the zip of "Download everything of mine" (docs/export.md).

Rules:
- The person's own words come back as theirs: their personal entries, and the
  shared entries whose wording they wrote, as new entries they wrote now (with
  nothing agreed: agreeing is for the two people of the new plan).
- Every other word (a former partner's) comes back only as a read-only
  reference "from our earlier plan", never as either partner's words, and goes
  if the person who brought it erases their account.
- From the zip, the person's words are the ones its mutual-export.json lists
  as theirs, when it was made for the same email address: so words come back
  as theirs even into an account made again after one was deleted.
- A file that is not such a plan, or is broken or hostile, gets one plain
  reason and changes nothing: it is read and checked in full before anything
  is written, and everything is written in one transaction. A zip is read
  without trusting what it says of itself: how many members, their names,
  and how large they unpack are all capped.
"""

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pypdf import PdfReader
from sqlmodel import Session, col, select

from backend.consent.versions import refresh_plan_version
from backend.entries.sections import BY_KEY, RESPONSES
from backend.entries.service import UNNAMED, add_entry, checked_text
from backend.errors import FormError
from backend.export.plan_file import EXPORT_FORMAT, PLAN_FILE, PLAN_FORMAT, validator
from backend.limits import UPLOAD_BYTES
from backend.models import EarlierEntry, EntryLink, Plan
from backend.plans.service import TITLE_MAX, new_plan
from backend.text import clean_line

MAX_BYTES = 200 * 1024  # well under the request limit; a plan file is far smaller
MAX_ZIP_BYTES = UPLOAD_BYTES - 64 * 1024  # a download's zip, in one upload
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


EXPORT_FILE = "mutual-export.json"
# what "Download everything of mine" puts beside it (backend/export/download.py)
PLAN_MEMBER = re.compile(r"plans/[A-Za-z0-9._-]{1,200}\.(pdf|json)")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_MEMBERS = 256
MAX_UNPACKED = 32 * 1024 * 1024  # every member together, as the zip declares them
MAX_EXPORT_BYTES = 8 * 1024 * 1024  # mutual-export.json itself, as it unpacks
NOT_AN_EXPORT = (
    "This zip isn't a download from Mutual that can be read: it may be from "
    "somewhere else, damaged, or changed since. Nothing was changed."
)
NO_AGREED_PLAN = (
    "This download holds no agreed plan to start from: a plan is in it only "
    "once both of you agreed to something. Nothing was changed."
)


@dataclass(frozen=True)
class Choice:
    """One agreed plan in a download, to start from."""

    title: str
    version: int | None
    made_at: datetime | None
    document: dict[str, Any]
    me: str | None  # the id the person had in that plan, if the file says

    @property
    def text(self) -> str:
        """The plan as a file again, for the form that starts from it."""
        return json.dumps(self.document, ensure_ascii=False)


@dataclass
class Upload:
    """What an uploaded file holds: one plan to start from, or several to choose."""

    choices: list[Choice] = field(default_factory=list)


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


def is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06")


def read_upload(data: bytes, *, email: str) -> Upload:
    """The plans an uploaded file offers: a plan file or agreed PDF gives one;
    the zip of "Download everything of mine" one per agreed plan in it."""
    if not is_zip(data):
        document = read_plan_file(data)
        return Upload([_choice(document, None)])
    if len(data) > MAX_ZIP_BYTES:
        raise FormError({"file": TOO_BIG})
    export = _export_in(data)
    ours = export["account"]["email"].strip().lower() == email.strip().lower()
    choices = [
        _choice(plan["agreed_plan"], _my_id(plan) if ours else None)
        for plan in export["plans"]
        if plan["agreed_plan"] is not None
    ]
    if not choices:
        raise FormError({"file": NO_AGREED_PLAN})
    return Upload(choices)


def _choice(document: dict[str, Any], me: str | None) -> Choice:
    return Choice(
        title=clean_line(document["title"])[:TITLE_MAX].strip() or UNNAMED,
        version=document["agreed_version"],
        made_at=_moment(document["made_at"]),
        document=document,
        me=me,
    )


def _export_in(data: bytes) -> dict[str, Any]:
    """The checked mutual-export.json of a download's zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if (
                len(members) > MAX_MEMBERS
                or sum(m.file_size for m in members) > MAX_UNPACKED
                or any(not _fits(m) for m in members)
                or [m.filename for m in members].count(EXPORT_FILE) != 1
            ):
                raise FormError({"file": NOT_AN_EXPORT})
            with archive.open(EXPORT_FILE) as member:
                # read past what the member says of itself, so a lie is caught
                raw = member.read(MAX_EXPORT_BYTES + 1)
    except FormError:
        raise
    except Exception:  # a broken zip can fail in any of zipfile's ways
        raise FormError({"file": NOT_AN_EXPORT}) from None
    if len(raw) > MAX_EXPORT_BYTES:
        raise FormError({"file": NOT_AN_EXPORT})
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise FormError({"file": NOT_AN_EXPORT}) from None
    if not validator(EXPORT_FORMAT).is_valid(document):
        raise FormError({"file": NOT_AN_EXPORT})
    for plan in document["plans"]:
        agreed = plan["agreed_plan"]
        if agreed is not None and (
            len(json.dumps(agreed).encode()) > MAX_BYTES
            or not validator(PLAN_FORMAT).is_valid(agreed)
        ):
            raise FormError({"file": NOT_AN_EXPORT})
    return dict(document)


def _fits(member: zipfile.ZipInfo) -> bool:
    """A member a download holds: the export, or a plan's file beside it; no
    folders of its own, no path that climbs out, nothing encrypted."""
    name = member.filename
    if member.flag_bits & 0x1:
        return False
    return name == EXPORT_FILE or PLAN_MEMBER.fullmatch(name) is not None


def _my_id(plan: dict[str, Any]) -> str | None:
    """The id the person had in an agreed plan of their download: the owner of
    an entry the download lists as theirs, or the writer of a wording it lists
    as theirs, word for word; None unless exactly one id answers."""
    listed = {e["id"]: e for e in plan["entries"]}
    found = set()
    agreed = plan["agreed_plan"]
    for item in [*agreed["entries"], *agreed["taken_back"]]:
        mine = listed.get(item["id"])
        if mine is None:
            continue
        if item["owner_id"] and mine["mine"]:
            found.add(item["owner_id"])
        elif not item["owner_id"] and any(
            w["text"] == item["text"] for w in mine["wordings"]
        ):
            found.add(item["author_id"])
    return found.pop() if len(found) == 1 else None


def start_from_file(
    session: Session,
    data: bytes,
    *,
    account_id: uuid.UUID,
    time_zone: str | None = None,
    me: str | None = None,
) -> Plan:
    """A new plan from an earlier plan's file; FormError, and nothing changed,
    if the file is not one."""
    document = read_plan_file(data)
    if me is not None and not ID.fullmatch(me):
        raise FormError({"file": NOT_A_PLAN})
    return start_from(
        session, document, account_id=account_id, time_zone=time_zone, me=me
    )


def start_from(
    session: Session,
    document: dict[str, Any],
    *,
    account_id: uuid.UUID,
    time_zone: str | None = None,
    me: str | None = None,
) -> Plan:
    """A new plan, with `account_id` as its first partner, from a checked document.

    `me` is the id whose words in the document are the person's (their own
    account's, unless their download says which it was)."""
    me = me or str(account_id)
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
