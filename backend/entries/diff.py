"""Word-level differences between two wordings, for people to read."""

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    kind: str  # "same", "ins" or "del"
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """The new wording as runs of kept, inserted and deleted words."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(Piece("same", "".join(a[a1:a2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(Piece("del", "".join(a[a1:a2])))
        if op in ("insert", "replace"):
            pieces.append(Piece("ins", "".join(b[b1:b2])))
    return [p for p in pieces if p.text]
