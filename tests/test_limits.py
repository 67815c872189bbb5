"""Derivatives from the limit definition: each family against sympy, named steps, clear refusals."""

from __future__ import annotations

import pytest
import sympy

from derivgen import DerivgenError, UnsupportedExpression, derive, parse
from derivgen.cli import main
from derivgen.presentation.lines import display_lines
from derivgen.presentation.printer import to_latex
from tests.conftest import same_function

x = sympy.Symbol("x", real=True)

FAMILIES = [
    ("x**2", ["definition of the derivative", "expand", "cancel the common factor", "take the limit"]),
    ("3*x**3 - 2*x + 7", ["limit of a sum and of a constant multiple", "cancel the common factor"]),
    ("1/x", ["combine the fractions", "cancel the common factor"]),
    ("(x + 1)/(x - 1)", ["combine the fractions"]),
    ("sqrt(x)", ["rationalise the numerator", "cancel the common factor"]),
    ("sqrt(x**2 + 1)", ["rationalise the numerator"]),
    ("sin(x)", ["angle addition", "standard limit: sin h / h → 1", "standard limit: (cos h − 1) / h → 0"]),
    ("cos(x)", ["angle addition", "standard limit: sin h / h → 1"]),
    ("exp(x)", ["factor out the exponential", "standard limit: (e^h − 1) / h → 1"]),
    ("2*sin(x) + x**2 - 3*exp(x)", ["limit of a sum and of a constant multiple", "angle addition"]),
]


@pytest.mark.parametrize(("text", "labels"), FAMILIES)
def test_family_against_sympy(text, labels):
    expression = parse(text)
    derivation = derive(expression, "x", method="limit")
    truth = sympy.diff(expression, x)
    assert same_function(derivation.result, truth)
    used = [step.label for step in derivation.steps]
    for label in labels:
        assert label in used, (label, used)
    # every line is the derivative: each limit on the way, taken by sympy, is sympy's derivative
    for step in derivation.steps:
        assert same_function(step.after.doit(), truth), step.label


def test_the_definition_is_a_sympy_limit():
    derivation = derive("x**2", "x", method="limit")
    first = derivation.steps[0]
    assert isinstance(first.after, sympy.Limit)
    assert first.after.args[2] == 0
    assert r"\lim_{h \to 0}" in to_latex(first.after)
    assert "x + h" in to_latex(first.after)  # written as the lecturer writes it, not h + x
    squashed = "".join(to_latex(first.after).split())
    assert r"\frac{\left(x+h\right)^{2}-x^{2}}{h}" in squashed  # f(x + h) − f(x), not sympy's −x² + (x + h)²
    for previous, step in zip(derivation.steps, derivation.steps[1:], strict=False):
        assert previous.after == step.before


def test_outside_the_method_suggests_the_rules():
    with pytest.raises(UnsupportedExpression, match="rule-based method"):
        derive("tan(x)", "x", method="limit")
    with pytest.raises(DerivgenError, match="one function of one variable"):
        derive("x*y", ["x", "y"], method="limit")
    with pytest.raises(DerivgenError, match="method"):
        derive("x", "x", method="guess")


def test_a_wrong_step_is_caught(monkeypatch):
    import derivgen.calculus.limits as limits
    from derivgen import VerificationError

    def wrong(body, h):  # (cos h − 1)/h → 1 instead of 0
        return sympy.S.One if body == (sympy.cos(h) - 1) / h else None

    table = [(name, wrong if "cos" in name else rule) for name, rule in limits._STANDARD_LIMITS]
    monkeypatch.setattr(limits, "_STANDARD_LIMITS", table)
    with pytest.raises(VerificationError, match="standard limit"):
        derive("sin(x)", "x", method="limit")


def test_limit_method_from_the_command_line(capsys):
    assert main(["derive", "x^2 + 1/x", "--method", "limit"]) == 0
    out = capsys.readouterr().out
    assert "[definition of the derivative]" in out and "result: 2*x - 1/x**2" in out
    assert main(["derive", "tan(x)", "--method", "limit"]) == 2
    assert "rule-based method" in capsys.readouterr().err


# -- regressions: the step variable, and sympy's reordering hidden like in the rule engine ---------------------


@pytest.mark.parametrize("expression", ["x**3 + x", "x**2 - 3*x + 2", "x**4 + x**2"])
def test_limit_method_hides_a_pure_reordering(expression: str) -> None:
    # the last "evaluate" step only reorders the terms; it was shown as an extra "sympy's order" line
    derivation = derive(expression, "x", method="limit")
    for detail in ("full", "normal", "brief"):
        labels = [line.label for line in display_lines(derivation, detail)]
        assert "sympy's order" not in labels, (detail, labels)
    x = sympy.Symbol("x", real=True)
    assert sympy.expand(derivation.result - sympy.diff(sympy.sympify(expression, {"x": x}), x)) == 0


def test_limit_step_variable_is_not_the_users_h() -> None:
    # with positive: [h] the user's h is another symbol than a real h: one slide showed both as "h"
    derivation = derive("x**2 + h*x", "x", method="limit", positive=["h"])
    for step in derivation.steps:
        names = [symbol.name for symbol in step.after.free_symbols | step.before.free_symbols]
        assert len(names) == len(set(names)), step
    limit_variable = derivation.steps[0].after.args[1]
    assert limit_variable.name != "h"
    # the labels are registry rules, stated in h: the first line says which letter the step is
    assert limit_variable.name in (derivation.steps[0].note or "")
    h, x = sympy.Symbol("h", positive=True), sympy.Symbol("x", real=True)
    assert sympy.expand(derivation.result - (2 * x + h)) == 0
