"""Shared test helpers.  Results are compared with sympy.diff, evaluated by sympy at many points."""

from __future__ import annotations

import os
import random

import pytest
import sympy
from hypothesis import settings
from sympy.core.function import AppliedUndef

import derivgen  # noqa: F401  (first: it keeps BLAS to one thread before numpy loads, as in the CLI)

# HYPOTHESIS_PROFILE=mutation (set by scripts/mutation.sh): the same examples for every mutant, so a
# mutant is judged by the tests and not by which random examples a run happened to draw
settings.register_profile("mutation", derandomize=True, database=None)
# CI=true: the same examples in every CI run, so a submission never fails on a tree drawn once;
# local runs draw anew each time and hunt (a failure found there becomes an explicit example)
settings.register_profile("ci", derandomize=True, database=None)
default_profile = "ci" if os.environ.get("CI", "").lower() == "true" else "default"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default_profile))



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """DERIVGEN_TEST_SHARD=k/n: only every n-th test, from the k-th (scripts/test.sh runs the n shards at once,
    each a plain pytest process: every core busy, and no helper thread in a process that forks workers)."""
    shard = os.environ.get("DERIVGEN_TEST_SHARD")
    if not shard:
        return
    number, count = (int(part) for part in shard.split("/"))
    if not 1 <= number <= count:
        raise pytest.UsageError(f"DERIVGEN_TEST_SHARD={shard}: not k/n with 1 <= k <= n")
    mine = [index % count == number - 1 for index in range(len(items))]
    config.hook.pytest_deselected(items=[item for item, kept in zip(items, mine, strict=True) if not kept])
    items[:] = [item for item, kept in zip(items, mine, strict=True) if kept]


RANGES = ((0.15, 0.85), (1.2, 2.6), (-0.85, -0.15), (-2.6, -1.2))


def _concrete(expr: sympy.Expr) -> sympy.Expr:
    """Undefined functions replaced by fixed smooth ones, so sympy can evaluate everything.

    Outermost functions go first: sympy writes dh(f(x), g(x))/dx with derivatives *by* f(x),
    which must be worked out before f itself is replaced."""
    expr = expr.replace(_by_a_function, _at_dummies)
    while applied_all := expr.atoms(AppliedUndef):
        # an application no other application holds (f(f(x)) holds f(x), and f is still outermost)
        nested = {a for outer in applied_all for arg in outer.args for a in arg.atoms(AppliedUndef)}
        function = next(a.func for a in sorted(applied_all, key=str) if a not in nested)
        arity = len(next(a for a in applied_all if a.func == function).args)
        symbols = sympy.symbols(f"t0:{arity}")
        body = sum(sympy.sin((i + 2) * s) + s**2 / (i + 3) for i, s in enumerate(symbols)) + sympy.prod(symbols)
        expr = expr.replace(function, sympy.Lambda(symbols, body)).doit()
    return expr


def _by_a_function(node: sympy.Basic) -> bool:
    return isinstance(node, sympy.Derivative) and any(isinstance(v, AppliedUndef) for v in node.variables)


def _at_dummies(derivative: sympy.Derivative) -> sympy.Expr:
    """d f(f(x)) / d f(x) as f'(t) at t = f(x): once f is made concrete, sympy cannot differentiate
    by the expression f(x) has become."""
    stand_ins = {v: sympy.Dummy("t") for v in derivative.variables if isinstance(v, AppliedUndef)}
    variables = [stand_ins.get(v, v) for v in derivative.variables]
    body = sympy.Derivative(derivative.expr.xreplace(stand_ins), *variables)
    return sympy.Subs(body, list(stand_ins.values()), list(stand_ins))


MIN_COMPARED = 6  # fewer comparable points than this is a failure, not a pass


def _sample(symbol: sympy.Symbol, rng: random.Random, k: int, complex_point: bool) -> sympy.Expr:
    """A value for ``symbol`` within its declared domain: signs rotate from point to point (so that
    negative values are always among them), and symbols not declared real also get complex values."""
    ranges = [r for r in RANGES if (r[0] > 0 or not symbol.is_nonnegative) and (r[1] < 0 or not symbol.is_nonpositive)]
    low, high = ranges[k % len(ranges)]
    if symbol.is_integer:
        return sympy.Integer(round(rng.uniform(low, high) * 2) or 1)
    value = sympy.Float(rng.uniform(low, high), 30)
    if complex_point and symbol.is_extended_real is None:
        value += sympy.I * sympy.Float(rng.choice((-1, 1)) * rng.uniform(0.3, 1.5), 30)
    return value


def _value(expr: sympy.Expr, values: dict) -> complex | None:
    """The (complex) value at ``values``, or None where the expression is undefined or infinite."""
    try:
        value = complex(sympy.N(expr.subs(values), 25))
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    return value if _finite(value) else None


def same_function(left: sympy.Expr, right: sympy.Expr, points: int = 16, seed: int = 1) -> bool:
    """``left`` and ``right`` have equal values at ``points`` random points of their symbols' domains.

    Real and complex values are compared alike (log x ≠ log |x| at negative x).  A point where both
    are undefined is skipped; one defined where the other is not, any disagreement, or fewer than
    MIN_COMPARED comparable points is a failure."""
    if left == right:
        return True
    left, right = _concrete(left), _concrete(right)
    symbols = sorted(left.free_symbols | right.free_symbols, key=str)
    rng = random.Random(seed)
    compared = 0
    for k in range(points):
        complex_point = k % 2 == 1
        values = {s: _sample(s, rng, k + i, complex_point) for i, s in enumerate(symbols)}
        a, b = _value(left, values), _value(right, values)
        if a is None and b is None:
            continue
        if a is None or b is None or abs(a - b) > 1e-8 * max(1.0, abs(a), abs(b)):
            return False
        compared += 1
    return compared >= min(MIN_COMPARED, points)


def _finite(value: complex) -> bool:
    return all(abs(part) < 1e300 and part == part for part in (value.real, value.imag))


@pytest.fixture
def x() -> sympy.Symbol:
    return sympy.Symbol("x", real=True)
