"""What changed between two wordings: whole phrases, nothing lost, easy to read."""

import random

from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.entries.diff import phrase_diff, word_diff
from backend.web import templates

SAID = [
    "I go quiet when I'm scared, not when I'm angry.",
    "If I say 'lighthouse', please stay with me and keep your phone close.",
    "We sit together, e.g. on the sofa, and breathe for ten minutes.",
    "Call Jo or Priya if you can't reach me by 10.30 at night.",
    "Don't ask me why right now; ask me tomorrow.",
    "Things that help: tea, a blanket, the window open!",
    "Are you safe right now?",
    "I'll tell you honestly how it feels, even if it comes out badly.",
]


def kinds(pieces):
    return [p.kind for p in pieces]


def old_of(pieces):
    return "".join(p.old for p in pieces if p.kind != "added")


def new_of(pieces):
    return "".join(p.new for p in pieces if p.kind != "removed")


def marked(runs):
    return [text for text, differs in runs if differs]


def long_entry(seed, size=4000):
    pick = random.Random(seed)
    text = ""
    while True:
        sentence = pick.choice(SAID).replace("ten", str(len(text)))
        if len(text) + len(sentence) >= size:
            return text.strip()
        text += sentence + " "


def test_identical_wordings_are_one_unchanged_stretch():
    text = "Stay with me tonight. Keep the light on."
    assert [(p.kind, p.text) for p in phrase_diff(text, text)] == [("same", text)]
    assert phrase_diff("", "") == []


def test_from_nothing_everything_is_added():
    text = "Stay with me tonight.\nKeep the light on."
    pieces = phrase_diff("", text)
    assert kinds(pieces) == ["added"]
    assert pieces[0].new == text
    assert marked(pieces[0].new_runs) == [text]


def test_a_change_of_punctuation_shows_the_sentence_before_and_after():
    pieces = phrase_diff("Stay close. Call Jo.", "Stay close! Call Jo.")
    assert kinds(pieces) == ["changed", "same"]
    assert (pieces[0].old.strip(), pieces[0].new.strip()) == (
        "Stay close.",
        "Stay close!",
    )
    assert (marked(pieces[0].old_runs), marked(pieces[0].new_runs)) == (
        ["close."],
        ["close!"],
    )
    assert pieces[1].text == "Call Jo."


def test_one_word_changed_in_a_long_sentence_shows_both_sentences_whole():
    before = (
        "When I go quiet in the evening after a hard day at work, "
        "please sit beside me and ask me gently whether I want tea."
    )
    after = before.replace("gently", "softly")
    pieces = word_diff(f"Hello. {before} Bye.", f"Hello. {after} Bye.")
    assert kinds(pieces) == ["same", "changed", "same"]
    assert pieces[1].old.strip() == before
    assert pieces[1].new.strip() == after
    assert marked(pieces[1].old_runs) == ["gently"]
    assert marked(pieces[1].new_runs) == ["softly"]


def test_sentences_in_another_order_move_whole():
    pieces = phrase_diff("Breathe. Sit down. Call Jo.", "Call Jo. Breathe. Sit down.")
    assert [(p.kind, p.text.strip()) for p in pieces] == [
        ("added", "Call Jo."),
        ("same", "Breathe. Sit down."),
        ("removed", "Call Jo."),
    ]


def test_a_sentence_added_in_the_middle_is_one_addition():
    old = "Breathe. Sit down. Call Jo."
    new = "Breathe. Sit down. Put the kettle on, slowly. Call Jo."
    pieces = phrase_diff(old, new)
    assert kinds(pieces) == ["same", "added", "same"]
    assert pieces[1].new == "Put the kettle on, slowly. "


def test_a_changed_sentence_beside_a_new_one_is_paired_with_its_old_self():
    pieces = phrase_diff(
        "Breathe. Sit with me on the sofa. Call Jo.",
        "Breathe. Sit with me on the floor. Open the window. Call Jo.",
    )
    assert kinds(pieces) == ["same", "changed", "added", "same"]
    assert marked(pieces[1].new_runs) == ["floor."]
    assert pieces[2].new == "Open the window. "


def test_abbreviations_and_times_do_not_split_a_sentence():
    first = "Bring something small, e.g. the blue mug, at 10.30. "
    pieces = phrase_diff(first + "Then sit down.", first + "Then go for a walk.")
    assert [(p.kind, p.text) for p in pieces] == [
        ("same", first),
        ("changed", "Then go for a walk."),
    ]


def test_each_line_is_its_own_phrase():
    old = "Things that help\n- tea\n- a blanket\n- the window open"
    new = "Things that help\n- tea\n- a heavy blanket\n- the window open"
    pieces = phrase_diff(old, new)
    assert kinds(pieces) == ["same", "changed", "same"]
    assert pieces[0].text == "Things that help\n- tea\n"
    assert pieces[1].new == "- a heavy blanket\n"
    assert marked(pieces[1].new_runs) == ["heavy"]
    assert new_of(pieces) == new


