"""Gradients, Jacobians, Hessians and matrix calculus on the page: matrices, their symbols, collecting lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy
from sympy import Mul
from sympy.core.function import AppliedUndef

from ..calculus.model import ChainProduct, Derivation
from ..calculus.rules.tidy import same_up_to_order
from .text import escape_text

if TYPE_CHECKING:
    from ..calculus.matrix_engine import MatrixCalculus
    from ..calculus.multivariate import MatrixDerivation
from .lines import align_body, display_lines, line_latex
from .printer import LectureLatexPrinter, to_latex


def matrix_latex(matrix: sympy.MatrixBase, partial: bool = False) -> str:
    """A matrix as ``bmatrix``, entries in the lecturer's order."""
    rows = [" & ".join(to_latex(entry, partial) for entry in matrix.row(i)) for i in range(matrix.rows)]
    return r"\begin{bmatrix} %s \end{bmatrix}" % r" \\ ".join(rows)


def matrix_symbol(derivation: MatrixDerivation) -> str:
    """∇_{(x, y)} f, J_{(x, y)}, H_{(x, y)} f or f'' as the left side of the collecting line."""
    variables = ", ".join(to_latex(v) for v in derivation.variables)
    expression = derivation.expressions[0]
    function = (
        LectureLatexPrinter()._print(sympy.Symbol(expression.func.__name__))
        if isinstance(expression, AppliedUndef)
        else r"\left(%s\right)" % to_latex(expression)
        if isinstance(expression, sympy.Add | Mul)
        else to_latex(expression)
    )
    if derivation.kind == "gradient":
        return r"\nabla_{(%s)} %s" % (variables, function)
    if derivation.kind == "hessian":
        return r"H_{(%s)} %s" % (variables, function)
    return r"J_{(%s)}" % variables


def collect_forms(derivation: MatrixDerivation, detail: str = "normal") -> list[str]:
    """The collecting line's right side: the matrix of derivatives, of the derived entries as the
    lines showed them, and of the results (each form only where it differs from the one before)."""
    collect = derivation.collect
    if collect is None:
        raise ValueError(f"a {derivation.kind} derivative has no collecting step")
    shown = sympy.ImmutableMatrix(
        collect.after.rows,
        collect.after.cols,
        [
            _last_shown(derivation.component(i, j), detail)
            for i in range(collect.after.rows)
            for j in range(collect.after.cols)
        ],
    )
    forms = [matrix_latex(collect.before, True)]
    product = _jacobian_product(derivation)
    if product is not None:
        forms.append(product)
    forms.append(matrix_latex(shown, True))
    if not same_up_to_order(shown, collect.after):
        forms.append(matrix_latex(collect.after, True))
    return forms


def _jacobian_product(derivation: MatrixDerivation) -> str | None:
    """For a gradient where every entry came from the multivariate chain rule through the same
    inner functions: the seed's ``[∂h/∂f_1 ∂h/∂f_2] [∂f_i/∂x_j]``, a row times the inner Jacobian."""
    if derivation.kind != "gradient":
        return None
    products = []
    for component in derivation.components:
        first = component.steps[0] if component.steps else None
        if first is None or not isinstance(first.chain, ChainProduct) or first.path != ():
            return None
        products.append(first.chain)
    if any(p.outer_partials != products[0].outer_partials or p.inner != products[0].inner for p in products):
        return None
    inner = sympy.ImmutableMatrix(
        [[product.inner_derivatives[i] for product in products] for i in range(len(products[0].inner))]
    )
    return (
        matrix_latex(sympy.ImmutableMatrix([list(products[0].outer_partials)]), True) + " " + matrix_latex(inner, True)
    )


def _last_shown(derivation: Derivation, detail: str) -> sympy.Expr:
    lines = display_lines(derivation, detail)
    return lines[-1].expression if lines else derivation.result


def matrix_align_body(derivation: MatrixDerivation, detail: str = "normal") -> str:
    """The components' derivations one after another, then the collecting line."""
    parts = [align_body(component, detail, component.partial) for component in derivation.components]
    if derivation.collect is not None:
        label = escape_text(derivation.collect.label)
        parts.append(
            f"{matrix_symbol(derivation)} &= {' = '.join(collect_forms(derivation, detail))} && \\text{{{label}}}"
        )
    return " \\\\[0.6em]\n".join(parts)


def gradient_symbols(calculus: MatrixCalculus) -> tuple[str, str]:
    """``(∇_x f)_i`` and ``∇_x f``: the left sides of the index and the matrix part of the lines."""
    variable = to_latex(calculus.variable)
    function = to_latex(calculus.expression)
    whole = r"\nabla_{%s} %s" % (variable, function)
    index = "i" if calculus.variable.shape[1] == 1 else "i,j"
    return r"\left(%s\right)_{%s}" % (whole, index), whole


def matrix_phase(calculus: MatrixCalculus) -> Derivation:
    """The steps after the index notation as a derivation of their own (for display)."""
    return Derivation(calculus.expression, calculus.variable, list(calculus.matrix_steps), calculus.verified, True)


def matrix_calculus_body(calculus: MatrixCalculus, detail: str = "normal") -> str:
    """``(∇_x f)_i &= … \\\\ ∇_x f &= …`` for an ``align*`` environment."""
    entry_symbol, whole_symbol = gradient_symbols(calculus)
    rows = []
    for part, symbol in ((calculus.index_derivation, entry_symbol), (matrix_phase(calculus), whole_symbol)):
        for i, line in enumerate(display_lines(part, detail)):
            label = r"\text{%s}" % escape_text(line.label)
            rows.append(f"{symbol if i == 0 else ''} &= {line_latex(line, True)} && {label}")
    return " \\\\\n".join(rows)
