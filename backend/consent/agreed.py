"""What is agreed: the agreed set, its snapshots, and numbered plan versions.

An entry is agreed iff every partner of a two-partner plan has a standing
(not withdrawn) consent to its current version (invariant 2). Whenever the set
of agreed entries or their wordings changes, a new numbered plan version is
saved with a snapshot of the agreed plan.
"""

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from backend.db import utc_now
from backend.errors import NotFound
from backend.models import (
    Account,
    Consent,
    Entry,
    EntryLink,
    Membership,
    Plan,
    PlanVersion,
)


def partner_ids(session: Session, plan_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.exec(
            select(Membership.account_id)
            .where(Membership.plan_id == plan_id)
            .order_by(col(Membership.slot))
        ).all()
    )


def standing_consents(
    session: Session, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Consent]]:
    """Every consent not withdrawn, by entry, any version (newest first)."""
    found: dict[uuid.UUID, list[Consent]] = defaultdict(list)
    if not entry_ids:
        return found
    rows = session.exec(
        select(Consent)
        .where(
            col(Consent.entry_id).in_(entry_ids), col(Consent.withdrawn_at).is_(None)
        )
        .order_by(col(Consent.version).desc())
    ).all()
    for consent in rows:
        found[consent.entry_id].append(consent)
    return found


def is_agreed(entry: Entry, consents: list[Consent], partners: list[uuid.UUID]) -> bool:
    if len(partners) != 2 or entry.deleted_at is not None or entry.is_draft:
        return False
    current = {c.account_id for c in consents if c.version == entry.version}
    return all(p in current for p in partners)


def agreed_entries(
    session: Session, plan_id: uuid.UUID, partners: list[uuid.UUID] | None = None
) -> list[tuple[Entry, list[Consent]]]:
    """Agreed entries with their consents to the current wording (none older)."""
    if partners is None:
        partners = partner_ids(session, plan_id)
    ids = [uuid.UUID(i) for i, _ in agreed_signature(session, plan_id, partners)]
    if not ids:
        return []
    entries = session.exec(
        select(Entry)
        .where(col(Entry.id).in_(ids))
        .order_by(col(Entry.created_at), col(Entry.id))
    ).all()
    current: dict[uuid.UUID, list[Consent]] = defaultdict(list)
    for consent in session.exec(
        select(Consent)
        .join(
            Entry,
            and_(
                col(Consent.entry_id) == Entry.id, col(Consent.version) == Entry.version
            ),
        )
        .where(col(Entry.id).in_(ids), col(Consent.withdrawn_at).is_(None))
    ).all():
        current[consent.entry_id].append(consent)
    return [(e, current[e.id]) for e in entries]


def agreed_signature(
    session: Session, plan_id: uuid.UUID, partners: list[uuid.UUID]
) -> list[tuple[str, int]]:
    """(id, version) of each agreed entry, sorted: worked out in the database, so a
    write that changes nothing agreed loads no entries, consents or snapshots."""
    if len(partners) != 2:
        return []
    rows = session.exec(
        select(Entry.id, Entry.version)
        .join(
            Consent,
            and_(
                col(Consent.entry_id) == Entry.id, col(Consent.version) == Entry.version
            ),
        )
        .where(
            Entry.plan_id == plan_id,
            col(Entry.deleted_at).is_(None),
            col(Entry.is_draft).is_(False),
            col(Consent.withdrawn_at).is_(None),
            col(Consent.account_id).in_(partners),
        )
        .group_by(col(Entry.id), col(Entry.version))
        .having(func.count(func.distinct(Consent.account_id)) == len(partners))
    ).all()
    return sorted((str(entry_id), version) for entry_id, version in rows)


def build_snapshot(
    session: Session,
    plan: Plan,
    items: list[tuple[Entry, list[Consent]]],
    *,
    agreed: bool = True,
) -> dict[str, Any]:
    """The agreed plan as plain data: wordings, authors and consent times."""
    names = _names(session, plan.id)
    firsts = {e.id: e.created_by for e, _ in items}
    ids = [e.id for e, _ in items]
    answers: dict[uuid.UUID, list[str]] = defaultdict(list)
    if ids:
        for link in session.exec(
            select(EntryLink).where(col(EntryLink.response_id).in_(ids))
        ).all():
            if link.target_id in firsts:
                answers[link.response_id].append(str(link.target_id))
    members = session.exec(
        select(Membership)
        .where(Membership.plan_id == plan.id)
        .order_by(col(Membership.slot))
    ).all()
    return {
        "plan": {"id": str(plan.id), "title": plan.title},
        "partners": [
            {
                "id": str(m.account_id),
                "name": names.get(m.account_id, ""),
                "slot": m.slot,
            }
            for m in members
        ],
        "entries": [
            {
                "id": str(e.id),
                "section": e.section,
                "owner_id": str(e.owner_id) if e.owner_id else None,
                "text": e.text,
                "version": e.version,
                "author_id": str(e.updated_by) if e.updated_by else None,
                "author_name": names.get(e.updated_by, "a former partner")
                if e.updated_by
                else "a former partner",
                "first_author_name": names.get(firsts[e.id], "a former partner")
                if firsts[e.id]
                else "a former partner",
                "written_at": e.updated_at.isoformat(),
                "agreed": agreed,
                "consents": [
                    {
                        "account_id": str(c.account_id),
                        "name": names.get(c.account_id, ""),
                        "at": c.given_at.isoformat(),
                    }
                    for c in sorted(consents, key=lambda c: c.given_at)
                    if c.version == e.version
                ],
                "answers": answers.get(e.id, []),
            }
            for e, consents in items
        ],
    }


