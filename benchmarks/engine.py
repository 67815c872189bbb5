"""Speed of the rule engine against sympy.diff, in one process.

For each expression: sympy's cache is cleared before every timing; each timing is the best of
a few runs.  Prints the median and maximum of derive ÷ sympy.diff (verification off), of
derive + LaTeX of every step ÷ sympy.diff, and the slowest verified derivation.

    python benchmarks/engine.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import sympy
from sympy.core.cache import clear_cache

from derivgen import derive, parse
from derivgen.presentation.body import result_body

EXPRESSIONS = [
    # the seed deck and its neighbours
    "(x**2 + 2)**3",
    "(2*x + 3)**5",
    "x**2*sin(x)",
    "sin(x)/(x**2 + 1)",
    "exp(-x**2/2)",
    "sqrt(x**2 + 1)",
    "log(x**2 + 1)",
    "x*exp(x)*cos(x)",
    "tan(x)**2",
    "1/(1 + exp(-x))",
    "sigmoid(3*x + 1)",
    "tanh(2*x)**2",
    "x**x",
    "x**sin(x)",
    "log(x, 10)",
    "2**x",
    "3**(x**2)",
    # polynomials and rational functions
    "3*x**4 - 2*x**3 + x - 7",
    "(x - 1)*(x + 2)*(x - 3)",
    "(x**2 - 1)/(x**2 + 1)",
    "1/(x*(x + 1))",
    "(x + 1)**(-2)",
    "x**(3/2) - x**(1/3)",
    "(1 - x)**10",
    "x/(1 - x)**2",
    # trig, inverse trig, hyperbolic
    "sin(x)*cos(x)",
    "sin(cos(x))",
    "cos(x**3 + x)",
    "sec(x)*tan(x)",
    "cot(2*x)",
    "csc(x)**3",
    "asin(x**2)",
    "acos(2*x)",
    "atan(1/x)",
    "acot(x)",
    "sinh(x)*cosh(x)",
    "asinh(x**2)",
    "atanh(x/2)",
    "acosh(x + 2)",
    "sech(x)**2",
    # nested chains
    "exp(sin(x**2))",
    "log(cos(exp(x)))",
    "sqrt(1 + sqrt(1 + x**2))",
    "sin(sin(sin(x)))",
    "(1 + (1 + x**2)**3)**4",
    "exp(x)**2*log(x)",
    # special, absolute value, piecewise, undefined functions
    "erf(x**2)",
    "gamma(2*x)",
    "abs(x**2 - 1)",
    "max(x, x**2)",
    "Piecewise((x**2, x < 0), (sin(x), True))",
    "f(g(x**2))",
    "h(f1(x), f2(x))",
    "x**2*f(x)",
    "exp(-x)*sin(3*x)/(1 + x**2)",
]


def best_time(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        clear_cache()
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    x = sympy.Symbol("x", real=True)
    rows = []
    for text in EXPRESSIONS:
        expression = parse(text)
        reference = best_time(lambda e=expression: sympy.diff(e, x), args.repeat)
        engine = best_time(lambda e=expression: derive(e, x, verify=False), args.repeat)
        with_latex = best_time(lambda e=expression: result_body(derive(e, x, verify=False), "full"), args.repeat)
        verified = best_time(lambda e=expression: derive(e, x), max(1, args.repeat // 2))
        rows.append((text, reference, engine / reference, with_latex / reference, verified))

    width = max(len(row[0]) for row in rows)
    print(f"{'expression':{width}}  sympy.diff  derive/diff  +LaTeX/diff  verified")
    for text, reference, ratio, latex_ratio, verified in rows:
        print(
            f"{text:{width}}  {reference * 1e3:8.2f}ms  {ratio:10.2f}x  {latex_ratio:10.2f}x  {verified * 1e3:7.1f}ms"
        )
    ratios = [row[2] for row in rows]
    latex_ratios = [row[3] for row in rows]
    slowest = max(rows, key=lambda row: row[4])
    print()
    print(f"{len(rows)} expressions, sympy cache cleared before every timing, best of {args.repeat}")
    print(f"derive / sympy.diff (verify off):   median {statistics.median(ratios):.2f}x   max {max(ratios):.2f}x")
    print(
        f"derive + LaTeX / sympy.diff:        median {statistics.median(latex_ratios):.2f}x"
        f"   max {max(latex_ratios):.2f}x"
    )
    print(f"slowest verified derivation:        {slowest[4] * 1e3:.1f} ms  ({slowest[0]})")


if __name__ == "__main__":
    main()
