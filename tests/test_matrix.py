"""Matrix calculus in index notation: the seed's derivations, classic identities, errors.

Every result is checked by derivgen against finite differences (on by default); the tests add
the closed forms the literature gives, compared numerically on random shapes as well.
"""

from __future__ import annotations

import pytest
import sympy
from sympy import Inverse, MatrixSymbol, Symbol, Transpose

from derivgen import DerivgenError, ParseError
from derivgen.matrices import ShapeError, declare, read_assumptions
from derivgen.matrix_check import check_gradient
from derivgen.matrix_engine import derive_matrix
from derivgen.present import to_latex
from derivgen.rules import REGISTRY

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
    """Seed S9: ∇_x xᵀMx, labelled sum rule, product rule, kronecker delta property, symmetric M."""
    calculus = derive_matrix("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)"}, ["symmetric(M)"])
    steps = labels(calculus)
    for label in (
        "definition of the matrix product",
        "sum rule",
        "product rule",
        "kronecker delta property",
        "requires M to be symmetric",
        "renaming dummy indices",
        "back to matrix form",
    ):
        assert label in steps, label
    assert (
        steps.index("product rule")
        < steps.index("kronecker delta property")
        < steps.index("requires M to be symmetric")
    )
    assert calculus.result == 2 * x.T * M
    assert calculus.verified
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
    assert steps[0] == "definition of the trace and the matrix product"
    assert "kronecker delta property" in steps and "back to matrix form" in steps


def test_layouts():
    declared = {"x": "vector(n)", "a": "vector(n)"}
    assert derive_matrix("a.T*x", "x", declared, layout="row").result == a.T
    assert derive_matrix("a.T*x", "x", declared, layout="shape").result == a


IDENTITIES = [
    # (expression, variable, declarations, assumptions, closed form from the Matrix Cookbook or a course)
    ("x.T*x", "x", {"x": "vector(n)"}, [], lambda: 2 * x.T),
    ("a.T*x", "x", {"a": "vector(n)", "x": "vector(n)"}, [], lambda: a.T),
    ("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)"}, [], lambda: x.T * (M + M.T)),
    ("tr(X)", "X", {"X": "matrix(n, n)"}, [], lambda: sympy.Identity(n)),
    ("tr(A*X)", "X", {"A": "matrix(n, m)", "X": "matrix(m, n)"}, [], lambda: sym("A", n, m).T),
    ("tr(A*X.T)", "X", {"A": "matrix(n, m)", "X": "matrix(n, m)"}, [], lambda: sym("A", n, m)),
    (
        "tr(A*X*B)",
        "X",
        {"A": "matrix(p, n)", "X": "matrix(n, m)", "B": "matrix(m, p)"},
        [],
        lambda: sym("A", p, n).T * sym("B", m, p).T,
    ),
    (
        "tr(X.T*A*X)",
        "X",
        {"A": "matrix(n, n)", "X": "matrix(n, m)"},
        [],
        lambda: (sym("A", n, n) + sym("A", n, n).T) * sym("X", n, m),
    ),
    ("tr(X*X)", "X", {"X": "matrix(n, n)"}, [], lambda: 2 * X.T),
    ("tr(X.T*X)", "X", {"X": "matrix(n, m)"}, [], lambda: 2 * sym("X", n, m)),
    ("a.T*X*b", "X", {"a": "vector(n)", "X": "matrix(n, m)", "b": "vector(m)"}, [], lambda: a * b.T),
    (
        "a.T*X.T*b",
        "X",
        {"a": "vector(m)", "X": "matrix(n, m)", "b": "vector(n)"},
        [],
        lambda: sym("b", n) * sym("a", m).T,
    ),
    ("det(X)", "X", {"X": "matrix(n, n)"}, ["invertible(X)"], lambda: sympy.Determinant(X) * Inverse(X).T),
    ("log(det(X))", "X", {"X": "matrix(n, n)"}, ["positive_determinant(X)"], lambda: Inverse(X).T),
    (
        "a.T*inv(X)*b",
        "X",
        {"a": "vector(n)", "X": "matrix(n, n)", "b": "vector(n)"},
        ["invertible(X)"],
        lambda: -Inverse(X).T * a * sym("b", n).T * Inverse(X).T,
    ),
    (
        "(A*x - b).T*(A*x - b)",
        "x",
        {"A": "matrix(m, n)", "x": "vector(n)", "b": "vector(m)"},
        [],
        lambda: 2 * (sym("A", m, n) * x - b).T * sym("A", m, n),
    ),
    (
        "lam*w.T*w/2 + y.T*w",
        "w",
        {"w": "vector(n)", "lam": "scalar", "y": "vector(n)"},
        [],
        lambda: Symbol("lam", real=True) * sym("w", n).T + sym("y", n).T,
    ),
    (
        "(W*x + b - y).T*(W*x + b - y)",
        "W",
        {"W": "matrix(p, n)", "x": "vector(n)", "b": "vector(p)", "y": "vector(p)"},
        [],
        lambda: 2 * (sym("W", p, n) * x + sym("b", p) - sym("y", p)) * x.T,
    ),
    (
        "(W*x + b - y).T*(W*x + b - y)",
        "b",
        {"W": "matrix(p, n)", "x": "vector(n)", "b": "vector(p)", "y": "vector(p)"},
        [],
        lambda: 2 * (sym("W", p, n) * x + sym("b", p) - sym("y", p)).T,
    ),
    (
        "(W*x + b - y).T*(W*x + b - y)",
        "x",
        {"W": "matrix(p, n)", "x": "vector(n)", "b": "vector(p)", "y": "vector(p)"},
        [],
        lambda: 2 * (sym("W", p, n) * x + sym("b", p) - sym("y", p)).T * sym("W", p, n),
    ),
    ("x.T*A*y", "A", {"x": "vector(n)", "A": "matrix(n, m)", "y": "vector(m)"}, [], lambda: x * sym("y", m).T),
    (
        "(x - mu).T*inv(S)*(x - mu)",
        "x",
        {"x": "vector(n)", "mu": "vector(n)", "S": "matrix(n, n)"},
        ["positive_definite(S)"],
        lambda: 2 * (x - mu).T * Inverse(S),
    ),
]


