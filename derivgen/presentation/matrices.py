"""Gradients, Jacobians, Hessians and matrix calculus on the page: matrices, their symbols, collecting lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy
from sympy import Mul
from sympy.core.function import AppliedUndef

from ..calculus.model import ChainProduct, Derivation, Left
from ..calculus.rules.tidy import same_up_to_order
from ..input.matrices import AsScalar
from .lines import display_lines
from .printer import LectureLatexPrinter, to_latex

if TYPE_CHECKING:
    from ..calculus.multivariate import MatrixDerivation


def matrix_latex(matrix: sympy.MatrixBase, partial: bool = False) -> str:
    """A matrix as ``bmatrix``, entries in the lecturer's order."""
    rows = [" & ".join(to_latex(entry, partial) for entry in matrix.row(i)) for i in range(matrix.rows)]
    return r"\begin{bmatrix} %s \end{bmatrix}" % r" \\ ".join(rows)


def matrix_symbol(left: Left) -> str:
    """∇_{(x, y)} f, J_{(x, y)} or H_{(x, y)} f: the left side of a collecting line."""
    variables = ", ".join(to_latex(v) for v in left.variables)
    expression = left.functions[0]
    function = (
        LectureLatexPrinter()._print(sympy.Symbol(expression.func.__name__))
        if isinstance(expression, AppliedUndef)
        else r"\left(%s\right)" % to_latex(expression, written=left.written)
        if isinstance(expression, sympy.Add | Mul)
        else to_latex(expression, written=left.written)
    )
    if left.notation == "gradient":
        return r"\nabla_{(%s)} %s" % (variables, function)
    if left.notation == "hessian":
        return r"H_{(%s)} %s" % (variables, function)
    return r"J_{(%s)}" % variables


def gradient_symbol(left: Left) -> str:
    """``∇_x f`` in index notation, or ``(∇_x f)_i`` for its entry."""
    (variable,), (function,) = left.variables, left.functions
    operand = to_latex(function, written=left.written)
    # ∇_z (−yᵀ log …) and ∇_x (a + b): without brackets the operator reads as applied to the first term
    if isinstance(function, sympy.Add | sympy.MatAdd) or operand.startswith("-"):
        operand = r"\left(%s\right)" % operand
    if not isinstance(variable, sympy.MatrixExpr):  # by a scalar: the ordinary derivative, no entry
        # ∂/∂λ acts on the one factor after it (as everywhere in derivgen's lines): a product is bracketed
        product = function.args[0] if isinstance(function, AsScalar) else function  # wᵀx used as a scalar
        if isinstance(product, sympy.Mul | sympy.MatMul | sympy.HadamardProduct) and not operand.startswith(r"\left("):
            operand = r"\left(%s\right)" % operand
        return r"\frac{\partial}{\partial %s} %s" % (to_latex(variable), operand)
    whole = r"\nabla_{%s} %s" % (to_latex(variable), operand)
    if left.notation == "matrix_gradient":
        return whole
    index = "i" if variable.shape[1] == 1 else "i,j"
    return r"\left(%s\right)_{%s}" % (whole, index)


def left_side(left: Left, start: sympy.Basic | None = None, partial: bool = False) -> str:
    """The LaTeX left of a part's first ``=``: the derivative itself (``start`` written as an
    operator), a gradient, Jacobian or Hessian symbol, or ∇_x f / (∇_x f)_i in index notation."""
    if left.notation == "derivative":
        derivative = start if start is not None else sympy.Derivative(left.functions[0], *left.variables)
        return to_latex(derivative, partial, operator=True, written=left.written)
    if left.notation in ("matrix_gradient", "matrix_gradient_entry"):
        return gradient_symbol(left)
    if left.notation == "higher":
        (variable,), (function,) = left.variables, left.functions
        bracketed = r"\left(%s\right)" % to_latex(function, written=left.written)
        return r"\frac{d^{%d}}{d %s^{%d}} %s" % (left.order, to_latex(variable), left.order, bracketed)
    return matrix_symbol(left)


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


def question(left: Left) -> tuple[str, list[str]]:
    """What a sheet asks for, in LaTeX, and the givens (shapes, assumptions)."""
    if left.notation == "jacobian":
        functions = r" \\ ".join(to_latex(f, written=left.written) for f in left.functions)
        return r"%s \begin{bmatrix} %s \end{bmatrix}" % (matrix_symbol(left), functions), []
    given = []
    for symbol in left.given:
        rows, cols = symbol.shape
        space = (
            r"\mathbb{R}^{%s}" % to_latex(rows)
            if cols == 1
            else r"\mathbb{R}^{%s \times %s}" % (to_latex(rows), to_latex(cols))
        )
        given.append(r"%s \in %s" % (to_latex(symbol), space))
    given.extend(r"\text{%s}(%s)" % (kind.replace("_", " "), name) for kind, name in left.facts)
    return left_side(left), given
