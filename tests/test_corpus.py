"""Issue 15's corpus: scalar differentiation problems from other projects' test suites
(tests/data/corpus_scalar.yaml, each group citing its source), derived through the public API with every
step checked, each result compared with sympy.diff.  Nothing wrong, nothing crashed, at most 3 % refused,
and every refusal one line naming the construct.

The derivations end as derived (``result="as-derived"``): every derivative step is made and checked, but the
final-form steps (factor, simplify, tested in test_final_form.py) would take seven times as long again."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import sympy
import yaml

from derivgen import derive, parse
from derivgen.errors import DerivgenError
from tests.conftest import same_function
from tests.corpus_outcomes import report_and_check

CORPUS = Path(__file__).parent / "data" / "corpus_scalar.yaml"
MAX_REFUSED = 0.03


@dataclass(frozen=True)
class Problem:
    source: str
    text: str
    by: tuple[str, ...]


def problems() -> list[Problem]:
    found = []
    for group in yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["groups"]:
        for item in group["problems"]:
            if isinstance(item, dict):
                by = tuple(item["by"]) if "by" in item else (item.get("wrt", "x"),)
                found.append(Problem(group["source"], str(item["f"]), by))
            else:
                found.append(Problem(group["source"], str(item), ("x",)))
    return found


def _symbol(name: str, expression: sympy.Expr) -> sympy.Symbol:
    return next((s for s in expression.free_symbols if s.name == name), sympy.Symbol(name, real=True))


def outcome(problem: Problem) -> tuple[str, str]:
    """("ok" | "wrong" | "refused" | "crash", detail)."""
    try:
        expression = parse(problem.text)
        current: str | sympy.Expr = problem.text
        for name in problem.by:  # repeated derivatives: each derived from the last result
            current = derive(current, name, result="as-derived").result
    except DerivgenError as error:
        return "refused", error.one_line()
    except Exception as error:  # anything but derivgen's own error family is a crash
        return "crash", f"{type(error).__name__}: {error}"
    expected = sympy.diff(expression, *(_symbol(name, expression) for name in problem.by))
    result = current
    if same_function(result, expected, points=8) or sympy.simplify(result - expected) == 0:
        return "ok", ""
    return "wrong", f"{sympy.sstr(result)} != {sympy.sstr(expected)}"


@pytest.mark.slow
def test_corpus_nothing_wrong_nothing_crashes_little_refused(capsys):
    corpus = problems()
    assert len(corpus) >= 300
    start = time.monotonic()
    # every core: the problems are independent, and the suite must stay well under 15 minutes
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = list(pool.map(outcome, corpus, chunksize=8))
    outcomes = [(problem, *result) for problem, result in zip(corpus, found, strict=True)]
    seconds = time.monotonic() - start
    report_and_check(
        outcomes,
        f"corpus: {len(corpus)} problems in {seconds:.0f} s",
        lambda problem: f"{problem.text} by {', '.join(problem.by)}",
        MAX_REFUSED,
        capsys,
    )
