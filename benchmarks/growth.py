"""How the cost of one derivation grows with its size: derive + checks + LaTeX of every line.

Three families, each at several sizes N:

- ``sum``: Σ_{i=1..N} sin(i·x), typed as text (the written order is kept);
- ``product``: Π_{i=1..N} (x + i);
- ``chain``: sin(cos(sin(…(x)))) nested N deep.

Each derivation is done the way a deck frame is (``derive_task`` then ``derivation_rows`` at
``full`` detail): every step checked, every line printed plain and highlighted, the page check run.
Times per phase: *derive* (the engine with checks off, without its tidy-up), *checks* (the time
inside ``check_equal`` of a checked run), *print* (the rows, both renderings, the page check and the
boxed answer); *total* is their sum.  *final* (the tidy-up and final-form steps: sympy's factor,
cancel, … of the whole result, bounded by ``MAX_OPS`` in rules/final_form.py) is shown apart and
not in the total: its cost is sympy's polynomial algorithms, which no derivation order changes.  sympy's cache is
cleared before each timing, as a fresh worker process starts.  Times are CPU seconds of this
process (``time.process_time``): the machine may be shared, and wall time would measure the others.

Size: the slope against N is the issue's target, but the derivative of a product of N factors has
N terms of N factors, so the work to show it is N² however it is done.  The *output size* is the
number of sympy nodes of all printed lines (every line's expression, counted node by node); the
slope against it says whether the cost is linear in what is shown.

Slopes are least-squares fits of log(time) against log(size) over the larger half of the sizes.

    python benchmarks/growth.py [--family sum product chain] [--repeat 3] [--profile FAMILY]
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import time
from collections.abc import Callable
from contextlib import contextmanager

import sympy
from sympy.core.cache import clear_cache

from derivgen.calculus import engine, front
from derivgen.calculus.verify import check_equal
from derivgen.input.spec import DerivationFrame
from derivgen.presentation.frames import derivation_rows, derive_task
from derivgen.presentation.lines import display_lines

DETAIL = "full"
FAMILIES: dict[str, tuple[Callable[[int], str], tuple[int, ...]]] = {
    "sum": (
        lambda n: " + ".join(f"sin({i}*x)" if i > 1 else "sin(x)" for i in range(1, n + 1)),
        (12, 24, 36, 48, 72, 96),
    ),
    "product": (lambda n: "*".join(f"(x + {i})" for i in range(1, n + 1)), (8, 12, 16, 24, 32, 40)),
    "chain": (
        lambda n: "".join("sin(" if i % 2 == 0 else "cos(" for i in range(n)) + "x" + ")" * n,
        (8, 16, 24, 32, 48, 64),
    ),
}


class _CheckClock:
    """Total time spent inside ``check_equal`` while it is installed in the engine."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, before: sympy.Basic, after: sympy.Basic, what: str) -> None:
        start = time.process_time()
        try:
            check_equal(before, after, what)
        finally:
            self.seconds += time.process_time() - start


@contextmanager
def _clocked_tidy():
    """Total time in the engine's tidy-up and final-form steps (sympy's factor, cancel, … on the whole
    result): reported apart, since their cost is sympy's polynomial algorithms, bounded by size."""
    clock = [0.0]
    saved = engine.RuleEngine._tidy

    def timed(self, *args, **kwargs):
        start = time.process_time()
        try:
            return saved(self, *args, **kwargs)
        finally:
            clock[0] += time.process_time() - start

    engine.RuleEngine._tidy = timed  # type: ignore[method-assign]  # a timing wrapper
    try:
        yield clock
    finally:
        engine.RuleEngine._tidy = saved  # type: ignore[method-assign]


@contextmanager
def _clocked_checks():
    clock = _CheckClock()
    saved = engine.check_equal
    engine.check_equal = clock  # type: ignore[assignment]  # a timing wrapper with the same signature
    try:
        yield clock
    finally:
        engine.check_equal = saved


def measure(text: str) -> dict[str, float]:
    """Seconds per phase and the output size of one derivation of ``text``."""
    frame = DerivationFrame(title="growth", derive=text, wrt="x")
    clear_cache()
    with _clocked_tidy() as tidy:
        start = time.process_time()
        front.derive(text, "x", verify=False)  # the engine alone, as derive_task calls it but unchecked
        derive_seconds = time.process_time() - start - tidy[0]
    clear_cache()
    with _clocked_checks() as clock:
        derivation = derive_task(frame)
    clear_cache()
    start = time.process_time()
    rows, _ = derivation_rows(derivation, DETAIL)
    print_seconds = time.process_time() - start
    lines = display_lines(derivation, DETAIL)  # type: ignore[arg-type]  # one variable: a Derivation
    size = sum(sum(1 for _ in sympy.preorder_traversal(line.expression)) for line in lines)
    return {
        "derive": derive_seconds,
        "checks": clock.seconds,
        "print": print_seconds,
        "final": tidy[0],
        "total": derive_seconds + clock.seconds + print_seconds,
        "steps": len(derivation.steps),
        "rows": len(rows),
        "size": size,
    }


def slope(sizes: list[float], times: list[float]) -> float:
    """Least-squares slope of log(time) against log(size) over the larger half of the sizes."""
    half = len(sizes) // 2
    xs = [math.log(s) for s in sizes[half:]]
    ys = [math.log(max(t, 1e-9)) for t in times[half:]]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)


def best_of(text: str, repeat: int) -> dict[str, float]:
    """The least time of each phase (and the least total) over ``repeat`` runs: others' work on a shared
    machine only adds."""
    runs = [measure(text) for _ in range(repeat)]
    return {key: min(run[key] for run in runs) for key in runs[0]}


def run_family(name: str, repeat: int = 1) -> None:
    build, sizes = FAMILIES[name]
    measure(build(2))  # warm up: the first derivation pays for imports and sympy's lazy set-up
    results = []
    print(f"\n{name}: {build(3)} …")
    print(f"{'N':>4} {'steps':>6} {'rows':>5} {'size':>7} {'derive':>8} {'checks':>8} {'print':>8} {'total':>8}  final")
    for n in sizes:
        result = best_of(build(n), repeat)
        results.append(result)
        print(
            f"{n:4d} {result['steps']:6.0f} {result['rows']:5.0f} {result['size']:7.0f} {result['derive']:7.2f}s "
            f"{result['checks']:7.2f}s {result['print']:7.2f}s {result['total']:7.2f}s  {result['final']:6.2f}s"
        )
    ns = [float(n) for n in sizes]
    output = [r["size"] for r in results]
    for phase in ("derive", "checks", "print", "total"):
        times = [r[phase] for r in results]
        print(
            f"  slope of {phase:6}: against N {slope(ns, times):4.2f}   against output size {slope(output, times):4.2f}"
        )


def profile(name: str) -> None:
    build, sizes = FAMILIES[name]
    profiler = cProfile.Profile()
    profiler.runcall(measure, build(sizes[-1]))
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", nargs="+", choices=sorted(FAMILIES), default=list(FAMILIES))
    parser.add_argument("--profile", choices=sorted(FAMILIES), help="cProfile the largest size of one family")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per size")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    for name in args.family:
        run_family(name, args.repeat)


if __name__ == "__main__":
    main()
