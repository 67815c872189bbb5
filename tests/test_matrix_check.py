"""The matrix checks by tensor contraction: they decide the cookbook deck's steps, stay sharp in
float64 (a lost factor, a transposed matrix, a swapped index, a relative error of 1e-6 are caught),
and hand what they cannot express to the 40-digit evaluator, which still catches a wrong step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from sympy import Derivative, Inverse, KroneckerDelta, MatrixSymbol, Sum
from sympy.matrices.expressions.matexpr import MatrixElement

from derivgen.calculus import matrix_check
from derivgen.calculus.matrix_check import (
    STATISTICS,
    _Values,
    check_gradient,
    check_step,
    contraction_verdict,
    expression_seed,
)
from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.errors import VerificationError
from derivgen.input.matrices import declare, parse_matrix, read_assumptions
from derivgen.input.spec import load_deck

ROOT = Path(__file__).resolve().parent.parent
N = sympy.Symbol("n", integer=True, positive=True)
M_DIM = sympy.Symbol("m", integer=True, positive=True)
i, j, k, q = (sympy.Symbol(name, integer=True) for name in "ijkq")
x = MatrixSymbol("x", N, 1)
M = MatrixSymbol("M", N, N)
A = MatrixSymbol("A", N, M_DIM)
RANGES = {i: N, j: M_DIM, k: N, q: N}
NO_FACTS = read_assumptions([], {})


def verdict(before: sympy.Basic, after: sympy.Basic, facts=NO_FACTS) -> str:
    values = _Values([before, after, sympy.Tuple(*RANGES.values())], facts, expression_seed(before, after))
    indices = sorted((before.atoms(sympy.Symbol) | after.atoms(sympy.Symbol)) & set(RANGES), key=str)
    return contraction_verdict(before, after, RANGES, values, indices)


def x_(index):
    return MatrixElement(x, index, 0)


# (before, right after, wrong afters): the right one is decided by contraction, every wrong one is
# rejected by it and then by the 40-digit evaluator
QUADRATIC = Sum(x_(k) * MatrixElement(M, k, q) * x_(q), (k, 0, N - 1), (q, 0, N - 1))
CASES = {
    "quadratic form by x_i": (
        Derivative(QUADRATIC, x_(i)),
        Sum(MatrixElement(M, i, k) * x_(k) + x_(k) * MatrixElement(M, k, i), (k, 0, N - 1)),
        [
            2 * Sum(MatrixElement(M, i, k) * x_(k), (k, 0, N - 1)),  # symmetric M assumed: a lost Mᵀ
            Sum(MatrixElement(M, k, i) * x_(k) + x_(k) * MatrixElement(M, k, i), (k, 0, N - 1)),  # swapped index
        ],
    ),
    "contract a delta": (
        Sum(KroneckerDelta(i, k) * MatrixElement(M, k, q) * x_(q), (k, 0, N - 1), (q, 0, N - 1)),
        Sum(MatrixElement(M, i, q) * x_(q), (q, 0, N - 1)),
        [
            Sum(MatrixElement(M, q, i) * x_(q), (q, 0, N - 1)),  # transposed matrix
            2 * Sum(MatrixElement(M, i, q) * x_(q), (q, 0, N - 1)),  # a factor 2 too many
        ],
    ),
    "back to matrix form": (
        Sum(MatrixElement(M, k, i) * x_(k), (k, 0, N - 1)),
        MatrixElement(M.T * x, i, 0),
        [MatrixElement(M * x, i, 0), MatrixElement(2 * M.T * x, i, 0)],
    ),
    "bilinear form by a rectangular matrix": (
        Derivative(
            Sum(
                x_(k) * MatrixElement(A, k, q) * MatrixElement(MatrixSymbol("b", M_DIM, 1), q, 0),
                (k, 0, N - 1),
                (q, 0, M_DIM - 1),
            ),
            MatrixElement(A, i, j),
        ),
        MatrixElement(x * MatrixSymbol("b", M_DIM, 1).T, i, j),
        [MatrixElement(x * MatrixSymbol("b", M_DIM, 1).T, i, j) * 2],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_right_steps_are_decided_by_contraction(name: str) -> None:
    before, after, _ = CASES[name]
    assert verdict(before, after) == "by contraction"
    check_step(before, after, RANGES, NO_FACTS, name)


@pytest.mark.parametrize(("name", "n"), [(name, n) for name, case in CASES.items() for n in range(len(case[2]))])
def test_wrong_steps_are_caught(name: str, n: int) -> None:
    before, _, wrongs = CASES[name]
    assert verdict(before, wrongs[n]) == "precisely: the contraction disagrees"
    with pytest.raises(VerificationError, match="does not check"):
        check_step(before, wrongs[n], RANGES, NO_FACTS, name)


def test_log_det_inverse_and_elementwise_functions_by_contraction() -> None:
    """Jacobi's formula, the inverse and tanh applied elementwise, with their transposes wrong."""
    X = MatrixSymbol("X", N, N)
    facts = read_assumptions(["positive_determinant(X)"], {"X": X})
    before = Derivative(sympy.log(sympy.Determinant(X)), MatrixElement(X, i, q))
    assert verdict(before, MatrixElement(Inverse(X), q, i), facts) == "by contraction"
    assert verdict(before, MatrixElement(Inverse(X), i, q), facts) == "precisely: the contraction disagrees"
    t = sympy.Dummy("t")
    tanh_x = sympy.matrices.expressions.applyfunc.ElementwiseApplyFunction(sympy.Lambda(t, sympy.tanh(t)), X)
    before = Derivative(MatrixElement(tanh_x, k, q), MatrixElement(X, i, q))
    right = KroneckerDelta(i, k) * (1 - sympy.tanh(MatrixElement(X, k, q)) ** 2)
    assert verdict(before, right, facts) == "by contraction"
    assert verdict(before, KroneckerDelta(i, k) * (1 - sympy.tanh(MatrixElement(X, q, k)) ** 2), facts) != (
        "by contraction"
    )


