"""Numbers a quiz can grade: a task's derivative evaluated exactly at a point drawn for it.

Stock Moodle grades numbers, not formulas, so each derivative is asked for at a drawn point: a scalar
derivative at ``x₀`` (every variable a half-integer in [-2, 2]), a gradient or a matrix derivative
entry by entry at drawn values of its variables.  A matrix exercise is asked at small sizes (each
dimension its own size, so a missing transpose shows) with small integer entries that honour the
declared assumptions (symmetric, positive definite, …).

The value is the derivation's own result evaluated exactly with sympy, then written as a decimal.
A point where the function or its derivative is undefined, complex, huge (> ``MAX_VALUE``) or
accidentally tiny (< ``MIN_VALUE``, where a relative tolerance means nothing) is drawn again; of the
first ``CANDIDATES`` usable points the one with the smallest numbers is asked.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

import sympy

from ..errors import DerivgenError
from ..input.matrices import AsScalar
from ..presentation.matrices import matrix_latex
from ..presentation.printer import to_latex

MAX_DRAWS = 200
MAX_VALUE = 10**7  # beyond this a student's calculator answer is a test of typing, not of calculus
CANDIDATES = 20  # of as many usable points, the one with the smallest numbers: (x² + 9)⁶ is steep everywhere
MIN_VALUE = sympy.Rational(1, 1000)
# 0.5 % of the value: every answer correctly rounded to 3 significant digits passes (its error is at most
# half a unit of the third digit, ≤ 0.5 % however the value starts), while a wrong derivative — a lost
# factor, a sign, a missing term — is off by far more at a drawn point
RELATIVE_TOLERANCE = sympy.Rational(5, 1000)
ZERO_TOLERANCE = sympy.Rational(5, 10000)  # an exact zero: answers rounded to 3 decimals pass
_HALVES = [sympy.Rational(k, 2) for k in range(-4, 5)]
_SIZES = (3, 2, 4, 5, 6)  # matrix exercises: one size per dimension symbol, in name order
_ENTRIES = range(-3, 4)


class QuizError(DerivgenError):
    """An exercise cannot be asked as a graded number (no usable point, an answer that is no number)."""


@dataclass(frozen=True)
class Blank:
    """One number the student types: what it is (LaTeX), its exact value, as the quiz states it."""

    label: str  # LaTeX: "f'(x_0)", "\frac{\partial h}{\partial y}", "(\nabla_W f)_{1,2}"
    value: sympy.Expr  # exact
    answer: str  # the value as a decimal, 12 significant digits
    tolerance: str  # absolute, as Moodle's numerical type takes it


@dataclass(frozen=True)
class Point:
    """Where a task is asked: the drawn values (symbol → exact number or explicit matrix), in LaTeX
    (``x = \\frac{1}{2}``, ``\\mathbf{M} = \\begin{bmatrix}…``), and the numbers to type."""

    values: dict[Any, Any]
    latex: tuple[str, ...]
    blanks: tuple[Blank, ...]
    sizes: dict[Any, int]


def point_random(seed: int, variant: int | None, exercise: int, task: int) -> random.Random:
    """The generator of one task's point: from the build's seed and the variant, apart from the draws of
    the sheet's parameters (those must not change when a quiz is made of the same sheet)."""
    key = f"moodle:{seed}:{variant}:{exercise}:{task}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def graded_point(left: Any, result: Any, rng: random.Random) -> Point:
    """Draw a point for a derivation (its ``Left`` and result) and the numbers to grade there."""
    symbolic = isinstance(result, sympy.MatrixExpr) and not isinstance(result, sympy.MatrixBase)  # not Matrix
    if symbolic or any(isinstance(g, sympy.MatrixSymbol) for g in left.given):
        return _matrix_point(left, result, rng)
    variables = [v for v in left.variables if isinstance(v, sympy.Symbol)]
    entries = list(result) if isinstance(result, sympy.MatrixBase) else [result]
    labels = _scalar_labels(left, result)
    usable: list[tuple[sympy.Expr, dict, list]] = []
    for _ in range(MAX_DRAWS):
        values = {v: rng.choice(_HALVES) for v in variables}
        numbers = [_number(sympy.sympify(entry).subs(values)) for entry in entries]
        defined = all(_number(sympy.sympify(f).subs(values)) is not None for f in left.functions)
        defined = defined and not _on_a_switch([*left.functions, *entries], values)
        if defined and all(_usable(n, entry) for n, entry in zip(numbers, entries, strict=True)):
            usable.append((max(abs(sympy.N(n, 30)) for n in numbers), values, numbers))
            if len(usable) == CANDIDATES:
                break
    if not usable:
        raise QuizError(f"no point in {MAX_DRAWS} draws where the derivative is defined and of a usable size")
    _, values, numbers = min(usable, key=lambda candidate: candidate[0])  # the first of the smallest
    latex = tuple(f"{to_latex(v)} = {to_latex(values[v])}" for v in variables)
    return Point(values, latex, tuple(_blank(label, n) for label, n in zip(labels, numbers, strict=True)), {})


