"""Numbered versions of the agreed plan, one per sitting.

Every change to what is agreed goes through `refresh_plan_version` before its
commit. Told which entry changed, it patches the newest snapshot for that entry
alone (`agreed.patched_snapshot`); each version keeps its signature, so nothing
is rebuilt or compared that the change did not touch. Changes made in one
sitting gather into one version: the newest version stays open while changes
keep coming, and is sealed after 30 quiet minutes, or as soon as it is printed,
downloaded or shared. A sealed version never changes.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from backend.consent.agreed import (
    EntryPlace,
    agreed_snapshot,
    entry_place,
    patched_snapshot,
    signature,
)
from backend.db import utc_now
from backend.entries.diff import word_diff
from backend.errors import NotFound
from backend.members import Person
from backend.models import Plan, PlanVersion

QUIET = timedelta(minutes=30)
NO_VERSION = 2**31 - 1  # a version number no plan reaches; larger ones are not asked


# Built once: a statement built per call costs more CPU than running it does.
_NEWEST = (
    select(PlanVersion)
    .where(PlanVersion.plan_id == bindparam("plan_id"))
    .order_by(col(PlanVersion.number).desc())
)
_LATEST = _NEWEST.limit(1)  # without it the ORM fetches (and parses) every snapshot
_LATEST_BARE = _LATEST.options(defer(PlanVersion.snapshot))  # type: ignore[arg-type]
_LOCK_PLAN = (
    select(Plan.id)
    .where(Plan.id == bindparam("plan_id"))
    .with_for_update(key_share=True)
)
_NEWEST_TWO = _LATEST_BARE.limit(2)


def is_sealed(version: PlanVersion, *, now: datetime | None = None) -> bool:
    """Sealed by printing or sharing, or by 30 minutes without a change."""
    moment = now or utc_now()
    return version.sealed_at is not None or moment - version.updated_at >= QUIET


def latest_version(
    session: Session, plan_id: uuid.UUID, *, snapshot: bool = True
) -> PlanVersion | None:
    """The newest version; `snapshot=False` leaves its snapshot unread until it
    is asked for."""
    query = _LATEST if snapshot else _LATEST_BARE
    return session.exec(query, params={"plan_id": plan_id}).first()


def _unchanged_for(latest: PlanVersion, entry_id: uuid.UUID, place: EntryPlace) -> bool:
    """Whether the one entry a write touched stands in the agreed plan as the
    newest version has it. Every other entry is as that version recorded it
    (each change goes through here), so the signature would come out the same."""
    key = str(entry_id)
    mine = {key, "back:" + key}
    before = sorted((k, n) for k, n in latest.signature or [] if k in mine)
    return before == sorted(place.signature())


_HELD = "mutual_plan_held"  # session.info: (the transaction, the plan it holds)


def hold_plan(session: Session, plan_id: uuid.UUID) -> None:
    """Take the plan for this transaction: writers of one plan take turns from
    here to their commit (PostgreSQL, a row lock; SQLite's one writer at a time
    is this already). Taken after the entry a write changes (whose row lock
    comes first, as in every write), and before what it reads to pass on to
    `refresh_plan_version`: no other writer of the plan can commit a change to
    what is agreed in between, so that need not be read again."""
    if _holds(session, plan_id):
        return
    session.exec(_LOCK_PLAN, params={"plan_id": plan_id})
    session.info[_HELD] = (session.get_transaction(), plan_id)


def _holds(session: Session, plan_id: uuid.UUID) -> bool:
    if session.get_bind().dialect.name == "sqlite":
        return True
    held = session.info.get(_HELD)
    return held is not None and held == (session.get_transaction(), plan_id)


def refresh_plan_version(
    session: Session,
    plan: Plan,
    *,
    entry_id: uuid.UUID | None = None,
    now: datetime | None = None,
    people: dict[uuid.UUID, Person] | None = None,
    place: EntryPlace | None = None,
) -> PlanVersion | None:
    """Record a change to what is agreed: in this sitting's version, or a new one.

    `entry_id` names the one entry the change touched; without it (partners
    came or went, an account was erased) the agreed plan is worked out whole.
    A caller that has read them already passes the plan's partners (`people`)
    or the entry's place after the change (`place`), so they are not read again.
    They are used only if read while the transaction held the plan
    (`hold_plan`, before reading them): then nothing they say can have changed.
    """
    session.flush()
    # Writers of one plan take turns from here to commit, so two cannot both
    # number their version N+1
    if not _holds(session, plan.id):
        hold_plan(session, plan.id)
        # what the caller read before the plan was held may have changed since
        people = place = None
    moment = now or utc_now()
    # without its snapshot: most writes change nothing agreed, and the signatures
    # say so without opening (decrypting, parsing) the whole agreed plan
    latest, before = _newest_two(session, plan.id)
    snapshot = None
    taken_back = False
    if latest is not None and entry_id is not None:
        place = place or entry_place(session, plan, entry_id, people)
        # who took a yes back, when and why, and whose yes still stands, is not in
        # the signature: a taken-back entry's part is compared whole
        taken_back = any(key.startswith("back:") for key, _ in place.signature())
        if (
            not taken_back
            and latest.signature is not None
            and _unchanged_for(latest, entry_id, place)
        ):
            return None
        snapshot = patched_snapshot(session, plan, latest.snapshot, entry_id, place)
    if snapshot is None:
        snapshot = agreed_snapshot(session, plan)
    # the same entries stand, but a yes taken back is told anew
    retold = (
        taken_back and latest is not None and _told(snapshot) != _told(latest.snapshot)
    )
    now_signed = _signed(signature(snapshot))
    if now_signed == (signature_of(latest) if latest else []) and not retold:
        return None
    if latest is not None and not is_sealed(latest, now=moment):
        if not retold and before is not None and signature_of(before) == now_signed:
            # the sitting undid its own changes: nothing new to keep
            session.delete(latest)
            session.flush()
            return None
        snapshot["version"] = latest.number
        snapshot["created_at"] = latest.created_at.isoformat()
        latest.snapshot = snapshot
        latest.signature = now_signed
        latest.summary = summary(signature_of(before) if before else [], now_signed)
        latest.updated_at = moment
        session.add(latest)
        session.flush()
        return latest
    if latest is not None and latest.sealed_at is None:
        latest.sealed_at = latest.updated_at + QUIET
        session.add(latest)
    version = PlanVersion(
        plan_id=plan.id,
        number=(latest.number + 1) if latest else 1,
        snapshot=snapshot,
        signature=now_signed,
        summary=summary(signature_of(latest) if latest else [], now_signed),
        created_at=moment,
        updated_at=moment,
    )
    snapshot["version"] = version.number
    snapshot["created_at"] = moment.isoformat()
    session.add(version)
    session.flush()
    return version


def _told(snapshot: dict[str, Any]) -> list[Any]:
    """What a version says of the yeses taken back."""
    return list(snapshot.get("taken_back", []))


def _signed(pairs: list[tuple[str, int]]) -> list[list[Any]]:
    """A signature as JSON keeps it: lists, not tuples."""
    return [[key, number] for key, number in pairs]


def signature_of(version: PlanVersion) -> list[list[Any]]:
    """The version's signature: kept with it, or (made before it was) read from
    its snapshot."""
    if version.signature is not None:
        return [list(pair) for pair in version.signature]
    return _signed(signature(version.snapshot))


def seal(session: Session, version: PlanVersion) -> None:
    """Printed, downloaded or shared: from now on this version never changes."""
    if version.sealed_at is None:
        version.sealed_at = utc_now()
        session.add(version)


def _newest_two(
    session: Session, plan_id: uuid.UUID
) -> tuple[PlanVersion | None, PlanVersion | None]:
    """The newest version and the one numbered just before it, in one query and
    without their snapshots (read only if asked for): signatures are enough,
    unless a version predates keeping one."""
    found = session.exec(_NEWEST_TWO, params={"plan_id": plan_id}).all()
    latest = found[0] if found else None
    before = found[1] if len(found) > 1 else None
    if latest is None or before is None or before.number != latest.number - 1:
        return latest, None
    return latest, before


def summary(old: list[list[Any]], new: list[list[Any]]) -> str:
    """What changed between two signatures, in words."""
    before = {k: v for k, v in old if not k.startswith("back:")}
    after = {k: v for k, v in new if not k.startswith("back:")}
    added = len(after.keys() - before.keys())
    removed = len(before.keys() - after.keys())
    changed = sum(1 for k in after.keys() & before.keys() if after[k] != before[k])
    back = sum(1 for k, _ in new if k.startswith("back:"))
    parts = [
        f"{n} {word}"
        for n, word in (
            (added, "added"),
            (changed, "changed"),
            (removed, "no longer agreed"),
            (back, "taken back, to talk about"),
        )
        if n
    ]
    return ", ".join(parts) or "no change"


def latest_version_numbers(
    session: Session, plan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not plan_ids:
        return {}
    rows = session.exec(
        select(PlanVersion.plan_id, func.max(PlanVersion.number))
        .where(col(PlanVersion.plan_id).in_(plan_ids))
        .group_by(col(PlanVersion.plan_id))
    ).all()
    return dict(rows)


def versions(session: Session, plan_id: uuid.UUID) -> list[PlanVersion]:
    return list(
        session.exec(
            select(PlanVersion)
            .where(PlanVersion.plan_id == plan_id)
            .order_by(col(PlanVersion.number).desc())
        ).all()
    )


def version(
    session: Session, plan_id: uuid.UUID, number: int | None
) -> PlanVersion | None:
    """Version `number`, or the newest; None if there is none (NotFound if asked)."""
    if number is None:
        return latest_version(session, plan_id)
    if not 0 < number < NO_VERSION:
        raise NotFound
    found = session.exec(
        select(PlanVersion).where(
            PlanVersion.plan_id == plan_id, PlanVersion.number == number
        )
    ).first()
    if found is None:
        raise NotFound
    return found


def has_agreed(snapshot: dict[str, Any] | None) -> bool:
    """Whether a snapshot holds anything to follow (or to talk about) at all."""
    return bool(snapshot and (snapshot["entries"] or snapshot.get("taken_back")))


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Entries added, removed and changed between two snapshots."""
    before = {e["id"]: e for e in old["entries"]}
    after = {e["id"]: e for e in new["entries"]}
    return {
        "added": [after[i] for i in after if i not in before],
        "removed": [before[i] for i in before if i not in after],
        "changed": [
            (before[i], after[i], word_diff(before[i]["text"], after[i]["text"]))
            for i in after
            if i in before and before[i]["version"] != after[i]["version"]
        ],
    }
