"""What changed between two wordings, phrase by phrase, for people to read.

Rules:
- Text is compared by phrases: a phrase ends at a line break, or after . ! ? ; : or …
  (with any closing quotes or brackets) followed by a space. A full stop followed by a
  word in lower case or a digit ("e.g. the blue mug", "approx. 10 minutes") or ending a
  dotted abbreviation ("e.g.", "i.e.") does not end one; a point inside a number or
  word ("10.30", "mutual.app") is never followed by a space, so it never splits.
- A phrase that changed a little is shown whole, before and after, with the words that
  differ marked, rather than as single struck-out and added words.
- Nothing is lost: the "same", "changed" and "added" pieces put back together are the
  new wording exactly, and the "same", "changed" and "removed" ones the old wording.
  Whitespace is not a word: phrases compare by their words, and the new spacing shows.
- A long unchanged stretch carries a short form (its first and last phrase where they
  touch a change) and how many words that leaves out; a page may show the short form
  only where the full wording is also on the page.
- Phrases are aligned by difflib; phrases that changed are paired only within a window,
  so a 4,000-character entry costs no more than difflib itself.
"""

import difflib
import re
from dataclasses import dataclass

Run = tuple[str, bool]  # some text, and whether it differs from the other wording

_WORDS = re.compile(r"^\s+|\S+\s*")
_STOP = re.compile(r"[.!?;:…]+[\"'”\u2019»)\]]*$")
_ABBREVIATION = re.compile(r"^[(\"'“\u2018]?(?:[^\W\d_]\.){2,}$")
_ALIKE = 0.5  # share of words two phrases must have in common to show as one change
_WINDOW = 20  # how many later phrases a changed phrase may be paired with
_KEEP_WORDS = 40  # an unchanged stretch shorter than this is always shown whole


@dataclass(frozen=True)
class Piece:
    kind: str  # "same", "removed", "added" or "changed"
    old: str = ""  # the earlier wording of this stretch ("" when added)
    new: str = ""  # the later wording of this stretch ("" when removed)
    old_runs: tuple[Run, ...] = ()  # the earlier wording, its differing words marked
    new_runs: tuple[Run, ...] = ()  # the later wording, its differing words marked
    head: str = ""  # an unchanged stretch, shortened: what is shown before the gap
    tail: str = ""  # ... and after it
    left_out: int = 0  # words the short form leaves out; 0 when it is not shortened

    @property
    def text(self) -> str:
        return self.new or self.old


@dataclass(frozen=True)
class _Phrase:
    text: str  # as written, with the space after it
    words: tuple[str, ...]  # for comparing: what is written, less the spacing
    plain: tuple[str, ...]  # the words less case and punctuation, for likeness

    @property
    def key(self) -> str:
        return " ".join(self.words)


def _ends_phrase(word: str, space: str, following: str) -> bool:
    if not word or not space:
        return False
    if "\n" in space:
        return True
    stop = _STOP.search(word)
    if stop is None:
        return False
    if set(stop.group()) & set("!?;:"):
        return True
    # a full stop or an ellipsis: not when the sentence plainly goes on
    starts = following[:1]
    return not (starts.islower() or starts.isdigit() or _ABBREVIATION.match(word))


def _phrases(text: str) -> list[_Phrase]:
    tokens = _WORDS.findall(text)
    phrases: list[_Phrase] = []
    start = 0
    for i, token in enumerate(tokens):
        word = token.rstrip()
        last = i + 1 == len(tokens)
        if last or _ends_phrase(word, token[len(word) :], tokens[i + 1]):
            part = tokens[start : i + 1]
            words = tuple(t.split()[0] for t in part if t.strip())
            plain = tuple(_plain(w) for w in words)
            phrases.append(_Phrase("".join(part), words, plain))
            start = i + 1
    return phrases if any(p.words for p in phrases) else []


def _likeness(a: _Phrase, b: _Phrase) -> float:
    """The share of words two phrases have in common, ignoring case and punctuation."""
    matcher = difflib.SequenceMatcher(a=a.plain, b=b.plain, autojunk=False)
    if matcher.real_quick_ratio() < _ALIKE or matcher.quick_ratio() < _ALIKE:
        return 0.0
    return matcher.ratio()


def _plain(word: str) -> str:
    return "".join(c for c in word.casefold() if c.isalnum()) or word


