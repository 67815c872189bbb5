"""The work of a derivation grows linearly with its size where the output does (issue 16).

Counts, never timings: how many nodes the engine looks at to find the next pending derivative, how
many nodes the checks evaluate, how many nodes the printer prints afresh (not from its memo).  A sum
of 2N terms must cost at most a little over twice a sum of N terms; re-walking the whole tree at
every step, evaluating every check's sides anew or re-printing every line whole costs four times.
The results are compared with sympy.diff.  ``benchmarks/growth.py`` measures the times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sympy
from sympy.printing.printer import Printer

from derivgen import derive
from derivgen.calculus import engine
from derivgen.calculus.verify import NumericEvaluator
from derivgen.input.parser import parse
from derivgen.presentation.frames import derivation_rows
from tests.conftest import same_function

LINEAR = 2.5  # doubling the size may at most this much more than double the count


def _sum(n: int) -> str:
    return " + ".join(f"sin({i}*x)" for i in range(1, n + 1))


def _chain(n: int) -> str:
    return "".join("sin(" if i % 2 == 0 else "cos(" for i in range(n)) + "x" + ")" * n


@contextmanager
def _counting(owner: object, name: str) -> Iterator[list[int]]:
    """Count the calls of ``owner.name`` inside the block."""
    calls = [0]
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)
    try:
        yield calls
    finally:
        setattr(owner, name, original)


def _derived(text: str, **options):
    derivation = derive(text, "x", result="as-derived", **options)
    x = sympy.Symbol("x", real=True)
    assert same_function(derivation.result, sympy.diff(parse(text), x)), text
    return derivation


def _ratio(count: Callable[[int], int], n: int) -> float:
    return count(2 * n) / count(n)


@pytest.mark.parametrize("family", [_sum, _chain], ids=["sum", "chain"])
def test_the_engine_finds_each_pending_derivative_without_walking_the_finished_part(family) -> None:
    def visits(n: int) -> int:
        with _counting(engine, "is_pending") as calls:
            _derived(family(n), verify=False)
        return calls[0]

    assert _ratio(visits, 12) <= LINEAR


def test_the_checks_of_a_sum_evaluate_each_new_node_once() -> None:
    def evaluations(n: int) -> int:
        with _counting(NumericEvaluator, "_value") as calls:
            _derived(_sum(n))
        return calls[0]

    assert _ratio(evaluations, 12) <= LINEAR


def test_the_rows_of_a_sum_print_only_what_changed() -> None:
    """Both renderings of every row, and the page check: the lines of a sum of N terms hold N terms
    each, but a node is printed once and then taken from the memo."""

    def prints(n: int) -> int:
        derivation = _derived(_sum(n), verify=False)
        with _counting(Printer, "_print") as calls:
            rows, _ = derivation_rows(derivation, "full")
        assert len(rows) >= 2 * n
        return calls[0]

    assert _ratio(prints, 12) <= LINEAR
