"""Variables are matched to the expression's symbols by name, whatever object the caller passes.

Before, ``derive("sin(x)", Symbol("x"))`` returned 0: the text is read with a *real* ``x`` and the
caller's plain ``x`` is another symbol.  Every combination of text / plain / real / positive
expressions and variables must give the true derivative, or a clear error when a name is ambiguous.
"""

from __future__ import annotations

import itertools

import numpy
import pytest
import sympy

from derivgen import DerivgenError, derive
from derivgen.input.matrices import ShapeError

from .conftest import same_function

KINDS = {
    "str": None,
    "plain": {},
    "real": {"real": True},
    "positive": {"positive": True},
}


def _symbol(name: str, kind: str) -> str | sympy.Symbol:
    return name if KINDS[kind] is None else sympy.Symbol(name, **KINDS[kind])


def _expression(text: str, names: str, kind: str) -> str | sympy.Expr:
    """``text`` as text, or as a sympy expression over symbols of the given kind (built without eval)."""
    if KINDS[kind] is None:
        return text
    symbols = {name: sympy.Symbol(name, **KINDS[kind]) for name in names}
    return sympy.parse_expr(text, local_dict=symbols)  # test-owned text, never user input


def _by_name(expr: sympy.Expr) -> sympy.Expr:
    """The same expression over plain symbols, so results built on different symbols compare."""
    return expr.xreplace({s: sympy.Symbol(s.name) for s in expr.free_symbols})


SCALAR_CASES = ["sin(x)", "exp(x)*x**2", "log(x**2 + 1)/x"]


@pytest.mark.parametrize("text", SCALAR_CASES)
@pytest.mark.parametrize(("expression_kind", "variable_kind"), itertools.product(KINDS, KINDS))
def test_scalar_derivative_matches_variable_by_name(text: str, expression_kind: str, variable_kind: str) -> None:
    derivation = derive(_expression(text, "x", expression_kind), _symbol("x", variable_kind))
    expected = sympy.diff(sympy.parse_expr(text), sympy.Symbol("x"))
    assert derivation.result != 0
    assert same_function(_by_name(derivation.result), expected)


@pytest.mark.parametrize(("expression_kind", "variable_kind"), itertools.product(KINDS, KINDS))
def test_gradient_matches_variables_by_name(expression_kind: str, variable_kind: str) -> None:
    text = "x**2*y + sin(y)"
    variables = [_symbol("x", variable_kind), _symbol("y", variable_kind)]
    gradient = derive(_expression(text, "xy", expression_kind), variables)
    x, y = sympy.symbols("x y")
    expected = [sympy.diff(sympy.parse_expr(text), v) for v in (x, y)]
    components = list(gradient.result)
    assert len(components) == 2
    for component, want in zip(components, expected, strict=True):
        assert same_function(_by_name(component), want)


@pytest.mark.parametrize("variable_kind", list(KINDS))
def test_limit_method_matches_variable_by_name(variable_kind: str) -> None:
    derivation = derive("x**3", _symbol("x", variable_kind), method="limit")
    assert same_function(_by_name(derivation.result), 3 * sympy.Symbol("x") ** 2)


def test_a_variable_absent_from_the_expression_gives_zero() -> None:
    # matching by name must not invent a dependence: d/dy sin(x) is 0, with any kind of y
    for kind in KINDS:
        assert derive("sin(x)", _symbol("y", kind)).result == 0


def test_two_symbols_of_one_name_are_refused() -> None:
    mixed = sympy.sin(sympy.Symbol("x", real=True)) + sympy.Symbol("x") ** 2
    with pytest.raises(DerivgenError, match="2 different symbols named x"):
        derive(mixed, "x")
    with pytest.raises(DerivgenError, match="2 different symbols named x"):
        derive(mixed, [sympy.Symbol("x"), "y"])


def test_the_variable_name_is_checked() -> None:
    with pytest.raises(DerivgenError, match="must be a name"):
        derive("sin(x)", "x + 1")


SHAPES = {"x": "vector(n)", "M": "matrix(n, n)"}


def _quadratic_form_gradient(derivation, size: int = 3, seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """derivgen's ∇ₓ xᵀMx and the closed form xᵀ(M + Mᵀ), both evaluated with numpy."""
    rng = numpy.random.default_rng(seed)
    x_value, m_value = rng.normal(size=(size, 1)), rng.normal(size=(size, size))
    n = next(iter(derivation.result.free_symbols - derivation.result.atoms(sympy.MatrixSymbol)), None)
    result = derivation.result.subs(n, size) if n is not None else derivation.result
    values = {m: {"x": x_value, "M": m_value}[m.name] for m in result.atoms(sympy.MatrixSymbol)}
    got = numpy.array(sympy.lambdify(list(values), result, "numpy")(*values.values()), dtype=float)
    return got.reshape(-1), (x_value.T @ (m_value + m_value.T)).reshape(-1)


@pytest.mark.parametrize(
    "variable",
    [
        "x",
        sympy.Symbol("x"),
        sympy.Symbol("x", real=True),
        sympy.MatrixSymbol("x", sympy.Symbol("n"), 1),
        sympy.MatrixSymbol("x", sympy.Symbol("n", integer=True, positive=True), 1),
    ],
    ids=["str", "plain-symbol", "real-symbol", "matrix-symbol-plain-n", "matrix-symbol-integer-n"],
)
def test_matrix_variable_matches_by_name(variable) -> None:
    got, expected = _quadratic_form_gradient(derive("x.T*M*x", variable, symbols=SHAPES))
    numpy.testing.assert_allclose(got, expected, rtol=1e-10)


def test_matrix_variable_of_another_shape_is_refused() -> None:
    with pytest.raises(ShapeError, match="declared n×1"):
        derive("x.T*M*x", sympy.MatrixSymbol("x", 3, 1), symbols=SHAPES)
    with pytest.raises(ShapeError, match="must be a declared scalar, vector or matrix"):
        derive("x.T*M*x", sympy.Symbol("y"), symbols=SHAPES)
