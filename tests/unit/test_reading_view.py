"""Reading an agreed snapshot: pairs are read both ways; whose words, plainly."""

from typing import Any

import pytest

from backend.consent.snapshots import attribution, reading_view


def _entry(
    id_: str, section: str, owner: str | None, answers: tuple[str, ...] = ()
) -> dict[str, object]:
    return {
        "id": id_,
        "section": section,
        "owner_id": owner,
        "text": f"words of {id_}",
        "answers": list(answers),
    }


def test_a_hot_button_lists_the_agreed_responses_that_answer_it() -> None:
    snapshot = {
        "partners": [
            {"id": "a", "name": "Sam", "slot": 1},
            {"id": "b", "name": "Alex", "slot": 2},
        ],
        "entries": [
            _entry("h1", "hot_buttons", "a"),
            _entry("h2", "hot_buttons", "b"),
            _entry("r1", "edge_responses", None, ("h1", "gone")),
            _entry("r2", "edge_responses", None, ("h1",)),
        ],
    }
    view = reading_view(snapshot)
    assert [r["id"] for r in view["answered_by"]["h1"]] == ["r1", "r2"]
    assert view["answered_by"]["h2"] == []
    # a response that answers an entry no longer in the snapshot pairs with nothing
    assert [t["id"] for t, _ in view["answers"]["r1"]] == ["h1"]


NAMES = {"s": "Sam", "a": "Alex"}


def _yes(who: str) -> dict[str, str]:
    return {"account_id": who, "name": NAMES.get(who, ""), "at": "2026-11-21"}


@pytest.mark.parametrize(
    ("item", "said"),
    [
        (
            {"owner_id": "s", "consents": [_yes("s"), _yes("a")]},
            "Sam's words, heard by Alex",
        ),
        ({"owner_id": "s", "consents": [_yes("s")]}, "Sam's words"),
        (
            {"owner_id": "s", "consents": [_yes("s"), _yes("gone")]},
            "Sam's words, heard by a former partner",
        ),
        (
            {"owner_id": "gone", "consents": [_yes("gone"), _yes("a")]},
            "A former partner's words, heard by Alex",
        ),
        (
            {"owner_id": None, "author_name": "Sam", "first_author_name": "Sam"},
            "Written by Sam, agreed by both",
        ),
        (
            {"owner_id": None, "author_name": "Alex", "first_author_name": "Sam"},
            "Written by Sam, this wording by Alex, agreed by both",
        ),
        (
            {
                "owner_id": None,
                "author_name": "Sam",
                "first_author_name": "Sam",
                "agreed": False,
            },
            "Written by Sam",
        ),
    ],
)
def test_attribution_says_whose_words_without_dates(
    item: dict[str, Any], said: str
) -> None:
    assert attribution(item, NAMES) == said
