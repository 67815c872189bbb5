"""The widest displayed line of index-notation derivations (issue 15): characters of a row's
right-hand side and its top-level terms (the pieces the line breaker may cut it into).

    python benchmarks/matrix_display.py [--detail normal]

Prints, for each case, the number of rows, the widest row in characters of LaTeX and the most
top-level terms of a row.
"""

from __future__ import annotations

import argparse

from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.presentation.body import result_body
from derivgen.presentation.layout import terms
from derivgen.presentation.printer import to_latex

_TWO_LAYER = {"W1": "matrix(m, n)", "W2": "matrix(p, m)", "x": "vector(n)", "y": "vector(p)"}
_BATCH = {"X": "matrix(m, n)", "W": "matrix(n, p)", "Y": "matrix(m, p)", "b": "vector(p)"}
CASES = [
    (
        "tr((A*X*B + C)*(A*X*B + C).T)",
        "X",
        {"A": "matrix(m, n)", "X": "matrix(n, p)", "B": "matrix(p, q)", "C": "matrix(m, q)"},
    ),
    ("tr((X*W - Y).T*(X*W - Y))", "W", _BATCH),
    ("tr((X*W + ones(m)*b.T - Y).T*(X*W + ones(m)*b.T - Y))", "b", _BATCH),
    ("(tanh(W*x) - y).T*(tanh(W*x) - y)", "W", {"W": "matrix(p, n)", "x": "vector(n)", "y": "vector(p)"}),
    ("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W1", _TWO_LAYER),
    ("(W2*tanh(W1*x) - y).T*(W2*tanh(W1*x) - y)/2", "W2", _TWO_LAYER),
]


def widest(expression: str, wrt: str, declared: dict[str, str], detail: str) -> tuple[int, int, int, float]:
    """(rows, widest right-hand side in characters, most top-level terms of a row, the widest row's
    characters over those of the function as printed)."""
    calculus = derive_matrix(expression, wrt, declared)
    rows = result_body(calculus, detail).split(" \\\\\n")
    sides = [row.split("&=", 1)[1].rsplit("&&", 1)[0].strip() for row in rows]
    chars = max(map(len, sides))
    return len(sides), chars, max(len(terms(side)) for side in sides), chars / len(to_latex(calculus.shown))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detail", default="normal", choices=("full", "normal", "brief"))
    detail = parser.parse_args().detail
    print(f"{'case':56} {'by':3} {'rows':>4} {'chars':>6} {'terms':>5} {'ratio':>5}")
    for expression, wrt, declared in CASES:
        rows, chars, pieces, ratio = widest(expression, wrt, declared, detail)
        print(f"{expression:56} {wrt:3} {rows:4} {chars:6} {pieces:5} {ratio:5.1f}")


if __name__ == "__main__":
    main()
