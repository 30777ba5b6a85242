"""The documents Mutual writes for people to keep, their versions and schemas.

- "mutual-export" (backend.export.data): everything one person wrote.
- "mutual-plan": one agreed version of one plan, as both partners read it, with
  who wrote each wording. It travels inside the agreed PDF (an embedded file)
  and is what a new plan can be started from (backend.plans.importing).

Each has a JSON schema in backend/export/schemas/, described in docs/export.md.
This module reads no database, so the PDF workers can use it.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

EXPORT_FORMAT = "mutual-export"
PLAN_FORMAT = "mutual-plan"
VERSION = 1
PLAN_FILE = "mutual-plan.json"  # its name inside the agreed PDF
SCHEMAS = Path(__file__).parent / "schemas"


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON schema of `name` ("mutual-export" or "mutual-plan"), version 1."""
    loaded: dict[str, Any] = json.loads(
        (SCHEMAS / f"{name}.v{VERSION}.json").read_text(encoding="utf-8")
    )
    return loaded


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for `name`'s schema, which may refer to the other one."""
    registry: Registry[Any] = Registry().with_resources(
        (f"{n}.v{VERSION}.json", Resource.from_contents(schema(n)))
        for n in (EXPORT_FORMAT, PLAN_FORMAT)
    )
    return Draft202012Validator(schema(name), registry=registry)


def plan_document(snapshot: dict[str, Any]) -> dict[str, Any]:
    """One agreed version of a plan (a snapshot) as a "mutual-plan" document."""

    def entry(item: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item["id"],
            "section": item["section"],
            "owner_id": item["owner_id"],
            "author_id": item["author_id"],
            "author_name": item["author_name"],
            "text": item["text"],
            "written_at": item["written_at"],
            "answers": list(item.get("answers", [])),
            "agreed_by": [
                {"account_id": c["account_id"], "name": c["name"], "at": c["at"]}
                for c in item.get("consents", [])
            ],
        }

    return {
        "format": PLAN_FORMAT,
        "version": VERSION,
        "title": snapshot["plan"]["title"],
        "agreed_version": snapshot.get("version"),
        "made_at": snapshot["created_at"],
        "words_removed_at": snapshot.get("words_removed_at"),
        "partners": [
            {"id": p["id"], "name": p["name"], "slot": p["slot"]}
            for p in snapshot["partners"]
        ],
        "entries": [entry(e) for e in snapshot["entries"]],
        "taken_back": [
            {**entry(e), "taken_back_by": e["by_name"], "taken_back_at": e["at"]}
            for e in snapshot.get("taken_back", [])
        ],
    }


def plan_json(snapshot: dict[str, Any]) -> bytes:
    return json.dumps(plan_document(snapshot), ensure_ascii=False, indent=1).encode()
