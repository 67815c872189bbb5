"""Tidy-up steps after the last derivative rule: short, named and bounded (never ``simplify()``).

``drop_neutral`` removes what the rules left behind (``+ 0``, ``· 1``, ``^1``) without reordering,
so the line still reads as the lecturer derived it: ``3(x^2+2)^2 · 2x``.  ``evaluate`` then lets
sympy do its ordinary arithmetic (``6x(x^2+2)^2``), the form ``sympy.diff`` returns.
"""

from __future__ import annotations

import sympy
from sympy import Add, Derivative, Mul, Pow, S, Subs
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.matrices.expressions.matexpr import MatrixElement

from .base import COSMETIC, TRIVIAL, Context, Rewrite, Rule, add, mul, power


def _rebuild(expr: sympy.Expr, rebuild_node) -> sympy.Expr:
    """Bottom-up rebuild; derivatives and substitutions are kept as they stand (f'(x), f'(g(x)))."""
    if expr.is_Atom or isinstance(expr, Derivative | Subs | MatrixElement):
        return expr
    return rebuild_node(expr, [_rebuild(arg, rebuild_node) for arg in expr.args])


def _without_neutral(node: sympy.Expr, args: list[sympy.Expr]) -> sympy.Expr:
    if isinstance(node, Add):
        terms = [term for term in args if term != 0]
        return S.Zero if not terms else terms[0] if len(terms) == 1 else add(*terms)
    if isinstance(node, Mul):
        if any(factor == 0 for factor in args):
            return S.Zero
        factors = [factor for factor in args if factor != 1]
        return S.One if not factors else factors[0] if len(factors) == 1 else mul(*factors)
    if isinstance(node, Pow):
        base, exponent = args
        if exponent == 1:
            return base
        if exponent == 0:
            return S.One
        return power(base, exponent)
    if isinstance(node, ExprWithLimits):  # Σ does no arithmetic, but wraps its body in 1·(…) unevaluated
        return node.func(*args)
    with sympy.evaluate(False):
        return node.func(*args)


def drop_neutral(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """... + 0, ... · 1, u^1 -> dropped, keeping the order of everything else."""
    return Rewrite(_rebuild(expr, _without_neutral))


def _evaluated(node: sympy.Expr, args: list[sympy.Expr]) -> sympy.Expr:
    return node.func(*args)


def evaluated(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` rebuilt with sympy's ordinary arithmetic (derivatives, substitutions and matrix
    entries kept as they stand: sympy would write (Mx)_i out as a sum)."""
    return _rebuild(expr, _evaluated)


def evaluate(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """Multiply out constants and collect like terms (sympy's automatic evaluation)."""
    evaluated_expr = evaluated(expr)
    if same_up_to_order(evaluated_expr, expr):
        return Rewrite(evaluated_expr, label="sympy's order", level=COSMETIC)
    return Rewrite(evaluated_expr)


def same_up_to_order(first: sympy.Basic, second: sympy.Basic) -> bool:
    """True when the two differ at most in the order of terms and factors."""
    return _signature(first) == _signature(second)


def _signature(expr: sympy.Basic) -> tuple:
    """The expression with the order of sums and products forgotten."""
    if expr.is_Atom:
        return (type(expr).__name__, str(expr))
    parts = [_signature(arg) for arg in expr.args]
    if isinstance(expr, Add | Mul):
        parts.sort()
    return (type(expr).__name__, tuple(parts))


RULES = [
    Rule(
        id="drop_neutral",
        label="drop zeros and ones",
        statement=r"a + 0 = a, \quad 1 \cdot a = a, \quad a^1 = a",
        apply=drop_neutral,
        family="tidy",
        level=TRIVIAL,
    ),
    Rule(
        id="evaluate",
        label="simplify",
        statement=r"3 \cdot 2x = 6x, \quad x \cdot x = x^2, \quad 2x + 3x = 5x",
        apply=evaluate,
        family="tidy",
    ),
]
