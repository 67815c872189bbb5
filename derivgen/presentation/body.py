"""A whole result as the body of an ``align*`` environment, walking its parts (the printer the package's
front door attaches to results, :mod:`.notebook`, uses it for their ``latex()``)."""

from __future__ import annotations

from ..calculus.model import DerivationResult, Part
from .lines import display_lines, line_latex
from .matrices import collect_forms, left_side
from .printer import to_latex
from .text import escape_text


def result_body(result: DerivationResult, detail: str = "normal") -> str:
    """``lhs &= … && \\text{rule}`` rows of every part; a part that goes on from the one before
    follows it directly, separate parts (the entries of a gradient) get a little space."""
    body = ""
    for index, part in enumerate(result.parts):
        rows = part_rows(part, detail)
        if index:
            body += " \\\\\n" if part.continues else " \\\\[0.6em]\n"
        body += " \\\\\n".join(rows)
    return body


def part_rows(part: Part, detail: str) -> list[str]:
    """The ``align*`` rows of one part."""
    return [
        f"{lhs} &= {rhs} &&" + (r" \text{%s}" % escape_text(label) if label else "")
        for lhs, rhs, label in part_lines(part, detail)
    ]


def part_lines(part: Part, detail: str) -> list[tuple[str, str, str]]:
    """The lines of one part as (left side or "", LaTeX right of the "=", rule label or "")."""
    if part.collected is not None:
        collect = part.collected.collect
        assert collect is not None, "a collecting part has its collecting step"
        return [(left_side(part.left), " = ".join(collect_forms(part.collected, detail)), collect.label)]
    derivation = part.derivation
    assert derivation is not None, "a part shows either lines or a collecting step"
    partial = derivation.partial
    start = left_side(part.left, derivation.start, partial)
    lines = display_lines(derivation, detail)
    if not lines:  # already final, as d/dx f(x) = f'(x) for an undefined f
        return [(start, to_latex(derivation.result, partial, written=derivation.written), "")]
    return [(start if i == 0 else "", line_latex(line, partial), line.label) for i, line in enumerate(lines)]
