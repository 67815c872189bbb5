"""Index names in matrix calculus: never a name the user declared, never captured by another sum."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
import sympy

from derivgen import derive
from derivgen.input.spec import is_exercise_file, load_deck, load_sheet

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


# -- dummy indices are never captured -----------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_items() -> list:
    """Every derivation task of the example decks and sheets: deck frames that derive, exercises
    and their parts, as the spec models them."""
    items: list = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if is_exercise_file(path):
            sheet, _ = load_sheet(path)
            items += [part for exercise in sheet.exercises for part in (exercise.parts or [exercise])]
        else:
            deck, _ = load_deck(path)
            items += [frame for frame in deck.frames if getattr(frame, "derive", None) is not None]
    return items


def example_matrix_tasks() -> list[tuple[str, str, dict[str, str], list[str], str]]:
    """(expression, wrt, symbols, assumptions, layout) of every matrix-calculus task of the examples."""
    return [
        (item.derive, item.wrt, dict(item.symbols), list(item.assume), item.layout)
        for item in example_items()
        if item.symbols and isinstance(item.derive, str) and isinstance(item.wrt, str)
    ]


def captured_indices(expr: sympy.Basic) -> list[str]:
    """Where an index is bound twice: a Σ_k inside a Σ_k, or a Σ_k in an expression where k also
    stands free (y_k + Σ_k …).  Read from the tree, not from printed text."""
    free: set[sympy.Symbol] = set()

    def collect_free(node: sympy.Basic, bound: frozenset) -> None:
        if isinstance(node, sympy.Symbol) and node not in bound:
            free.add(node)
        if isinstance(node, sympy.Sum):
            inner = bound | {limit[0] for limit in node.limits}
            collect_free(node.function, inner)
            for limit in node.limits:
                for end in limit[1:]:
                    collect_free(end, bound)
            return
        for argument in node.args:
            collect_free(argument, bound)

    problems = []

    def check_sums(node: sympy.Basic, bound: frozenset) -> None:
        if isinstance(node, sympy.Sum):
            for index in (limit[0] for limit in node.limits):
                if index in bound:
                    problems.append(f"Σ_{index} inside a sum over {index}")
                if index in free:
                    problems.append(f"Σ_{index} beside a free {index}")
            bound = bound | {limit[0] for limit in node.limits}
        for argument in node.args:
            check_sums(argument, bound)

    collect_free(expr, frozenset())
    check_sums(expr, frozenset())
    return problems


def test_the_capture_check_sees_captures() -> None:
    k, n = sympy.Symbol("k", integer=True), sympy.Symbol("n", integer=True)
    y = sympy.IndexedBase("y")
    inner = sympy.Sum(sympy.exp(y[k]), (k, 0, n - 1))
    assert captured_indices(sympy.Sum(y[k] / inner, (k, 0, n - 1)))
    assert captured_indices(y[k] + inner)
    assert not captured_indices(sympy.Sum(y[k], (k, 0, n - 1)) * inner)


MORE_TASKS = [
    ("-y.T*log(softmax(z))", "z", {"y": "vector(n)", "z": "vector(n)"}, ["sums_to_one(y)"], "row"),
    ("-y.T*log(softmax(z))", "z", {"y": "vector(n)", "z": "vector(n)"}, [], "row"),
    ("log(ones(n).T*exp(z))", "z", {"z": "vector(n)"}, [], "row"),
    ("tr(A*X*B)", "X", {"A": "matrix(p, n)", "X": "matrix(n, m)", "B": "matrix(m, p)"}, [], "row"),
]


@pytest.mark.parametrize(("expression", "wrt", "symbols", "assume", "layout"), example_matrix_tasks() + MORE_TASKS)
def test_no_index_is_captured(
    expression: str, wrt: str, symbols: dict[str, str], assume: list[str], layout: str
) -> None:
    calculus = derive(expression, wrt, symbols=symbols, assume=assume, layout=layout)
    for step in calculus.steps:
        for expr in (step.before, step.after):
            problems = captured_indices(expr)
            assert not problems, f"{step.label}: {problems} in {expr}"
