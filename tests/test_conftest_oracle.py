"""The oracle itself: same_function must tell different functions apart, also off the positive reals."""

from __future__ import annotations

import sympy
from sympy import Abs, Function, Symbol, cos, exp, log, sin, sqrt

from tests.conftest import same_function

x = Symbol("x", real=True)
y = Symbol("y", real=True)
z = Symbol("z")  # no assumptions: complex values are sampled too
p = Symbol("p", positive=True)


def test_log_is_not_log_of_the_absolute_value():
    assert not same_function(log(x), log(Abs(x)))
    assert not same_function(1 / x, 1 / Abs(x))  # d/dx log|x| is 1/x on both sides of 0


def test_on_the_positive_reals_they_are_the_same():
    assert same_function(log(p), log(Abs(p)))


def test_sign_mistakes_differ():
    assert not same_function(cos(x), -cos(x))
    assert not same_function(x**2 - y, x**2 + y)
    assert not same_function(-sin(x) * exp(x), sin(x) * exp(x))


def test_functions_that_agree_only_for_positive_values_differ():
    assert not same_function(sqrt(x**2), x)
    assert not same_function(Abs(x), x)


def test_functions_that_agree_only_on_the_reals_differ_for_a_complex_symbol():
    assert same_function(Abs(x) ** 2, x**2)
    assert not same_function(Abs(z) ** 2, z**2)
    assert not same_function(sympy.re(z), z)


def test_equal_forms_agree():
    assert same_function(2 * sin(x) * cos(x), sin(2 * x))
    assert same_function(exp(x) * (x + 1), exp(x) + x * exp(x))
    assert same_function((z**2 - 1) / (z - 1), z + 1)
    assert same_function(1 / x, x / x**2)
    assert same_function(log(x**2), 2 * log(Abs(x)))


def test_undefined_functions_are_compared_through_a_concrete_stand_in():
    f = Function("f")
    assert same_function(sympy.diff(f(x) ** 2, x), 2 * f(x) * sympy.Derivative(f(x), x))
    assert not same_function(sympy.diff(f(x) ** 2, x), f(x) * sympy.Derivative(f(x), x))


def test_one_side_undefined_where_the_other_is_defined_is_a_difference():
    assert not same_function(x / x, sympy.Piecewise((1, x > 0), (sympy.nan, True)))


def test_too_few_comparable_points_fail():
    # defined only for x > 100, where no point is drawn: nothing compared is not "equal"
    assert not same_function(
        sympy.Piecewise((x, x > 100), (sympy.nan, True)), sympy.Piecewise((2 * x, x > 100), (sympy.nan, True))
    )


def test_nested_undefined_functions_are_made_concrete():
    # f(f(x)) holds f inside f: choosing "a function no other holds" found none (StopIteration)
    f = Function("f")
    outer_at_inner = sympy.Subs(sympy.Derivative(f(x), x), x, f(x))  # f'(f(x))
    assert same_function(sympy.diff(f(f(x)), x), outer_at_inner * sympy.Derivative(f(x), x))
    assert not same_function(sympy.diff(f(f(x)), x), sympy.Derivative(f(x), x))