@pytest.mark.parametrize(
    ("expression", "wrt", "declared", "assume", "closed_form"),
    IDENTITIES,
    ids=[f"{case[0]} by {case[1]}" for case in IDENTITIES],
)
def test_classic_identities(expression, wrt, declared, assume, closed_form):
    calculus = derive_matrix(expression, wrt, declared, assume)  # checked by finite differences inside
    assert calculus.verified
    symbols = {name: declare(name, spec) for name, spec in declared.items()}
    facts = read_assumptions(assume, symbols)
    variable = symbols[wrt]
    transposed = variable.shape[1] == 1
    # the closed form, checked by the same finite differences: both are the derivative
    check_gradient(calculus.expression, variable, closed_form(), facts, transposed=transposed)


def test_a_wrong_gradient_is_caught():
    symbols = {"x": declare("x", "vector(n)"), "M": declare("M", "matrix(n, n)")}
    from derivgen import VerificationError
    from derivgen.matrices import parse_matrix

    with pytest.raises(VerificationError, match="finite differences"):
        check_gradient(parse_matrix("x.T*M*x", symbols), x, 2 * x.T * M, read_assumptions([], symbols), True)


def test_every_index_rule_is_used():
    used = set()
    for expression, wrt, declared, assume, _ in IDENTITIES:
        used |= {step.rule for step in derive_matrix(expression, wrt, declared, assume, verify=False).steps}
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
        ("x.T*x", "y", {"x": "vector(n)"}, [], ShapeError, "declared vector or matrix"),
        ("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, m)"}, ["symmetric(M)"], ShapeError, "square"),
        ("x.T*x", "x", {"x": "vector(n)"}, ["symmetrical(x)"], ShapeError, "cannot read the assumption"),
        ("x.__class__", "x", {"x": "vector(n)"}, [], ParseError, ".T"),
        ("sin(x)", "x", {"x": "vector(n)"}, [], ShapeError, "elementwise"),
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
    data = calculus.to_dict()
    assert data["wrt"] == "x" and data["layout"] == "row" and data["verified"]


def test_results_are_sympy_matrix_expressions():
    calculus = derive_matrix("log(det(X))", "X", {"X": "matrix(n, n)"}, ["positive_determinant(X)"])
    assert isinstance(calculus.result, sympy.MatrixExpr)
    assert calculus.result.subs({X: sympy.Identity(n)}).doit() == sympy.Identity(n)


def test_every_index_step_is_checked(monkeypatch):
    """A contraction that forgets its delta's index (Σ_k δ_ik a_k → a_k) is caught at that step."""
    import derivgen.matrix_engine as engine
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
    with pytest.raises(VerificationError, match="kronecker delta property"):
        derive_matrix("x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)"})
