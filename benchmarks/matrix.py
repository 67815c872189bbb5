"""Time per matrix derivation in index notation, with all its steps, in one process.

    python benchmarks/matrix.py [--repeat 3] [--growth-only] [--max-k 6]

Derives every identity of examples/matrix_cookbook.yaml, with and without the checks, sympy's cache
cleared before every timing; prints the median and maximum (target: median ≤ 50 ms with steps), and
the same for sympy's own MatrixSymbol.diff where it answers at all.

Then the growth of the checked derivation with the number of matrices, as ratios in the same process
(the machine's load cancels): Cookbook 123 tr(Bᵀ Xᵀ C X Xᵀ C X B) by X (target: < 1 s with checks),
xᵀA₁⋯A_k x by x for k = 1…6 (target: k = 4 ≤ 8 × k = 1) and tr(X A₁ Xᵀ B₁ ⋯ X A_k Xᵀ B_k) by X for
k = 1…3, each against the unchecked derivation and against sympy.diff.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial
from pathlib import Path

import sympy
from sympy.core.cache import clear_cache

from derivgen.calculus.matrix_check import check_gradient
from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.input.matrices import AsScalar, declare, parse_matrix, read_assumptions
from derivgen.input.spec import load_deck

ROOT = Path(__file__).resolve().parent.parent


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_cache()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _sympy(function, variable, facts, repeat: int) -> tuple[float, str]:
    """sympy's own matrix derivative: its time, and whether it is right (by the same finite differences)."""
    as_sympy = function.replace(lambda e: isinstance(e, AsScalar), lambda e: sympy.Trace(e.matrix))
    try:
        answer = as_sympy.diff(variable)
        elapsed = best(lambda: as_sympy.diff(variable), repeat)
    except Exception as error:  # sympy raises on several of these
        return float("nan"), f"fails: {type(error).__name__}"
    if answer.has(sympy.Derivative):
        return elapsed, "no answer (unevaluated)"
    for transposed in (False, True):
        try:
            check_gradient(function, variable, answer, facts, transposed=transposed)
            return elapsed, "right"
        except Exception:  # wrong, or of a shape the checker cannot read
            continue
    return elapsed, "silently 0" if answer == 0 else "not confirmed by finite differences"


def _square(names: list[str]) -> dict[str, str]:
    return {name: "matrix(n, n)" for name in names}


def growth_cases(max_k: int) -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, expression, variable, symbols) of the growth families."""
    cases = [("Cookbook 123", "tr(B.T*X.T*C*X*X.T*C*X*B)", "X", _square(["X", "B", "C"]))]
    for k in range(1, max_k + 1):
        names = [f"A{n}" for n in range(1, k + 1)]
        cases.append((f"x'A1..A{k}x", "x.T*" + "*".join(names) + "*x", "x", {"x": "vector(n)", **_square(names)}))
    for k in range(1, min(max_k, 3) + 1):
        pairs = [(f"A{n}", f"B{n}") for n in range(1, k + 1)]
        product = "*".join(f"X*{a}*X.T*{b}" for a, b in pairs)
        names = ["X", *(name for pair in pairs for name in pair)]
        cases.append((f"tr(XA1X'B1..) k={k}", f"tr({product})", "X", _square(names)))
    return cases


def growth(repeat: int, max_k: int) -> None:
    print(
        f"{'growth case':24} {'derive':>8} {'+check':>8} {'sympy':>8} {'check/derive':>12} "
        f"{'check/sympy':>11} {'vs k=1':>7}"
    )
    first: dict[str, float] = {}
    for name, expression, wrt, symbols in growth_cases(max_k):
        unchecked = best(partial(derive_matrix, expression, wrt, symbols, verify=False), repeat)
        checked = best(partial(derive_matrix, expression, wrt, symbols), repeat)
        declared = {n: declare(n, spec) for n, spec in symbols.items()}
        function = parse_matrix(expression, declared)
        as_sympy = function.replace(lambda e: isinstance(e, AsScalar), lambda e: sympy.Trace(e.matrix))
        by_sympy = best(partial(as_sympy.diff, declared[wrt]), repeat)
        family = name.split("..")[0]
        first.setdefault(family, checked)
        print(
            f"{name:24} {unchecked * 1e3:6.0f}ms {checked * 1e3:6.0f}ms {by_sympy * 1e3:6.1f}ms "
            f"{checked / unchecked:12.2f} {checked / by_sympy:11.0f} {checked / first[family]:7.2f}"
        )
    print("targets: Cookbook 123 < 1 s with checks; x'A1..A4x <= 8 x x'A1x (vs k=1 column)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--growth-only", action="store_true", help="only the growth with the number of matrices")
    parser.add_argument("--max-k", type=int, default=6, help="the largest k of the growth families")
    args = parser.parse_args()
    if not args.growth_only:
        cookbook(args.repeat)
        print()
    growth(args.repeat, args.max_k)


def cookbook(repeat: int) -> None:
    """Every identity of the cookbook deck, with and without checks, and sympy's own answer."""
    deck, _ = load_deck(ROOT / "examples" / "matrix_cookbook.yaml")
    rows = []
    for frame in deck.frames:
        call = (frame.derive, frame.wrt, frame.symbols, frame.assume)
        checked = best(lambda c=call: derive_matrix(*c), repeat)
        unchecked = best(lambda c=call: derive_matrix(*c, verify=False), repeat)
        steps = len(derive_matrix(*call, verify=False).steps)
        symbols = {name: declare(name, spec) for name, spec in frame.symbols.items()}
        function, variable = parse_matrix(frame.derive, symbols), symbols[frame.wrt]
        sympy_time, sympy_note = _sympy(function, variable, read_assumptions(frame.assume, symbols), repeat)
        rows.append((frame.title, steps, unchecked, checked, sympy_time, sympy_note))
    width = max(len(row[0]) for row in rows)
    print(f"{'identity':{width}}  steps  derive  +check   sympy.diff")
    for title, steps, unchecked, checked, sympy_time, note in rows:
        times = f"{unchecked * 1e3:5.0f}ms {checked * 1e3:5.0f}ms  {sympy_time * 1e3:6.1f}ms"
        print(f"{title:{width}}  {steps:5d}  {times} {note}")
    unchecked = [row[2] for row in rows]
    checked = [row[3] for row in rows]
    print()
    print(f"{len(rows)} matrix derivations, best of {repeat}, sympy's cache cleared before each")
    median, most = statistics.median(unchecked) * 1e3, max(unchecked) * 1e3
    print(f"with steps, no check:   median {median:.0f} ms   max {most:.0f} ms")
    print(
        f"with steps and check:   median {statistics.median(checked) * 1e3:.0f} ms   max {max(checked) * 1e3:.0f} ms"
        "  (target: median <= 50 ms)"
    )


if __name__ == "__main__":
    main()
