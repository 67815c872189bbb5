"""derivgen.parse: the allowed language, what is refused (with its column), and the limits."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import HealthCheck, event, given, settings
from sympy import Abs, E, Function, Max, Min, Piecewise, Rational, Symbol, exp, log, pi, sin, sqrt

from derivgen import LimitExceeded, ParseError, parse
from derivgen.input.functions import sigmoid
from derivgen.input.parser import FUNCTIONS, ParseLimits
from tests.conftest import same_function
from tests.strategies import written_expressions

x, y, lam, mu, x1, x2, b = (Symbol(n, real=True) for n in ("x", "y", "lam", "mu", "x1", "x2", "b"))
nu = Symbol("nu", real=True)
f, g, h, f1, f2 = (Function(n) for n in ("f", "g", "h", "f1", "f2"))

ACCEPTED = [
    ("(x**2 + 2)**3", (x**2 + 2) ** 3),
    ("(x^2 + 2)^3", (x**2 + 2) ** 3),
    ("x^2 + 1", x**2 + 1),  # ^ binds tighter than + (Python's ^ would not)
    ("2x + 3(x + 1)", 2 * x + 3 * (x + 1)),
    ("(x + 1)(x - 1)", (x + 1) * (x - 1)),
    ("3/4 * x", Rational(3, 4) * x),
    ("0.5 * x", x / 2),  # decimals are exact
    ("1e-3", Rational(1, 1000)),
    ("-x", -x),
    ("+x", x),
    ("pi * e", pi * E),
    ("E**x", exp(x)),
    ("e^x", exp(x)),
    ("ln(x) + log(x, 2)", log(x) + log(x, 2)),
    ("log(x, b)", log(x) / log(b)),
    ("sqrt(x) + cbrt(x)", sqrt(x) + sympy.cbrt(x)),
    ("abs(x) + Abs(y)", Abs(x) + Abs(y)),
    ("sigmoid(x)", sigmoid(x)),
    ("min(x, y) + max(x, 2)", Min(x, y) + Max(x, 2)),
    ("Max(x, y, 1)", Max(x, y, 1)),
    ("Piecewise((x**2, x < 0), (x, True))", Piecewise((x**2, x < 0), (x, True))),
    ("Piecewise((1, (x > 0) & (x < 1)), (0, True))", Piecewise((1, (x > 0) & (x < 1)), (0, True))),
    ("Piecewise((1, 0 < x < 1), (0, True))", Piecewise((1, (x > 0) & (x < 1)), (0, True))),
    ("lam * mu", lam * mu),
    ("f(x)", f(x)),
    ("g(x**2)", g(x**2)),
    ("h(f1(x1, x2), f2(x1, x2))", h(f1(x1, x2), f2(x1, x2))),
    ("arcsin(x) + asin(x)", 2 * sympy.asin(x)),
    ("arcsinh(x) + arccosh(x) + arctanh(x)", sympy.asinh(x) + sympy.acosh(x) + sympy.atanh(x)),
    ("arccot(x) * arcsech(x)", sympy.acot(x) * sympy.asech(x)),
    ("erf(x) + gamma(x)", sympy.erf(x) + sympy.gamma(x)),
    ("x % 2 + mod(x, 3)", sympy.Mod(x, 2) + sympy.Mod(x, 3)),
    ("besselj(nu, x) * zeta(2, x) * beta(x, y)", sympy.besselj(nu, x) * sympy.zeta(2, x) * sympy.beta(x, y)),
    ("floor(x) + ceil(x) + Heaviside(x)", sympy.floor(x) + sympy.ceiling(x) + sympy.Heaviside(x)),
    ("x²·π", pi * x**2),
    ("x − 1", x - 1),
    ("sin(x)\n + 1", sin(x) + 1),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted(text, expected):
    assert parse(text) == expected


def test_variables_are_real():
    assert all(symbol.is_real for symbol in parse("x + lam + y_1").free_symbols)


def test_every_listed_function_parses():
    for name, (_, (least, _most)) in FUNCTIONS.items():
        # x and then 2s: x, x would make Mod(x, x), erf2(x, x), binomial(x, x) constants
        arguments = ", ".join(["x"] + ["2"] * (least - 1)) if name not in ("min", "max", "Min", "Max") else "x, y"
        assert parse(f"{name}({arguments})").has(x), name


REFUSED = [
    # (text, column of the culprit, words the message must contain)
    ("__import__('os')", 1, "unknown function"),
    ("x.real", 1, "attribute"),
    ("x.__class__", 1, "attribute"),
    ("x[0]", 1, "subscript"),
    ("lambda: 1", 1, "lambda"),
    ("[x for x in y]", 1, "comprehension"),
    ("{x for x in y}", 1, "comprehension"),
    ("(x for x in y)", 1, "generator"),
    ("f'{x}'", 1, "f-string"),
    ("'text'", 1, "string"),
    ("(y := 2)", 2, "assignment"),
    ("x = 1", 3, "syntax"),
    ("x; y", 2, "syntax"),
    ("import os", 1, "syntax"),
    ("eval('1')", 1, "unknown function"),
    ("open('/etc/passwd')", 1, "unknown function"),
    ("integrate(x)", 1, "unknown function"),
    ("x + sin", 5, "is a function"),
    ("x(x + 1)", 3, "both"),
    ("x < 1", 1, "Piecewise"),
    ("x if x else 1", 1, "Piecewise"),
    ("2j", 1, "complex"),
    ("0x1f", 1, "decimal"),
    ("x @ y", 1, "@"),
    ("x // 2", 1, "//"),
    ("*x", 1, "syntax"),
    ("sin(x, y)", 1, "argument"),
    ("sin(x=1)", 5, "keyword"),
    ("1/0", 1, "division by zero"),
    ("x + é", 5, "character"),
    ("x\0", 2, "control"),
    ("_x + 1", 1, "underscore"),
    ("e(x)", 1, "constant"),
    ("Piecewise(x)", 11, "pair"),
    ("Piecewise((x, x + 1))", 15, "condition"),
    ("", 1, "empty"),
    ("x +", None, "syntax"),
]


@pytest.mark.parametrize(("text", "column", "words"), REFUSED)
def test_refused_with_column(text, column, words):
    with pytest.raises(ParseError) as caught:
        parse(text)
    error = caught.value
    assert words.lower() in str(error).lower()
    if column is not None:
        assert error.column == column, str(error)
        if text:
            assert "^" in str(error)  # a caret under the text
    assert "\n" not in error.one_line()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x" + "+x" * 3000, "characters long"),
        ("(" * 150 + "x" + ")" * 150, "nested"),
        ("-" * 150 + "x", "nested"),
        ("x**" * 150 + "x", "nested"),
        ("1" * 150, "digits"),
        ("1e999999", "digits"),
        ("9**9**9**9", "exponent"),
        ("x**(10**100)", "exponent"),
        ("x**100000", "exponent"),
        ("(10**100)**1000", "too large"),
    ],
)
def test_limits(text, words):
    with pytest.raises(LimitExceeded) as caught:
        parse(text)
    assert words in caught.value.one_line()


def test_limits_are_configurable():
    assert parse("x**2000", ParseLimits(max_exponent=5000)) == x**2000
    with pytest.raises(LimitExceeded):
        parse("x + y", ParseLimits(max_length=3))


def test_long_sum_is_not_a_deep_recursion():
    text = "+".join(f"x**{i}" for i in range(500))
    assert len(parse(text, ParseLimits(max_terms=1000)).args) == 500
    with pytest.raises(LimitExceeded, match="a sum of 500 terms; the limit is 100"):
        parse(text)  # no slide holds it


def test_non_text_is_refused():
    with pytest.raises(ParseError):
        parse(42)  # type: ignore[arg-type]


def test_parse_never_calls_eval(monkeypatch):
    """sympify/parse_expr (which call eval) are never used on user text."""
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval was called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    assert parse("sin(x)^2 + Piecewise((x, x < 0), (0, True))").has(sin(x))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_expressions(undefined=True))
def test_written_expressions_parse_to_the_tree_built_in_sympy(written):
    """Text with ^ and ** powers, implicit products, unary minus, decimals, aliases (ln, arcsin,
    abs), Unicode signs: parse gives the tree built directly with sympy, and refuses exactly the
    trees sympy evaluates to zoo/nan (division by zero, log 0) with a ParseError."""
    if written.undefined:
        with pytest.raises(ParseError, match="undefined"):
            parse(written.text)
        return
    parsed = parse(written.text)
    event("identical tree" if parsed == written.expr else "equal values only")
    assert {s.name for s in parsed.free_symbols} == {s.name for s in written.expr.free_symbols}
    assert same_function(parsed, written.expr), (written.text, parsed, written.expr)