def test_a_relative_error_of_one_in_a_million_is_caught_in_every_step() -> None:
    """The float64 tolerance is meaningful: every step of two cookbook derivations whose value is not
    zero is rejected when its right side is off by a factor 1 + 1e-6."""
    deck, _ = load_deck(ROOT / "examples" / "matrix_cookbook.yaml")
    frames = [f for f in deck.frames if f.title in ("Quadratic form", "Log determinant")]
    assert len(frames) == 2
    rejected = 0
    for frame in frames:
        calculus = derive_matrix(frame.derive, frame.wrt, frame.symbols, frame.assume, verify=False)
        ranges = dict(_ranges_of(calculus))
        for step in calculus.index_derivation.steps[:-1]:  # the last one is compared with the matrix's entry
            before, after = step.focus, step.replacement
            values = _Values([before, after, sympy.Tuple(*ranges.values())], calculus.assumptions, 1)
            indices = sorted((before.atoms(sympy.Symbol) | after.atoms(sympy.Symbol)) & set(ranges), key=str)
            assert contraction_verdict(before, after, ranges, values, indices) == "by contraction", step.label
            if after.is_zero or after == 0:
                continue
            off = contraction_verdict(before, after * sympy.Float("1.000001"), ranges, values, indices)
            assert off == "precisely: the contraction disagrees", step.label
            rejected += 1
    assert rejected >= 8


def _ranges_of(calculus):
    """Every index of a derivation with its range: the dimension of the matrix entries it indexes."""
    for step in calculus.steps:
        for e in (step.focus, step.replacement):
            for element in e.atoms(MatrixElement):
                if isinstance(element.parent, MatrixSymbol):
                    for index, dim in zip((element.i, element.j), element.parent.shape, strict=True):
                        if isinstance(index, sympy.Symbol):
                            yield index, dim


def test_wrong_gradients_are_caught() -> None:
    symbols = {"x": declare("x", "vector(n)"), "M": declare("M", "matrix(n, n)")}
    function = parse_matrix("x.T*M*x", symbols)
    x_, M_ = symbols["x"], symbols["M"]
    check_gradient(function, x_, x_.T * (M_ + M_.T), NO_FACTS, True)
    for wrong in (2 * x_.T * M_, x_.T * M_ + x_.T * M_.T * 2):
        with pytest.raises(VerificationError, match="finite differences"):
            check_gradient(function, x_, wrong, NO_FACTS, True)
    X = declare("X", "matrix(n, m)")
    frobenius = parse_matrix("tr(X.T*X)", {"X": X})
    check_gradient(frobenius, X, 2 * X, NO_FACTS, False)
    with pytest.raises(VerificationError, match="finite differences"):
        check_gradient(frobenius, X, X, NO_FACTS, False)  # a lost factor 2


def test_the_fallback_checks_what_the_contraction_cannot_express() -> None:
    """|x_i| has no complex step: the 40-digit evaluator decides, right or wrong."""
    before, right, wrong = sympy.Abs(x_(i)) ** 2, x_(i) ** 2, 2 * x_(i) ** 2
    assert verdict(before, right).startswith("precisely: Abs")
    check_step(before, right, RANGES, NO_FACTS, "square of an absolute value")
    with pytest.raises(VerificationError, match="does not check"):
        check_step(before, wrong, RANGES, NO_FACTS, "square of an absolute value")


def test_the_cookbook_deck_is_checked_by_contraction() -> None:
    """Every index step and every gradient of the deck: none falls back to the loop evaluator."""
    deck, _ = load_deck(ROOT / "examples" / "matrix_cookbook.yaml")
    start = STATISTICS.copy()
    steps = 0
    for frame in deck.frames:
        calculus = derive_matrix(frame.derive, frame.wrt, frame.symbols, frame.assume)
        assert calculus.verified
        steps += len(calculus.steps)
    counted = STATISTICS - start
    fallbacks = {reason: n for reason, n in counted.items() if reason.startswith(("precisely", "gradient precisely"))}
    assert fallbacks == {}
    assert counted["gradient by contraction"] == len(deck.frames)
    assert counted["by contraction"] >= steps  # each step once, the collecting step twice


def test_seeds_are_the_same_in_every_process() -> None:
    """The random values of a check depend on its expression only, not on Python's hash seed."""
    code = (
        "import sympy; from derivgen.calculus.matrix_check import expression_seed;"
        "n = sympy.Symbol('n', integer=True, positive=True); k = sympy.Symbol('k', integer=True);"
        "x = sympy.MatrixSymbol('x', n, 1);"
        "print(expression_seed(sympy.Sum(x[k, 0] ** 2, (k, 0, n - 1)), sympy.Integer(2)))"
    )
    seeds = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        seeds.add(
            subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        )
    assert len(seeds) == 1
    local = expression_seed(Sum(MatrixElement(x, k, 0) ** 2, (k, 0, N - 1)), sympy.Integer(2))
    assert seeds == {f"{local}\n"}
    assert expression_seed(x_(k)) != expression_seed(x_(q))
    assert matrix_check.expression_seed(M) != matrix_check.expression_seed(M.T)
