"""Hostile and odd input against the surfaces of issue 17: LaTeX input, --format html, --format moodle,
the changed-frames splice.  Each test is a bug found by attacking them; it fails on the code before its fix."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ElementTree

import pytest
import sympy

from derivgen import ParseError, derive
from derivgen.documents.moodle import build_moodle
from tests.conftest import same_function

x = sympy.Symbol("x", real=True)


def test_a_tower_of_e_powers_is_checked_in_seconds():
    # e^{e^{e^{e^{x}}}} took 7 minutes through the API (the 30 s limit is looked at between steps):
    # mpmath.power(e, a huge whole number) squares its way up; the check now takes exp of the exponent
    started = time.monotonic()
    derivation = derive(r"e^{e^{e^{e^{x}}}}", "x")
    assert time.monotonic() - started < 20
    assert same_function(derivation.result, sympy.diff(sympy.exp(sympy.exp(sympy.exp(sympy.exp(x)))), x))


def test_a_quiz_never_asks_for_the_derivative_at_a_kink(tmp_path):
    # |x - 1/2| + x was asked at x = 1/2 (its kink, on the grid of drawn halves) and graded sign(0) + 1 = 1:
    # no derivative exists there.  Every asked point must have equal one-sided difference quotients.
    sheet = tmp_path / "kinks.yaml"
    functions = ["abs(x - 1/2) + x", "3*abs(2*x - 1) + 5*x", "Max(x, 1) + x", "Min(x**2, x/2) + x"]
    sheet.write_text(
        "title: Kinks\nexercises:\n" + "".join(f"  - derive: {f}\n    wrt: x\n" for f in functions), "utf-8"
    )
    (path,) = build_moodle(sheet, tmp_path / "out", variants=4, seed=3)
    root = ElementTree.parse(path).getroot()
    questions = [q for q in root if q.get("type") != "category"]
    assert len(questions) == 4 * len(functions)
    h = sympy.Rational(1, 10**9)  # exact one-sided quotients: these functions are polynomials piece by piece
    for index, question in enumerate(questions):
        function = sympy.sympify(functions[index // 4], locals={"x": x})
        text = question.findtext("questiontext/text") or ""
        (point,) = re.findall(r"Evaluate it at \\\(x = (.*?)\\\)", text)
        x0 = parse_latex_number(point)
        right = (function.subs(x, x0 + h) - function.subs(x, x0)) / h
        left = (function.subs(x, x0) - function.subs(x, x0 - h)) / h
        assert float(right) == pytest.approx(float(left), abs=1e-6), (functions[index // 4], x0)
        graded = float(question.findtext("answer/text") or "nan")
        assert graded == pytest.approx(float(sympy.diff(function, x).subs(x, x0)), rel=1e-10)
        assert graded == pytest.approx(float(right), abs=1e-6)


def parse_latex_number(text: str) -> sympy.Rational:
    """A drawn value as the quiz writes it: -2, \\frac{3}{2}, - \\frac{1}{2}."""
    match = re.fullmatch(r"\s*(-)?\s*\\frac\{(\d+)\}\{(\d+)\}\s*", text)
    if match:
        return sympy.Rational(int(match.group(2)), int(match.group(3))) * (-1 if match.group(1) else 1)
    return sympy.Rational(text.strip())


@pytest.mark.parametrize("text", [r"\log_{0} x", "log(x, 0)", "log(x, x - x)"])
def test_a_logarithm_to_base_zero_is_refused(text):
    # 1/ln 0 = 1/zoo is 0 to sympy: log_0 x was read as 0 and its derivative given as 0
    with pytest.raises(ParseError, match="undefined"):
        derive(text, "x")


@pytest.mark.parametrize(
    "text",
    [
        r"\frac{dy}{dx}",  # was d·y/(d·x), derivative -y/x²
        r"\frac{d^2}{dx^2} x",  # was d²x/(d x²)
        r"\frac{d(x^2)}{dx}",  # was x²/x, derivative 1
        r"\frac{\mathrm{d}}{\mathrm{d}x} x^2",  # the upright d of many textbooks
        r"\frac{\mathrm d y}{\mathrm d x}",
    ],
)
def test_leibniz_notation_is_refused_not_read_as_products(text):
    with pytest.raises(ParseError, match=r"\\frac\{d\}\{dx\} is not read") as error:
        derive(text, "x")
    assert error.value.column == 1


@pytest.mark.parametrize(("text", "meant"), [(r"\frac{a d}{d x}", "a/x"), (r"\frac{d}{2}", "d/2")])
def test_a_d_that_is_no_leibniz_notation_is_a_variable(text, meant):
    d = sympy.Symbol("d", real=True)
    a = sympy.Symbol("a", real=True)
    assert same_function(derive(text, "x").result, sympy.diff(sympy.sympify(meant, {"a": a, "d": d, "x": x}), x))


@pytest.mark.parametrize(("text", "column"), [("x^2_1", 3), ("1_000*x", 1), ("x + 0.5_0", 5)])
def test_a_digit_separator_is_refused_not_read_into_the_number(text, column):
    # Python reads 2_1 as 21: x^2_1 (an index meant) was x^21, its derivative 21x^20, without an error
    with pytest.raises(ParseError) as caught:
        derive(text, "x")
    assert caught.value.column == column and "'_' inside a number" in str(caught.value)
