"""Matrix calculus in index notation: the seed's derivations, classic identities, errors.

derivgen checks every result against its own finite differences (on by default).  These tests do
not rely on that: results are compared with the closed forms of the literature, evaluated by numpy
in the test on random sizes and values.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import sympy
from sympy import MatrixSymbol, Symbol, Transpose

from derivgen import DerivgenError, ParseError
from derivgen.calculus.matrix_check import check_gradient
from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.calculus.rules import REGISTRY
from derivgen.input.matrices import ShapeError, declare, read_assumptions
from derivgen.presentation.printer import to_latex

from .matrix_numeric import Values, finite_differences, numeric, scalar

n, m, p = (Symbol(name, integer=True, positive=True) for name in "nmp")


def sym(name, rows, cols=1):
    return MatrixSymbol(name, rows, cols)


x, a, b, mu = sym("x", n), sym("a", n), sym("b", m), sym("mu", n)
M, X, S = sym("M", n, n), sym("X", n, n), sym("S", n, n)


def squash(tex: str) -> str:
    return "".join(tex.split())


def labels(calculus):
    return [step.label for step in calculus.steps]


def test_seed_quadratic_form_step_by_step():
    """Seed S9: ∇_x xᵀMx, labelled sum rule, product rule, Kronecker delta property, symmetric M."""
    calculus = derive_matrix("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)"}, ["symmetric(M)"])
    steps = labels(calculus)
    for label in (
        "definition of the matrix product",
        "sum rule",
        "product rule",
        "Kronecker delta property",
        "requires M to be symmetric",
        "renaming dummy indices",
        "back to matrix form",
    ):
        assert label in steps, label
    assert (
        steps.index("product rule")
        < steps.index("Kronecker delta property")
        < steps.index("requires M to be symmetric")
    )
    assert calculus.result == 2 * x.T * M
    assert_closed_form(calculus, SYMMETRIC_QUADRATIC)
    index_form = to_latex(calculus.steps[0].after, partial=True)
    assert squash(r"\sum_{k}\sum_{l}") in squash(index_form) and "M_{k,l}" in squash(index_form)


def test_seed_quadratic_form_without_symmetry():
    calculus = derive_matrix("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)"})
    assert (calculus.result - x.T * (M + M.T)).doit() == sympy.ZeroMatrix(1, n)
    assert "requires M to be symmetric" not in labels(calculus)


def test_seed_trace_of_a_product():
    """Seed S10: ∇_A tr(AB) = Bᵀ via Σ_k Σ_l A_kl B_lk, δ_ik δ_jl, B_ji = (Bᵀ)_ij."""
    calculus = derive_matrix("tr(A*B)", "A", {"A": "matrix(n, m)", "B": "matrix(m, n)"})
    assert calculus.result == Transpose(sym("B", m, n))
    steps = labels(calculus)
    assert steps[:2] == ["definition of the trace", "definition of the matrix product"]
    assert "Kronecker delta property" in steps and "back to matrix form" in steps


def test_layouts():
    declared = {"x": "vector(n)", "a": "vector(n)"}
    assert derive_matrix("a.T*x", "x", declared, layout="row").result == a.T
    assert derive_matrix("a.T*x", "x", declared, layout="shape").result == a


# -- the classic identities, against the literature's closed forms evaluated by numpy ------------------
#
# derivgen's own finite-difference checker is not the oracle here: every case states the function and
# its closed-form gradient in numpy (in the variable's shape, the Matrix Cookbook's layout), the closed
# form is confirmed by numpy finite differences of the numpy function, and derivgen's result is
# evaluated by the small numpy evaluator below (none of derivgen's code) at random sizes and values
# that honour the declared assumptions.  Equation numbers: The Matrix Cookbook (Petersen & Pedersen,
# Nov 2012); "§2.5" where the trace identities are cited by section.



@dataclass(frozen=True)
class ClosedForm:
    expression: str
    wrt: str
    declared: dict[str, str]
    assume: tuple[str, ...]
    function: Callable[[Values], Any]  # the expression, in numpy
    gradient: Callable[[Values], np.ndarray]  # the closed form, shaped like the variable
    source: str


def _case(expression, wrt, declared, function, gradient, source, assume=()):
    return ClosedForm(expression, wrt, declared, tuple(assume), function, gradient, source)


_LINEAR_LAYER = {"W": "matrix(p, n)", "x": "vector(n)", "b": "vector(p)", "y": "vector(p)"}


def _residual(v: Values) -> np.ndarray:
    return v["W"] @ v["x"] + v["b"] - v["y"]


IDENTITIES = [
    # ∂xᵀx/∂x = 2x: (81) with B = I
    _case("x.T*x", "x", {"x": "vector(n)"}, lambda v: v["x"].T @ v["x"], lambda v: 2 * v["x"], "(81), B = I"),
    # ∂aᵀx/∂x = a
    _case("a.T*x", "x", {"a": "vector(n)", "x": "vector(n)"}, lambda v: v["a"].T @ v["x"], lambda v: v["a"], "(69)"),
    # ∂xᵀMx/∂x = (M + Mᵀ)x
    _case(
        "x.T*M*x",
        "x",
        {"x": "vector(n)", "M": "matrix(n, n)"},
        lambda v: v["x"].T @ v["M"] @ v["x"],
        lambda v: (v["M"] + v["M"].T) @ v["x"],
        "(81)",
    ),
    # ∂tr X/∂X = I
    _case("tr(X)", "X", {"X": "matrix(n, n)"}, lambda v: np.trace(v["X"]), lambda v: np.eye(len(v["X"])), "§2.5.1"),
    # ∂tr(AX)/∂X = ∂tr(XA)/∂X = Aᵀ
    _case(
        "tr(A*X)",
        "X",
        {"A": "matrix(n, m)", "X": "matrix(m, n)"},
        lambda v: np.trace(v["A"] @ v["X"]),
        lambda v: v["A"].T,
        "§2.5.1, tr(XA)",
    ),
    # ∂tr(AXᵀ)/∂X = A
    _case(
        "tr(A*X.T)",
        "X",
        {"A": "matrix(n, m)", "X": "matrix(n, m)"},
        lambda v: np.trace(v["A"] @ v["X"].T),
        lambda v: v["A"],
        "§2.5.1, tr(AXᵀ)",
    ),
    # ∂tr(AXB)/∂X = AᵀBᵀ
    _case(
        "tr(A*X*B)",
        "X",
        {"A": "matrix(p, n)", "X": "matrix(n, m)", "B": "matrix(m, p)"},
        lambda v: np.trace(v["A"] @ v["X"] @ v["B"]),
        lambda v: v["A"].T @ v["B"].T,
        "(101)",
    ),
    # ∂tr(XᵀAX)/∂X = AX + AᵀX
    _case(
        "tr(X.T*A*X)",
        "X",
        {"A": "matrix(n, n)", "X": "matrix(n, m)"},
        lambda v: np.trace(v["X"].T @ v["A"] @ v["X"]),
        lambda v: (v["A"] + v["A"].T) @ v["X"],
        "(108)",
    ),
    # ∂tr(X²)/∂X = 2Xᵀ
    _case("tr(X*X)", "X", {"X": "matrix(n, n)"}, lambda v: np.trace(v["X"] @ v["X"]), lambda v: 2 * v["X"].T, "(106)"),
    # ∂tr(XᵀX)/∂X = 2X
    _case(
        "tr(X.T*X)", "X", {"X": "matrix(n, m)"}, lambda v: np.trace(v["X"].T @ v["X"]), lambda v: 2 * v["X"], "§2.5.2"
    ),
    # ∂aᵀXb/∂X = abᵀ
    _case(
        "a.T*X*b",
        "X",
        {"a": "vector(n)", "X": "matrix(n, m)", "b": "vector(m)"},
        lambda v: v["a"].T @ v["X"] @ v["b"],
        lambda v: v["a"] @ v["b"].T,
        "(70)",
    ),
    # ∂aᵀXᵀb/∂X = baᵀ
    _case(
        "a.T*X.T*b",
        "X",
        {"a": "vector(m)", "X": "matrix(n, m)", "b": "vector(n)"},
        lambda v: v["a"].T @ v["X"].T @ v["b"],
        lambda v: v["b"] @ v["a"].T,
        "(71)",
    ),
    # Jacobi: ∂det X/∂X = det(X) X⁻ᵀ (X invertible, the determinant may be negative)
    _case(
        "det(X)",
        "X",
        {"X": "matrix(n, n)"},
        lambda v: np.linalg.det(v["X"]),
        lambda v: np.linalg.det(v["X"]) * np.linalg.inv(v["X"]).T,
        "(49)",
        ["invertible(X)"],
    ),
    # ∂ log det X/∂X = X⁻ᵀ (det X > 0; X not symmetric, so a lost transpose shows)
    _case(
        "log(det(X))",
        "X",
        {"X": "matrix(n, n)"},
        lambda v: np.log(np.linalg.det(v["X"])),
        lambda v: np.linalg.inv(v["X"]).T,
        "(57)",
        ["positive_determinant(X)"],
    ),
    # Jacobi's formula through an inner matrix: ∂det(AXB)/∂X = det(AXB) X⁻ᵀ
    _case(
        "det(A*X*B)",
        "X",
        {"A": "matrix(n, n)", "X": "matrix(n, n)", "B": "matrix(n, n)"},
        lambda v: np.linalg.det(v["A"] @ v["X"] @ v["B"]),
        lambda v: np.linalg.det(v["A"] @ v["X"] @ v["B"]) * np.linalg.inv(v["X"]).T,
        "(51)",
    ),
    # the inverse of an inner matrix: ∂tr((X + A)⁻¹)/∂X = −((X + A)⁻¹(X + A)⁻¹)ᵀ
    _case(
        "tr(inv(X + A))",
        "X",
        {"A": "matrix(n, n)", "X": "matrix(n, n)"},
        lambda v: np.trace(np.linalg.inv(v["X"] + v["A"])),
        lambda v: -(np.linalg.inv(v["X"] + v["A"]) @ np.linalg.inv(v["X"] + v["A"])).T,
        "(64)",
    ),
    # a Hadamard product in a trace: ∂tr(A ∘ X)/∂X = I ∘ A
    _case(
        "tr(hadamard(A, X))",
        "X",
        {"A": "matrix(n, n)", "X": "matrix(n, n)"},
        lambda v: np.trace(v["A"] * v["X"]),
        lambda v: np.eye(len(v["A"])) * v["A"],
        "§2.5, Hadamard",
    ),
    # ∂aᵀX⁻¹b/∂X = −X⁻ᵀabᵀX⁻ᵀ
    _case(
        "a.T*inv(X)*b",
        "X",
        {"a": "vector(n)", "X": "matrix(n, n)", "b": "vector(n)"},
        lambda v: v["a"].T @ np.linalg.inv(v["X"]) @ v["b"],
        lambda v: -np.linalg.inv(v["X"]).T @ v["a"] @ v["b"].T @ np.linalg.inv(v["X"]).T,
        "(61)",
        ["invertible(X)"],
    ),
    # least squares ∂‖Ax − b‖²/∂x = 2Aᵀ(Ax − b): (84) with B = D = A, C = I
    _case(
        "(A*x - b).T*(A*x - b)",
        "x",
        {"A": "matrix(m, n)", "x": "vector(n)", "b": "vector(m)"},
        lambda v: (v["A"] @ v["x"] - v["b"]).T @ (v["A"] @ v["x"] - v["b"]),
        lambda v: 2 * v["A"].T @ (v["A"] @ v["x"] - v["b"]),
        "(84)",
    ),
    # ridge: ∂(λwᵀw/2 + yᵀw)/∂w = λw + y, by (81) and (69)
    _case(
        "lam*w.T*w/2 + y.T*w",
        "w",
        {"w": "vector(n)", "lam": "scalar", "y": "vector(n)"},
        lambda v: v["lam"] * (v["w"].T @ v["w"]) / 2 + v["y"].T @ v["w"],
        lambda v: v["lam"] * v["w"] + v["y"],
        "(81), (69)",
    ),
    # a linear layer's squared error r = Wx + b − y: ∂rᵀr/∂W = 2rxᵀ, ∂/∂b = 2r, ∂/∂x = 2Wᵀr (chain rule)
    _case(
        "(W*x + b - y).T*(W*x + b - y)",
        "W",
        _LINEAR_LAYER,
        lambda v: _residual(v).T @ _residual(v),
        lambda v: 2 * _residual(v) @ v["x"].T,
        "(84) by W",
    ),
    _case(
        "(W*x + b - y).T*(W*x + b - y)",
        "b",
        _LINEAR_LAYER,
        lambda v: _residual(v).T @ _residual(v),
        lambda v: 2 * _residual(v),
        "(84) by b",
    ),
    _case(
        "(W*x + b - y).T*(W*x + b - y)",
        "x",
        _LINEAR_LAYER,
        lambda v: _residual(v).T @ _residual(v),
        lambda v: 2 * v["W"].T @ _residual(v),
        "(84)",
    ),
    # ∂xᵀAy/∂A = xyᵀ
    _case(
        "x.T*A*y",
        "A",
        {"x": "vector(n)", "A": "matrix(n, m)", "y": "vector(m)"},
        lambda v: v["x"].T @ v["A"] @ v["y"],
        lambda v: v["x"] @ v["y"].T,
        "(70)",
    ),
    # Mahalanobis: ∂(x − μ)ᵀS⁻¹(x − μ)/∂x = 2S⁻¹(x − μ), S symmetric
    _case(
        "(x - mu).T*inv(S)*(x - mu)",
        "x",
        {"x": "vector(n)", "mu": "vector(n)", "S": "matrix(n, n)"},
        lambda v: (v["x"] - v["mu"]).T @ np.linalg.inv(v["S"]) @ (v["x"] - v["mu"]),
        lambda v: 2 * np.linalg.inv(v["S"]) @ (v["x"] - v["mu"]),
        "(86)",
        ["positive_definite(S)"],
    ),
]


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(z) / np.exp(z).sum()


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-t))


IDENTITIES += [
    # softmax cross-entropy with a distribution y (1ᵀy = 1): ∂(−yᵀ log softmax(z))/∂z = softmax(z) − y
    _case(
        "-y.T*log(softmax(z))",
        "z",
        {"y": "vector(n)", "z": "vector(n)"},
        lambda v: -v["y"].T @ np.log(_softmax(v["z"])),
        lambda v: _softmax(v["z"]) - v["y"],
        "softmax cross-entropy",
        ["sums_to_one(y)"],
    ),
    # the softmax Jacobian diag(p) − ppᵀ (p = softmax(z)) applied to a: ∂(aᵀ softmax(z))/∂z = (diag(p) − ppᵀ)a
    _case(
        "a.T*softmax(z)",
        "z",
        {"a": "vector(n)", "z": "vector(n)"},
        lambda v: v["a"].T @ _softmax(v["z"]),
        lambda v: (np.diag(_softmax(v["z"])[:, 0]) - _softmax(v["z"]) @ _softmax(v["z"]).T) @ v["a"],
        "softmax Jacobian",
    ),
    # logistic regression: ∂(−yᵀ log σ(Xw) − (1 − y)ᵀ log(1 − σ(Xw)))/∂w = Xᵀ(σ(Xw) − y)
    _case(
        "-(y.T*log(sigmoid(X*w)) + (ones(m) - y).T*log(ones(m) - sigmoid(X*w)))",
        "w",
        {"X": "matrix(m, n)", "w": "vector(n)", "y": "vector(m)"},
        lambda v: -(
            v["y"].T @ np.log(_sigmoid(v["X"] @ v["w"])) + (1 - v["y"]).T @ np.log(1 - _sigmoid(v["X"] @ v["w"]))
        ),
        lambda v: v["X"].T @ (_sigmoid(v["X"] @ v["w"]) - v["y"]),
        "logistic regression",
    ),
]

SYMMETRIC_QUADRATIC = _case(
    "x.T*M*x",
    "x",
    {"x": "vector(n)", "M": "matrix(n, n)"},
    lambda v: v["x"].T @ v["M"] @ v["x"],
    lambda v: 2 * v["M"] @ v["x"],
    "(81), M symmetric",
    ["symmetric(M)"],
)

_ASSUMPTION = re.compile(r"\s*(\w+)\(\s*(\w+)\s*\)\s*")


def _dimensions(spec: str) -> list[str]:
    """The dimension names: matrix(n, m) → [n, m], vector(n) → [n], scalar → []."""
    inside = spec[spec.index("(") + 1 : spec.rindex(")")] if "(" in spec else ""
    return [d.strip() for d in inside.split(",") if d.strip()]


def _square(rng: np.random.Generator, size: int, kind: str | None) -> np.ndarray:
    """A random square matrix with the declared property (a generic one without)."""
    g = rng.normal(size=(size, size))
    if kind == "symmetric":
        return (g + g.T) / 2
    if kind == "positive_definite":
        return g @ g.T + size * np.eye(size)
    while kind in ("invertible", "positive_determinant") and np.linalg.cond(g) > 1e3:
        g = rng.normal(size=(size, size))
    if kind == "positive_determinant" and np.linalg.det(g) < 0:
        g[0] = -g[0]
    return g


def draw(case: ClosedForm, rng: np.random.Generator) -> tuple[dict[str, int], Values]:
    """Distinct random sizes (so a missing transpose cannot fit) and values honouring the assumptions."""
    names = sorted({d for spec in case.declared.values() for d in _dimensions(spec)})
    drawn = rng.choice(np.arange(2, 8), size=len(names), replace=False)
    sizes = {name: int(size) for name, size in zip(names, drawn, strict=True)}
    facts = {}
    for fact in case.assume:
        kind, name = _ASSUMPTION.fullmatch(fact).groups()
        facts[name] = kind
    values: Values = {}
    for name, spec in case.declared.items():
        shape = [sizes[d] for d in _dimensions(spec)]
        if not shape:
            values[name] = float(rng.uniform(0.5, 2.0))
        elif facts.get(name) == "sums_to_one":
            weights = rng.uniform(0.1, 1.0, size=(shape[0], 1))
            values[name] = weights / weights.sum()
        elif name in facts:
            values[name] = _square(rng, shape[0], facts[name])
        else:
            values[name] = rng.normal(size=(shape[0], shape[1] if len(shape) > 1 else 1))
    return sizes, values


def assert_closed_form(calculus, case: ClosedForm, layout: str = "row", trials: int = 3) -> None:
    """derivgen's result equals the closed form at random sizes and values (and the closed form is right)."""
    rng = np.random.default_rng(zlib.crc32(f"{case.expression} {case.wrt}".encode()))
    for _ in range(trials):
        sizes, values = draw(case, rng)
        closed = np.asarray(case.gradient(values), dtype=float)
        assert closed.shape == values[case.wrt].shape, case.source
        # the table itself is checked, so that a typo in a closed form cannot pass as "the literature"
        fd = finite_differences(case.function, values, case.wrt)
        np.testing.assert_allclose(closed, fd, rtol=1e-5, atol=1e-6, err_msg=f"closed form {case.source}")
        # derivgen read the function we mean …
        assert scalar(numeric(calculus.expression, values, sizes)) == pytest.approx(scalar(case.function(values)))
        # … and its gradient is the literature's, in the chosen layout
        derived = np.atleast_2d(np.asarray(numeric(calculus.result, values, sizes), dtype=float))
        if layout == "row" and closed.shape[1] == 1:
            closed = closed.T  # the seed's convention: the gradient by a column vector is a row
        assert derived.shape == closed.shape
        np.testing.assert_allclose(derived, closed, rtol=1e-9, atol=1e-9, err_msg=f"{case.expression}: {case.source}")


