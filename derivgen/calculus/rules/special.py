"""Derivatives of the special functions: Bessel, Airy, gamma, zeta, the integrals Ei, Si, …, and the
functions that are differentiable only almost everywhere (floor, Heaviside, Mod).

Like :mod:`.elementary`, every formula is written out here as a lecture table gives it, not taken
from sympy, so that the numeric check of each step (mpmath's own functions, differentiated
numerically) checks the formula independently.  A function of several arguments has one rule per
argument it can be differentiated by; an argument it cannot be (the order ν of J_ν: no closed form)
is refused with a message naming the function and the argument, never given a wrong result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import (
    Chi,
    Ci,
    DiracDelta,
    Ei,
    Heaviside,
    LambertW,
    Li,
    Mod,
    S,
    Shi,
    Si,
    Symbol,
    airyai,
    airyaiprime,
    airybi,
    airybiprime,
    atan2,
    besseli,
    besselj,
    besselk,
    bessely,
    beta,
    binomial,
    ceiling,
    cos,
    cosh,
    dirichlet_eta,
    elliptic_e,
    elliptic_f,
    elliptic_k,
    erf,
    erf2,
    erf2inv,
    erfc,
    erfcinv,
    erfi,
    erfinv,
    exp,
    expint,
    factorial,
    floor,
    frac,
    fresnelc,
    fresnels,
    gamma,
    hankel1,
    hankel2,
    harmonic,
    jn,
    lerchphi,
    li,
    log,
    loggamma,
    lowergamma,
    pi,
    polygamma,
    polylog,
    sin,
    sinc,
    sinh,
    sqrt,
    uppergamma,
    yn,
    zeta,
)

from ...errors import UnsupportedExpression
from .base import STRUCTURAL, Context, Rewrite, Rule, TableStatement, add, d, depends, mul, power

x = Symbol("x", real=True)
y = Symbol("y", real=True)
nu, n, s, a, k, m, z = (Symbol(name) for name in ("nu", "n", "s", "a", "k", "m", "z"))
phi = Symbol("phi", real=True)


def _psi(argument: sympy.Expr) -> sympy.Expr:
    return polygamma(0, argument)


def _half(expression: sympy.Expr) -> sympy.Expr:
    return mul(S.Half, expression)


def _over(numerator: sympy.Expr, denominator: sympy.Expr) -> sympy.Expr:
    return mul(numerator, power(denominator, S.NegativeOne))


_ALMOST = "0 except at the integers, where {name} jumps"


@dataclass(frozen=True)
class Partial:
    """∂/∂(argument ``position``) of ``function`` with ``arity`` arguments: ``formula(*args)``, or
    ``refusal`` (why there is no closed form) when ``formula`` is None."""

    function: type
    arity: int
    position: int
    rule_id: str
    label: str
    formula: Callable[..., sympy.Expr] | None
    statement_args: tuple[sympy.Expr, ...] = (x,)
    note: str | None = None
    refusal: str | None = None

    def statement(self) -> TableStatement:
        assert self.formula is not None
        variable = self.statement_args[self.position]
        return TableStatement(
            self.function(*self.statement_args, evaluate=False),
            self.formula(*self.statement_args),
            variable=None if variable == x else variable,
        )


def _one(function, rule_id, label, formula, note=None) -> Partial:
    return Partial(function, 1, 0, rule_id, f"derivative of {label}", formula, (x,), note)


def _by(function, args, position, rule_id, label, formula, note=None) -> Partial:
    return Partial(function, len(args), position, rule_id, f"derivative of {label}", formula, tuple(args), note)


def _refused(function, arity, position, what: str) -> Partial:
    return Partial(function, arity, position, "", "", None, refusal=what)


def _bessel_difference(function):  # J, Y, H: (F_{ν−1} − F_{ν+1})/2
    return lambda order, z: _half(add(function(order - 1, z), -function(order + 1, z)))


def _spherical(function):  # j_n' = j_{n−1} − (n + 1)/n j_n … with z: j_{n−1}(z) − (n + 1) j_n(z)/z
    return lambda order, z: add(function(order - 1, z), -_over(mul(order + 1, function(order, z)), z))


PARTIALS: list[Partial] = [
    # error functions
    _one(erf, "erf", "the error function erf", lambda u: mul(2 / sqrt(pi), exp(-(u**2)))),
    _one(erfc, "erfc", "the complementary error function erfc", lambda u: mul(-2 / sqrt(pi), exp(-(u**2)))),
    _one(erfi, "erfi", "the imaginary error function erfi", lambda u: mul(2 / sqrt(pi), exp(u**2))),
    _one(erfinv, "erfinv", "the inverse error function", lambda u: mul(sqrt(pi) / 2, exp(erfinv(u) ** 2))),
    _one(erfcinv, "erfcinv", "the inverse of erfc", lambda u: mul(-sqrt(pi) / 2, exp(erfcinv(u) ** 2))),
    _by(erf2, (x, y), 0, "erf2_lower", "erf2 by its lower limit", lambda u, v: mul(-2 / sqrt(pi), exp(-(u**2)))),
    _by(erf2, (x, y), 1, "erf2_upper", "erf2 by its upper limit", lambda u, v: mul(2 / sqrt(pi), exp(-(v**2)))),
    _by(erf2inv, (x, y), 0, "erf2inv_x", "erf2inv by x", lambda u, v: exp(erf2inv(u, v) ** 2 - u**2)),
    _by(erf2inv, (x, y), 1, "erf2inv_y", "erf2inv by y", lambda u, v: mul(sqrt(pi) / 2, exp(erf2inv(u, v) ** 2))),
    # gamma and related
    _one(gamma, "gamma", "the gamma function", lambda u: mul(gamma(u), _psi(u))),
    _one(loggamma, "loggamma", "ln Γ (the digamma function ψ)", _psi),
    _one(factorial, "factorial", "the factorial x! = Γ(x + 1)", lambda u: mul(factorial(u), _psi(u + 1))),
    _one(sympy.digamma, "digamma", "the digamma function ψ", lambda u: polygamma(1, u)),
    _one(sympy.trigamma, "trigamma", "the trigamma function ψ₁", lambda u: polygamma(2, u)),
    _one(harmonic, "harmonic", "the harmonic numbers H_x", lambda u: polygamma(1, u + 1)),
    _by(polygamma, (n, x), 1, "polygamma", "the polygamma function ψ⁽ⁿ⁾", lambda order, u: polygamma(order + 1, u)),
    _refused(polygamma, 2, 0, "its order n (only whole orders are defined)"),
    _by(
        beta,
        (x, y),
        0,
        "beta_x",
        "the beta function by its first argument",
        lambda u, v: mul(beta(u, v), add(_psi(u), -_psi(u + v))),
    ),
    _by(
        beta,
        (x, y),
        1,
        "beta_y",
        "the beta function by its second argument",
        lambda u, v: mul(beta(u, v), add(_psi(v), -_psi(u + v))),
    ),
    _by(
        binomial,
        (x, y),
        0,
        "binomial_n",
        "the binomial coefficient by its top",
        lambda u, v: mul(binomial(u, v), add(_psi(u + 1), -_psi(u - v + 1))),
    ),
    _by(
        binomial,
        (x, y),
        1,
        "binomial_k",
        "the binomial coefficient by its bottom",
        lambda u, v: mul(binomial(u, v), add(_psi(u - v + 1), -_psi(v + 1))),
    ),
    _by(
        lowergamma,
        (s, x),
        1,
        "lowergamma",
        "the lower incomplete gamma function γ(s, x)",
        lambda order, u: mul(power(u, order - 1), exp(-u)),
    ),
    _refused(lowergamma, 2, 0, "its parameter s (no closed form)"),
    _by(
        uppergamma,
        (s, x),
        1,
        "uppergamma",
        "the upper incomplete gamma function Γ(s, x)",
        lambda order, u: mul(S.NegativeOne, power(u, order - 1), exp(-u)),
    ),
    _refused(uppergamma, 2, 0, "its parameter s (no closed form)"),
    # zeta and polylogarithm
    _by(
        zeta,
        (s, a),
        1,
        "hurwitz_zeta",
        "the Hurwitz zeta function ζ(s, a) by a",
        lambda order, u: mul(-order, zeta(order + 1, u)),
    ),
    _refused(zeta, 2, 0, "its argument s (no closed form)"),
    _refused(zeta, 1, 0, "its argument s (no closed form)"),
    _refused(dirichlet_eta, 1, 0, "its argument s (no closed form)"),
    _by(polylog, (s, x), 1, "polylog", "the polylogarithm Li_s(x)", lambda order, u: _over(polylog(order - 1, u), u)),
    _refused(polylog, 2, 0, "its order s (no closed form)"),
    _by(
        lerchphi,
        (x, s, a),
        0,
        "lerchphi_z",
        "the Lerch transcendent Φ(z, s, a) by z",
        lambda z, order, b: _over(add(lerchphi(z, order - 1, b), -mul(b, lerchphi(z, order, b))), z),
    ),
    _by(
        lerchphi,
        (z, s, x),
        2,
        "lerchphi_a",
        "the Lerch transcendent Φ(z, s, a) by a",
        lambda z, order, b: mul(-order, lerchphi(z, order + 1, b)),
    ),
    _refused(lerchphi, 3, 1, "its order s (no closed form)"),
    # exponential, trigonometric and logarithmic integrals
    _one(Ei, "Ei", "the exponential integral Ei", lambda u: _over(exp(u), u)),
    _by(
        expint,
        (nu, x),
        1,
        "expint",
        "the generalized exponential integral E_ν",
        lambda order, u: mul(S.NegativeOne, expint(order - 1, u)),
    ),
    _refused(expint, 2, 0, "its order ν (no closed form)"),
    _one(Si, "Si", "the sine integral Si", lambda u: _over(sin(u), u)),
    _one(Ci, "Ci", "the cosine integral Ci", lambda u: _over(cos(u), u)),
    _one(Shi, "Shi", "the hyperbolic sine integral Shi", lambda u: _over(sinh(u), u)),
    _one(Chi, "Chi", "the hyperbolic cosine integral Chi", lambda u: _over(cosh(u), u)),
    _one(li, "li", "the logarithmic integral li", lambda u: power(log(u), S.NegativeOne)),
    _one(Li, "Li", "the offset logarithmic integral Li", lambda u: power(log(u), S.NegativeOne)),
    _one(fresnels, "fresnels", "the Fresnel integral S", lambda u: sin(mul(pi / 2, u**2))),
    _one(fresnelc, "fresnelc", "the Fresnel integral C", lambda u: cos(mul(pi / 2, u**2))),
    _one(
        sinc,
        "sinc",
        "sinc x = sin(x)/x",
        lambda u: _over(add(mul(u, cos(u)), -sin(u)), u**2),
        note=r"at $x = 0$, where this form is $0/0$, the derivative is $0$",
    ),
    # Lambert W
    _one(LambertW, "lambertw", "the Lambert W function", lambda u: _over(LambertW(u), mul(u, add(S.One, LambertW(u))))),
    _by(
        LambertW,
        (x, k),
        0,
        "lambertw_branch",
        "the Lambert W function (branch k)",
        lambda u, branch: _over(LambertW(u, branch), mul(u, add(S.One, LambertW(u, branch)))),
    ),
    _refused(LambertW, 2, 1, "its branch k (a whole number)"),
    # atan2(y, x): the angle of the point (x, y)
    _by(atan2, (y, x), 0, "atan2_y", "atan2 by its first argument y", lambda v, u: _over(u, u**2 + v**2)),
    _by(atan2, (y, x), 1, "atan2_x", "atan2 by its second argument x", lambda v, u: _over(-v, u**2 + v**2)),
    # Bessel and Airy functions
    _by(besselj, (nu, x), 1, "besselj", "the Bessel function J_ν", _bessel_difference(besselj)),
    _by(bessely, (nu, x), 1, "bessely", "the Bessel function Y_ν", _bessel_difference(bessely)),
    _by(
        besseli,
        (nu, x),
        1,
        "besseli",
        "the modified Bessel function I_ν",
        lambda order, z: _half(add(besseli(order - 1, z), besseli(order + 1, z))),
    ),
    _by(
        besselk,
        (nu, x),
        1,
        "besselk",
        "the modified Bessel function K_ν",
        lambda order, z: mul(-S.Half, add(besselk(order - 1, z), besselk(order + 1, z))),
    ),
    _by(hankel1, (nu, x), 1, "hankel1", "the Hankel function H⁽¹⁾_ν", _bessel_difference(hankel1)),
    _by(hankel2, (nu, x), 1, "hankel2", "the Hankel function H⁽²⁾_ν", _bessel_difference(hankel2)),
    _by(jn, (n, x), 1, "jn", "the spherical Bessel function j_n", _spherical(jn)),
    _by(yn, (n, x), 1, "yn", "the spherical Bessel function y_n", _spherical(yn)),
    *(
        _refused(function, 2, 0, "its order ν (no closed form)")
        for function in (besselj, bessely, besseli, besselk, hankel1, hankel2, jn, yn)
    ),
    _one(airyai, "airyai", "the Airy function Ai", airyaiprime),
    _one(airybi, "airybi", "the Airy function Bi", airybiprime),
    _one(airyaiprime, "airyaiprime", "Ai′ (Airy's equation Ai″ = x Ai)", lambda u: mul(u, airyai(u))),
    _one(airybiprime, "airybiprime", "Bi′ (Airy's equation Bi″ = x Bi)", lambda u: mul(u, airybi(u))),
    # complete and incomplete elliptic integrals
    _one(
        elliptic_k,
        "elliptic_k",
        "the complete elliptic integral K(m)",
        lambda u: _over(add(elliptic_e(u), -mul(1 - u, elliptic_k(u))), mul(2, u, 1 - u)),
    ),
    _one(
        elliptic_e,
        "elliptic_e",
        "the complete elliptic integral E(m)",
        lambda u: _over(add(elliptic_e(u), -elliptic_k(u)), mul(2, u)),
    ),
    _by(
        elliptic_e,
        (phi, m),
        0,
        "elliptic_e_phi",
        "the elliptic integral E(φ, m) by φ",
        lambda angle, u: sqrt(1 - u * sin(angle) ** 2),
    ),
    _by(
        elliptic_e,
        (phi, x),
        1,
        "elliptic_e_m",
        "the elliptic integral E(φ, m) by m",
        lambda angle, u: _over(add(elliptic_e(angle, u), -elliptic_f(angle, u)), mul(2, u)),
    ),
    _by(
        elliptic_f,
        (phi, m),
        0,
        "elliptic_f_phi",
        "the elliptic integral F(φ, m) by φ",
        lambda angle, u: power(sqrt(1 - u * sin(angle) ** 2), S.NegativeOne),
    ),
    _by(
        elliptic_f,
        (phi, x),
        1,
        "elliptic_f_m",
        "the elliptic integral F(φ, m) by m",
        lambda angle, u: add(
            _over(elliptic_e(angle, u), mul(2, u, 1 - u)),
            -_over(elliptic_f(angle, u), mul(2, u)),
            -_over(sin(2 * angle), mul(4, 1 - u, sqrt(1 - u * sin(angle) ** 2))),
        ),
    ),
    # differentiable almost everywhere
    _one(
        floor,
        "floor",
        f"floor ({_ALMOST.format(name='floor')})",
        lambda u: S.Zero,
        note="floor is constant between consecutive integers",
    ),
    _one(
        ceiling,
        "ceiling",
        f"ceiling ({_ALMOST.format(name='ceiling')})",
        lambda u: S.Zero,
        note="ceiling is constant between consecutive integers",
    ),
    _one(
        frac,
        "frac",
        "frac (1 except at the integers, where frac jumps)",
        lambda u: S.One,
        note=r"$\operatorname{frac}(x) = x - \lfloor x \rfloor$",
    ),
    _by(
        Mod,
        (x, y),
        0,
        "mod_dividend",
        "a mod b by a (1 except where a/b is an integer, where it jumps)",
        lambda u, v: S.One,
        note=r"$a \bmod b = a - b \lfloor a/b \rfloor$",
    ),
    _by(
        Mod,
        (x, y),
        1,
        "mod_divisor",
        "a mod b by b (−⌊a/b⌋ except where a/b is an integer, where it jumps)",
        lambda u, v: -floor(u / v),
        note=r"$a \bmod b = a - b \lfloor a/b \rfloor$",
    ),
    _by(
        Heaviside,
        (x, S.Half),
        0,
        "heaviside",
        "the Heaviside step (0 except at 0, where it jumps: δ)",
        lambda u, h0: DiracDelta(u),
        note=r"a distribution: zero away from 0, the Dirac delta $\delta$ at 0",
    ),
    _refused(Heaviside, 2, 1, "its value at 0"),
    _one(DiracDelta, "diracdelta", "the Dirac delta (a distribution, zero away from 0)", lambda u: DiracDelta(u, 1)),
    _by(
        DiracDelta,
        (x, S.One),
        0,
        "diracdelta_k",
        "the k-th derivative of the Dirac delta (a distribution)",
        lambda u, order: DiracDelta(u, order + 1),
    ),
    _refused(DiracDelta, 2, 1, "its order k (a whole number)"),
]

_BY_KEY: dict[tuple[type, int, int], Partial] = {
    (entry.function, entry.arity, entry.position): entry for entry in PARTIALS
}
FUNCTIONS: tuple[type, ...] = tuple(dict.fromkeys(entry.function for entry in PARTIALS))


def partial(function: type, arity: int, position: int) -> Partial | None:
    """The table entry for ∂/∂(argument ``position``) of ``function`` with ``arity`` arguments."""
    return _BY_KEY.get((function, arity, position))


def _table_rule(entry: Partial) -> Rule:
    def apply(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
        positions = [i for i, arg in enumerate(expr.args) if depends(arg, ctx.wrt)]
        if len(expr.args) != entry.arity or positions != [entry.position] or expr.args[entry.position] != ctx.wrt:
            return None
        assert entry.formula is not None
        return Rewrite(entry.formula(*expr.args), note=entry.note)

    apply.__doc__ = f"d/dx {entry.function.__name__}(…, x, …) -> its table derivative"
    return Rule(
        id=entry.rule_id,
        label=entry.label,
        statement=entry.statement(),
        apply=apply,
        family="elementary",
        heads=(entry.function,),
    )


def _refusal(expr: sympy.Expr, position: int) -> str:
    entry = partial(type(expr), len(expr.args), position)
    what = entry.refusal if entry is not None and entry.refusal else "this argument (no rule for it)"
    name = type(expr).__name__
    return (
        f"{sympy.sstr(expr)}: derivgen cannot differentiate {name} by argument {position + 1}, {what}; "
        "only the other arguments may hold the variable"
    )


def refuse_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx F(…) where x is in an argument F has no closed-form derivative by -> a clear refusal."""
    for position, argument in enumerate(expr.args):
        if not depends(argument, ctx.wrt):
            continue
        entry = partial(type(expr), len(expr.args), position)
        if entry is None or entry.formula is None:
            raise UnsupportedExpression(_refusal(expr, position))
    return None