def _scalar_labels(left: Any, result: Any) -> list[str]:
    if not isinstance(result, sympy.MatrixBase):
        return ["\\text{value}"]
    function = left.functions[0] if left.functions else None
    names = [to_latex(v) for v in left.variables]
    if result.shape[0] == 1 and len(names) == result.shape[1] and function is not None:
        return [rf"\frac{{\partial}}{{\partial {name}}}" for name in names]
    return [f"\\text{{entry }} ({i + 1}, {j + 1})" for i in range(result.rows) for j in range(result.cols)]


def _number(value: Any) -> sympy.Expr | None:
    """An exact real number, or None (undefined, infinite, complex, not a number)."""
    if not isinstance(value, sympy.Expr) or value.free_symbols or value.has(sympy.zoo, sympy.nan):
        return None
    approximate = sympy.N(value, 30)
    if not (approximate.is_real and approximate.is_finite):
        return None
    return value


_SWITCHES = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.DiracDelta)


def _on_a_switch(expressions: list[Any], values: dict) -> bool:
    """Whether the point sits where an expression switches: |a|, sign a, Heaviside a at a = 0, a piece's
    boundary, Max/Min of equal arguments.  There the function may have a kink (|x - 1/2| + x at x = 1/2),
    and the formula's value (sign 0 = 0) is no derivative a student could be asked for."""
    for expression in expressions:
        if not isinstance(expression, sympy.Basic):
            continue
        for node in sympy.preorder_traversal(expression):
            if isinstance(node, _SWITCHES):
                edges = [node.args[0]]
            elif isinstance(node, sympy.Piecewise):
                edges = [r.lhs - r.rhs for _, c in node.args for r in c.atoms(sympy.core.relational.Relational)]
            elif isinstance(node, (sympy.Max, sympy.Min)):
                edges = [a - b for i, a in enumerate(node.args) for b in node.args[i + 1 :]]
            else:
                continue
            if any(sympy.simplify(edge.subs(values)) == 0 for edge in edges):
                return True
    return False


def _usable(number: sympy.Expr | None, entry: Any) -> bool:
    if number is None:
        return False
    size = abs(sympy.N(number, 30))
    return size <= MAX_VALUE and (size >= MIN_VALUE or entry == 0)  # a zero entry of any point is exact


def _blank(label: str, value: sympy.Expr) -> Blank:
    approximate = sympy.N(value, 30)
    tolerance = ZERO_TOLERANCE if value == 0 else RELATIVE_TOLERANCE * abs(approximate)
    return Blank(label, value, _decimal(approximate, 12), _decimal(tolerance, 3))


def _decimal(value: Any, digits: int) -> str:
    """A plain decimal (no exponent: the values lie between MIN_VALUE and MAX_VALUE)."""
    text = f"{float(value):.{digits}g}"
    if "e" in text:
        text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return text


# -- matrix calculus -------------------------------------------------------------------------------


