"""Text on a page: trusted LaTeX (:class:`Latex`), free text escaped so that it typesets literally with
its ``$…$`` maths checked and typeset (:func:`text_latex`), and :class:`Plain` text without maths.

Used by the printer (labels, notes) and by the templates' ``finalize`` hook alike.
"""

from __future__ import annotations

import bisect
import unicodedata
from typing import Any

from pylatex.utils import escape_latex

from ..input.mathtext import math_latex, segments


class Latex(str):
    """Trusted LaTeX, printed as it is; every other template value is escaped."""

    __slots__ = ()


class Plain(str):
    """Text printed literally, dollars included: data that is not a lecturer's text field (a student's
    name from a roster, a date), where ``$`` means a dollar."""

    __slots__ = ()


def text_latex(text: str) -> str:
    r"""A text field → LaTeX: the text escaped, each ``$…$`` checked against the allow-list and typeset
    as inline maths, ``\$`` a dollar.  Raises :class:`~derivgen.input.mathtext.MathTextError` rather
    than emit maths that does not pass (loading a file checks first, with file:line:column)."""
    out = []
    for part in segments(text):
        if part.math:
            out.append("$" + math_latex(part.text) + "$")
            continue
        words = escape_text(part.text)  # strips the spaces that separate it from the maths: put them back
        if not words:
            out.append(" " if part.text else "")
        else:
            out.append((" " if part.text[0].isspace() else "") + words + (" " if part.text[-1].isspace() else ""))
    return "".join(out).strip()


def escape_text(value: Any) -> str:
    """Free text → LaTeX that typesets it literally (no command in it runs).

    A character the fonts lack never reaches TeX (it would stop the build): it loses its accents
    where that leaves letters the fonts have (ư → u, ǚ → u, ễ → e), else it becomes a visible "?"
    (李, control characters)."""
    text = " ".join(str(value).split())  # one line: a newline must not end a TeX comment or paragraph
    text = "".join(_typesettable(char) for char in unicodedata.normalize("NFC", text))
    # < > | print as themselves in the T1 font encoding; pylatex writes ^ as an accent (ˆ)
    text = str(escape_latex(text)).replace(r"\^{}", r"\textasciicircum{}")
    for char, replacement in _MATH_CHARACTERS.items():  # symbols the text fonts lack
        text = text.replace(char, replacement)
    return text


def typesets(text: str) -> bool:
    """Whether every character of ``text`` is printed as it is (none becomes "?" or loses an accent)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    return all(_typesettable(char) == char for char in text)


def _typesettable(char: str) -> str:
    if char in _MATH_CHARACTERS or _in_fonts(char):
        return char
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return plain if plain and all(_in_fonts(c) or c in _MATH_CHARACTERS for c in plain) else "?"


def _in_fonts(char: str) -> bool:
    point = ord(char)
    index = bisect.bisect_right(_TYPESET_STARTS, point) - 1
    return index >= 0 and point <= _TYPESET[index][1]


# Every character LaTeX typesets in the templates' setup (utf8 inputenc, T1 fontenc, lmodern; roman,
# sans, bold, italic), measured with pdflatex of TeX Live 2022 and \tracinglostchars=3 (a glyph the
# font lacks is an error too): first and last code point of each run.  tests/test_unicode_text.py
# typesets all of them in one run.
_TYPESET: tuple[tuple[int, int], ...] = tuple(
    (int(run[:4], 16), int(run[-4:], 16))
    for run in (
        "0020-007E 00A0-0125 0128-0137 0139-013E 0141-0148 014A-0165 0168-017E 0192 01C4-01D4 01E2-01E3 01E6-01EB "
        "01F0 01F4-01F5 0218-021B 0232-0233 0237 02C6-02C7 02D8-02D9 02DB-02DD 1E02-1E03 1E0D 1E1E-1E21 1E25 "
        "1E30-1E31 1E37 1E43 1E45 1E47 1E5B 1E63 1E6D 1E8E-1E91 1E9E 1EF2-1EF3 200C 2010-2016 2018-201A 201C-201E "
        "2020-2022 2026 2030-2031 2039-203B 203D 2044 204E 2052 20A1 20A4 20A6 20A9 20AB-20AC 20B1 2103 2116-2117 "
        "211E 2120 2122 2126-2127 212E 2190-2193 25E6 25EF FB00-FB06 3008-3009"
    ).split()
)
_TYPESET_STARTS = [first for first, _ in _TYPESET]


_MATH_CHARACTERS = {
    "—": "---",
    "–": "--",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "…": r"\ldots{}",
    "€": "EUR",
    "→": r"\ensuremath{\to}",
    "−": "-",
    "·": r"\ensuremath{\cdot}",
    "×": r"\ensuremath{\times}",
    "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}",
    "≠": r"\ensuremath{\neq}",
    "∇": r"\ensuremath{\nabla}",
    "∂": r"\ensuremath{\partial}",
    "Σ": r"\ensuremath{\Sigma}",
    "δ": r"\ensuremath{\delta}",
    "σ": r"\ensuremath{\sigma}",
    "ᵀ": r"\ensuremath{^{T}}",
    "²": r"\ensuremath{^{2}}",
    "³": r"\ensuremath{^{3}}",
}
