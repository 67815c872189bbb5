"""Time per matrix derivation in index notation, with all its steps, in one process.

    python benchmarks/matrix.py [--repeat 3]

Derives every identity of examples/matrix_cookbook.yaml, with and without the finite-difference
check, sympy's cache cleared before every timing; prints the median and maximum (target: median
≤ 50 ms with steps), and the same for sympy's own MatrixSymbol.diff where it answers at all.
"""

from __future__ import annotations

import argparse
import statistics
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    deck, _ = load_deck(ROOT / "examples" / "matrix_cookbook.yaml")
    rows = []
    for frame in deck.frames:
        call = (frame.derive, frame.wrt, frame.symbols, frame.assume)
        checked = best(lambda c=call: derive_matrix(*c), args.repeat)
        unchecked = best(lambda c=call: derive_matrix(*c, verify=False), args.repeat)
        steps = len(derive_matrix(*call, verify=False).steps)
        symbols = {name: declare(name, spec) for name, spec in frame.symbols.items()}
        function, variable = parse_matrix(frame.derive, symbols), symbols[frame.wrt]
        sympy_time, sympy_note = _sympy(function, variable, read_assumptions(frame.assume, symbols), args.repeat)
        rows.append((frame.title, steps, unchecked, checked, sympy_time, sympy_note))
    width = max(len(row[0]) for row in rows)
    print(f"{'identity':{width}}  steps  derive  +check   sympy.diff")
    for title, steps, unchecked, checked, sympy_time, note in rows:
        times = f"{unchecked * 1e3:5.0f}ms {checked * 1e3:5.0f}ms  {sympy_time * 1e3:6.1f}ms"
        print(f"{title:{width}}  {steps:5d}  {times} {note}")
    unchecked = [row[2] for row in rows]
    checked = [row[3] for row in rows]
    print()
    print(f"{len(rows)} matrix derivations, best of {args.repeat}, sympy's cache cleared before each")
    median, most = statistics.median(unchecked) * 1e3, max(unchecked) * 1e3
    print(f"with steps, no check:   median {median:.0f} ms   max {most:.0f} ms")
    print(
        f"with steps and check:   median {statistics.median(checked) * 1e3:.0f} ms   max {max(checked) * 1e3:.0f} ms"
        "  (target: median <= 50 ms)"
    )


if __name__ == "__main__":
    main()
