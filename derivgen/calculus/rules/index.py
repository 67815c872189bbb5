"""Rules of index notation (matrix calculus written out entry by entry, as in the seed S7-S10).

The derivative is taken by one entry, x_i or A_ij.  Entries of the same vector or matrix may be
it (x_k with k = i), which the Kronecker delta records: ∂x_k/∂x_i = δ_ik, ∂A_kl/∂A_ij = δ_ik δ_jl.
Where index notation is not how a lecture goes, the standard identity is a named rule.
"""

from __future__ import annotations

import sympy
from sympy import Determinant, Inverse, KroneckerDelta, Sum
from sympy.matrices.expressions.matexpr import MatrixElement

from .base import STRUCTURAL, Context, Rewrite, Rule, d, mul


def sum_into_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂/∂x_i Σ_k f_k -> Σ_k ∂f_k/∂x_i."""
    return Rewrite(Sum(d(expr.function, ctx.wrt), *expr.limits))


def kronecker_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂x_k/∂x_i -> δ_ik,  ∂A_kl/∂A_ij -> δ_ik δ_jl."""
    variable = ctx.wrt
    if not isinstance(variable, MatrixElement) or expr.parent != variable.parent or expr == variable:
        return None
    deltas = [KroneckerDelta(variable.i, expr.i, evaluate=False)]
    if variable.parent.shape[1] != 1:
        deltas.append(KroneckerDelta(variable.j, expr.j, evaluate=False))
    return Rewrite(mul(*deltas) if len(deltas) > 1 else deltas[0])


def jacobi_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂det(X)/∂X_ij -> det(X) (X⁻¹)_ji   (Jacobi's formula)."""
    variable = ctx.wrt
    matrix = expr.arg
    if not isinstance(variable, MatrixElement) or matrix != variable.parent:
        return None
    return Rewrite(
        mul(expr, MatrixElement(Inverse(matrix), variable.j, variable.i)),
        note=r"Matrix Cookbook (49): $\partial \det X / \partial X = \det(X)\, X^{-T}$; needs $X$ invertible",
    )


def inverse_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂(X⁻¹)_kl/∂X_ij -> -(X⁻¹)_ki (X⁻¹)_jl."""
    variable = ctx.wrt
    if not (isinstance(expr.parent, Inverse) and isinstance(variable, MatrixElement)):
        return None
    if expr.parent.arg != variable.parent:
        return None
    inverse = expr.parent
    return Rewrite(
        mul(
            sympy.S.NegativeOne, MatrixElement(inverse, expr.i, variable.i), MatrixElement(inverse, variable.j, expr.j)
        ),
        note=r"Matrix Cookbook (59): $\partial (X^{-1})_{kl} / \partial X_{ij} = -(X^{-1})_{ki} (X^{-1})_{jl}$",
    )


RULES = [
    Rule(
        id="sum_into_sum",
        label="sum rule",
        statement=r"\frac{\partial}{\partial x_i} \sum_k f_k = \sum_k \frac{\partial f_k}{\partial x_i}",
        apply=sum_into_rule,
        family="index",
        heads=(Sum,),
    ),
    Rule(
        id="kronecker",
        label="kronecker delta property",
        statement=r"\frac{\partial x_k}{\partial x_i} = \delta_{ik}, \quad "
        r"\frac{\partial A_{kl}}{\partial A_{ij}} = \delta_{ik}\,\delta_{jl}",
        apply=kronecker_rule,
        family="index",
        heads=(MatrixElement,),
    ),
    Rule(
        id="inverse",
        label="derivative of the inverse",
        statement=r"\frac{\partial (X^{-1})_{kl}}{\partial X_{ij}} = -(X^{-1})_{ki}\,(X^{-1})_{jl}",
        apply=inverse_rule,
        family="index",
        heads=(MatrixElement,),
    ),
    Rule(
        id="jacobi",
        label="Jacobi's formula",
        statement=r"\frac{\partial \det X}{\partial X_{ij}} = \det(X)\,(X^{-1})_{ji}",
        apply=jacobi_rule,
        family="index",
        level=STRUCTURAL,
        heads=(Determinant,),
    ),
]
