"""The input as written: the first line, a sheet's question and every part no rule touched keep
the user's order of terms and their signs; the value is the same as sympy's reading."""

from __future__ import annotations

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from derivgen import derive, parse
from derivgen.calculus.rules.base import written_sums
from derivgen.presentation.frames import _substitute
from derivgen.presentation.printer import to_latex, to_text

from .conftest import same_function

x, y, w = sympy.symbols("x y w", real=True)

# terms whose LaTeX is distinct and does not occur inside another's
TERMS = ["y", "w*x", "exp(x)", "1", "sin(x)", "x**3", "log(2 + x**2)"]


def first_line(text: str, wrt: str = "x") -> str:
    derivation = derive(text, wrt)
    return to_latex(derivation.start, operator=True, written=derivation.written)


def positions(line: str, texts: list[str]) -> list[int]:
    shown = [parse(text, written=True) for text in texts]
    return [line.index(to_latex(term, written=written_sums(term))) for term in shown]


@settings(max_examples=30, deadline=None)
@given(st.permutations(TERMS), st.lists(st.booleans(), min_size=len(TERMS), max_size=len(TERMS)))
def test_a_sum_keeps_the_typed_order_and_signs(order, minus):
    text = " ".join(f"{'-' if negative else '+'} {term}" for term, negative in zip(order, minus, strict=True))
    derivation = derive(text, "x")
    assert same_function(derivation.result, sympy.diff(parse(text), x))
    line = to_latex(derivation.start, operator=True, written=derivation.written)
    found = positions(line, list(order))
    assert found == sorted(found), line
    # each sign stands before its term
    for term, negative, at in zip(order, minus, found, strict=True):
        before = line[:at].rstrip()
        if negative:
            assert before.endswith("-"), (term, line)
        else:
            assert not before.endswith("-"), (term, line)


def test_unchanged_parts_keep_the_written_order_on_every_line():
    derivation = derive("(y - w*x)**2", "w")
    written = to_latex(parse("y - w*x", written=True), written=derivation.written)
    assert written.startswith("y - w")
    lines = [to_latex(step.after, written=derivation.written) for step in derivation.steps if not step.is_tidy]
    assert all(written in line for line in lines[:2]), lines


def test_the_sum_rule_splits_in_the_written_order():
    derivation = derive("log(1 + exp(x))", "x")
    sums = [step for step in derivation.steps if step.rule == "sum"]
    assert sums, [step.rule for step in derivation.steps]
    terms = sums[0].replacement.args
    assert [term.expr if isinstance(term, sympy.Derivative) else term for term in terms] == [1, sympy.exp(x)]


def test_text_output_keeps_the_written_order():
    derivation = derive("1 + exp(x)", "x")
    assert to_text(derivation.start, operator=True, written=derivation.written) == "d/dx(1 + exp(x))"


def test_python_built_expressions_print_in_sympys_order():
    derivation = derive(1 + sympy.exp(x), x)
    assert not derivation.written
    assert to_latex(derivation.start, operator=True, written=derivation.written).index("e^{x}") < to_latex(
        derivation.start, operator=True
    ).index("1")


def test_drawn_numbers_merge_but_keep_the_order():
    expression = parse("b + a*2*x - x**(a - 1)", written=True)
    drawn = _substitute(expression, {"a": sympy.Integer(3), "b": sympy.Integer(5)}, written=True)
    assert sympy.simplify(drawn - (5 + 6 * x - x**2)) == 0
    assert to_latex(drawn, written=frozenset({drawn})) == "5 + 6 x - x^{2}"


def test_minus_of_a_negative_is_bracketed():
    derivation = derive("-1/x", "x")
    tex = [to_latex(step.after) for step in derivation.steps]
    assert not any("- -" in line for line in tex), tex


def test_a_negative_matrix_term_reads_as_a_difference():
    """(y − wᵀx)², not sympy's (y + −wᵀx)²; 1 − y rather than −y + 1."""
    from derivgen.input.matrices import declare, parse_matrix

    shapes = {"w": "vector(n)", "x": "vector(n)", "y": "scalar"}
    declared = {name: declare(name, shape) for name, shape in shapes.items()}
    tex = to_latex(parse_matrix("(y - w.T*x)**2", declared))
    assert "+ -" not in tex and tex.index("y") < tex.index(r"\mathbf{w}") and " - " in tex
    declared = {name: declare(name, shape) for name, shape in {"y": "vector(m)"}.items()}
    tex = to_latex(parse_matrix("(ones(m) - y).T*(ones(m) - y)", declared))
    assert r"\mathbf{1} - \mathbf{y}" in tex, tex