_CASES_BY_LAYOUT = [
    pytest.param(case, layout, id=f"{case.expression} by {case.wrt} ({layout})")
    for case in IDENTITIES
    for layout in (("row", "shape") if case.declared[case.wrt].startswith("vector") else ("row",))
]


@pytest.mark.parametrize(("case", "layout"), _CASES_BY_LAYOUT)
def test_classic_identities(case, layout):
    calculus = derive_matrix(case.expression, case.wrt, case.declared, case.assume, layout=layout)
    assert_closed_form(calculus, case, layout)


def test_a_wrong_gradient_is_caught():
    symbols = {"x": declare("x", "vector(n)"), "M": declare("M", "matrix(n, n)")}
    from derivgen import VerificationError
    from derivgen.input.matrices import parse_matrix

    with pytest.raises(VerificationError, match="finite differences"):
        check_gradient(parse_matrix("x.T*M*x", symbols), x, 2 * x.T * M, read_assumptions([], symbols), True)


def test_every_index_rule_is_used():
    used = set()
    for case in IDENTITIES:
        steps = derive_matrix(case.expression, case.wrt, case.declared, case.assume, verify=False).steps
        used |= {step.rule for step in steps}
    assert {rule.id for rule in REGISTRY if rule.family == "index"} <= used


@pytest.mark.parametrize(
    ("expression", "wrt", "declared", "assume", "error", "words"),
    [
        (
            "A*x",
            "x",
            {"A": "matrix(n, m)", "x": "vector(n)"},
            [],
            ShapeError,
            "cannot multiply n×m by a vector of length n",
        ),
        ("x.T*M*x", "x", {"x": "vector(n)"}, [], ShapeError, "'M' is not declared"),
        ("x.T*x + M", "x", {"x": "vector(n)", "M": "matrix(n, n)"}, [], ShapeError, "cannot add"),
        ("x*x.T", "x", {"x": "vector(n)"}, [], ShapeError, "scalar functions"),
        ("tr(A)", "A", {"A": "matrix(n, m)"}, [], ShapeError, "square"),
        ("x.T*x", "x", {"x": "vectr(n)"}, [], ShapeError, "cannot read the shape"),
        ("x.T*x", "y", {"x": "vector(n)"}, [], ShapeError, "declared scalar, vector or matrix"),
        ("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, m)"}, ["symmetric(M)"], ShapeError, "square"),
        ("x.T*x", "x", {"x": "vector(n)"}, ["symmetrical(x)"], ShapeError, "cannot read the assumption"),
        ("x.__class__", "x", {"x": "vector(n)"}, [], ParseError, ".T"),
        ("gamma(x)", "x", {"x": "vector(n)"}, [], ShapeError, "elementwise"),
    ],
)
def test_bad_input(expression, wrt, declared, assume, error, words):
    with pytest.raises(error) as caught:
        derive_matrix(expression, wrt, declared, assume)
    assert words in caught.value.one_line()
    assert isinstance(caught.value, DerivgenError)


