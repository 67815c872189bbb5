"""Checking steps: every rewrite must leave the value of the expression unchanged.

Each rewrite is checked locally — the focus ``d/dx u`` against what replaced it — at random
points with mpmath.  Derivatives are evaluated numerically (``mpmath.diff`` of the function at
high precision), which is independent of sympy's differentiation, so the check catches mistakes in
our rules and in sympy alike.  Undefined functions (f, g, h) are replaced by random smooth
functions.  Where no point can be evaluated, a symbolic check is the fallback.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import mpmath
import sympy
from sympy import Derivative, Piecewise, Subs
from sympy.core.function import AppliedUndef
from sympy.logic.boolalg import Boolean

from ..errors import VerificationError
from ..input.functions import sigmoid

_DPS = 30
_TOLERANCE = mpmath.mpf(10) ** -12
_POINTS = 3
_HUGE = mpmath.mpf(10) ** 12
_ATTEMPTS = 16
# Sampling ranges: inside (0, 1) for asin, log and sqrt, beyond 1 for acosh and asec, and negative.
_RANGES = ((0.15, 0.85), (1.2, 2.6), (-0.85, -0.15), (-2.6, -1.2))


class Unevaluable(Exception):
    """The expression (or this point) cannot be evaluated numerically."""


_MP_FUNCTIONS: dict[type, Callable] = {
    sympy.exp: mpmath.exp,
    sympy.log: mpmath.log,
    sympy.sin: mpmath.sin,
    sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan,
    sympy.cot: mpmath.cot,
    sympy.sec: mpmath.sec,
    sympy.csc: mpmath.csc,
    sympy.asin: mpmath.asin,
    sympy.acos: mpmath.acos,
    sympy.atan: mpmath.atan,
    sympy.acot: mpmath.acot,
    sympy.asec: mpmath.asec,
    sympy.acsc: mpmath.acsc,
    sympy.sinh: mpmath.sinh,
    sympy.cosh: mpmath.cosh,
    sympy.tanh: mpmath.tanh,
    sympy.coth: mpmath.coth,
    sympy.sech: mpmath.sech,
    sympy.csch: mpmath.csch,
    sympy.asinh: mpmath.asinh,
    sympy.acosh: mpmath.acosh,
    sympy.atanh: mpmath.atanh,
    sympy.acoth: mpmath.acoth,
    sympy.asech: mpmath.asech,
    sympy.acsch: mpmath.acsch,
    sympy.Abs: abs,
    sympy.erf: mpmath.erf,
    sympy.erfc: mpmath.erfc,
    sympy.erfi: mpmath.erfi,
    sympy.gamma: mpmath.gamma,
    sympy.loggamma: mpmath.loggamma,
    sympy.polygamma: lambda m, z: mpmath.polygamma(int(m), z),
    sympy.sign: lambda v: mpmath.sign(v) if not isinstance(v, mpmath.mpc) else (v / abs(v) if v else v),
    sympy.re: mpmath.re,
    sympy.im: mpmath.im,
    sympy.arg: mpmath.arg,
    sympy.atan2: mpmath.atan2,
    sympy.conjugate: mpmath.conj,
    sympy.DiracDelta: lambda v, *order: _dirac(v),
    sympy.Heaviside: lambda v, *rest: mpmath.mpf(1) if _real(v) > 0 else mpmath.mpf(0),
    sigmoid: lambda v: 1 / (1 + mpmath.exp(-v)),
    # special functions (the derivatives in rules/special.py are checked against these)
    sympy.sinc: mpmath.sinc,
    sympy.LambertW: lambda v, k=0: mpmath.lambertw(v, int(k)),
    sympy.besselj: mpmath.besselj,
    sympy.bessely: mpmath.bessely,
    sympy.besseli: mpmath.besseli,
    sympy.besselk: mpmath.besselk,
    sympy.hankel1: mpmath.hankel1,
    sympy.hankel2: mpmath.hankel2,
    sympy.jn: lambda n, v: mpmath.sqrt(mpmath.pi / (2 * v)) * mpmath.besselj(n + mpmath.mpf(1) / 2, v),
    sympy.yn: lambda n, v: mpmath.sqrt(mpmath.pi / (2 * v)) * mpmath.bessely(n + mpmath.mpf(1) / 2, v),
    sympy.airyai: mpmath.airyai,
    sympy.airybi: mpmath.airybi,
    sympy.airyaiprime: lambda v: mpmath.airyai(v, derivative=1),
    sympy.airybiprime: lambda v: mpmath.airybi(v, derivative=1),
    sympy.erfinv: lambda v: mpmath.erfinv(_real(v)),
    sympy.erfcinv: lambda v: mpmath.erfinv(1 - _real(v)),
    sympy.erf2: lambda u, v: mpmath.erf(v) - mpmath.erf(u),
    sympy.erf2inv: lambda u, v: mpmath.erfinv(_real(mpmath.erf(u) + v)),
    sympy.Ei: mpmath.ei,
    sympy.Si: mpmath.si,
    sympy.Ci: mpmath.ci,
    sympy.Shi: mpmath.shi,
    sympy.Chi: mpmath.chi,
    sympy.li: mpmath.li,
    sympy.Li: lambda v: mpmath.li(v, offset=True),
    sympy.fresnels: mpmath.fresnels,
    sympy.fresnelc: mpmath.fresnelc,
    sympy.expint: mpmath.expint,
    sympy.digamma: mpmath.digamma,
    sympy.trigamma: lambda v: mpmath.polygamma(1, v),
    sympy.lowergamma: lambda s, v: mpmath.gammainc(s, 0, v),
    sympy.uppergamma: lambda s, v: mpmath.gammainc(s, v),
    sympy.polylog: mpmath.polylog,
    sympy.zeta: mpmath.zeta,
    sympy.dirichlet_eta: mpmath.altzeta,
    sympy.lerchphi: mpmath.lerchphi,
    sympy.beta: mpmath.beta,
    sympy.factorial: mpmath.factorial,
    sympy.binomial: mpmath.binomial,
    sympy.harmonic: mpmath.harmonic,
    sympy.elliptic_k: mpmath.ellipk,
    sympy.elliptic_e: mpmath.ellipe,
    sympy.elliptic_f: mpmath.ellipf,
    # step functions: away from their jumps (a point within reach of the numeric derivative is refused)
    sympy.floor: lambda v: mpmath.floor(_off_jump(v)),
    sympy.ceiling: lambda v: mpmath.ceil(_off_jump(v)),
    sympy.frac: lambda v: _off_jump(v) - mpmath.floor(_off_jump(v)),
    sympy.Mod: lambda a, b: a - b * mpmath.floor(_off_jump(a / b)),
    sympy.Max: lambda *values: max(_real(v) for v in values),
    sympy.Min: lambda *values: min(_real(v) for v in values),
}


def _real(value):
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > _TOLERANCE * max(1, abs(value.real)):
            raise Unevaluable("comparison of a complex value")
        return value.real
    return value


def _off_jump(value):
    """``value`` (real), unless it lies so near an integer that a step function jumps within reach."""
    value = _real(value)
    if abs(value - mpmath.nint(value)) < mpmath.mpf(10) ** -6:
        raise Unevaluable("at a jump of a step function")
    return value


def _dirac(value):
    if abs(value) < _TOLERANCE:
        raise Unevaluable("DiracDelta at 0")
    return mpmath.mpf(0)


class NumericEvaluator:
    """Numeric value of a sympy expression, derivatives included, under ``env``."""

    def __init__(self, undefined: dict[str, Callable]):
        self.undefined = undefined
        self._memo_env: dict | None = None
        self._memo: dict[sympy.Basic, Any] = {}

    def remember(self, env: dict[sympy.Symbol, object], memo: dict[sympy.Basic, Any]) -> None:
        """Keep the value of every node evaluated under ``env`` (that very dict) in ``memo``: a
        subtree standing several times (the factors of a chain rule's product share the inner
        functions) is evaluated once.  Other environments (inside a numeric derivative, at another
        precision) are never remembered."""
        self._memo_env, self._memo = env, memo

    def value(self, expr: sympy.Basic, env: dict[sympy.Symbol, object]) -> Any:
        """An mpmath number (mpf or mpc; mpmath has no type information to name them)."""
        if env is not self._memo_env or expr.is_Atom:
            return self._value(expr, env)
        found = self._memo.get(expr)
        if found is None:
            found = self._memo[expr] = self._value(expr, env)
        return found

    def _value(self, expr: sympy.Basic, env: dict[sympy.Symbol, object]) -> Any:
        if expr.is_Number:
            if expr.is_Rational:
                return mpmath.mpf(expr.p) / expr.q
            if expr.is_Float:
                return mpmath.mpf(expr)
            raise Unevaluable(str(expr))
        if expr.is_Symbol:
            try:
                return env[expr]
            except KeyError:
                raise Unevaluable(f"free symbol {expr}") from None
        if expr is sympy.pi:
            return +mpmath.pi
        if expr is sympy.E:
            return +mpmath.e
        if expr.is_Add:
            return mpmath.fsum(self.value(arg, env) for arg in expr.args)
        if expr.is_Mul:
            return mpmath.fprod(self.value(arg, env) for arg in expr.args)
        if expr.is_Pow:
            return self._power(expr, env)
        if isinstance(expr, Derivative):
            return self._derivative(expr, env)
        if isinstance(expr, sympy.Limit):
            return self._limit(expr, env)
        if isinstance(expr, Subs):
            inner_env = dict(env)
            for variable, point in zip(expr.variables, expr.point, strict=True):
                inner_env[variable] = self.value(point, env)
            return self.value(expr.expr, inner_env)
        if isinstance(expr, Piecewise):
            for piece, condition in expr.args:
                if self.truth(condition, env):
                    return self.value(piece, env)
            raise Unevaluable("no piece applies")
        if isinstance(expr, AppliedUndef):
            function = self.undefined.get(type(expr).__name__)
            if function is None:
                raise Unevaluable(f"undefined function {type(expr).__name__}")
            return function(*(self.value(arg, env) for arg in expr.args))
        function = _MP_FUNCTIONS.get(type(expr))
        if function is None:
            raise Unevaluable(type(expr).__name__)
        return function(*(self.value(arg, env) for arg in expr.args))

    def _power(self, expr: sympy.Pow, env):
        base = self.value(expr.base, env)
        if expr.exp.is_Integer:
            if base == 0 and expr.exp < 0:
                raise Unevaluable("division by zero")
            return base ** int(expr.exp)
        exponent = self.value(expr.exp, env)
        if base == 0:
            if not isinstance(exponent, mpmath.mpc) and exponent > 0:
                return mpmath.mpf(0)  # 0^g = 0 for every g > 0
            raise Unevaluable("0 to a power that is not positive")
        if expr.base is sympy.E:  # e^(e^(e^(e^x))): mpmath's power takes minutes on a huge whole exponent
            return mpmath.exp(exponent)
        return mpmath.power(base, exponent)

    def _derivative(self, expr: Derivative, env):
        variables = [variable for variable, _ in expr.variable_count]
        orders = [int(count) for _, count in expr.variable_count]
        point = [env.get(variable, None) for variable in variables]
        if any(value is None for value in point):
            raise Unevaluable("derivative variable without a value")

        def function(*values):
            inner_env = dict(env)
            inner_env.update(zip(variables, values, strict=True))
            return self.value(expr.expr, inner_env)

        if len(variables) == 1:
            return mpmath.diff(function, point[0], orders[0])
        return mpmath.diff(function, tuple(point), tuple(orders))

    def _limit(self, expr: sympy.Limit, env):
        """lim_{h→0} e: e at a tiny h, computed with twice the digits (the quotient cancels half)."""
        body, variable, point = expr.args[0], expr.args[1], expr.args[2]
        if point != 0:
            raise Unevaluable("only limits at 0 are evaluated")
        with mpmath.workdps(2 * _DPS):
            tiny = mpmath.mpf(10) ** -_DPS
            value = self.value(body, {**env, variable: tiny})
        return +value

    def truth(self, condition: Boolean, env: dict[sympy.Symbol, object]) -> bool:
        if condition is sympy.true:
            return True
        if condition is sympy.false:
            return False
        if isinstance(condition, sympy.And):
            return all(self.truth(arg, env) for arg in condition.args)
        if isinstance(condition, sympy.Or):
            return any(self.truth(arg, env) for arg in condition.args)
        if isinstance(condition, sympy.Not):
            return not self.truth(condition.args[0], env)
        if isinstance(condition, sympy.core.relational.Relational):
            left = _real(self.value(condition.lhs, env))
            right = _real(self.value(condition.rhs, env))
            if abs(left - right) < _TOLERANCE:
                raise Unevaluable("on the boundary of a condition")
            return {
                "<": left < right,
                "<=": left <= right,
                ">": left > right,
                ">=": left >= right,
                "==": False,
                "!=": True,
            }[condition.rel_op]
        raise Unevaluable(f"condition {condition}")


def _random_smooth_function(rng: random.Random, arity: int) -> Callable:
    """A random, real-analytic stand-in for an undefined function of ``arity`` arguments."""
    a = [mpmath.mpf(rng.uniform(0.5, 1.5)) for _ in range(arity)]
    b = [mpmath.mpf(rng.uniform(-1, 1)) for _ in range(arity)]
    c = mpmath.mpf(rng.uniform(-1, 1))

    def function(*values):
        total = c
        for i, v in enumerate(values):
            total += mpmath.sin(a[i % arity] * v + b[i % arity]) + a[i % arity] * v * v / 3
        if len(values) > 1:
            total += mpmath.fprod(values) / 2
        return total

    return function


def _undefined_functions(expressions: Sequence[sympy.Basic]) -> dict[str, Callable]:
    """A stand-in for each undefined function, drawn from its name and arity alone: every check of a
    derivation sees the same f (so values can be shared between them, see :func:`shared_values`)."""
    names: dict[str, int] = {}
    for expression in expressions:
        for applied in expression.atoms(AppliedUndef):
            names.setdefault(type(applied).__name__, len(applied.args))
    return {name: _random_smooth_function(_rng(f"{name}/{arity}"), arity) for name, arity in names.items()}


def _rng(seed: str) -> random.Random:
    """A generator seeded from text: the same points in every process (``hash`` of a str is not)."""
    return random.Random(zlib.crc32(seed.encode()))


# Values of the nodes at each check point, shared by all checks of one derivation (the engine opens
# it): the steps are checked at the same points, so the whole-derivation check and later steps find
# the values of unchanged subtrees there.  Keyed by the point, so a check at other points shares nothing.
_SHARED: ContextVar[dict[tuple, dict[sympy.Basic, Any]] | None] = ContextVar("shared_values", default=None)


@contextmanager
def shared_values() -> Iterator[None]:
    """Share node values between the checks inside the ``with`` block (one derivation)."""
    token = _SHARED.set({}) if _SHARED.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _SHARED.reset(token)


def _is_finite(value) -> bool:
    return (
        mpmath.isfinite(value)
        if not isinstance(value, mpmath.mpc)
        else (mpmath.isfinite(value.real) and mpmath.isfinite(value.imag))
    )


def _is_real(value) -> bool:
    return not isinstance(value, mpmath.mpc) or abs(value.imag) <= _TOLERANCE * max(1, abs(value.real))


def _close(a, b) -> bool:
    scale = max(mpmath.mpf(1), abs(a), abs(b))
    return abs(a - b) <= _TOLERANCE * scale


def numerically_equal(left: sympy.Basic, right: sympy.Basic, symbols: Sequence[sympy.Symbol] = ()) -> bool | None:
    """True/False when ``left`` and ``right`` agree/disagree at random points; None if undecidable.

    Points where every value is real are preferred; complex values (principal branches) are
    used only when no real point is found.
    """
    free = sorted(set(symbols) | left.free_symbols | right.free_symbols, key=lambda s: s.name)
    # the points depend on the variables alone (a cheap seed: srepr of both sides cost up to a fifth of
    # the check), so the checks of one derivation meet at the same points and share values there
    rng = _rng("|".join(f"{symbol.name}:{symbol.is_positive}" for symbol in free))
    evaluator = NumericEvaluator(_undefined_functions((left, right)))
    shared = _SHARED.get()
    real_points = complex_points = 0
    complex_results: list[bool] = []
    with mpmath.workdps(_DPS):
        for _ in range(_ATTEMPTS):
            env = {}
            for symbol in free:
                low, high = rng.choice(_positive_ranges() if symbol.is_positive else _RANGES)
                env[symbol] = mpmath.mpf(rng.uniform(low, high))
            memo = {} if shared is None else shared.setdefault(tuple(env.items()), {})
            evaluator.remember(env, memo)
            try:
                a = evaluator.value(left, env)
                b = evaluator.value(right, env)
            except (Unevaluable, ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            if not (_is_finite(a) and _is_finite(b)) or max(abs(a), abs(b)) > _HUGE:
                continue  # overflow, or values so large that sin(a·t) has lost its digits: not a fair test
            if _is_real(a) and _is_real(b):
                if not _close(a, b):
                    return False
                real_points += 1
                if real_points >= _POINTS:
                    return True
            else:
                complex_points += 1
                complex_results.append(_close(a, b))
    if real_points:
        return True
    if complex_results:
        return all(complex_results)
    return None


def _positive_ranges() -> tuple[tuple[float, float], ...]:
    return tuple(r for r in _RANGES if r[0] > 0)


def symbolically_equal(left: sympy.Basic, right: sympy.Basic) -> bool:
    """Fallback: sympy proves the difference zero (bounded by what simplify can do)."""
    try:
        difference = sympy.simplify(left.doit() - right.doit())
    except Exception:  # sympy may fail in many ways on odd input; that means "not proven"
        return False
    return difference == 0


def check_equal(before: sympy.Basic, after: sympy.Basic, what: str) -> None:
    """Raise :class:`VerificationError` unless ``before`` equals ``after`` as functions."""
    if before == after:
        return
    verdict = numerically_equal(before, after)
    if verdict is None:
        verdict = symbolically_equal(before, after)
    if not verdict:
        raise VerificationError(
            f"step '{what}' does not check: {sympy.sstr(before)} is not equal to {sympy.sstr(after)} "
            "(a bug in derivgen; please report it with this expression)"
        )


__all__ = ["check_equal", "numerically_equal", "shared_values", "symbolically_equal"]
