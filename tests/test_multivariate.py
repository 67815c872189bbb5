"""Gradients, Jacobians, Hessians and higher derivatives: against sympy, and as the seed shows them."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivgen import DerivgenError, derive, parse
from derivgen.calculus.multivariate import MatrixDerivation
from derivgen.presentation.printer import to_latex
from tests.conftest import same_function

x, y, z = (sympy.Symbol(name, real=True) for name in "xyz")


def squash(tex: str) -> str:
    return "".join(tex.split())


def test_gradient_is_a_row_vector_equal_to_sympy():
    expression = parse("(2*x + y**2)**2")
    gradient = derive(expression, ["x", "y"])
    assert isinstance(gradient, MatrixDerivation) and gradient.kind == "gradient"
    assert gradient.result.shape == (1, 2)
    expected = sympy.Matrix([[sympy.diff(expression, x), sympy.diff(expression, y)]])
    assert (gradient.result - expected).expand() == sympy.zeros(1, 2)


def test_gradient_steps_in_order_with_collecting_step():
    gradient = derive("(2*x + y**2)**2", ["x", "y"])
    steps = gradient.steps
    first_x = gradient.components[0].steps
    assert steps[: len(first_x)] == first_x
    assert steps[-1].rule == "collect_gradient"
    assert steps[-1].after == gradient.result
    expression = parse("(2*x + y**2)**2")
    for component, variable in zip(gradient.components, (x, y), strict=True):
        assert same_function(component.result, sympy.diff(expression, variable))


def test_seed_gradient_partials_in_the_chain_rule_form():
    """Seed S5: ∂h/∂x = 2(2x+y²)·∂/∂x(2x+y²) = 2(2x+y²)·2, ∂h/∂y = … = 2(2x+y²)·2y."""
    gradient = derive("(2*x + y**2)**2", ["x", "y"])
    by_x, by_y = gradient.components
    assert by_x.steps[0].rule == "chain"
    assert squash(to_latex(by_x.steps[0].after, partial=True)) == squash(
        r"2\left(2x+y^{2}\right)\frac{\partial}{\partial x}\left(2x+y^{2}\right)"
    )
    assert squash(to_latex(by_x.lecturer_result, partial=True)) == squash(r"2\left(2x+y^{2}\right)\cdot2")
    assert squash(to_latex(by_y.lecturer_result, partial=True)) == squash(r"2\left(2x+y^{2}\right)\cdot2y")


def test_jacobian_shape_and_entries():
    functions = ["x*y*z", "sin(x) + y", "exp(x*z)"]
    jacobian = derive(functions, ["x", "y", "z"])
    assert jacobian.kind == "jacobian" and jacobian.result.shape == (3, 3)
    expected = sympy.Matrix([parse(f) for f in functions]).jacobian([x, y, z])
    assert (jacobian.result - expected).expand() == sympy.zeros(3, 3)


def test_jacobian_of_three_functions_of_two_variables():
    jacobian = derive(["x1*x2", "x1 + x2", "x1**2"], ["x1", "x2"])
    assert jacobian.result.shape == (3, 2)


def test_hessian_is_symmetric_and_equals_sympy():
    expression = parse("x**2*y**3 + sin(x*y)")
    hessian = derive(expression, ["x", "y"], order=2)
    assert hessian.kind == "hessian" and hessian.result.shape == (2, 2)
    expected = sympy.hessian(expression, [x, y])
    for i in range(2):
        for j in range(2):
            assert same_function(hessian.result[i, j], expected[i, j])
    assert len(hessian.first_order) == 2  # the gradient came first, also step by step
    assert hessian.steps[0] is hessian.first_order[0].steps[0]


def test_second_derivative_of_one_variable():
    second = derive("x**3*sin(x)", "x", order=2)
    assert second.kind == "higher" and len(second.components) == 2
    assert same_function(second.result, sympy.diff(parse("x**3*sin(x)"), x, 2))


def test_seed_multivariate_chain_rule_with_undefined_functions():
    """Seed S6: h(f1(x1, x2), f2(x1, x2)); ∂h/∂x1 = Σ_i ∂h/∂f_i ∂f_i/∂x1."""
    expression = parse("h(f1(x1, x2), f2(x1, x2))")
    x1, x2 = sorted(expression.free_symbols, key=str)
    gradient = derive(expression, ["x1", "x2"])
    assert gradient.result.shape == (1, 2)
    for column, variable in enumerate((x1, x2)):
        assert same_function(gradient.result[0, column], sympy.diff(expression, variable))
        first = gradient.components[column].steps[0]
        assert first.rule == "multivariate_chain" and len(first.chain.outer_partials) == 2
    body = squash(gradient.latex("brief"))
    assert squash(r"\sum_i \frac{\partial h}{\partial f_i} \frac{\partial f_i}{\partial x_{1}}") in body
    row = r"\begin{bmatrix}\frac{\partial h}{\partial f_{1}} & \frac{\partial h}{\partial f_{2}}\end{bmatrix}"
    jacobian = (
        r"\begin{bmatrix}\frac{\partial f_{1}}{\partial x_{1}} & \frac{\partial f_{1}}{\partial x_{2}} \\"
        r" \frac{\partial f_{2}}{\partial x_{1}} & \frac{\partial f_{2}}{\partial x_{2}}\end{bmatrix}"
    )
    assert squash(row + jacobian) in body  # the full product of Jacobians


def test_concrete_inner_functions_use_the_same_rule():
    expression = parse("h(x*y, x + y)")
    gradient = derive(expression, ["x", "y"])
    assert gradient.components[0].steps[0].rule == "multivariate_chain"
    for column, variable in enumerate((x, y)):
        assert same_function(gradient.result[0, column], sympy.diff(expression, variable))


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: derive("x*y", ["x", "x"]), "only once"),
        (lambda: derive("x*y", []), "at least one variable"),
        (lambda: derive([], ["x"]), "at least one function"),
        (lambda: derive(["x", ["y"]], ["x"]), "flat"),
        (lambda: derive(["x*y", "y"], ["x", "y"], order=2), "one function"),
        (lambda: derive(["x*y", "y"], ["x", "y"], order=3), "one function"),
        (lambda: derive("x", "x", order=0), "order"),
        (lambda: derive("x*y", ["x", "y + 1"]), "name"),
    ],
)
def test_shape_errors_are_clear(call, words):
    with pytest.raises(DerivgenError, match=words):
        call()


FUNCTIONS = [sympy.sin, sympy.exp, sympy.cos, sympy.atan, sympy.tanh, sympy.sqrt, sympy.log]
leaves = st.sampled_from([x, y, z, x, y, sympy.Integer(2), sympy.Rational(1, 3)])


def _combine(children):
    return (
        st.builds(lambda f, u: f(u), st.sampled_from(FUNCTIONS), children)
        | st.builds(lambda u, v: u * v, children, children)
        | st.builds(lambda u, v: u + v, children, children)
        | st.builds(lambda u, v: u / v, children, children)
        | st.builds(lambda u, n: u**n, children, st.sampled_from([2, 3, -1, sympy.Rational(1, 2)]))
    )


multivariate = st.recursive(leaves, _combine, max_leaves=6).filter(
    lambda e: len(e.free_symbols) >= 2 and not e.has(sympy.zoo, sympy.nan, sympy.oo)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multivariate)
def test_random_gradients_match_sympy(expression):
    variables = sorted(expression.free_symbols, key=str)
    gradient = derive(expression, variables)
    for column, variable in enumerate(variables):
        assert same_function(gradient.result[0, column], sympy.diff(expression, variable))


@pytest.mark.parametrize(
    ("text", "names", "order"),
    [
        ("x**3*y**2 + sin(x*y)", ("x", "y"), 3),
        ("exp(x*y)*z + x*z**2", ("x", "y", "z"), 3),
        ("x**2*y**3", ("x", "y"), 4),
    ],
)
def test_orders_above_two_give_the_tensor_of_partials(text, names, order):
    from itertools import product

    tensor = derive(text, list(names), order=order)
    expression = parse(text)
    symbols = [next(s for s in expression.free_symbols if s.name == name) for name in names]
    assert tensor.result.shape == (len(names),) * order
    for index in product(range(len(names)), repeat=order):
        expected = sympy.diff(expression, *(symbols[i] for i in index))
        assert same_function(tensor.result[index], expected), index
    # each distinct partial derived once (symmetry of mixed partials), every order on the way
    from math import comb

    distinct = sum(comb(len(names) + k - 1, k) for k in range(1, order + 1))
    assert len(tensor.partials) == distinct
    # printed as its slices: the Hessians of the partials of order - 2
    assert len(tensor.slices) == len(names) ** (order - 2)
    headings = [part.heading for part in tensor.parts]
    assert f"slice by {names[0]} of the Hessian" in headings or order > 3


def test_tensor_slices_are_hessians_of_the_lower_partials():
    tensor = derive("x**3*y**2", ["x", "y"], order=3)
    x_, y_ = sorted(parse("x**3*y**2").free_symbols, key=str)
    (prefix_x, slice_x), (prefix_y, slice_y) = tensor.slices
    assert prefix_x == (0,) and prefix_y == (1,)
    assert slice_x.result == sympy.hessian(sympy.diff(x_**3 * y_**2, x_), (x_, y_))
    assert slice_y.result == sympy.hessian(sympy.diff(x_**3 * y_**2, y_), (x_, y_))
    assert tensor.to_dict()["kind"] == "tensor"
