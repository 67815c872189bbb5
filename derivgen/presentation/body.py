"""A whole result as the body of an ``align*`` environment, walking its parts; and the printer that
the package's front door attaches to results for their ``latex()`` and ``to_dict()``."""

from __future__ import annotations

import sympy

from ..calculus.model import Derivation, DerivationResult, Part
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
    if part.collected is not None:
        collect = part.collected.collect
        assert collect is not None, "a collecting part has its collecting step"
        forms = " = ".join(collect_forms(part.collected, detail))
        return [f"{left_side(part.left)} &= {forms} && \\text{{{escape_text(collect.label)}}}"]
    derivation = part.derivation
    assert derivation is not None, "a part shows either lines or a collecting step"
    return derivation_rows(derivation, part, detail)


def derivation_rows(derivation: Derivation, part: Part, detail: str) -> list[str]:
    partial = derivation.partial
    start = left_side(part.left, derivation.start, partial)
    lines = display_lines(derivation, detail)
    if not lines:  # already final, as d/dx f(x) = f'(x) for an undefined f
        return [f"{start} &= {to_latex(derivation.result, partial, written=derivation.written)} &&"]
    rows = []
    for i, line in enumerate(lines):
        label = r"\text{%s}" % escape_text(line.label)
        rows.append(f"{start if i == 0 else ''} &= {line_latex(line, partial)} && {label}")
    return rows


class LecturePresenter:
    """The lecturer's printer, for a result's ``latex()``, ``_repr_latex_()`` and ``to_dict()``."""

    def expression(self, expr: sympy.Basic) -> str:
        return to_latex(expr)

    def body(self, result: DerivationResult, detail: str) -> str:
        return result_body(result, detail)


LECTURE_PRESENTER = LecturePresenter()
