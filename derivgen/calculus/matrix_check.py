"""Checking matrix derivatives numerically: finite differences on random shapes and values.

Every dimension gets a different small size (so a missing transpose cannot go unnoticed), every
declared symbol random values that honour the assumptions (symmetric, positive definite, …),
and the derived gradient is compared entry by entry with central differences of the function,
computed at high precision with mpmath.  This is independent of sympy's matrix calculus, which
can be silently wrong (a derivative of log det that comes out 0).
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import mpmath
import sympy
from sympy import (
    Determinant,
    HadamardPower,
    HadamardProduct,
    Identity,
    Inverse,
    KroneckerDelta,
    MatAdd,
    MatMul,
    MatPow,
    MatrixSymbol,
    OneMatrix,
    Sum,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import VerificationError
from ..input.matrices import AsScalar, Assumptions, Diag, Softmax
from .verify import NumericEvaluator, Unevaluable

_DPS = 40
_STEP = mpmath.mpf(10) ** -12
_TOLERANCE = mpmath.mpf(10) ** -8
_SIZES = (3, 4, 2, 5, 6, 7)
# A dimension written as a number (vector(999)) is checked at a small size: the identities do not depend
# on it, and at full size a check is O(n²)-O(n³) in mpmath (vector(999) took 20 s, vector(9999) 4 GB).
MAX_CHECK_DIMENSION = 8
_SMALL_SIZES = (5, 6, 7, 4, 3, 2)


def shrunk(expressions: list[sympy.Basic]) -> tuple[list[sympy.Basic], dict[sympy.Expr, sympy.Expr]]:
    """``expressions`` with every numeric dimension above :data:`MAX_CHECK_DIMENSION` made small: in the
    shapes of the symbols (and of I, 1, 0) and in the bounds of the sums over them (0 … n − 1); and the
    sizes that replace them."""
    dims = {
        dim
        for expression in expressions
        for node in expression.atoms(MatrixSymbol, Identity, OneMatrix, ZeroMatrix)
        for dim in node.shape
        if dim.is_Integer and dim > MAX_CHECK_DIMENSION
    }
    if not dims:
        return expressions, {}
    sizes = {dim: sympy.Integer(_SMALL_SIZES[n % len(_SMALL_SIZES)]) for n, dim in enumerate(sorted(dims))}
    highs = {dim - 1: size - 1 for dim, size in sizes.items()}
    return [_shrink(expression, sizes, highs) for expression in expressions], sizes


def _shrink(expr: sympy.Basic, sizes: dict, highs: dict) -> sympy.Basic:
    if isinstance(expr, MatrixSymbol):
        return MatrixSymbol(expr.name, *(sizes.get(dim, dim) for dim in expr.shape))
    if isinstance(expr, Identity):
        return Identity(sizes.get(expr.shape[0], expr.shape[0]))
    if isinstance(expr, OneMatrix | ZeroMatrix):
        return expr.func(*(sizes.get(dim, dim) for dim in expr.shape))
    if expr.is_Atom or not expr.args:
        return expr
    if isinstance(expr, Sum):
        function = _shrink(expr.function, sizes, highs)
        limits = [(i, low, highs.get(high, high)) for i, low, high in expr.limits]
        return Sum(function, *limits)
    args = [_shrink(arg, sizes, highs) for arg in expr.args]
    if all(new is old for new, old in zip(args, expr.args, strict=True)):
        return expr
    return expr.func(*args)


class _Values:
    """Numbers for every dimension, symbol and index while evaluating."""

    def __init__(self, expressions: list[sympy.Basic], assumptions: Assumptions, seed: int):
        self.rng = random.Random(seed)
        symbols: set[MatrixSymbol] = set()
        scalars: set[sympy.Symbol] = set()
        dims: set[sympy.Symbol] = set()
        for expression in expressions:
            symbols |= expression.atoms(MatrixSymbol)
            scalars |= {s for s in expression.free_symbols if not s.is_integer}
        for symbol in symbols:
            dims |= {d for d in symbol.shape if isinstance(d, sympy.Symbol)}
        self.sizes = {dim: _SIZES[n % len(_SIZES)] for n, dim in enumerate(sorted(dims, key=str))}
        self.matrices = {symbol: self._matrix(symbol, assumptions) for symbol in sorted(symbols, key=str)}
        self.scalars = {s: mpmath.mpf(self.rng.uniform(0.5, 1.5)) for s in sorted(scalars, key=str)}

    def size(self, dim: sympy.Expr) -> int:
        return int(dim.xreplace(self.sizes))

    def _matrix(self, symbol: MatrixSymbol, assumptions: Assumptions) -> mpmath.matrix:
        rows, cols = (self.size(dim) for dim in symbol.shape)
        name = symbol.name
        if assumptions.holds("sums_to_one", name):
            weights = [self.rng.uniform(0.1, 1) for _ in range(rows)]
            return mpmath.matrix([[mpmath.mpf(w) / sum(weights)] for w in weights])
        matrix = mpmath.matrix([[mpmath.mpf(self.rng.uniform(-1, 1)) for _ in range(cols)] for _ in range(rows)])
        if assumptions.holds("positive_definite", name):
            return matrix * matrix.T + rows * mpmath.eye(rows)
        if assumptions.symmetric(name):
            matrix = (matrix + matrix.T) / 2
        if assumptions.holds("invertible", name) or assumptions.holds("positive_determinant", name):
            matrix = matrix + rows * mpmath.eye(rows)  # diagonally dominant, positive diagonal: det > 0
        return matrix


class _Evaluator(NumericEvaluator):
    """The scalar evaluator of verify.py, extended by vectors and matrices."""

    def __init__(self, values: _Values):
        super().__init__({})
        self.values = values

    def matrix(self, expr: sympy.Basic, env: dict) -> mpmath.matrix:
        v = self.values
        if isinstance(expr, MatrixSymbol):
            return env.get(expr, v.matrices[expr])
        if isinstance(expr, Transpose):
            return self.matrix(expr.arg, env).T
        if isinstance(expr, MatAdd):
            total = None
            for term in expr.args:
                value = self.matrix(term, env)
                total = value if total is None else total + value
            return total
        if isinstance(expr, MatMul):
            scale, product = mpmath.mpf(1), None
            for factor in expr.args:
                if isinstance(factor, sympy.MatrixExpr):
                    value = self.matrix(factor, env)
                    product = value if product is None else product * value
                else:
                    scale *= self.value(factor, env)
            return product * scale
        if isinstance(expr, Inverse):
            return mpmath.inverse(self.matrix(expr.arg, env))
        if isinstance(expr, MatPow):
            return self.matrix(expr.base, env) ** int(expr.exp)
        if isinstance(expr, HadamardProduct):
            values = [self.matrix(term, env) for term in expr.args]
            result = values[0].copy()
            for value in values[1:]:
                for r in range(result.rows):
                    for c in range(result.cols):
                        result[r, c] *= value[r, c]
            return result
        if isinstance(expr, HadamardPower):  # sympy writes x ∘ x as x^{∘2}
            base, exponent = self.matrix(expr.base, env), self.value(expr.exp, env)
            return mpmath.matrix([[base[r, c] ** exponent for c in range(base.cols)] for r in range(base.rows)])
        if isinstance(expr, ElementwiseApplyFunction):
            value = self.matrix(expr.expr, env)
            t = expr.function.variables[0]
            return mpmath.matrix(
                [
                    [self.value(expr.function.expr, {**env, t: value[r, c]}) for c in range(value.cols)]
                    for r in range(value.rows)
                ]
            )
        if isinstance(expr, Diag):
            return mpmath.diag(self.matrix(expr.arg, env))
        if isinstance(expr, Softmax):
            z = self.matrix(expr.arg, env)
            exps = [mpmath.exp(z[r, 0]) for r in range(z.rows)]
            total = mpmath.fsum(exps)
            return mpmath.matrix([[e / total] for e in exps])
        if isinstance(expr, Identity):
            return mpmath.eye(v.size(expr.shape[0]))
        if isinstance(expr, OneMatrix):
            return mpmath.ones(v.size(expr.shape[0]), v.size(expr.shape[1]))
        if isinstance(expr, ZeroMatrix):
            return mpmath.zeros(v.size(expr.shape[0]), v.size(expr.shape[1]))
        if isinstance(expr, sympy.MatrixBase):
            return mpmath.matrix([[self.value(e, env) for e in expr.row(r)] for r in range(expr.rows)])
        if isinstance(expr, sympy.MatrixExpr) and expr.shape == (1, 1):
            return mpmath.matrix([[self.value(expr, env)]])
        raise VerificationError(f"cannot evaluate {sympy.sstr(expr)} numerically")

    def value(self, expr: sympy.Basic, env: dict) -> Any:
        """A scalar: the matrix-valued pieces here, ordinary arithmetic and functions in the base."""
        if isinstance(expr, AsScalar):
            return self.matrix(expr.matrix, env)[0, 0]
        if isinstance(expr, MatrixElement):
            matrix = self.matrix(expr.parent, env)
            return matrix[int(self.value(expr.i, env)), int(self.value(expr.j, env))]
        if isinstance(expr, Trace):
            matrix = self.matrix(expr.arg, env)
            return mpmath.fsum(matrix[k, k] for k in range(matrix.rows))
        if isinstance(expr, Determinant):
            return mpmath.det(self.matrix(expr.arg, env))
        if isinstance(expr, KroneckerDelta):
            return mpmath.mpf(int(self.value(expr.args[0], env) == self.value(expr.args[1], env)))
        if isinstance(expr, Sum):
            return self._sum(expr, env)
        if isinstance(expr, sympy.Derivative):
            return self._derivative(expr, env)
        if expr.is_Symbol and expr not in env:
            if expr in self.values.sizes:
                return mpmath.mpf(self.values.sizes[expr])
            return self.values.scalars[expr]
        return super().value(expr, env)

    def _derivative(self, expr: sympy.Derivative, env: dict):
        """∂f/∂X_rc by central differences: the entry (r, c) of X nudged up and down."""
        if len(expr.variable_count) != 1 or expr.variable_count[0][1] != 1:
            raise VerificationError("only first derivatives by one entry are evaluated")
        element = expr.variables[0]
        if not isinstance(element, MatrixElement) or not isinstance(element.parent, MatrixSymbol):
            raise VerificationError(f"cannot evaluate a derivative by {sympy.sstr(element)}")
        matrix = element.parent
        row, col = int(self.value(element.i, env)), int(self.value(element.j, env))
        point = env.get(matrix, self.values.matrices[matrix])
        up, down = point.copy(), point.copy()
        up[row, col] += _STEP
        down[row, col] -= _STEP
        return (self.value(expr.expr, {**env, matrix: up}) - self.value(expr.expr, {**env, matrix: down})) / (2 * _STEP)

    def evaluate(self, expr: sympy.Basic, env: dict) -> Any:
        """A matrix (as mpmath.matrix) or a scalar."""
        if isinstance(expr, sympy.MatrixExpr | sympy.MatrixBase) and not isinstance(expr, MatrixElement):
            return self.matrix(expr, env)
        return self.value(expr, env)

    def _sum(self, expr: Sum, env: dict):
        (index, low, high), *rest = expr.limits
        inner = Sum(expr.function, *rest) if rest else expr.function
        start, stop = int(self.value(low, env)), int(self.value(high, env))
        return mpmath.fsum(self.value(inner, {**env, index: mpmath.mpf(k)}) for k in range(start, stop + 1))


def check_gradient(
    function: sympy.Expr,
    variable: MatrixSymbol,
    gradient: sympy.Basic,
    assumptions: Assumptions,
    transposed: bool,
) -> None:
    """Raise :class:`VerificationError` unless ``gradient`` (the variable's shape, or its transpose
    when ``transposed``) is the derivative of ``function`` by ``variable``."""
    seed = zlib.crc32(sympy.srepr(function).encode())
    (function, variable, gradient), _ = shrunk([function, variable, gradient])
    with mpmath.workdps(_DPS):
        values = _Values([function, gradient, variable], assumptions, seed)
        evaluator = _Evaluator(values)
        point = values.matrices[variable]
        derived = evaluator.matrix(gradient, {}) if isinstance(gradient, sympy.MatrixExpr | sympy.MatrixBase) else None
        if derived is None:
            derived = mpmath.matrix([[evaluator.value(gradient, {})]])
        if transposed:
            derived = derived.T
        if (derived.rows, derived.cols) != (point.rows, point.cols):
            raise VerificationError(
                f"the derivative is {derived.rows}×{derived.cols}; {point.rows}×{point.cols} was expected"
            )
        for r in range(point.rows):
            for c in range(point.cols):
                up, down = point.copy(), point.copy()
                up[r, c] += _STEP
                down[r, c] -= _STEP
                numeric = (evaluator.value(function, {variable: up}) - evaluator.value(function, {variable: down})) / (
                    2 * _STEP
                )
                if abs(numeric - derived[r, c]) > _TOLERANCE * max(1, abs(numeric)):
                    raise VerificationError(
                        f"the derivative by {variable.name} does not match finite differences at entry "
                        f"({r + 1}, {c + 1}): {mpmath.nstr(derived[r, c], 8)} against {mpmath.nstr(numeric, 8)} "
                        "(a bug in derivgen; please report it with this expression)"
                    )


def check_step(
    before: sympy.Basic,
    after: sympy.Basic,
    ranges: dict[sympy.Symbol, sympy.Expr],
    assumptions: Assumptions,
    label: str,
    trials: int = 2,
) -> None:
    """Raise :class:`VerificationError` unless one step of an index derivation keeps its value:
    random sizes, values, and values of the free indices (the i of ∂/∂x_i, a k bound outside)."""
    seed = zlib.crc32(sympy.srepr(before).encode() + b"|" + sympy.srepr(after).encode())
    (before, after), sizes = shrunk([before, after])
    ranges = {index: size.xreplace(sizes) for index, size in ranges.items()}
    with mpmath.workdps(_DPS):
        values = _Values([before, after, *(sympy.Tuple(*ranges.values()),)], assumptions, seed)
        for size in ranges.values():
            for dim in size.free_symbols:
                values.sizes.setdefault(dim, _SIZES[len(values.sizes) % len(_SIZES)])
        evaluator = _Evaluator(values)
        # atoms, not free_symbols: sympy leaves the i of ∂/∂x_i out of a derivative's free symbols
        indices = sorted((before.atoms(sympy.Symbol) | after.atoms(sympy.Symbol)) & set(ranges), key=str)
        for _ in range(trials):
            env = {index: mpmath.mpf(values.rng.randrange(values.size(ranges[index]))) for index in indices}
            try:
                left, right = evaluator.evaluate(before, env), evaluator.evaluate(after, env)
            except (Unevaluable, ZeroDivisionError, ValueError) as error:
                raise VerificationError(f"step '{label}' could not be evaluated to check it: {error}") from None
            if not _agree(left, right):
                raise VerificationError(
                    f"step '{label}' does not check: {sympy.sstr(before)} is not equal to {sympy.sstr(after)} "
                    "(a bug in derivgen; please report it with this expression)"
                )


def _agree(left, right) -> bool:
    if isinstance(left, mpmath.matrix) or isinstance(right, mpmath.matrix):
        if not (isinstance(left, mpmath.matrix) and isinstance(right, mpmath.matrix)):
            return False
        if (left.rows, left.cols) != (right.rows, right.cols):
            return False
        return all(_agree(left[r, c], right[r, c]) for r in range(left.rows) for c in range(left.cols))
    return abs(left - right) <= _TOLERANCE * max(1, abs(left), abs(right))
