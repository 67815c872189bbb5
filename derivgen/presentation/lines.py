"""Which steps get a line of their own at each detail level, and the LaTeX of those lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy
from sympy import Derivative
from sympy.core.function import AppliedUndef

from ..calculus.model import ChainProduct, Derivation, Step
from ..calculus.rules.base import COSMETIC, STRUCTURAL, TRIVIAL
from ..options import DETAILS
from .printer import LectureLatexPrinter, to_latex


@dataclass(frozen=True)
class DisplayLine:
    """One displayed line ``= expression`` and the steps it stands for."""

    steps: tuple[Step, ...]
    written: frozenset[sympy.Basic] = frozenset()  # the derivation's sums as typed (printed in that order)

    @property
    def expression(self) -> sympy.Expr:
        """What the line shows: the last step's result, unless that step only reordered."""
        shown = [step for step in self.steps if step.level != COSMETIC]
        return (shown or self.steps)[-1].after

    @property
    def labels(self) -> list[str]:
        """Labels of the line's most important steps, each once: a line that merged trivial
        steps (constants, dropping zeros) into a rule is labelled by that rule alone."""
        top = max(step.level for step in self.steps)
        return list(dict.fromkeys(step.label for step in self.steps if step.level == top))

    @property
    def label(self) -> str:
        return ", ".join(self.labels)

    @property
    def notes(self) -> list[tuple[str, str]]:
        """(label of the step, its note in LaTeX), each once."""
        return list(dict.fromkeys((step.label, step.note) for step in self.steps if step.note))


def display_lines(derivation: Derivation, detail: str = "normal") -> list[DisplayLine]:
    """Group the steps into displayed lines.

    ``full``: one line per step.  ``normal``: trivial steps (constants, dropping zeros) join the
    line before them.  ``brief``: a line per structural rule (chain, product, quotient) and per
    tidy-up; everything else joins the line before it.
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    steps = derivation.steps
    if not steps:
        return []
    groups: list[list[Step]] = []
    for step in steps:
        if step.level == COSMETIC:
            starts_line = False
        elif detail == "full":
            starts_line = True
        elif detail == "normal":
            starts_line = step.level > TRIVIAL
        else:
            starts_line = step.level >= STRUCTURAL or (step.is_tidy and step.level > TRIVIAL)
        if starts_line or not groups:
            groups.append([step])
        else:
            groups[-1].append(step)
    return [DisplayLine(tuple(group), derivation.written) for group in groups if group]


# Marks of the highlighted part while printing: characters LaTeX output never holds, swapped for the
# real wrapper (\alert<k|…>{…}) once the marked print is known to equal the plain one without them.
_MARK_OPEN, _MARK_CLOSE = "\x01", "\x02"


def line_forms(line: DisplayLine, partial: bool = False, highlight: tuple[sympy.Basic, str] | None = None) -> list[str]:
    """The right-hand side(s) of a displayed line.  A line made by the multivariate chain rule on
    the whole expression first shows the seed's row·column product (and Σ form).

    ``highlight`` (a node of the line's expression, a wrapper such as ``\alert{%s}``) marks the changed
    part.  The highlighted line without its wrapper is the plain line, character for character: where
    marking a node would change how its surroundings print (a factor losing its ``\\cdot`` or its
    brackets), the smallest enclosing node that prints the same is marked instead."""
    plain = _forms(line, partial, None)
    if highlight is None:
        return plain
    node, wrapper = highlight
    opening, closing = wrapper.split("%s")
    for candidate in _node_and_enclosing(line.expression, node):
        marked = _forms(line, partial, (candidate, _MARK_OPEN + "%s" + _MARK_CLOSE))
        unmarked = [form.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "") for form in marked]
        if unmarked == plain and any(_MARK_OPEN in form for form in marked):
            return [form.replace(_MARK_OPEN, opening).replace(_MARK_CLOSE, closing) for form in marked]
    return plain  # only the whole line would do: nothing worth a highlight


def _forms(line: DisplayLine, partial: bool, highlight: tuple[sympy.Basic, str] | None) -> list[str]:
    tex = to_latex(line.expression, partial, highlight=highlight, written=line.written)
    first = line.steps[0]
    if isinstance(first.chain, ChainProduct) and first.path == ():
        return [*product_forms(first.chain, first.focus, partial), tex]
    return [tex]


def _node_and_enclosing(expression: sympy.Basic, node: sympy.Basic) -> list[sympy.Basic]:
    """``node`` (found by identity, as the printer marks it) and the nodes around it, innermost first,
    the whole expression left out."""
    def path_to(current: sympy.Basic) -> list[sympy.Basic] | None:
        if current is node:
            return [current]
        for argument in current.args:
            found = path_to(argument)
            if found is not None:
                return [*found, current]
        return None

    path = path_to(expression) or []
    return [candidate for candidate in path if candidate is not expression]


def line_latex(line: DisplayLine, partial: bool = False, highlight: tuple[sympy.Basic, str] | None = None) -> str:
    """The right-hand side of a displayed line, its forms joined by ``=``."""
    return " = ".join(line_forms(line, partial, highlight))


def product_forms(product: ChainProduct, focus: Derivative, partial: bool) -> list[str]:
    """``[∂h/∂f_1  ∂h/∂f_2] [∂f_1/∂x ; ∂f_2/∂x]`` and, for f_1, f_2, …, ``Σ_i ∂h/∂f_i ∂f_i/∂x``."""
    row = " & ".join(to_latex(partial_, partial) for partial_ in product.outer_partials)
    column = r" \\ ".join(to_latex(derivative, partial) for derivative in product.inner_derivatives)
    forms = [r"\begin{bmatrix} %s \end{bmatrix} \begin{bmatrix} %s \end{bmatrix}" % (row, column)]
    base = _common_base(product.inner)
    if base is not None:
        d = r"\partial" if partial else "d"
        outer = LectureLatexPrinter()._print(sympy.Symbol(focus.expr.func.__name__))
        variable = to_latex(focus.variables[0])
        forms.append(
            r"\sum_i \frac{\partial %s}{\partial %s_i} \frac{%s %s_i}{%s %s}" % (outer, base, d, base, d, variable)
        )
    return forms


def _common_base(functions: tuple[sympy.Expr, ...]) -> str | None:
    """``f`` when the functions are f1, f2, … (undefined, numbered): then Σ_i reads naturally."""
    bases = set()
    for function in functions:
        if not isinstance(function, AppliedUndef):
            return None
        match = re.fullmatch(r"([A-Za-z]+)_?(\d+)", function.func.__name__)
        if match is None:
            return None
        bases.add(match.group(1))
    return bases.pop() if len(bases) == 1 else None
