"""The chain rule: a function of an inner function of x.

The outer function is written in a fresh variable (u, v, w, …) and derived by its own, nested
derivation; the step records both so that a slide can show "g(u) = u^3, g'(u) = 3u^2".
"""

from __future__ import annotations

import sympy
from sympy import Derivative, Function, Pow, Subs

from ...errors import UnsupportedExpression
from ..model import ChainInfo, ChainProduct
from .base import STRUCTURAL, Context, Rewrite, Rule, add, d, depends, mul, unsupported_message
from .elementary import NOT_HOLOMORPHIC


def _split(expr: sympy.Expr, x: sympy.Symbol) -> tuple[sympy.Expr, int] | None:
    """The single inner function of x in ``expr`` and its argument position, if there is one."""
    positions = [i for i, arg in enumerate(expr.args) if depends(arg, x)]
    if len(positions) != 1:
        return None
    inner = expr.args[positions[0]]
    return (inner, positions[0]) if inner != x else None


def partial_at(outer: sympy.Expr, variable: sympy.Symbol, values: dict) -> sympy.Expr:
    """The derivative of an undefined ``outer`` by ``variable``, at ``values``, as sympy writes it:
    ``Derivative(f(g(x)), g(x))`` where the values can be differentiated by, else
    ``Subs(Derivative(f(u, x), u), u, x**2)`` with only the derived argument left as a variable."""
    points = list(values.values())
    if all(point._diff_wrt for point in points) and len(set(points)) == len(points):
        return Derivative(outer.xreplace(values), values[variable])
    others = {v: point for v, point in values.items() if v != variable}
    # one variable only: sympy's Subs compares equal when several variables share a point
    return Subs(Derivative(outer.xreplace(others), variable), variable, values[variable])


def outer_derivative_at(derivative: sympy.Expr, variable: sympy.Symbol, inner: sympy.Expr) -> sympy.Expr:
    """g'(u) at u = f(x), as written: g'(f(x)) stays a Subs when g is undefined (sympy cannot
    differentiate by an expression), and the lecturer's order is kept otherwise."""
    if isinstance(derivative, Derivative):  # f'(u) of an undefined f
        return partial_at(derivative.expr, variable, {variable: inner})
    with sympy.evaluate(False):  # keep the outer derivative as written: σ(u)(1 - σ(u))
        return derivative.xreplace({variable: inner})


def chain_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx g(f(x)) -> g'(f(x)) · d/dx f(x)."""
    x = ctx.wrt
    split = _split(expr, x)
    if split is None:
        return None
    inner, position = split
    real_inner = bool(inner.is_extended_real)
    if isinstance(expr, NOT_HOLOMORPHIC) and not real_inner:
        return None  # |g|' = sign(g) g' is wrong for complex g; the complex |g| rule applies
    # a complex stand-in where the inner function may be complex, so that the outer derivative
    # comes out in a form valid for complex values too
    u = ctx.fresh_variable(real=real_inner)
    outer = expr.func(*(u if i == position else arg for i, arg in enumerate(expr.args)))
    try:
        outer_derivation = ctx.derive_outer(outer, u)
    except UnsupportedExpression as error:
        culprit = error.culprit
        if not (isinstance(culprit, Derivative) and culprit.variables[0] == u):
            raise
        # name what the user wrote, not the stand-in u: d/du 0**u is d/dx 0**(2**x + …)
        named = culprit.expr.xreplace({u: inner})
        raise UnsupportedExpression(unsupported_message(named, x), Derivative(named, x, evaluate=False)) from None
    outer_derivative = outer_derivation.lecturer_result
    info = ChainInfo(u, outer, outer_derivative, inner, outer_derivation)
    replacement = mul(outer_derivative_at(outer_derivative, u, inner), d(inner, x))
    return Rewrite(replacement, chain=info)


def multivariate_chain_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx h(f1(x), f2(x)) -> ∂h/∂u1 (f1, f2) · d/dx f1 + ∂h/∂u2 (f1, f2) · d/dx f2."""
    x = ctx.wrt
    if not isinstance(expr, sympy.core.function.AppliedUndef):
        return None
    dependent = [i for i, arg in enumerate(expr.args) if depends(arg, x)]
    if len(dependent) < 2:
        return None
    variables = [ctx.fresh_variable(real=bool(arg.is_extended_real)) for arg in expr.args]
    outer = expr.func(*variables)
    values = dict(zip(variables, expr.args, strict=True))
    partials = [partial_at(outer, variables[i], values) for i in dependent]
    inner_derivatives = [d(expr.args[i], x) for i in dependent]
    terms = [mul(partial, derivative) for partial, derivative in zip(partials, inner_derivatives, strict=True)]
    product = ChainProduct(tuple(partials), tuple(inner_derivatives), tuple(expr.args[i] for i in dependent))
    return Rewrite(add(*terms), chain=product)


RULES = [
    Rule(
        id="chain",
        label="chain rule",
        statement=r"\frac{d}{dx}\, g\bigl(f(x)\bigr) = g'\bigl(f(x)\bigr)\, f'(x)",
        apply=chain_rule,
        family="chain",
        level=STRUCTURAL,
        heads=(Pow, Function),
    ),
    Rule(
        id="multivariate_chain",
        label="multivariate chain rule",
        statement=r"\frac{\partial h}{\partial x_1} = \begin{bmatrix} \frac{\partial h}{\partial f_1} & "
        r"\frac{\partial h}{\partial f_2} \end{bmatrix} \begin{bmatrix} \frac{\partial f_1}{\partial x_1} \\ "
        r"\frac{\partial f_2}{\partial x_1} \end{bmatrix} = \sum_i \frac{\partial h}{\partial f_i}"
        r"\frac{\partial f_i}{\partial x_1}",
        apply=multivariate_chain_rule,
        family="chain",
        level=STRUCTURAL,
        heads=(Function,),
    ),
]
