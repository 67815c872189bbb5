"""Index-notation derivations a lecturer can read (issue 15): an inner matrix product stays one entry,
(Wx)_k or (AXB + C)_kl, and is written out only where it is derived, so that no line multiplies two
long sums.

Results are checked against numpy central differences of the function read from its text by the
tests' own ast reader (tests/matrix_numeric.py), none of derivgen's code.  The widest line is bounded
relative to the function itself: the old form, which wrote every inner product out as a sum
everywhere, had rows 2.4-3.2 times as wide as the function (up to 697 characters of LaTeX) and up to 14
top-level terms; now they are at most 2.1 times as wide (at most 335 characters) with at most 8 terms.
"""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest
from sympy import MatMul, Sum
from sympy.matrices.expressions.matexpr import MatrixElement

from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.presentation.body import result_body
from derivgen.presentation.layout import break_points
from derivgen.presentation.printer import to_latex

from .matrix_numeric import evaluate_text, finite_differences, numeric

_TWO_LAYER = {"W1": "matrix(m, n)", "W2": "matrix(p, m)", "x": "vector(n)", "y": "vector(p)"}
_BATCH = {"X": "matrix(m, n)", "W": "matrix(n, p)", "Y": "matrix(m, p)", "b": "vector(p)"}
_LAYER = {"W": "matrix(p, n)", "x": "vector(n)", "y": "vector(p)", "b": "vector(p)"}

# (function, variable, declarations); the first six are the derivations whose rows were set at 35-62 %
CASES = [
    (
        "tr((A*X*B + C)*(A*X*B + C).T)",  # Matrix Cookbook (119)
        "X",
        {"A": "matrix(m, n)", "X": "matrix(n, p)", "B": "matrix(p, q)", "C": "matrix(m, q)"},
    ),
    ("tr((X*W - Y).T*(X*W - Y))", "W", _BATCH),
    ("tr((X*W + ones(m)*b.T - Y).T*(X*W + ones(m)*b.T - Y))", "b", _BATCH),
    ("(tanh(W*x) - y).T*(tanh(W*x) - y)", "W", _LAYER),
    ("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W1", _TWO_LAYER),
    ("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W2", _TWO_LAYER),
    ("(A*x - b).T*(A*x - b)", "x", {"A": "matrix(m, n)", "x": "vector(n)", "b": "vector(m)"}),
    ("(tanh(W*x + b) - y).T*(tanh(W*x + b) - y)", "b", _LAYER),
    # softmax kept as an entry (the cross-entropy by its target, by a bias inside softmax)
    ("-t.T*log(softmax(l))", "t", {"t": "vector(n)", "l": "vector(n)"}),
    ("-y.T*log(softmax(W*x + b))", "b", _LAYER),
]
_IDS = [f"{expression} by {wrt}" for expression, wrt, _ in CASES]

# the widest row at most this many times as wide (in LaTeX characters) as the function (a short function's
# rows may take WIDTH characters, a line of a slide), and with at most this many top-level terms (a + or -
# outside every bracket)
WIDTH_RATIO = 2.2
WIDTH = 340
TERMS = 8


def _shape(spec: str, sizes: dict[str, int]) -> tuple[int, int]:
    dims = [sizes[d.strip()] for d in re.fullmatch(r"\w+\((.*)\)", spec).group(1).split(",")]
    return (dims[0], dims[1] if len(dims) > 1 else 1)


@pytest.mark.parametrize(("expression", "wrt", "declared"), CASES, ids=_IDS)
def test_result_matches_finite_differences(expression: str, wrt: str, declared: dict[str, str]) -> None:
    calculus = derive_matrix(expression, wrt, declared)
    assert calculus.verified
    rng = np.random.default_rng(zlib.crc32(expression.encode()))
    sizes = dict(zip("mnpq", (int(s) for s in rng.choice(np.arange(2, 7), 4, replace=False)), strict=True))
    values = {name: rng.normal(size=_shape(spec, sizes)) for name, spec in declared.items()}
    expected = finite_differences(lambda v: evaluate_text(expression, v, sizes), values, wrt)
    derived = np.atleast_2d(np.asarray(numeric(calculus.result, values, sizes), dtype=float))
    if declared[wrt].startswith("vector"):  # the seed's layout: a row
        expected = expected.T
    np.testing.assert_allclose(derived, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("expression", "wrt", "declared"), CASES, ids=_IDS)
def test_widest_row_is_bounded(expression: str, wrt: str, declared: dict[str, str]) -> None:
    calculus = derive_matrix(expression, wrt, declared)
    rows = result_body(calculus, "normal").split(" \\\\\n")
    sides = [row.split("&=", 1)[1].rsplit("&&", 1)[0].strip() for row in rows]
    function = len(to_latex(calculus.shown))
    widest = max(sides, key=len)
    assert len(widest) <= max(WIDTH_RATIO * function, WIDTH), widest
    assert max(len(break_points(side)) + 1 for side in sides) <= TERMS  # terms outside every bracket


def test_inner_product_stays_an_entry_until_derived() -> None:
    """tanh((Wx)_k): the index form keeps Wx as one entry; its definition Σ_l W_kl x_l is written in a
    step of its own (definition of the matrix product) after the chain rule reached it."""
    calculus = derive_matrix("(tanh(W*x) - y).T*(tanh(W*x) - y)", "W", _LAYER)
    steps = calculus.steps
    index_form = steps[0].after
    kept = [e for e in index_form.atoms(MatrixElement) if isinstance(e.parent, MatMul)]
    assert kept and not any(isinstance(node, Sum) for e in kept for node in e.args)
    assert str(kept[0].parent) == "W*x"
    labels = [step.label for step in steps]
    chain = labels.index("chain rule")
    assert "definition of the matrix product" in labels[chain:]


def test_both_factors_of_a_squared_norm_are_one_entry() -> None:
    """(W₂h − y)ᵀ(W₂h − y): sympy writes the first factor hᵀW₂ᵀ − yᵀ; both read as the same entry, so the
    index form is a sum of squares, Σ_k (W₂h − y)_k²."""
    calculus = derive_matrix("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W1", _TWO_LAYER)
    index_form = calculus.steps[0].after
    entries = {e for e in index_form.atoms(MatrixElement) if not e.parent.is_symbol}
    assert len(entries) == 1, entries


def test_a_halved_norm_is_shown_as_typed() -> None:
    """‖W₂h − y‖²/2 on the left side as typed, not sympy's (1/2)(−yᵀ + hᵀW₂ᵀ)(…), and the same function."""
    text = "(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2"
    calculus = derive_matrix(text, "W2", _TWO_LAYER)
    shown = to_latex(calculus.shown)
    assert shown.startswith(r"\frac{\left(\mathbf{W}_{2} \tanh"), shown
    assert r"- \mathbf{y}^{T}" not in shown and r"\left(\frac{1}{2}\right)" not in shown
    rng = np.random.default_rng(7)
    sizes = {"m": 3, "n": 4, "p": 2}
    values = {name: rng.normal(size=_shape(spec, sizes)) for name, spec in _TWO_LAYER.items()}
    assert float(numeric(calculus.shown, values, sizes)) == pytest.approx(float(evaluate_text(text, values, sizes)))