def test_derive_takes_symbols_assumptions_and_layout():
    from derivgen import derive

    calculus = derive(
        "x.T*M*x", "x", symbols={"x": "vector(n)", "M": "matrix(n, n)"}, assume=["symmetric(M)"], layout="row"
    )
    assert calculus.result == 2 * x.T * M
    assert_closed_form(calculus, SYMMETRIC_QUADRATIC)
    data = calculus.to_dict()
    assert data["wrt"] == "x" and data["layout"] == "row"
    # the dictionary reports whether the steps were checked, not a constant
    unchecked = derive("x.T*M*x", "x", symbols={"x": "vector(n)", "M": "matrix(n, n)"}, verify=False)
    assert data["verified"] is True and unchecked.to_dict()["verified"] is False


def test_results_are_sympy_matrix_expressions():
    calculus = derive_matrix("log(det(X))", "X", {"X": "matrix(n, n)"}, ["positive_determinant(X)"])
    assert isinstance(calculus.result, sympy.MatrixExpr)
    assert calculus.result.subs({X: sympy.Identity(n)}).doit() == sympy.Identity(n)


def test_every_index_step_is_checked(monkeypatch):
    """A contraction that forgets its delta's index (Σ_k δ_ik a_k → a_k) is caught at that step."""
    import derivgen.calculus.matrix_engine as engine
    from derivgen import VerificationError

    def sloppy(node):
        if isinstance(node, sympy.Sum):
            deltas = [f for f in sympy.Mul.make_args(node.function) if isinstance(f, sympy.KroneckerDelta)]
            if deltas:
                rest = sympy.Mul(*(f for f in sympy.Mul.make_args(node.function) if f not in deltas))
                limits = node.limits[1:]
                return sympy.Sum(rest, *limits) if limits else rest
        return None

    monkeypatch.setattr(engine, "_contract", sloppy)
    with pytest.raises(VerificationError, match="Kronecker delta property"):
        derive_matrix("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)"})
