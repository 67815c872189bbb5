"""Property tests: random expression trees over the supported functions.

Every derivation must check step by step (derive raises otherwise) and its result must equal
``sympy.diff`` of the same expression.
"""

from __future__ import annotations

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivgen import derive
from derivgen.engine import find_pending
from derivgen.functions import sigmoid
from derivgen.present import to_latex, to_text
from tests.conftest import same_function

x = sympy.Symbol("x", real=True)
a = sympy.Symbol("a", real=True)

UNARY = [
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.exp,
    sympy.log,
    sympy.sqrt,
    sympy.atan,
    sympy.asin,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.asinh,
    sympy.Abs,
    sympy.erf,
    sigmoid,
]

leaves = st.sampled_from([x, x, x, a, sympy.Integer(2), sympy.Integer(3), sympy.Rational(1, 2), sympy.pi])


def _combine(children):
    unary = st.builds(lambda f, u: f(u), st.sampled_from(UNARY), children)
    binary = st.builds(
        lambda op, u, v: op(u, v),
        st.sampled_from([sympy.Add, sympy.Mul, lambda u, v: u - v, lambda u, v: u / v]),
        children,
        children,
    )
    power = st.builds(
        lambda u, n: u**n,
        children,
        st.sampled_from([sympy.Integer(2), sympy.Integer(3), sympy.Integer(-1), sympy.Rational(1, 2), x]),
    )
    return unary | binary | power


expressions = st.recursive(leaves, _combine, max_leaves=6).filter(
    lambda e: (
        e.has(x)
        and not e.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
        and not any(power.base.is_zero for power in e.atoms(sympy.Pow))
    )  # 0**x
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_random_expressions_match_sympy(expression):
    derivation = derive(expression, x)  # raises VerificationError if any step does not check
    assert find_pending(derivation.result) is None
    assert same_function(derivation.result, sympy.diff(expression, x))
    for step in derivation.steps:  # every step prints, in both forms
        assert to_latex(step.after) and to_text(step.after)


@settings(max_examples=40, deadline=None)
@given(expressions, st.sampled_from(["f", "g"]))
def test_random_compositions_with_undefined_functions(expression, name):
    expression = sympy.Function(name)(expression) * expression
    derivation = derive(expression, x)
    assert same_function(derivation.result, sympy.diff(expression, x))
