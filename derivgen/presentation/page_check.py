"""The page is checked too: the two invariants every displayed derivation line obeys.

(a) A highlighted line with its highlight removed is the plain line (the notes' line), character
for character.  (b) The text outside the highlight stands unchanged, in order, in the line before
it — brackets that open or close around the change aside — so the red part covers the whole change.

:mod:`.lines` chooses the highlight so that both hold; :func:`check_rows` checks every row a
document gets once more, and a violation is a bug reported like a failed step check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from ..errors import DerivgenError

_ALERT = re.compile(r"\\alert<[^>]*>\{")
_BRACES = re.compile(r"\\.|[{}]", re.DOTALL)  # the tokens that open or close a group, escapes skipped
# brackets that may open just before the change or close just after it: the change put them there
# (the opening ones are stripped from the end, longest first: a regex anchored at the end is tried
# at every position of the line, and the lines of a long derivation are long)
_OPENING = (r"\left\{", r"\left(", r"\left[", r"\left.", r"\bigl(", "(", "[", "{")
_CLOSING = re.compile(r"^(?:\s|\\right\)|\\right\]|\\right\\\}|\\right\.|\)|\]|\}|\\bigr\))*")


class PageCheckError(DerivgenError):
    """A displayed line breaks an invariant of the page: a bug in derivgen, not in the input."""


class CheckedRow(Protocol):
    @property
    def rhs(self) -> str: ...

    @property
    def rhs_highlighted(self) -> str: ...


def split_highlight(text: str) -> tuple[str, str, str] | None:
    r"""(before, highlighted, after) of a line with one ``\alert<…>{…}``; None without one."""
    match = _ALERT.search(text)
    if match is None:
        return None
    depth = 1
    for brace in _BRACES.finditer(text, match.end()):  # an escaped brace \{ or \} is text, not a group
        depth += {"{": 1, "}": -1}.get(brace.group(), 0)
        if depth == 0:
            position = brace.end()
            break
    else:
        raise PageCheckError(f"an unclosed highlight in {text!r}")
    return text[: match.start()], text[match.end() : position - 1], text[position:]


def without_highlight(text: str) -> str:
    """The line as the notes show it."""
    pieces = split_highlight(text)
    while pieces is not None:
        before, inside, after = pieces
        text = before + inside + after
        pieces = split_highlight(text)
    return text


def outside_stands_in(before: str, after: str, previous: str) -> bool:
    """Invariant (b) for a line ``before ⟨change⟩ after``: ``before`` begins the previous line and
    ``after`` ends it, without overlapping, brackets around the change aside."""
    before = _without_opening(before)
    after = after[_CLOSING.match(after).end() :]  # type: ignore[union-attr]
    return previous.startswith(before) and previous.endswith(after) and len(before) + len(after) <= len(previous)


def _without_opening(text: str) -> str:
    """``text`` without the brackets (and spaces) that open at its end."""
    while True:
        stripped = text.rstrip()
        for opening in _OPENING:
            if stripped.endswith(opening):
                stripped = stripped[: -len(opening)]
                break
        else:
            return stripped
        text = stripped


def row_problem(row: CheckedRow, previous: str | None) -> str | None:
    """What is wrong with one row (None when nothing): ``previous`` is the plain line before it."""
    if without_highlight(row.rhs_highlighted) != row.rhs:
        return "without its highlight the line differs from the notes' line"
    pieces = split_highlight(row.rhs_highlighted)
    if pieces is not None and previous is not None and not outside_stands_in(pieces[0], pieces[2], previous):
        return "the text outside the highlight is not the line before it: the highlight misses part of the change"
    return None


def check_rows(rows: Sequence[CheckedRow], start: str | None = None) -> None:
    """Raise :class:`PageCheckError` naming the first row (1-based) that breaks (a) or (b).
    ``start`` is the plain text the first row follows (the derivative written out), if any."""
    previous = start
    for number, row in enumerate(rows, start=1):
        problem = row_problem(row, previous)
        if problem is not None:
            raise PageCheckError(f"line {number} of the derivation: {problem} (a bug in derivgen: please report it)")
        previous = row.rhs