def test_emoji_and_accents_are_words_like_any_other():
    old = "Text me 💛 when you\u2019re home. Ça va?"
    new = "Text me 💚 when you\u2019re home. Ça va?"
    pieces = phrase_diff(old, new)
    assert kinds(pieces) == ["changed", "same"]
    assert (marked(pieces[0].old_runs), marked(pieces[0].new_runs)) == (["💛"], ["💚"])
    assert pieces[1].text == "Ça va?"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab .!?;:\n💛é,", max_size=60),
    st.text(alphabet="ab .!?;:\n💛é,", max_size=60),
)
def test_nothing_is_lost_either_way(old, new):
    pieces = phrase_diff(old, new)
    if old.strip():
        assert old_of(pieces) == old
    if new.strip():
        assert new_of(pieces) == new
    for piece in (p for p in pieces if p.kind != "same"):
        assert "".join(t for t, _ in piece.old_runs) == (
            piece.old if piece.kind != "added" else ""
        )
        assert "".join(t for t, _ in piece.new_runs) == (
            piece.new if piece.kind != "removed" else ""
        )


def test_a_long_entry_with_a_few_changes_stays_a_few_pieces():
    old = long_entry(1)
    assert 3900 <= len(old) <= 4000
    new = old.replace("Are you safe right now?", "Are you safe, right now?", 1)
    new = new.replace("Call Jo or Priya", "Call Sam or Priya", 1)
    new = new + " One more thing: I love you."
    pieces = phrase_diff(old, new)
    assert (old_of(pieces), new_of(pieces)) == (old, new)
    changes = [p for p in pieces if p.kind != "same"]
    assert [p.kind for p in changes] == ["changed", "changed", "added"]
    assert {m for p in changes for m in marked(p.new_runs)} == {
        "safe,",
        "Sam",
        "One more thing: I love you.",
    }
    assert any(p.left_out >= 40 for p in pieces if p.kind == "same")


def test_two_long_entries_with_nothing_in_common_stay_readable():
    old = long_entry(2)
    new = " ".join(f"On day {n} we walked by the river." for n in range(110))
    pieces = phrase_diff(old, new)
    assert (old_of(pieces), new_of(pieces)) == (old, new)
    assert kinds(pieces) == ["changed"]


def test_one_long_sentence_without_stops_changes_by_its_words():
    words = [f"word{i}" for i in range(700)]
    old = " ".join(words)
    new = old.replace("word350 ", "something else ")
    assert len(old) >= 4000
    pieces = phrase_diff(old, new)
    assert kinds(pieces) == ["changed"]
    assert marked(pieces[0].old_runs) == ["word350"]
    assert marked(pieces[0].new_runs) == ["something else"]


def render(pieces, **options):
    macro = templates.env.get_template("_macros/entries.html").module.diff
    return BeautifulSoup(str(macro(pieces, **options)), "html.parser")


def test_changes_are_marked_for_eyes_and_screen_readers_alike():
    html = render(
        phrase_diff(
            "Stay with me <b>tonight</b>. Call Jo.",
            "Stay with me all night & more. Call Jo. Breathe.",
        )
    )
    block = html.select(".diff-change")
    assert len(block) == 2
    labels = [s.text for s in html.select(".diff-label")]
    assert labels == ["was", "now", "added"]
    assert all(s["aria-hidden"] == "true" for s in html.select(".diff-label"))
    assert html.find("del").select_one(".visually-hidden").text == "removed: "
    assert html.find("del").text == "removed: Stay with me <b>tonight</b>."
    assert html.find("del").find("b") is None
    assert html.find("del").mark.text == "<b>tonight</b>."
    ins = html.find_all("ins")
    assert [i.select_one(".visually-hidden").text for i in ins] == ["added: "] * 2
    assert ins[0].mark.text == "all night & more."
    assert ins[1].text == "added: Breathe."
    assert "Call Jo." in html.get_text()


def test_a_clash_names_the_two_sides():
    html = render(phrase_diff("Stay close.", "Stay near."), yours=True)
    assert [s.text for s in html.select(".diff-label")] == ["yours", "saved"]
    assert html.find("del").text == "in your words: Stay close."
    assert html.find("ins").text == "in the saved wording: Stay near."


def test_a_brief_view_leaves_out_only_unchanged_words_and_says_so():
    old = long_entry(4)
    new = old.replace("Are you safe right now?", "Are you safe, right now?")
    pieces = phrase_diff(old, new)
    whole, brief = render(pieces), render(pieces, brief=True)
    assert not whole.select(".diff-gap")
    assert all(p.text in whole.get_text() for p in pieces if p.kind == "same")
    gaps = brief.select(".diff-gap")
    assert gaps
    assert all("unchanged words, not repeated here" in g.text for g in gaps)
    assert len(brief.get_text()) < len(whole.get_text()) / 2
    assert [m.text for m in brief.find_all("mark")] == [
        m.text for m in whole.find_all("mark")
    ]
