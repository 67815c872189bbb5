"""Text on a page: trusted LaTeX (:class:`Latex`), free text escaped so that it typesets literally with
its ``$…$`` maths checked and typeset (:func:`text_latex`), and :class:`Plain` text without maths.

Used by the printer (labels, notes) and by the templates' ``finalize`` hook alike.
"""

from __future__ import annotations

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
    """Free text → LaTeX that typesets it literally (no command in it runs)."""
    text = " ".join(str(value).split())  # one line: a newline must not end a TeX comment or paragraph
    # < > | print as themselves in the T1 font encoding; pylatex writes ^ as an accent (ˆ)
    text = str(escape_latex(text)).replace(r"\^{}", r"\textasciicircum{}")
    for char, replacement in _MATH_CHARACTERS.items():  # symbols the text fonts lack
        text = text.replace(char, replacement)
    # what LaTeX's utf8 input cannot typeset would stop TeX: a visible "?" instead
    return "".join(char if ord(char) <= _LAST_TYPESET or char in _MATH_CHARACTERS else "?" for char in text)


_LAST_TYPESET = 0x24F  # Latin-1, Latin Extended-A and -B: covered by inputenc/T1


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
