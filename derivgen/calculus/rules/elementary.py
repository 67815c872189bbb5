"""Derivatives of the named functions at their own variable: d/dx sin(x) = cos(x), …

The formulas are written out here rather than taken from sympy, so that verifying a step checks
them independently.  Special functions without a hand-written entry (erf, gamma, …) use the
derivative sympy's own table gives, labelled as such.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import (
    Abs,
    DiracDelta,
    Function,
    S,
    Symbol,
    acos,
    acosh,
    acot,
    acoth,
    acsc,
    acsch,
    asec,
    asech,
    asin,
    asinh,
    atan,
    atanh,
    cos,
    cosh,
    cot,
    coth,
    csc,
    csch,
    exp,
    im,
    log,
    re,
    sec,
    sech,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from sympy.core.function import AppliedUndef

from ...input.functions import sigmoid
from .base import Context, Rewrite, Rule, TableStatement, add, d, depends, mul, power

_u = Symbol("x", real=True)  # the variable the statements are written in


# function class -> (label name, derivative at u).  Written in the form a lecture table uses;
# where that form holds for real u only (|u| in arcsec), the analytic form serves complex u.
TABLE: dict[type, tuple[str, Callable[[sympy.Expr], sympy.Expr]]] = {
    exp: ("exp", exp),
    log: ("ln", lambda u: 1 / u),
    sin: ("sin", cos),
    cos: ("cos", lambda u: -sin(u)),
    tan: ("tan", lambda u: sec(u) ** 2),
    cot: ("cot", lambda u: -(csc(u) ** 2)),
    sec: ("sec", lambda u: mul(sec(u), tan(u))),
    csc: ("csc", lambda u: mul(S.NegativeOne, csc(u), cot(u))),
    asin: ("arcsin", lambda u: 1 / sqrt(1 - u**2)),
    acos: ("arccos", lambda u: -1 / sqrt(1 - u**2)),
    atan: ("arctan", lambda u: 1 / (1 + u**2)),
    acot: ("arccot", lambda u: -1 / (1 + u**2)),
    asec: (
        "arcsec",
        lambda u: 1 / (Abs(u) * sqrt(u**2 - 1)) if u.is_extended_real else 1 / (u**2 * sqrt(1 - 1 / u**2)),
    ),
    acsc: (
        "arccsc",
        lambda u: -1 / (Abs(u) * sqrt(u**2 - 1)) if u.is_extended_real else -1 / (u**2 * sqrt(1 - 1 / u**2)),
    ),
    sinh: ("sinh", cosh),
    cosh: ("cosh", sinh),
    tanh: ("tanh", lambda u: 1 - tanh(u) ** 2),
    coth: ("coth", lambda u: 1 - coth(u) ** 2),
    sech: ("sech", lambda u: mul(S.NegativeOne, sech(u), tanh(u))),
    csch: ("csch", lambda u: mul(S.NegativeOne, csch(u), coth(u))),
    asinh: ("arsinh", lambda u: 1 / sqrt(u**2 + 1)),
    acosh: ("arcosh", lambda u: 1 / (sqrt(u - 1) * sqrt(u + 1))),
    atanh: ("artanh", lambda u: 1 / (1 - u**2)),
    acoth: ("arcoth", lambda u: 1 / (1 - u**2)),
    asech: ("arsech", lambda u: -1 / (u * sqrt(1 - u**2))),
    acsch: (
        "arcsch",
        lambda u: -1 / (Abs(u) * sqrt(1 + u**2)) if u.is_extended_real else -1 / (u**2 * sqrt(1 + 1 / u**2)),
    ),
    Abs: ("|x|", sign),
    sign: ("sign", lambda u: mul(2, DiracDelta(u))),
    sigmoid: ("the sigmoid", lambda u: mul(sigmoid(u), add(S.One, -sigmoid(u)))),
}

# Functions whose derivative formula needs a real argument: no chain rule through a complex one.
NOT_HOLOMORPHIC = (Abs, sign)

_NOTES = {
    Abs: "not differentiable at 0",
    sign: r"a distribution: zero away from 0, $\delta$ at 0",
}


def _table_rule(function: type, name: str, formula: Callable[[sympy.Expr], sympy.Expr]) -> Rule:
    def apply(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
        if expr.args != (ctx.wrt,):
            return None
        if function in NOT_HOLOMORPHIC and not ctx.wrt.is_extended_real:
            return None  # |u|' = sign(u) holds for real u only
        return Rewrite(formula(ctx.wrt), note=_NOTES.get(function))

    apply.__doc__ = f"d/dx {function.__name__}(x) -> its table derivative"
    return Rule(
        id=function.__name__.lower() if function is not log else "ln",
        label=f"derivative of {name}",
        statement=TableStatement(function(_u), formula(_u)),
        apply=apply,
        family="elementary",
        heads=(function,),
    )


def complex_abs_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx |g| -> (Re g · d/dx Re g + Im g · d/dx Im g) / |g| when g may be complex."""
    g = expr.args[0]
    if g.is_extended_real or not depends(g, ctx.wrt):
        return None
    real, imaginary = re(g, evaluate=False), im(g, evaluate=False)
    numerator = add(mul(real, d(real, ctx.wrt)), mul(imaginary, d(imaginary, ctx.wrt)))
    return Rewrite(
        mul(numerator, power(Abs(g), S.NegativeOne)),
        note=r"the argument may be complex; where it is real this is $\operatorname{sign}(g)\, g'$",
    )


def real_part_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx Re g -> Re(d/dx g), and likewise Im, for a real variable x."""
    if not ctx.wrt.is_extended_real:
        return None
    return Rewrite(expr.func(d(expr.args[0], ctx.wrt), evaluate=False))


def special_function_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx F(x) -> F'(x) from sympy's table, for special functions (erf, gamma, …)."""
    if isinstance(expr, AppliedUndef) or type(expr) in TABLE:
        return None
    positions = [i for i, arg in enumerate(expr.args) if depends(arg, ctx.wrt)]
    if len(positions) != 1 or expr.args[positions[0]] != ctx.wrt:
        return None
    try:
        derivative = expr.fdiff(positions[0] + 1)
    except (sympy.ArgumentIndexError, TypeError, NotImplementedError):
        return None
    if derivative.has(sympy.Derivative, sympy.Subs):
        return None  # sympy has no closed form either
    name = type(expr).__name__
    return Rewrite(derivative, note=f"from the table of {name}")


RULES = [
    *(_table_rule(function, name, formula) for function, (name, formula) in TABLE.items()),
    Rule(
        id="complex_abs",
        label="derivative of |u| for complex u",
        statement=r"\frac{d}{dx} |g| = \frac{\operatorname{Re} g \, (\operatorname{Re} g)' "
        r"+ \operatorname{Im} g \, (\operatorname{Im} g)'}{|g|}",
        apply=complex_abs_rule,
        family="elementary",
        heads=(Abs,),
    ),
    Rule(
        id="real_part",
        label="derivative of the real/imaginary part",
        statement=r"\frac{d}{dx} \operatorname{Re} g(x) = \operatorname{Re} g'(x) \quad (x \text{ real})",
        apply=real_part_rule,
        family="elementary",
        heads=(re, im),
    ),
]
SPECIAL = Rule(
    id="special_function",
    label="derivative of a special function",
    statement=r"\frac{d}{dx} \operatorname{erf}(x) = \frac{2}{\sqrt{\pi}} e^{-x^2}, \quad \ldots",
    apply=special_function_rule,
    family="elementary",
    heads=(Function,),
)
