"""Deep-learning forms (issue 15): softmax regression, the softmax Jacobian, log-softmax, a two-layer
network by both weight matrices, and elementwise results that read as a lecturer writes them.

Every result is evaluated by the test's own numpy evaluator (tests/matrix_numeric.py, none of
derivgen's checker) and compared with central differences of the loss written in numpy, and with the
closed form of the textbooks (Goodfellow, Bengio & Courville, *Deep Learning*, §6.2.2.3 softmax units,
§6.5 back-propagation; Bishop, *Pattern Recognition and Machine Learning*, (4.109) softmax regression).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.input.matrices import Softmax
from tests.matrix_numeric import finite_differences, numeric, scalar

SIZES = {"n": 3, "m": 4, "p": 2}
ROOT = Path(__file__).resolve().parent.parent


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(z) / np.exp(z).sum()


@dataclass(frozen=True)
class Case:
    expression: str
    wrt: str
    symbols: dict[str, str]
    loss: Callable[[dict], float]  # the loss in numpy
    closed_form: Callable[[dict], np.ndarray]  # the textbook gradient, shaped like the variable
    rules: tuple[str, ...]  # named steps the derivation must go through
    assume: tuple[str, ...] = ()


_REGRESSION = {"W": "matrix(m, n)", "x": "vector(n)", "y": "vector(m)"}
_TWO_LAYER = {"W1": "matrix(m, n)", "W2": "matrix(p, m)", "x": "vector(n)", "y": "vector(p)"}


def _two_layer(v: dict) -> tuple[np.ndarray, np.ndarray]:
    """Hidden activation h and output error δ₂ of L = ½‖W₂ tanh(W₁x) − y‖²."""
    h = np.tanh(v["W1"] @ v["x"])
    return h, v["W2"] @ h - v["y"]


CASES = {
    # Bishop (4.109): ∇_W of the cross-entropy of softmax(Wx) is (softmax(Wx) − y)xᵀ
    "softmax regression": Case(
        "-y.T*log(softmax(W*x))",
        "W",
        _REGRESSION,
        lambda v: -(v["y"].T @ np.log(_softmax(v["W"] @ v["x"]))),
        lambda v: (_softmax(v["W"] @ v["x"]) - v["y"]) @ v["x"].T,
        ("log_softmax", "softmax_definition"),
        ("sums_to_one(y)",),
    ),
    # the same loss with softmax written out by the user
    "softmax written out": Case(
        "-y.T*log(exp(W*x)/(ones(m).T*exp(W*x)))",
        "W",
        _REGRESSION,
        lambda v: -(v["y"].T @ np.log(_softmax(v["W"] @ v["x"]))),
        lambda v: (_softmax(v["W"] @ v["x"]) - v["y"]) @ v["x"].T,
        ("softmax_definition", "log_softmax"),
        ("sums_to_one(y)",),
    ),
    # log-softmax by z: δ_ik − softmax(z)_i summed against y: softmax(z) − y (row layout)
    "cross-entropy by z": Case(
        "-y.T*log(softmax(z))",
        "z",
        {"y": "vector(n)", "z": "vector(n)"},
        lambda v: -(v["y"].T @ np.log(_softmax(v["z"]))),
        lambda v: _softmax(v["z"]) - v["y"],
        ("log_softmax",),
        ("sums_to_one(y)",),
    ),
    # Goodfellow et al. §6.2.2.3: ∂softmax(z)/∂z = diag(p) − ppᵀ, applied to a
    "softmax Jacobian": Case(
        "a.T*softmax(z)",
        "z",
        {"a": "vector(n)", "z": "vector(n)"},
        lambda v: v["a"].T @ _softmax(v["z"]),
        lambda v: (np.diag(_softmax(v["z"])[:, 0]) - _softmax(v["z"]) @ _softmax(v["z"]).T) @ v["a"],
        ("softmax_jacobian",),
    ),
    # squared error of softmax(Wx): (diag(p) − ppᵀ)(p − y) xᵀ
    "squared error of softmax by W": Case(
        "(softmax(W*x) - y).T*(softmax(W*x) - y)/2",
        "W",
        _REGRESSION,
        lambda v: 0.5 * np.sum((_softmax(v["W"] @ v["x"]) - v["y"]) ** 2),
        lambda v: (
            (np.diag(_softmax(v["W"] @ v["x"])[:, 0]) - _softmax(v["W"] @ v["x"]) @ _softmax(v["W"] @ v["x"]).T)
            @ (_softmax(v["W"] @ v["x"]) - v["y"])
            @ v["x"].T
        ),
        ("softmax_jacobian",),
    ),
    # back-propagation (Goodfellow et al. §6.5): ∇_{W₂} L = δ₂ hᵀ
    "two-layer network by W2": Case(
        "(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2",
        "W2",
        _TWO_LAYER,
        lambda v: 0.5 * np.sum(_two_layer(v)[1] ** 2),
        lambda v: _two_layer(v)[1] @ _two_layer(v)[0].T,
        ("to_matrix",),
    ),
    # … and ∇_{W₁} L = δ₁ xᵀ with δ₁ = (W₂ᵀ δ₂) ∘ (1 − h²)
    "two-layer network by W1": Case(
        "(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2",
        "W1",
        _TWO_LAYER,
        lambda v: 0.5 * np.sum(_two_layer(v)[1] ** 2),
        lambda v: ((v["W2"].T @ _two_layer(v)[1]) * (1 - _two_layer(v)[0] ** 2)) @ v["x"].T,
        ("chain", "to_matrix"),
    ),
}


def _values(case: Case, rng: np.random.Generator) -> dict:
    values = {}
    for name, spec in case.symbols.items():
        dims = [SIZES[d.strip()] for d in spec[spec.index("(") + 1 : -1].split(",")]
        values[name] = rng.normal(size=(dims[0], dims[1] if len(dims) > 1 else 1))
    if "sums_to_one(y)" in case.assume:  # one-hot
        values["y"] = np.zeros_like(values["y"])
        values["y"][1, 0] = 1.0
    return values


@pytest.fixture(scope="module")
def derived() -> dict:
    return {
        name: derive_matrix(case.expression, case.wrt, case.symbols, case.assume, layout="shape")
        for name, case in CASES.items()
    }


@pytest.mark.parametrize("name", CASES)
def test_result_equals_finite_differences_and_the_textbook(name: str, derived: dict) -> None:
    case, calculus = CASES[name], derived[name]
    assert calculus.verified
    rng = np.random.default_rng(15)
    for _ in range(3):
        values = _values(case, rng)
        result = np.asarray(numeric(calculus.result, values, SIZES), dtype=float)
        expected = finite_differences(lambda v, c=case: scalar(c.loss(v)), values, case.wrt)
        np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(result, case.closed_form(values), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_named_steps_are_recorded(name: str, derived: dict) -> None:
    used = {step.rule for step in derived[name].steps}
    assert set(CASES[name].rules) <= used


@pytest.mark.parametrize("name", ["softmax regression", "cross-entropy by z", "softmax written out"])
def test_cross_entropy_goes_through_log_softmax_not_the_quotient_rule(name: str, derived: dict) -> None:
    calculus = derived[name]
    assert "quotient" not in {step.rule for step in calculus.steps}
    # the result names softmax and holds no exp of its own: (softmax(Wx) − y)xᵀ
    assert calculus.result.atoms(Softmax)
    assert not calculus.result.atoms(ElementwiseApplyFunction)


def test_softmax_regression_ends_in_the_lecturers_form(derived: dict) -> None:
    """(softmax(Wx) − y)xᵀ: one product of a difference and xᵀ."""
    from sympy import MatAdd, MatMul, MatrixSymbol, Transpose

    result = derived["softmax regression"].result
    assert isinstance(result, MatMul) and len(result.args) == 2
    difference, last = result.args
    x = MatrixSymbol("x", *last.arg.shape) if isinstance(last, Transpose) else None
    assert last == Transpose(x)
    assert isinstance(difference, MatAdd) and len(difference.args) == 2
    assert {type(term) for term in difference.args} >= {Softmax}


@pytest.mark.parametrize(
    ("expression", "wrt", "symbols"),
    [
        ("a.T*tanh(X)*b", "X", ["a=vector(n)", "b=vector(n)", "X=matrix(n,n)"]),
        ("a.T*sigmoid(X)*b", "X", ["a=vector(n)", "b=vector(n)", "X=matrix(n,n)"]),
        ("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W1", [f"{k}={v}" for k, v in _TWO_LAYER.items()]),
        ("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W2", [f"{k}={v}" for k, v in _TWO_LAYER.items()]),
    ],
)
def test_elementwise_results_print_without_lambda(expression: str, wrt: str, symbols: list[str]) -> None:
    declared = [part for symbol in symbols for part in ("-s", symbol.replace(" ", ""))]
    for extra in ([], ["--latex"]):
        done = subprocess.run(
            [sys.executable, "-m", "derivgen", "derive", "--wrt", wrt, *declared, *extra, "--", expression],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, done.stderr
        for internal in ("Lambda", "HadamardProduct", "HadamardPower", "_t"):
            assert internal not in done.stdout
        if not extra:
            assert "∘" in done.stdout.splitlines()[-1] or wrt == "W2"