def _matrix_point(left: Any, result: Any, rng: random.Random) -> Point:
    given = list(left.given)
    dimensions = sorted(
        {s for g in given if isinstance(g, sympy.MatrixSymbol) for s in g.shape if isinstance(s, sympy.Symbol)},
        key=str,
    )
    sizes = {d: _SIZES[i % len(_SIZES)] for i, d in enumerate(dimensions)}
    facts = dict(_facts(left))
    for _ in range(MAX_DRAWS):
        values = {_sized(g, sizes): _draw_value(_sized(g, sizes), facts.get(str(g), ()), rng) for g in given}
        if any(value is None for value in values.values()):
            continue
        try:
            evaluated = evaluate_matrix(result, sizes, values)
            function = evaluate_matrix(left.functions[0], sizes, values) if left.functions else None
        except (TypeError, ValueError, AttributeError) as error:
            raise QuizError(f"the answer cannot be evaluated at numbers ({error})") from None
        entries = list(evaluated) if isinstance(evaluated, sympy.MatrixBase) else [evaluated]
        numbers = [_number(entry) for entry in entries]
        if function is not None and _number(_as_scalar(function)) is None:
            continue
        if all(n is not None and sympy.N(abs(n)) <= MAX_VALUE for n in numbers):
            shape = evaluated.shape if isinstance(evaluated, sympy.MatrixBase) else (1, 1)
            name = to_latex(left.variables[0]) if left.variables else "f"
            cells = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
            labels = [rf"\left(\nabla_{{{name}}}\right)_{{{i + 1},{j + 1}}}" for i, j in cells]
            if 1 in shape:
                labels = [rf"\left(\nabla_{{{name}}}\right)_{{{k + 1}}}" for k in range(len(entries))]
            latex = tuple(f"{to_latex(g)} = {_value_latex(values[_sized(g, sizes)])}" for g in given)
            blanks = tuple(_blank(label, n) for label, n in zip(labels, numbers, strict=True))
            return Point(values, latex, blanks, sizes)
    raise QuizError(f"no values in {MAX_DRAWS} draws that honour the assumptions and give a usable answer")


def _facts(left: Any) -> list[tuple[str, tuple[str, ...]]]:
    by_symbol: dict[str, list[str]] = {}
    for kind, name in left.facts:
        by_symbol.setdefault(name, []).append(kind)
    return [(name, tuple(kinds)) for name, kinds in by_symbol.items()]


def _sized(symbol: Any, sizes: dict) -> Any:
    return symbol.subs(sizes) if isinstance(symbol, sympy.MatrixSymbol) else symbol


def _draw_value(symbol: Any, kinds: tuple[str, ...], rng: random.Random) -> Any:
    """Small integers honouring the assumptions, or None where this draw does not."""
    if not isinstance(symbol, sympy.MatrixSymbol):
        return sympy.Integer(rng.choice([k for k in _ENTRIES if k]))
    rows, cols = (int(n) for n in symbol.shape)
    matrix = sympy.Matrix(rows, cols, lambda i, j: rng.choice(_ENTRIES))
    for kind in kinds:
        if kind == "symmetric":
            upper = matrix
            matrix = sympy.Matrix(rows, cols, lambda i, j, upper=upper: upper[min(i, j), max(i, j)])
        elif kind == "positive_definite":
            matrix = matrix * matrix.T + sympy.eye(rows)  # AAᵀ + I: symmetric, positive definite
        elif kind == "sums_to_one":
            matrix[-1] = 1 - (sum(matrix) - matrix[-1])
        elif kind not in ("invertible", "positive_determinant"):
            raise QuizError(f"cannot draw values for the assumption {kind}({symbol.name})")
    if rows == cols and ("invertible" in kinds or "positive_determinant" in kinds):
        determinant = matrix.det()
        if determinant == 0 or ("positive_determinant" in kinds and determinant < 0):
            return None
    return sympy.ImmutableMatrix(matrix)


def evaluate_matrix(expression: Any, sizes: dict, values: dict) -> Any:
    """A matrix expression at explicit sizes and values: an explicit matrix (or a number)."""
    explicit = expression.subs(sizes).xreplace(values).doit()
    if isinstance(explicit, sympy.MatrixBase):
        return sympy.ImmutableMatrix(explicit.applyfunc(sympy.simplify))
    return sympy.simplify(explicit)


def _as_scalar(value: Any) -> Any:
    if isinstance(value, AsScalar):  # xᵀMx: a 1×1 matrix read as a number
        value = value.args[0]
    if isinstance(value, sympy.MatrixBase) and value.shape == (1, 1):
        return value[0, 0]
    return value


def _value_latex(value: Any) -> str:
    return matrix_latex(value) if isinstance(value, sympy.MatrixBase) else to_latex(value)
