"""Characters the fonts lack never reach TeX: free text keeps what typesets, the rest loses its accents
or becomes "?" — checked against the real pdflatex."""

from __future__ import annotations

import pytest

from derivgen.documents.compile import compile_tex
from derivgen.presentation.text import _TYPESET, escape_text, typesets


@pytest.mark.parametrize(
    ("text", "escaped", "whole"),
    [
        ("Émile Borel", "Émile Borel", True),
        ("Łukasz Żółć", "Łukasz Żółć", True),
        ("e\u0301cole", "école", True),  # a combining accent is composed first
        ("Nguyễn Thị Ánh", "Nguyen Thi Ánh", False),  # Vietnamese: the fonts have no ễ, ị
        ("ư ǚ", "u u", False),
        ("a\x01b\x7fc\x9bd", "a?b?c?d", False),  # control characters
        ("李明", "??", False),
        ("Ħ", "?", False),  # a letter without a plain form
        ("50 % & #1", r"50 \% \& \#1", True),
        ("x→y — a–b", r"x\ensuremath{\to}y --- a--b", True),
    ],
)
def test_escape_text(text, escaped, whole):
    assert escape_text(text) == escaped
    assert typesets(text) == whole


def test_every_character_the_table_allows_typesets_and_others_do_not_stop_tex():
    allowed = "".join(chr(point) for first, last in _TYPESET for point in range(first, last + 1))
    others = "ư ǚ ễ 李明 한국어 Ħ ŉ \x01\x02\x7f\x80\x9f \u0301 ∮ ☃ 😀 ℵ"
    body = "\n\n".join(
        rf"{{{family} {escape_text(allowed)} {escape_text(others)}}}"
        for family in (r"\rmfamily", r"\sffamily\bfseries", r"\itshape")
    )
    source = (
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
        "\\usepackage{lmodern}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
        "\\tracinglostchars=3 % a glyph the font lacks is an error, not a warning\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    result = compile_tex(source, "unicode", single_pass=True)
    assert "Missing character" not in result.log
