"""Cleaning what people type, before any rule or database sees it."""

import re
import unicodedata

# C0 and C1 controls except tab and newline; also bidi overrides and lone surrogates
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def clean_text(raw: str) -> str:
    """NFC, newlines as \\n, control characters other than tab and newline dropped."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text)


def clean_line(raw: str) -> str:
    """One line of text: cleaned, inner whitespace collapsed, trimmed."""
    return " ".join(clean_text(raw).split())
