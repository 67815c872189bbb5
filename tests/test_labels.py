"""Honest labels: every label a step carries is a rule of the registry (with a statement a rules slide
can show), and no displayed line repeats the line before or only reorders it — at any detail level.

Derivations come from a table of scalar examples, random expression trees (hypothesis), every task of
the example decks and sheets (scalar, gradients, Hessians, matrix calculus in index notation) and a few
gradients, Jacobians and Hessians.  Whether two lines differ only in the order of terms is decided here
on the sympy trees, independently of derivgen's own tidy-up code.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings

from derivgen import derive
from derivgen.calculus.model import Derivation, Step
from derivgen.calculus.rules import REGISTRY
from derivgen.calculus.rules.base import COSMETIC
from derivgen.options import DETAILS
from derivgen.presentation.lines import display_lines
from tests.strategies import functions_of_x
from tests.test_matrix_engine import MORE_TASKS, example_items, example_matrix_tasks

SCALAR_EXAMPLES = [
    "(x**2 + 2)**3",
    "x - sin(x)",
    "y - w*x",
    "(x**2 - 1)/(x**2 + 1)",
    "(x**2 + 1)/(x - 1)",
    "log(1 + exp(x))",
    "sigmoid(2*x + 1)",
    "tanh(x)",
    "(exp(x) - exp(-x))/(exp(x) + exp(-x))",
    "x*log(x)",
    "x**x",
    "max(x, x**2)",
    "erf(x)",
    "abs(x)",
    "2**x",
    "f(g(x))",
    "Piecewise((x**2, x < 0), (x, True))",
]

SEVERAL_VARIABLES = [
    ("(2*x + y**2)**2", ["x", "y"], 1),
    ("x**2*y**3", ["x", "y"], 2),
    (["x*y", "sin(x)", "x + y"], ["x", "y"], 1),
    ("h(f1(x1, x2), f2(x1, x2))", ["x1", "x2"], 1),
    ("(y - w1*x1 - w2*x2)**2", ["w1", "w2"], 1),
]


def example_tasks() -> list:
    """Every derivation task of the example decks and sheets, as arguments of derive()."""
    tasks = []
    for number, item in enumerate(example_items()):
        kwargs: dict = {"method": item.method} if item.method == "limit" else {}
        kwargs |= {"order": item.order, "positive": list(item.positive), "assume": list(item.assume)}
        if item.symbols:
            kwargs |= {"symbols": dict(item.symbols), "layout": item.layout}
        wrt = item.wrt if item.wrt is not None else _only_variable(item.derive)
        tasks.append(pytest.param(item.derive, wrt, kwargs, id=f"{number}-{item.derive}"))
    return tasks


def _only_variable(expression: str | list[str]) -> str:
    from derivgen import parse

    texts = expression if isinstance(expression, list) else [expression]
    (variable,) = set().union(*(parse(text).free_symbols for text in texts))
    return variable.name


# -- what is checked ------------------------------------------------------------------------------------


def all_steps(result, nested: bool = True) -> Iterator[Step]:
    """The steps of a result, with (``nested``) those of the nested derivations of the chain rule."""
    for step in result.steps:
        yield step
        outer = getattr(step.chain, "outer_derivation", None)
        if outer is not None and nested:
            yield from all_steps(outer)


def derivations(result, nested: bool = True) -> Iterator[Derivation]:
    """The derivations whose lines the page shows (every part's), nested chain derivations too."""
    for part in result.parts:
        if part.derivation is not None:
            yield part.derivation
            for step in part.derivation.steps:
                outer = getattr(step.chain, "outer_derivation", None)
                if outer is not None and nested:
                    yield outer


def signature(expr: sympy.Basic) -> tuple:
    """The tree with nested sums and products flattened and their order forgotten."""
    if expr.is_Atom:
        return (type(expr).__name__, sympy.srepr(expr))
    parts = []
    for argument in expr.args:
        if isinstance(expr, sympy.Add | sympy.Mul) and type(argument) is type(expr):
            parts.extend(signature(argument)[1])
        else:
            parts.append(signature(argument))
    if isinstance(expr, sympy.Add | sympy.Mul):
        parts.sort(key=repr)
    return (type(expr).__name__, tuple(parts))


def number_after_a_factor(expr) -> bool:
    return any(
        isinstance(node, sympy.Mul) and any(arg.is_Number for arg in node.args[1:])
        for node in sympy.preorder_traversal(expr)
    )


def assert_honest(result, nested: bool = True) -> None:
    for step in all_steps(result, nested):
        assert any(rule.shows(step.label) for rule in REGISTRY), (
            f"step label {step.label!r} (rule {step.rule!r}) is not a rule of the registry"
        )
        if step.rule in {rule.id for rule in REGISTRY}:
            assert REGISTRY[step.rule].shows(step.label), f"rule {step.rule!r} shown as {step.label!r}"
    for derivation in derivations(result, nested):
        for detail in DETAILS:
            previous = derivation.start
            for line in display_lines(derivation, detail):
                shown = line.expression
                assert shown != previous, f"{detail}: a line repeats the one before ({line.label}): {shown}"
                # bringing a number to the front (e^{-3x}·(-3) → -3e^{-3x}) is a reordering a reader sees
                if all(step.level != COSMETIC for step in line.steps) and not number_after_a_factor(previous):
                    assert signature(shown) != signature(previous), (
                        f"{detail}: a line only reorders the one before ({line.label}): {previous} → {shown}"
                    )
                previous = shown


# -- the tests --------------------------------------------------------------------------------------------


def test_the_oracle_sees_a_reordering() -> None:
    x, y, z = sympy.symbols("x y z")
    nested = sympy.Mul(y, sympy.Mul(x, z, evaluate=False), evaluate=False)
    assert signature(nested) == signature(x * y * z)
    assert signature(x + y) != signature(x * y)


@pytest.mark.parametrize(("expression", "wrt", "symbols", "assume", "layout"), example_matrix_tasks() + MORE_TASKS)
def test_index_notation(expression: str, wrt: str, symbols: dict[str, str], assume: list[str], layout: str) -> None:
    """Matrix calculus: the index phase and the matrix phase (without the chain rule's nested
    derivations, which the rule engine tidies)."""
    assert_honest(derive(expression, wrt, symbols=symbols, assume=assume, layout=layout), nested=False)


@pytest.mark.parametrize("expression", SCALAR_EXAMPLES)
def test_scalar_examples(expression: str) -> None:
    assert_honest(derive(expression, "x"))


@pytest.mark.parametrize(("expression", "wrt", "order"), SEVERAL_VARIABLES)
def test_gradients_jacobians_hessians(expression, wrt: list[str], order: int) -> None:
    assert_honest(derive(expression, wrt, order=order))


@pytest.mark.parametrize(("expression", "wrt", "kwargs"), example_tasks())
def test_example_decks_and_sheets(expression, wrt, kwargs: dict) -> None:
    assert_honest(derive(expression, wrt, **kwargs))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(functions_of_x(max_leaves=6))
def test_random_expressions(written) -> None:
    assume(not written.undefined)  # 1/(x - x), log(0): the parser refuses them, nothing to label
    assert_honest(derive(written.text, "x"))


LIMIT_EXAMPLES = [
    ("x**2 + 1/x", []),
    ("sqrt(x**2 + 1)", []),
    ("(x + 1)/(x - 1)", []),
    ("2*sin(x) + x**2 - 3*exp(x)", []),
    ("cos(x) + x**3", []),
    ("x**2 + h*x", ["h"]),  # the step is called k: the labels stay the registry's
]


@pytest.mark.parametrize(("expression", "positive"), LIMIT_EXAMPLES)
def test_limit_method(expression: str, positive: list[str]) -> None:
    """Derivatives from first principles: every step a rule of the limit family (or the tidy-up)."""
    result = derive(expression, "x", method="limit", positive=positive)
    assert_honest(result)
    assert {step.rule for step in result.steps} <= {rule.id for rule in REGISTRY.family("limit")} | {"evaluate"}


def test_limit_examples_of_the_decks() -> None:
    """The example decks' limit derivations are among the tasks checked (not skipped)."""
    limits = [task for task in example_tasks() if task.values[2].get("method") == "limit"]
    assert limits
    for expression, wrt, kwargs in (task.values for task in limits):
        assert_honest(derive(expression, wrt, **kwargs))


def test_limit_rules_are_never_searched() -> None:
    x = sympy.Symbol("x")
    for expression in (x**2, sympy.sin(x), sympy.Limit(x, x, 0)):
        assert not [rule for rule in REGISTRY.candidates(expression) if rule.family == "limit"]


def test_every_rule_has_a_statement() -> None:
    for rule in REGISTRY:
        assert rule.label and rule.statement, rule.id
