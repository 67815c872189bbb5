"""Structural rules of one-variable calculus: constants, sums, products, quotients, powers."""

from __future__ import annotations

import sympy
from sympy import Add, Max, Min, Mul, Piecewise, Pow, S, log

from .base import (
    STRUCTURAL,
    TRIVIAL,
    Context,
    Rewrite,
    Rule,
    add,
    d,
    depends,
    display_factors,
    display_terms,
    mul,
    negated,
    power,
)


def constant_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx c -> 0 for any c free of x."""
    if depends(expr, ctx.wrt):
        return None
    return Rewrite(S.Zero)


def identity_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx x -> 1."""
    return Rewrite(S.One) if expr == ctx.wrt else None


def sum_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx (f + g - h) -> d/dx f + d/dx g - d/dx h."""
    terms = []
    for term in display_terms(expr, ctx.written):
        if term.could_extract_minus_sign():
            # keep the minus outside the derivative, as a lecturer writes it
            terms.append(mul(S.NegativeOne, d(negated(term), ctx.wrt)))
        else:
            terms.append(d(term, ctx.wrt))
    return Rewrite(add(*terms))


def log_base_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx log_b(x) -> 1/(x ln b)   (sympy writes log_b(x) as log(x)/log(b))."""
    x = ctx.wrt
    factors = Mul.make_args(expr)
    logs = [f for f in factors if isinstance(f, log) and f.args[0] == x]
    rest = [f for f in factors if f not in logs]
    if len(logs) != 1 or len(rest) != 1:
        return None
    base_log = rest[0]
    if not (base_log.is_Pow and base_log.exp == -1 and isinstance(base_log.base, log)):
        return None
    base = base_log.base.args[0]
    if depends(base, x):
        return None
    return Rewrite(power(mul(x, log(base)), S.NegativeOne))


def constant_multiple_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx (c f) -> c d/dx f."""
    constants, dependent = sympy.sift(Mul.make_args(expr), lambda f: not depends(f, ctx.wrt), binary=True)
    if not constants or not dependent:
        return None
    return Rewrite(mul(Mul(*constants), d(Mul(*dependent), ctx.wrt)))


def _is_denominator(factor: sympy.Expr) -> bool:
    return factor.is_Pow and factor.exp.is_number and factor.exp.is_negative


def quotient_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx f/g -> (d/dx f · g - f · d/dx g) / g^2."""
    factors = display_factors(expr)
    denominators = [f for f in factors if _is_denominator(f)]
    numerators = [f for f in factors if not _is_denominator(f)]
    if not denominators or not numerators:
        return None
    x = ctx.wrt
    f = Mul(*numerators)
    g = Mul(*(Pow(factor.base, -factor.exp) for factor in denominators))
    numerator = add(mul(d(f, x), g), mul(S.NegativeOne, f, d(g, x)))
    return Rewrite(mul(numerator, power(power(g, 2), S.NegativeOne)))


def product_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx (f g h) -> (d/dx f) g h + f (d/dx g) h + f g (d/dx h)."""
    factors = display_factors(expr)
    if len(factors) < 2:
        return None
    terms = [
        mul(*(d(factor, ctx.wrt) if j == i else factor for j, factor in enumerate(factors)))
        for i in range(len(factors))
    ]
    return Rewrite(add(*terms))


def power_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx x^n -> n x^(n-1) for n free of x."""
    x = ctx.wrt
    if expr.base != x or depends(expr.exp, x):
        return None
    n = expr.exp
    return Rewrite(Mul(n, Pow(x, n - 1)))


def exponential_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx a^x -> a^x ln a for a free of x."""
    x = ctx.wrt
    if expr.exp != x or depends(expr.base, x) or expr.base.is_zero:
        return None  # 0^x is not differentiable where it is defined at all
    return Rewrite(mul(expr, log(expr.base)))


def zero_base_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx 0^g -> 0: 0^g is 0 wherever g > 0 (and undefined wherever g <= 0)."""
    # a base written as a zero ((x - x)^x, kept as typed) is zero too: ln of it is no step to take
    base = expr.base
    zero = base.is_zero or (isinstance(base, sympy.Add) and sympy.Add(*base.args) == 0)
    if not (zero and depends(expr.exp, ctx.wrt)):
        return None
    return Rewrite(
        S.Zero,
        note=r"$0^g = 0$ wherever $g > 0$ and is undefined where $g \le 0$: constant where it is defined",
    )


