"""Index names in matrix calculus never take a name the user declared."""

from __future__ import annotations

import numpy
import pytest
import sympy

from derivgen import derive

CASES = [
    # a scalar k beside the sums: the dummy indices were renamed k, so Σ_k k M_ik x_k mixed the two
    ("k*x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)", "k": "scalar"}),
    ("l*p*x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)", "l": "scalar", "p": "scalar"}),
    # a scalar i or j: the gradient's own entry index was always called i (and j)
    ("i*x.T*M*x", "x", {"x": "vector(n)", "M": "matrix(n, n)", "i": "scalar"}),
    ("i*j*tr(A*X)", "X", {"X": "matrix(n, m)", "A": "matrix(m, n)", "i": "scalar", "j": "scalar"}),
]


def _index_names(expr: sympy.Basic) -> set[str]:
    """Every summation index and every index of an entry M[a, b]."""
    names = {limit[0].name for total in expr.atoms(sympy.Sum) for limit in total.limits}
    for element in expr.atoms(sympy.matrices.expressions.matexpr.MatrixElement):
        names |= {index.name for index in (element.i, element.j) if isinstance(index, sympy.Symbol)}
    return names


@pytest.mark.parametrize(("expression", "wrt", "symbols"), CASES)
def test_no_index_takes_a_declared_name(expression: str, wrt: str, symbols: dict[str, str]) -> None:
    calculus = derive(expression, wrt, symbols=symbols)
    declared = set(symbols)
    for step in calculus.steps:
        clash = _index_names(step.after) & declared
        assert not clash, f"{step.label}: index {clash} is also a declared symbol in {step.after}"


def test_scalar_factor_kept_apart_from_the_indices() -> None:
    # the closed form k·xᵀ(M + Mᵀ), evaluated with numpy, against derivgen's result
    calculus = derive("k*x.T*M*x", "x", symbols=CASES[0][2])
    rng = numpy.random.default_rng(3)
    size, k_value = 4, 1.7
    x_value, m_value = rng.normal(size=(size, 1)), rng.normal(size=(size, size))
    scalars = {"n": size, "k": k_value}
    result = calculus.result.xreplace({s: scalars[s.name] for s in calculus.result.free_symbols if s.name in scalars})
    matrices = sorted(result.atoms(sympy.MatrixSymbol), key=lambda m: m.name)
    values = [{"x": x_value, "M": m_value}[m.name] for m in matrices]
    got = numpy.array(sympy.lambdify(matrices, result, "numpy")(*values), dtype=float).reshape(-1)
    numpy.testing.assert_allclose(got, (k_value * x_value.T @ (m_value + m_value.T)).reshape(-1), rtol=1e-10)