def several_arguments_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """d/dx F(a(x), b(x)) -> ∂₁F(a, b) · d/dx a + ∂₂F(a, b) · d/dx b."""
    positions = [i for i, arg in enumerate(expr.args) if depends(arg, ctx.wrt)]
    if len(positions) < 2:
        return None
    terms = []
    for position in positions:
        entry = partial(type(expr), len(expr.args), position)
        if entry is None or entry.formula is None:
            return None  # refuse_rule, before this one, has said why
        terms.append(mul(entry.formula(*expr.args), d(expr.args[position], ctx.wrt)))
    return Rewrite(add(*terms))


RULES = [
    *(_table_rule(entry) for entry in PARTIALS if entry.formula is not None),
    Rule(
        id="special_refused",
        label="no closed-form derivative",
        statement=r"\frac{\partial}{\partial \nu} J_\nu(x) \text{ has no closed form}",
        apply=refuse_rule,
        family="elementary",
        heads=FUNCTIONS,
    ),
    Rule(
        id="several_arguments",
        label="chain rule through several arguments",
        statement=r"\frac{d}{dx} F\bigl(a(x), b(x)\bigr) = \partial_1 F\, a'(x) + \partial_2 F\, b'(x)",
        apply=several_arguments_rule,
        family="chain",
        level=STRUCTURAL,
        heads=FUNCTIONS,
    ),
]
