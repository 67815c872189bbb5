"""One model for every result: the same interface and presentable parts, whatever was derived."""

from __future__ import annotations

import json

import pytest
import sympy

from derivgen import DerivgenError, derive
from derivgen.calculus import front
from derivgen.presentation.body import result_body
from derivgen.presentation.printer import to_latex

SHAPES = {"x": "vector(n)", "M": "matrix(n, n)"}

RESULTS = {
    "one variable": lambda: derive("(x^2 + 2)^3", "x"),
    "limit": lambda: derive("x^2", "x", method="limit"),
    "gradient": lambda: derive("x*y^2", ["x", "y"]),
    "jacobian": lambda: derive(["x*y", "sin(x)"], ["x", "y"]),
    "hessian": lambda: derive("x*y^2", ["x", "y"], order=2),
    "higher": lambda: derive("sin(x)", "x", order=3),
    "matrix calculus": lambda: derive("x.T*M*x", "x", symbols=SHAPES),
}


@pytest.mark.parametrize("kind", list(RESULTS))
def test_every_result_offers_the_same_interface(kind: str) -> None:
    result = RESULTS[kind]()
    assert result.steps and result.verified and result.result is not None
    assert json.dumps(result.to_dict())  # JSON-ready
    assert result.check_note and result.left.notation
    parts = result.parts
    assert parts
    # every step of the result is shown by exactly one part (the collecting step by its own part)
    shown = [step for part in parts if part.derivation is not None for step in part.derivation.steps]
    collected = [part.collected.collect for part in parts if part.collected is not None]
    assert [id(step) for step in shown + collected] == [id(step) for step in result.steps]


def test_parts_in_page_order() -> None:
    gradient = derive("x*y^2", ["x", "y"])
    assert [part.heading for part in gradient.parts] == ["entry (1, 1)", "entry (1, 2)", gradient.collect.label]
    assert gradient.parts[-1].left.notation == "gradient"
    calculus = derive("x.T*M*x", "x", symbols=SHAPES)
    entry, whole = calculus.parts
    assert (entry.left.notation, whole.left.notation) == ("matrix_gradient_entry", "matrix_gradient")
    assert whole.continues and not entry.continues
    hessian = derive("x*y^2", ["x", "y"], order=2)
    assert [part.heading for part in hessian.parts][:2] == ["first derivative by x", "first derivative by y"]


def test_the_front_door_attaches_the_printer() -> None:
    # derivgen.derive gives latex() and the *_latex fields; the calculus layer alone does not print
    printed = derive("sin(x)^2", "x")
    bare = front.derive("sin(x)^2", "x")
    assert printed.to_dict()["result_latex"] == to_latex(printed.result)
    assert "result_latex" not in bare.to_dict() and "before_latex" not in bare.to_dict()["steps"][0]
    assert bare.to_dict(to_latex) == printed.to_dict()
    assert printed.latex("full") == result_body(bare, "full")
    with pytest.raises(DerivgenError, match="no printer attached"):
        bare.latex()


def test_components_print_themselves_too() -> None:
    gradient = derive("x*y^2", ["x", "y"])
    component = gradient.parts[0].derivation
    assert component is not None and component.latex().startswith(r"\frac{\partial}{\partial x}")


def test_question_of_a_result_names_what_was_derived() -> None:
    x = sympy.Symbol("x", real=True)
    assert derive("sin(x)", "x").left.functions == (sympy.sin(x),)
    calculus = derive("x.T*M*x", "x", symbols=SHAPES, assume=["symmetric(M)"])
    assert calculus.left.facts == (("symmetric", "M"),)
    assert [symbol.name for symbol in calculus.left.given] == ["M", "x"]


def test_the_front_door_pickles_and_prints_nested_derivations() -> None:
    import pickle

    import derivgen

    # a process pool sends the function by its module and name: it must be derivgen.api.derive itself
    assert pickle.loads(pickle.dumps(derivgen.derive)) is derivgen.derive
    chained = derive("sin(x^2)", "x")
    outer = next(step.chain.outer_derivation for step in chained.steps if step.chain is not None)
    assert outer.latex().startswith(r"\frac{d}{d u}")  # the chain rule's own derivation of g(u)
    calculus = RESULTS["matrix calculus"]()
    assert calculus.matrix_phase.latex()  # built anew on each access, it still prints
