"""A result as text and as an HTML table: what ``derivgen derive`` prints, and what a notebook shows; and
the printer the package's front door (derivgen.api) attaches to results, so the calculus model never imports
the presentation.

``str(result)`` is the CLI's text form; ``result._repr_html_()`` a table of the displayed lines and their
rules, the maths as ``\\(…\\)`` that Jupyter's MathJax typesets, every value HTML-escaped; ``latex()`` and
``_repr_latex_()`` the ``align*`` body (:mod:`.body`).
"""

from __future__ import annotations

import html

import sympy

from ..calculus.model import ChainInfo, Derivation, DerivationResult
from .body import part_lines, result_body
from .lines import display_lines
from .printer import to_latex, to_text


def result_text(derivation: DerivationResult, detail: str = "normal") -> str:
    """The terminal text: every part's lines (announced by its heading), then the result."""
    lines = []
    for part in derivation.parts:
        if part.heading is not None:
            lines.append(f"[{part.heading}]")
        if part.derivation is not None:
            shown = _derivation_lines(part.derivation, detail)
            lines.extend(shown[1:] if part.continues else shown)
    result = derivation.result
    written = (
        [[to_text(e) for e in result.row(i)] for i in range(result.rows)]
        if isinstance(result, sympy.MatrixBase)
        else to_text(result)
    )
    lines.append(f"result: {written}    ({derivation.check_note})")
    return "\n".join(lines)


def _derivation_lines(derivation: Derivation, detail: str) -> list[str]:
    lines = [to_text(derivation.start, operator=True, written=derivation.written)]
    for line in display_lines(derivation, detail):
        lines.append(f"  = {to_text(line.expression, written=derivation.written)}    [{line.label}]")
        for step in line.steps:
            if isinstance(step.chain, ChainInfo):
                chain = step.chain
                lines.append(
                    f"      with {chain.variable} = {to_text(chain.inner)}: "
                    f"d/d{chain.variable}({to_text(chain.outer)}) = {to_text(chain.outer_derivative)}"
                )
        lines.extend(f"      note ({label}): {note}" for label, note in line.notes)
    return lines


_LEFT = ' style="text-align:left"'  # Jupyter centres or right-aligns table cells


def result_html(derivation: DerivationResult, detail: str = "normal") -> str:
    """A table: each displayed line (``lhs = …`` in maths) beside its rule label; the result below."""
    rows = []
    for part in derivation.parts:
        if part.heading is not None:
            rows.append(f'<tr><th colspan="2"{_LEFT}>{html.escape(part.heading)}</th></tr>')
        for lhs, rhs, label in part_lines(part, detail):
            maths = _maths(f"{lhs} = {rhs}" if lhs else f"\\qquad = {rhs}")
            rows.append(f"<tr><td{_LEFT}>{maths}</td><td{_LEFT}>{html.escape(label)}</td></tr>")
    result = _maths(to_latex(derivation.result))
    note = html.escape(derivation.check_note)
    return "\n".join(
        [
            '<table class="derivgen-derivation">',
            f"<thead><tr><th{_LEFT}>line</th><th{_LEFT}>rule</th></tr></thead>",
            "<tbody>",
            *rows,
            "</tbody>",
            f'<tfoot><tr><td colspan="2"{_LEFT}>result: {result} ({note})</td></tr></tfoot>',
            "</table>",
        ]
    )


def _maths(tex: str) -> str:
    r"""Inline maths for MathJax, displaystyle; escaped (a ``<`` in maths must not open a tag)."""
    return html.escape(f"\\(\\displaystyle {tex}\\)", quote=False)


class LecturePresenter:
    """The lecturer's printer, for a result's ``latex()``, ``_repr_latex_()``, ``to_dict()``, ``str()`` and
    ``_repr_html_()``."""

    def expression(self, expr: sympy.Basic) -> str:
        return to_latex(expr)

    def body(self, result: DerivationResult, detail: str) -> str:
        return result_body(result, detail)

    def text(self, result: DerivationResult, detail: str) -> str:
        return result_text(result, detail)

    def html(self, result: DerivationResult, detail: str) -> str:
        return result_html(result, detail)


LECTURE_PRESENTER = LecturePresenter()
