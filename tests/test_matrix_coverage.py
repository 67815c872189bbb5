"""Issue 15, matrix calculus: constructs that were refused or crashed, each derived and checked here.

Every case states its function in numpy; derivgen's result is evaluated by the test's own numpy
evaluator (tests/matrix_numeric.py, none of derivgen's code) and compared with numpy central
differences of that function at random sizes and values — independently of derivgen's own checks.
Sources: The Matrix Cookbook (Petersen & Pedersen, Nov 2012), equation numbers in the ids; the
issue's list of refusals (tensorgrad's matrix-calculus tests, textbook deep-learning losses).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from derivgen.calculus.matrix_engine import derive_matrix

from .matrix_numeric import Values, finite_differences, numeric, scalar
from .test_matrix import draw

N = "matrix(n, n)"
VEC = "vector(n)"


@dataclass(frozen=True)
class Case:
    expression: str
    wrt: str
    declared: dict[str, str]
    function: Callable[[Values], Any]  # the expression, in numpy
    source: str
    assume: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()  # drawn with positive entries (arguments of log, sqrt)
    defined: Callable[[Values], bool] = lambda v: True  # where the function is defined


def _inv(a):
    return np.linalg.inv(a)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _fro2(r):
    return np.sum(r * r)


SQUARE = {"X": N, "A": N, "B": N}
VECTORS = {"X": N, "a": VEC, "b": VEC}
CASES = [
    # -- Jacobi's formula through any inner matrix: Cookbook (46); (51), (55), (62)
    Case("det(A*X*B)", "X", SQUARE, lambda v: np.linalg.det(v["A"] @ v["X"] @ v["B"]), "(51)"),
    Case("det(X.T*A*X)", "X", {"X": N, "A": N}, lambda v: np.linalg.det(v["X"].T @ v["A"] @ v["X"]), "(46)"),
    Case("log(det(X.T*X))", "X", {"X": N}, lambda v: np.log(np.linalg.det(v["X"].T @ v["X"])), "(55)"),
    Case("det(X**5)", "X", {"X": N}, lambda v: np.linalg.det(np.linalg.matrix_power(v["X"], 5)), "(46)"),
    Case("det(X**-1)", "X", {"X": N}, lambda v: np.linalg.det(_inv(v["X"])), "(62)"),
    Case("det(2*X)", "X", {"X": N}, lambda v: np.linalg.det(2 * v["X"]), "(46)"),
    Case("det(X.T)", "X", {"X": N}, lambda v: np.linalg.det(v["X"].T), "(46)"),
    # -- the derivative of the inverse through any inner matrix: (59); (61), (63), (64)
    Case("tr(inv(X+A))", "X", {"X": N, "A": N}, lambda v: np.trace(_inv(v["X"] + v["A"])), "(64)"),
    Case("a.T*inv(X.T)*b", "X", VECTORS, lambda v: v["a"].T @ _inv(v["X"].T) @ v["b"], "(61)"),
    Case(
        "a.T*inv(X.T*C*X)*b",
        "X",
        {"X": "matrix(n, m)", "C": N, "a": "vector(m)", "b": "vector(m)"},
        lambda v: v["a"].T @ _inv(v["X"].T @ v["C"] @ v["X"]) @ v["b"],
        "(59)",
        defined=lambda v: v["X"].shape[1] <= v["X"].shape[0],  # XᵀCX (m×m) has rank min(n, m)
    ),
    Case("tr(A*inv(X)*B)", "X", SQUARE, lambda v: np.trace(v["A"] @ _inv(v["X"]) @ v["B"]), "(63)"),
    Case("tr(X**-2)", "X", {"X": N}, lambda v: np.trace(np.linalg.matrix_power(v["X"], -2)), "(59)"),
    Case("a.T*X**-2*b", "X", VECTORS, lambda v: v["a"].T @ np.linalg.matrix_power(v["X"], -2) @ v["b"], "(59)"),
    Case("a.T*X**3*b", "X", VECTORS, lambda v: v["a"].T @ np.linalg.matrix_power(v["X"], 3) @ v["b"], "(91)"),
    # -- elementwise functions of matrix expressions holding the variable
    Case("a.T*tanh(X)*b", "X", VECTORS, lambda v: v["a"].T @ np.tanh(v["X"]) @ v["b"], "elementwise tanh"),
    Case("tr(exp(A*X*B))", "X", SQUARE, lambda v: np.trace(np.exp(v["A"] @ v["X"] @ v["B"])), "elementwise exp"),
    Case("ones(n).T*sigmoid(X)*ones(n)", "X", {"X": N}, lambda v: np.sum(_sigmoid(v["X"])), "elementwise sigmoid"),
    Case(
        "a.T*log(A*exp(X)*B)*b",
        "X",
        {**SQUARE, "a": VEC, "b": VEC},
        lambda v: v["a"].T @ np.log(v["A"] @ np.exp(v["X"]) @ v["B"]) @ v["b"],
        "elementwise log of a product",
        positive=("A", "B"),
    ),
    Case("tr(sqrt(exp(X)))", "X", {"X": N}, lambda v: np.trace(np.sqrt(np.exp(v["X"]))), "elementwise sqrt"),
    Case("a.T*sin(X)*b", "X", VECTORS, lambda v: v["a"].T @ np.sin(v["X"]) @ v["b"], "elementwise sin"),
    Case("a.T*cos(X)*b", "X", VECTORS, lambda v: v["a"].T @ np.cos(v["X"]) @ v["b"], "elementwise cos"),
    Case("ones(n).T*sin(x)", "x", {"x": VEC}, lambda v: np.sum(np.sin(v["x"])), "elementwise sin of a vector"),
    # -- Hadamard products and powers with the variable
    Case("a.T*hadamard(A, X)*b", "X", {**VECTORS, "A": N}, lambda v: v["a"].T @ (v["A"] * v["X"]) @ v["b"], "∘"),
    Case("tr(hadamard(A, X))", "X", {"X": N, "A": N}, lambda v: np.trace(v["A"] * v["X"]), "∘ in a trace"),
    Case("tr(hadamard(X, X)*A)", "X", {"X": N, "A": N}, lambda v: np.trace((v["X"] * v["X"]) @ v["A"]), "X∘X"),
    Case(
        "a.T*hadamard(X, A*X)*b",
        "X",
        {**VECTORS, "A": N},
        lambda v: v["a"].T @ (v["X"] * (v["A"] @ v["X"])) @ v["b"],
        "∘ of two factors with X",
    ),
    # -- traces of products of sums, batched least squares and bias
    Case(
        "tr((A*X*B+C)*(A*X*B+C).T)",
        "X",
        {**SQUARE, "C": N},
        lambda v: _fro2(v["A"] @ v["X"] @ v["B"] + v["C"]),
        "(119)",
    ),
    Case(
        "tr((X*W-Y).T*(X*W-Y))",
        "W",
        {"X": "matrix(m, n)", "W": "matrix(n, p)", "Y": "matrix(m, p)"},
        lambda v: _fro2(v["X"] @ v["W"] - v["Y"]),
        "batched least squares",
    ),
    Case(
        "tr((X*W+ones(m)*b.T-Y).T*(X*W+ones(m)*b.T-Y))",
        "b",
        {"X": "matrix(m, n)", "W": "matrix(n, p)", "Y": "matrix(m, p)", "b": "vector(p)"},
        lambda v: _fro2(v["X"] @ v["W"] + np.ones((v["X"].shape[0], 1)) @ v["b"].T - v["Y"]),
        "batched bias",
    ),
    Case(
        "(tanh(W*x)-y).T*(tanh(W*x)-y)",
        "W",
        {"W": "matrix(p, n)", "x": VEC, "y": "vector(p)"},
        lambda v: _fro2(np.tanh(v["W"] @ v["x"]) - v["y"]),
        "tanh layer",
    ),
    Case(
        "d.T*x*(a.T*X*b)**(1/2)*y.T*c",
        "X",
        {**VECTORS, "d": VEC, "x": VEC, "y": VEC, "c": VEC},
        lambda v: (v["d"].T @ v["x"]) * np.sqrt(v["a"].T @ v["X"] @ v["b"]) * (v["y"].T @ v["c"]),
        "1×1 power in a product",
        positive=("a", "b", "X"),
    ),
    Case(
        "log(det(S))/2 + (x-mu).T*inv(S)*(x-mu)/2",
        "S",
        {"S": N, "x": VEC, "mu": VEC},
        lambda v: np.log(np.linalg.det(v["S"])) / 2 + (v["x"] - v["mu"]).T @ _inv(v["S"]) @ (v["x"] - v["mu"]) / 2,
        "Gaussian negative log-likelihood",
        assume=("positive_definite(S)",),
    ),
    Case("log(tr(ones(n).T*exp(z)))", "z", {"z": VEC}, lambda v: np.log(np.sum(np.exp(v["z"]))), "log-sum-exp"),
    # -- derivatives by a scalar in matrix mode
    Case("lam*x.T*x", "lam", {"x": VEC, "lam": "scalar"}, lambda v: v["lam"] * v["x"].T @ v["x"], "by a scalar"),
    Case(
        "x.T*inv(A + lam*B)*x",
        "lam",
        {"x": VEC, "A": N, "B": N, "lam": "scalar"},
        lambda v: v["x"].T @ _inv(v["A"] + v["lam"] * v["B"]) @ v["x"],
        "by a scalar, (59)",
    ),
    # -- softmax regression: the cross-entropy of softmax(Wx)
    Case(
        "-y.T*log(softmax(W*x))",
        "W",
        {"W": "matrix(p, n)", "x": VEC, "y": "vector(p)"},
        lambda v: -v["y"].T @ np.log(_softmax(v["W"] @ v["x"])),
        "softmax regression",
        assume=("sums_to_one(y)",),
    ),
]


def _values(case: Case, rng: np.random.Generator) -> tuple[dict[str, int], Values]:
    """Random sizes and values where the function is defined (XᵀCX with X n×m needs m ≤ n)."""
    for _ in range(50):
        sizes, values = draw(case, rng)
        for name in case.positive:
            values[name] = np.abs(values[name]) + 0.1
        try:
            if case.defined(values) and np.isfinite(scalar(case.function(values))):
                return sizes, values
        except np.linalg.LinAlgError:
            continue
    raise AssertionError(f"no random point where {case.expression} is defined")


def _numeric_gradient(case: Case, values: Values) -> np.ndarray:
    if case.declared[case.wrt] == "scalar":  # a scalar variable: a 1×1 array for finite_differences
        return finite_differences(
            lambda v: case.function({**v, case.wrt: float(v[case.wrt][0, 0])}),
            {**values, case.wrt: np.array([[values[case.wrt]]])},
            case.wrt,
        )
    return finite_differences(case.function, values, case.wrt)


# checked by derivgen's mpmath checker these take 15-60 s (the steps' nested sums over X⁵, (XᵀCX)⁻¹)
SLOW = {"det(X**5)", "a.T*inv(X.T*C*X)*b", "a.T*X**-2*b"}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=f"{c.expression} by {c.wrt} [{c.source}]", marks=[pytest.mark.slow] * (c.expression in SLOW))
        for c in CASES
    ],
)
def test_derives_and_matches_finite_differences(case: Case) -> None:
    calculus = derive_matrix(case.expression, case.wrt, case.declared, case.assume)
    assert calculus.verified
    rng = np.random.default_rng(zlib.crc32(case.expression.encode()))
    for _ in range(2):
        sizes, values = _values(case, rng)
        expected = _numeric_gradient(case, values)
        # derivgen read the function we mean …
        assert scalar(numeric(calculus.expression, values, sizes)) == pytest.approx(scalar(case.function(values)))
        # … and its result is the derivative (a row for a column vector: the seed's layout)
        derived = np.atleast_2d(np.asarray(numeric(calculus.result, values, sizes), dtype=float))
        if case.declared[case.wrt].startswith("vector"):
            expected = expected.T
        assert derived.shape == expected.shape, case.expression
        np.testing.assert_allclose(derived, expected, rtol=1e-5, atol=1e-6, err_msg=case.expression)


def test_the_new_rules_are_named_with_their_cookbook_equations() -> None:
    labels = {step.label for step in derive_matrix("det(A*X*B)", "X", SQUARE).steps}
    assert "Jacobi's formula (chain rule)" in labels
    notes = " ".join(step.note or "" for step in derive_matrix("tr(inv(X+A))", "X", {"X": N, "A": N}).steps)
    assert "(59)" in notes


def test_every_case_derives_in_a_few_seconds_unchecked() -> None:
    """The derivation itself stays quick; the step checks (mpmath loops in matrix_check) are what is
    slow for det(X⁵) and (XᵀCX)⁻¹, the subject of the einsum checker."""
    slowest = 0.0
    for case in CASES:
        start = time.perf_counter()
        derive_matrix(case.expression, case.wrt, case.declared, case.assume, verify=False)
        slowest = max(slowest, time.perf_counter() - start)
    assert slowest < 5
