"""Shared test helpers.  Results are compared with sympy.diff, evaluated by sympy itself."""

from __future__ import annotations

import random

import pytest
import sympy
from sympy.core.function import AppliedUndef

RANGES = ((0.15, 0.85), (1.2, 2.6), (-0.85, -0.15), (-2.6, -1.2))


def _concrete(expr: sympy.Expr) -> sympy.Expr:
    """Undefined functions replaced by fixed smooth ones, so sympy can evaluate everything.

    Outermost functions go first: sympy writes dh(f(x), g(x))/dx with derivatives *by* f(x),
    which must be worked out before f itself is replaced."""
    while applied_all := expr.atoms(AppliedUndef):
        inner = {a.func for outer in applied_all for arg in outer.args for a in arg.atoms(AppliedUndef)}
        function = next(a.func for a in sorted(applied_all, key=str) if a.func not in inner)
        arity = len(next(a for a in applied_all if a.func == function).args)
        symbols = sympy.symbols(f"t0:{arity}")
        body = sum(sympy.sin((i + 2) * s) + s**2 / (i + 3) for i, s in enumerate(symbols)) + sympy.prod(symbols)
        expr = expr.replace(function, sympy.Lambda(symbols, body)).doit()
    return expr


def same_function(left: sympy.Expr, right: sympy.Expr, points: int = 4, seed: int = 1) -> bool:
    """``left`` and ``right`` agree at random real points where both are real and finite."""
    if left == right:
        return True
    left, right = _concrete(left), _concrete(right)
    symbols = sorted(left.free_symbols | right.free_symbols, key=str)
    rng = random.Random(seed)
    agreed = 0
    for _ in range(40):
        values = {s: sympy.Float(rng.uniform(*rng.choice(RANGES)), 30) for s in symbols}
        try:
            a = complex(sympy.N(left.subs(values), 25))
            b = complex(sympy.N(right.subs(values), 25))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if not all(map(_finite, (a, b))) or abs(a.imag) > 1e-9 or abs(b.imag) > 1e-9:
            continue
        if abs(a - b) > 1e-8 * max(1.0, abs(a), abs(b)):
            return False
        agreed += 1
        if agreed >= points:
            return True
    return agreed > 0 or sympy.simplify(left - right) == 0


def _finite(value: complex) -> bool:
    return all(abs(part) < 1e300 and part == part for part in (value.real, value.imag))


@pytest.fixture
def x() -> sympy.Symbol:
    return sympy.Symbol("x", real=True)