def _names(session: Session, plan_id: uuid.UUID) -> dict[uuid.UUID | None, str]:
    rows = session.exec(
        select(Account.id, Account.display_name)
        .join(Membership, col(Membership.account_id) == Account.id)
        .where(Membership.plan_id == plan_id)
    ).all()
    return dict(rows)


def signature(snapshot: dict[str, Any]) -> list[tuple[str, int]]:
    return sorted((e["id"], e["version"]) for e in snapshot["entries"])


def latest_version(session: Session, plan_id: uuid.UUID) -> PlanVersion | None:
    return session.exec(
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id)
        .order_by(col(PlanVersion.number).desc())
        .limit(1)  # without it the ORM fetches (and parses) every snapshot
    ).first()


def refresh_plan_version(session: Session, plan: Plan) -> PlanVersion | None:
    """Save version N+1 if the agreed set (entries or wordings) changed."""
    session.flush()
    # Writers of one plan take turns from here to commit, so two cannot both
    # number their version N+1 (PostgreSQL; SQLite has one writer anyway). NO KEY
    # UPDATE: inserts that reference the plan row need not wait for it.
    session.exec(
        select(Plan.id).where(Plan.id == plan.id).with_for_update(key_share=True)
    )
    partners = partner_ids(session, plan.id)
    latest = latest_version(session, plan.id)
    before = signature(latest.snapshot) if latest else []
    if agreed_signature(session, plan.id, partners) == before:
        return None
    snapshot = build_snapshot(session, plan, agreed_entries(session, plan.id, partners))
    summary = _summary(latest.snapshot if latest else None, snapshot)
    version = PlanVersion(
        plan_id=plan.id,
        number=(latest.number + 1) if latest else 1,
        snapshot=snapshot,
        summary=summary,
    )
    snapshot["version"] = version.number
    snapshot["created_at"] = version.created_at.isoformat()
    session.add(version)
    session.flush()
    return version


def _summary(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    before = {e["id"]: e["version"] for e in (old or {"entries": []})["entries"]}
    after = {e["id"]: e["version"] for e in new["entries"]}
    added = len(after.keys() - before.keys())
    removed = len(before.keys() - after.keys())
    changed = sum(1 for k in after.keys() & before.keys() if after[k] != before[k])
    parts = [
        f"{n} {word}"
        for n, word in (
            (added, "added"),
            (changed, "changed"),
            (removed, "no longer agreed"),
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
    found = session.exec(
        select(PlanVersion).where(
            PlanVersion.plan_id == plan_id, PlanVersion.number == number
        )
    ).first()
    if found is None:
        raise NotFound
    return found


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Entries added, removed and changed between two snapshots."""
    before = {e["id"]: e for e in old["entries"]}
    after = {e["id"]: e for e in new["entries"]}
    from backend.entries.diff import word_diff

    return {
        "added": [after[i] for i in after if i not in before],
        "removed": [before[i] for i in before if i not in after],
        "changed": [
            (before[i], after[i], word_diff(before[i]["text"], after[i]["text"]))
            for i in after
            if i in before and before[i]["version"] != after[i]["version"]
        ],
    }


def working_snapshot(session: Session, plan: Plan) -> dict[str, Any]:
    """Every shared (not private, not removed) entry, each marked agreed or not."""
    partners = partner_ids(session, plan.id)
    entries = list(
        session.exec(
            select(Entry)
            .where(
                Entry.plan_id == plan.id,
                col(Entry.deleted_at).is_(None),
                col(Entry.is_draft).is_(False),
            )
            .order_by(col(Entry.created_at), col(Entry.id))
        ).all()
    )
    consents = standing_consents(session, [e.id for e in entries])
    snapshot = build_snapshot(session, plan, [(e, consents[e.id]) for e in entries])
    for item, entry in zip(snapshot["entries"], entries, strict=True):
        item["agreed"] = is_agreed(entry, consents[entry.id], partners)
    snapshot["version"] = None
    snapshot["created_at"] = utc_now().isoformat()
    return snapshot
