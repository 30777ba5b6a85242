"""Every script prints: each in a real font, none as empty boxes, right-to-left in
its own order.

The fonts are the system's (Debian's Noto families, see .ci/run); poppler's
pdffonts and pdftotext read the PDF as a reader's tools would.
"""

import io
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from backend.export.pdf import render_pdf
from tests.unit.test_pdf import entry, poppler, snapshot

pytestmark = pytest.mark.slow

SENTENCES = {
    "Latin": "We stay close, even when it is hard.",
    "Greek": "Μένουμε κοντά, ακόμα κι όταν είναι δύσκολο.",
    "Cyrillic": "Мы остаёмся рядом, даже когда трудно.",
    "Arabic": "نبقى قريبين حتى عندما يكون صعبا.",
    "Hebrew": "אנחנו נשארים קרובים גם כשקשה.",
    "Devanagari": "मुश्किल होने पर भी हम पास रहते हैं।",
    "Chinese": "即使很难\uff0c我们也在一起。",
    "Japanese": "つらい時も、そばにいます。",
    "Korean": "힘들 때도 우리는 곁에 있어요.",
    "emoji": "🌊 💛 🫂 🙂",
}
# the family each script must be printed in (pdffonts names them with dashes)
FAMILIES = {
    "Latin": "Noto-Sans",
    "Arabic": "Noto-Sans-Arabic",
    "Hebrew": "Noto-Sans-Hebrew",
    "Devanagari": "Noto-Sans-Devanagari",
    "Chinese": "Noto-Sans-CJK-SC",
    "emoji": "Noto-Color-Emoji",
}
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def save(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "plan.pdf"
    path.write_bytes(data)
    return path


def embedded_fonts(path: Path) -> dict[str, list[str]]:
    """pdffonts' table: each font's name without its subset tag, and its columns."""
    rows = poppler("pdffonts", str(path)).splitlines()[2:]
    fonts = {}
    for row in rows:
        name, *columns = row.split()
        fonts[name.split("+", 1)[-1]] = columns
    return fonts


def text_by_font(data: bytes) -> dict[str, str]:
    found: dict[str, str] = defaultdict(str)

    def visit(text: str, cm: object, tm: object, font: object, size: object) -> None:
        if isinstance(font, dict) and "/BaseFont" in font:
            found[str(font["/BaseFont"]).split("+", 1)[-1]] += text

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return found


def system_font(name: str) -> TTFont:
    """The installed font a PDF font name (e.g. Noto-Sans-CJK-SC) was made from."""
    family = name.removesuffix("-Bold").replace("-", " ")
    pattern = f"{family}:style={'Bold' if name.endswith('-Bold') else 'Regular'}"
    fc_match = shutil.which("fc-match")
    assert fc_match is not None, "fc-match is missing: apt-get install fontconfig"
    found = subprocess.run(  # noqa: S603 (a fixed tool and our own pattern)
        [fc_match, "--format=%{file}\n%{index}", pattern],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return TTFont(found[0], fontNumber=int(found[1] or 0), lazy=True)


def missing_glyphs(data: bytes) -> dict[str, set[str]]:
    """For each font in the PDF, the characters it printed but has no glyph for:
    those came out as .notdef, the empty box."""
    missing = {}
    for name, text in text_by_font(data).items():
        with system_font(name) as font:
            cmap = font.getBestCmap()
        lacking = {c for c in text if not c.isspace() and ord(c) not in cmap}
        if lacking:
            missing[name] = lacking
    return missing


@pytest.fixture(scope="module")
def every_script() -> bytes:
    entries = [entry("signals", sentence) for sentence in SENTENCES.values()]
    return render_pdf(snapshot(entries))


def test_each_script_is_printed_in_a_real_embedded_font(
    every_script: bytes, tmp_path: Path
) -> None:
    fonts = embedded_fonts(save(tmp_path, every_script))
    for script, family in FAMILIES.items():
        assert family in fonts, f"{script} was not printed in {family}: {fonts}"
    for name, columns in fonts.items():
        # emb, sub and uni: embedded, subset, and mapped back to text
        assert columns[-5:-2] == ["yes", "yes", "yes"], name
        assert name.startswith("Noto-"), f"{name} is not one of ours"
    # pdftotext may split a word between two clusters (Devanagari): compare the
    # letters without spaces
    text = "".join(poppler("pdftotext", str(save(tmp_path, every_script)), "-").split())
    for script, sentence in SENTENCES.items():
        if script not in ("Arabic", "Hebrew"):  # their order: the test below
            assert "".join(sentence.split()) in text, script


def test_no_character_is_an_empty_box(every_script: bytes) -> None:
    assert missing_glyphs(every_script) == {}


def test_the_check_finds_an_empty_box() -> None:
    """A character no font has (a private-use one) is caught as missing."""
    data = render_pdf(snapshot([entry("signals", "Our sign: \U0010fffd")]))
    assert missing_glyphs(data) != {}


def test_right_to_left_text_keeps_its_order(
    every_script: bytes, tmp_path: Path
) -> None:
    text = BIDI_CONTROLS.sub(
        "", poppler("pdftotext", str(save(tmp_path, every_script)), "-")
    )
    for script in ("Arabic", "Hebrew"):
        words = SENTENCES[script].rstrip(".").split()
        line = next(line for line in text.splitlines() if words[0] in line)
        assert " ".join(words) in " ".join(line.split()), script


def test_right_to_left_sets_the_whole_line_right_to_left(tmp_path: Path) -> None:
    """In a Hebrew line with an English word, the line starts at the right: its
    first Hebrew words are right of the English word, its last ones left of it."""
    mixed = "כשאני אומר lighthouse אתה נשאר איתי"
    path = save(tmp_path, render_pdf(snapshot([entry("signals", mixed)])))
    words = re.findall(
        r'<word xMin="([\d.]+)"[^>]*>([^<]+)</word>',
        poppler("pdftotext", "-bbox", str(path), "-"),
    )
    # pdftotext gives each word's letters as they stand on the page, left to right
    x = {word[::-1]: float(left) for left, word in words}
    assert x["כשאני"] > x["esuohthgil"] > x["איתי"]
