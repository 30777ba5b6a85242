"""Reading a snapshot of the agreed plan: grouped the way people read it."""

from typing import Any

from backend.entries.sections import PERSONAL, SHARED


def reading_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Sections in order: each partner's personal ones, then the shared ones."""
    entries = snapshot["entries"]
    by_id = {e["id"]: e for e in entries}
    partners = snapshot["partners"]
    names = {p["id"]: p["name"] for p in partners}
    personal = []
    for partner in partners:
        groups = [
            (
                spec,
                [
                    e
                    for e in entries
                    if e["section"] == spec.key and e["owner_id"] == partner["id"]
                ],
            )
            for spec in PERSONAL
        ]
        groups = [(spec, items) for spec, items in groups if items]
        if groups:
            personal.append((partner, groups))
    shared = [
        (spec, [e for e in entries if e["section"] == spec.key]) for spec in SHARED
    ]
    return {
        "personal": personal,
        "shared": [(spec, items) for spec, items in shared if items],
        "answers": {
            e["id"]: [
                (by_id[t], names.get(by_id[t]["owner_id"] or "", ""))
                for t in e.get("answers", [])
                if t in by_id
            ]
            for e in entries
        },
        # the other way round: under each hot button or reaction, the agreed
        # responses that answer it (a pair is read together)
        "answered_by": _answered_by(entries),
        "count": len(entries),
        "slots": {p["id"]: p["slot"] for p in partners},
        "names": names,
        # taken back, to talk about: listed apart, never followed as agreed
        "taken_back": snapshot.get("taken_back", []),
    }


def _answered_by(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_id = {e["id"]: e for e in entries}
    pairs: dict[str, list[dict[str, Any]]] = {e["id"]: [] for e in entries}
    for response in entries:
        for target in response.get("answers", []):
            if target in by_id:
                pairs[target].append(response)
    return pairs


FORMER = "a former partner"  # as backend.members names someone no longer in the plan


def attribution(entry: dict[str, Any], names: dict[str, str]) -> str:
    """Whose words an entry's wording is, in plain words and with no dates (times of
    each yes live in the history): "Sam's words, heard by Alex" on a personal entry;
    "Written by Sam, agreed by both" on a shared one (invariant 7)."""
    owner = entry.get("owner_id")
    if owner:
        heard = [
            c["name"] or FORMER for c in entry["consents"] if c["account_id"] != owner
        ]
        words = f"{names.get(owner) or FORMER}'s words"
        line = f"{words}, heard by {' and '.join(heard)}" if heard else words
        return line[:1].upper() + line[1:]
    first = entry.get("first_author_name") or entry["author_name"] or FORMER
    line = f"Written by {first}"
    if entry["author_name"] and entry["author_name"] != first:
        line += f", this wording by {entry['author_name']}"
    return line + ", agreed by both" if entry.get("agreed", True) else line