def _pairs(olds: list[_Phrase], news: list[_Phrase]) -> list[tuple[int, int]]:
    """Which old phrase became which new one, in order, each the likeliest ahead."""
    pairs: list[tuple[int, int]] = []
    ahead = 0
    for i, old in enumerate(olds):
        scores = [
            (_likeness(old, news[j]), -j) for j in range(ahead, len(news))[:_WINDOW]
        ]
        best, minus_j = max(scores, default=(0.0, 0))
        if best >= _ALIKE:
            pairs.append((i, -minus_j))
            ahead = 1 - minus_j
    return pairs


def _runs(old: str, new: str) -> tuple[tuple[Run, ...], tuple[Run, ...]]:
    """Both wordings whole, with the words that differ between them marked."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(
        a=[t.strip() for t in a], b=[t.strip() for t in b], autojunk=False
    )
    old_runs: list[Run] = []
    new_runs: list[Run] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        _mark(old_runs, "".join(a[a1:a2]), differs=op != "equal")
        _mark(new_runs, "".join(b[b1:b2]), differs=op != "equal")
    return tuple(old_runs), tuple(new_runs)


def _mark(runs: list[Run], text: str, *, differs: bool) -> None:
    # the space after a marked word is not part of the change
    word = text.rstrip() if differs else text
    for part, flag in ((word, differs), (text[len(word) :], False)):
        if not part:
            continue
        if runs and runs[-1][1] == flag:
            runs[-1] = (runs[-1][0] + part, flag)
        else:
            runs.append((part, flag))


def _joined(phrases: list[_Phrase]) -> str:
    return "".join(p.text for p in phrases)


def _changes(olds: list[_Phrase], news: list[_Phrase]) -> list[Piece]:
    """One stretch where the wordings differ. Phrases that are alike become changes;
    what is left between them is a removal, an addition, or (when there is both)
    one change, since unlike phrases in the same place read best side by side."""
    pairs = _pairs(olds, news) if olds and news else []
    pieces: list[Piece] = []
    i = j = 0
    for pi, pj in [*pairs, (len(olds), len(news))]:
        gone, came = _joined(olds[i:pi]), _joined(news[j:pj])
        if gone and came:
            pieces.append(_changed(gone, came))
        elif gone:
            pieces.append(Piece("removed", old=gone, old_runs=((gone, True),)))
        elif came:
            pieces.append(Piece("added", new=came, new_runs=((came, True),)))
        if pi < len(olds):
            pieces.append(_changed(olds[pi].text, news[pj].text))
        i, j = pi + 1, pj + 1
    return pieces


def _changed(old: str, new: str) -> Piece:
    old_runs, new_runs = _runs(old, new)
    return Piece("changed", old=old, new=new, old_runs=old_runs, new_runs=new_runs)


def _same(
    olds: list[_Phrase], news: list[_Phrase], *, before: bool, after: bool
) -> Piece:
    """An unchanged stretch, with its short form: the phrase next to each change
    stays, and the rest may go if that leaves out enough words to be worth it."""
    old, new = _joined(olds), _joined(news)
    keep_head, keep_tail = int(before), int(after)
    middle = news[keep_head : len(news) - keep_tail]
    left_out = sum(len(p.words) for p in middle)
    if left_out < _KEEP_WORDS:
        return Piece("same", old=old, new=new)
    head, tail = _joined(news[:keep_head]), _joined(news[len(news) - keep_tail :])
    return Piece("same", old=old, new=new, head=head, tail=tail, left_out=left_out)


def phrase_diff(old: str, new: str) -> list[Piece]:
    """The later wording against the earlier one, as unchanged stretches, removed,
    added and changed phrases, in the order they are read."""
    a, b = _phrases(old), _phrases(new)
    matcher = difflib.SequenceMatcher(
        a=[p.key for p in a], b=[p.key for p in b], autojunk=False
    )
    opcodes = matcher.get_opcodes()
    pieces: list[Piece] = []
    for n, (op, a1, a2, b1, b2) in enumerate(opcodes):
        if op == "equal":
            edges = {"before": n > 0, "after": n + 1 < len(opcodes)}
            pieces.append(_same(a[a1:a2], b[b1:b2], **edges))
        else:
            pieces.extend(_changes(a[a1:a2], b[b1:b2]))
    return pieces


def word_diff(old: str, new: str) -> list[Piece]:
    """The name the pages first knew this by; the same as phrase_diff."""
    return phrase_diff(old, new)
