"""Reading an agreed snapshot: pairs are read both ways."""

from backend.consent.snapshots import reading_view


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
