"""The input as written: the first line, a sheet's question and every part no rule touched keep
the user's order of terms and their signs; the value is the same as sympy's reading."""

from __future__ import annotations

import pytest
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


# -- matrix calculus: the left side ∇_w f and a sheet's question as typed -----------------------------------

LOGISTIC = "-(y.T*log(sigmoid(X*w)) + (ones(m) - y).T*log(ones(m) - sigmoid(X*w)))"
LOGISTIC_SYMBOLS = {"X": "matrix(m, n)", "w": "vector(n)", "y": "vector(m)"}


def _logistic_values(seed: int) -> tuple[dict, dict]:
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = {"m": 4, "n": 3}
    values = {
        "X": rng.normal(size=(4, 3)),
        "w": rng.normal(size=(3, 1)),
        "y": rng.uniform(0.1, 0.9, size=(4, 1)),
    }
    return sizes, values


def test_a_matrix_left_side_keeps_the_typed_order():
    from derivgen.input.matrices import declare, parse_matrix
    from derivgen.presentation.matrices import left_side, question

    calculus = derive(LOGISTIC, "w", symbols=LOGISTIC_SYMBOLS)
    declared = {name: declare(name, spec) for name, spec in LOGISTIC_SYMBOLS.items()}
    y_term = to_latex(parse_matrix("y.T*log(sigmoid(X*w))", declared))
    one_minus_y = r"\left(\mathbf{1} - \mathbf{y}\right)^{T}"
    shown = [left_side(part.left) for part in calculus.parts] + [question(calculus.left)[0]]
    for line in shown:
        assert y_term in line and one_minus_y in line, line
        assert line.index(y_term) < line.index(one_minus_y), line  # yᵀ… before (1 − y)ᵀ…, as typed
        assert r"- \mathbf{y} + \mathbf{1}" not in line
    # sympy's order, as the evaluated tree prints: (1 − y)ᵀ… first
    evaluated_line = to_latex(calculus.expression)
    assert evaluated_line.index(one_minus_y) < evaluated_line.index(y_term)


def test_a_matrix_function_shown_as_written_is_the_derived_function_and_its_gradient_is_right():
    import numpy as np

    from tests.matrix_numeric import finite_differences, numeric, scalar

    calculus = derive(LOGISTIC, "w", symbols=LOGISTIC_SYMBOLS)
    assert calculus.verified and calculus.shown is not None
    assert calculus.shown != calculus.expression  # the written tree, not the evaluated one
    for seed in range(3):
        sizes, values = _logistic_values(seed)
        typed = scalar(numeric(calculus.shown, values, sizes))
        assert typed == pytest.approx(scalar(numeric(calculus.expression, values, sizes)))
        # the oracle: central differences of the function as typed, and the textbook Xᵀ(σ(Xw) − y)
        fd = finite_differences(lambda v, sizes=sizes: numeric(calculus.shown, v, sizes), values, "w")
        s = 1 / (1 + np.exp(-values["X"] @ values["w"]))
        closed = values["X"].T @ (s - values["y"])
        np.testing.assert_allclose(fd, closed, rtol=1e-5, atol=1e-6)
        derived = np.atleast_2d(np.asarray(numeric(calculus.result, values, sizes), dtype=float))
        np.testing.assert_allclose(derived, closed.T, rtol=1e-9, atol=1e-9)  # row layout: a row


@pytest.mark.parametrize(
    "text",
    [
        LOGISTIC,
        "y.T*log(sigmoid(X*w)) + (ones(m) - y).T*log(ones(m) - sigmoid(X*w))",
        "(ones(m) - y).T*X*w + w.T*w",
        "3 - w.T*w + 2*(y.T*X*w)",
        "-(w.T*w + 1) - (ones(m) - y - X*w).T*(ones(m) - y - X*w)",
    ],
)
def test_a_written_matrix_tree_is_the_same_function(text):
    from derivgen.calculus.matrix_engine import derive_matrix
    from derivgen.input.matrices import declare, evaluated_matrix, parse_matrix

    declared = {name: declare(name, spec) for name, spec in LOGISTIC_SYMBOLS.items()}
    written = parse_matrix(text, declared, written=True)
    # evaluated again, the written tree is what parse_matrix reads without written=True
    assert str(evaluated_matrix(written)) == str(parse_matrix(text, declared))
    assert any(isinstance(node, sympy.MatAdd) for node in written_sums(written)) or "ones" not in text
    from_text = derive_matrix(text, "w", LOGISTIC_SYMBOLS)
    from_tree = derive_matrix(written, "w", LOGISTIC_SYMBOLS, written=True)
    assert from_text.verified and from_tree.verified
    assert str(from_text.result) == str(from_tree.result)
    assert from_tree.left.functions == (written,)
    # a tree built in Python is shown in sympy's order, as before
    evaluated = parse_matrix(text, declared)
    assert derive_matrix(evaluated, "w", LOGISTIC_SYMBOLS).left.functions == (evaluated,)


def test_drawn_numbers_in_a_written_matrix_tree_keep_its_order():
    from derivgen.calculus.matrix_engine import derive_matrix
    from derivgen.input.matrices import declare, parse_matrix, substitute_written
    from derivgen.presentation.matrices import question

    symbols = {**LOGISTIC_SYMBOLS, "lam": "scalar"}
    declared = {name: declare(name, spec) for name, spec in symbols.items()}
    text = "lam - (ones(m) - y).T*X*w + lam*(w.T*w)"
    written = substitute_written(parse_matrix(text, declared, written=True), {"lam": 3})
    calculus = derive_matrix(written, "w", symbols, written=True)
    asked = question(calculus.left)[0]
    one_minus_y = r"\left(\mathbf{1} - \mathbf{y}\right)^{T}"
    assert asked.index("3 -") < asked.index(one_minus_y) < asked.index(r"3 \mathbf{w}^{T}"), asked
    truth = derive_matrix(text.replace("lam", "3"), "w", symbols)  # the numbers typed in: the same gradient
    assert calculus.verified and str(calculus.result) == str(truth.result)


def test_signs_and_reciprocals_as_typed():
    """-(-x) keeps both signs, 1/(1/x) is no 1 · 1/x; the value is sympy's."""
    for text, shown in [("-(-x)", r"- \left(- x\right)"), ("x - -y", r"x - \left(- y\right)"), ("1/(1/x)", None)]:
        derivation = derive(text, "x")
        line = to_latex(derivation.start, operator=True, written=derivation.written)
        assert r"1 \cdot" not in line
        if shown is not None:
            assert shown in line, line
        assert same_function(derivation.result, sympy.diff(parse(text), x))