def logarithmic_differentiation(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx f^g -> f^g · d/dx (g ln f) when both f and g depend on x."""
    x = ctx.wrt
    if not (depends(expr.base, x) and depends(expr.exp, x)):
        return None
    return Rewrite(mul(expr, d(Mul(expr.exp, log(expr.base)), x)), note=r"since $f^g = e^{g \ln f}$")


def piecewise_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx Piecewise((f, c), (g, True)) -> Piecewise((d/dx f, c), (d/dx g, True))."""
    pieces = [(d(piece, ctx.wrt), condition) for piece, condition in expr.args]
    return Rewrite(
        Piecewise(*pieces, evaluate=False),
        note="valid away from the points where the pieces meet",
    )


def min_max_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx max(f, g) -> d/dx Piecewise((f, f >= g), (g, True))."""
    return Rewrite(d(expr.rewrite(Piecewise), ctx.wrt))


def _rule(apply, label, statement, heads=(), level=1, rule_id=None) -> Rule:
    return Rule(
        id=rule_id or apply.__name__.removesuffix("_rule"),
        label=label,
        statement=statement,
        apply=apply,
        family="scalar",
        level=level,
        heads=heads,
    )


RULES = [
    _rule(constant_rule, "constant rule", r"\frac{d}{dx} c = 0", level=TRIVIAL),
    _rule(identity_rule, "derivative of x", r"\frac{d}{dx} x = 1", level=TRIVIAL),
    _rule(sum_rule, "sum rule", r"\frac{d}{dx}\bigl(f(x) \pm g(x)\bigr) = f'(x) \pm g'(x)", heads=(Add,)),
    _rule(
        log_base_rule,
        "derivative of log_b",
        r"\frac{d}{dx} \log_b x = \frac{1}{x \ln b}",
        heads=(Mul,),
        rule_id="log_base",
    ),
    _rule(
        constant_multiple_rule,
        "constant multiple rule",
        r"\frac{d}{dx}\bigl(c\,f(x)\bigr) = c\,f'(x)",
        heads=(Mul,),
    ),
    _rule(
        quotient_rule,
        "quotient rule",
        r"\frac{d}{dx}\,\frac{f(x)}{g(x)} = \frac{f'(x)\,g(x) - f(x)\,g'(x)}{g(x)^2}",
        heads=(Mul,),
        level=STRUCTURAL,
    ),
    _rule(
        product_rule,
        "product rule",
        r"\frac{d}{dx}\bigl(f(x)\,g(x)\bigr) = f'(x)\,g(x) + f(x)\,g'(x)",
        heads=(Mul,),
        level=STRUCTURAL,
    ),
    _rule(power_rule, "power rule", r"\frac{d}{dx} x^n = n\,x^{n-1}", heads=(Pow,)),
    _rule(
        zero_base_rule,
        "derivative of 0 to a power",
        r"\frac{d}{dx} 0^{g(x)} = 0 \quad (g(x) > 0)",
        heads=(Pow,),
        rule_id="zero_base",
    ),
    _rule(exponential_rule, "exponential rule", r"\frac{d}{dx} a^x = a^x \ln a", heads=(Pow,)),
    _rule(
        logarithmic_differentiation,
        "logarithmic differentiation",
        r"\frac{d}{dx} f(x)^{g(x)} = f(x)^{g(x)}\,\frac{d}{dx}\bigl(g(x) \ln f(x)\bigr)",
        heads=(Pow,),
        level=STRUCTURAL,
        rule_id="logarithmic_differentiation",
    ),
    _rule(
        piecewise_rule,
        "derivative of each piece",
        r"\frac{d}{dx}\begin{cases} f(x) & c_1 \\ g(x) & c_2 \end{cases}"
        r" = \begin{cases} f'(x) & c_1 \\ g'(x) & c_2 \end{cases}",
        heads=(Piecewise,),
    ),
    _rule(
        min_max_rule,
        "write as piecewise",
        r"\max(f, g) = \begin{cases} f & f \ge g \\ g & \text{else} \end{cases}",
        heads=(Max, Min),
        rule_id="min_max",
    ),
]
