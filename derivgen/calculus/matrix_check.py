"""Checking matrix derivatives numerically: index steps and gradients on random shapes and values.

Every dimension gets a different small size (so a missing transpose cannot go unnoticed), every
declared symbol random values that honour the assumptions (symmetric, positive definite, …).
A step's two sides are evaluated by tensor contraction (:mod:`derivgen.calculus.contraction`:
numpy einsum in float64, derivatives by the complex step), which costs a polynomial in the number
of matrices; the gradient is compared with the complex-step derivative of the function itself.
Where the contraction cannot express a construct, or to confirm a disagreement before calling a
step wrong, the precise evaluator decides: nested loops at 40 digits with mpmath, central
differences for derivatives.  Both are independent of sympy's matrix calculus, which can be
silently wrong (a derivative of log det that comes out 0).
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from typing import Any

import mpmath
import numpy as np
import sympy
from sympy import (
    Derivative,
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
from .contraction import COL, ROW, ContractionEvaluator, Inexpressible, Tensor, combine
from .verify import NumericEvaluator, Unevaluable

_DPS = 40
_STEP = mpmath.mpf(10) ** -12
_TOLERANCE = mpmath.mpf(10) ** -8
# float64 with the complex step: a step's two sides agree to about 1e-13 of their size at these sizes;
# a wrong step (a lost factor, a transposed matrix, a swapped index) is off by a sizeable fraction
_FLOAT_TOLERANCE = 1e-9
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
    """Numbers for every dimension, symbol and index while evaluating: float64 arrays for the
    contraction, the same numbers as mpmath matrices for the precise evaluator (made on demand)."""

    def __init__(self, expressions: list[sympy.Basic], assumptions: Assumptions, seed: int):
        self.rng = random.Random(seed)
        symbols: set[MatrixSymbol] = set()
        scalars: set[sympy.Symbol] = set()
        dims: set[sympy.Symbol] = set()
        for expression in expressions:
            symbols |= expression.atoms(MatrixSymbol)
            # atoms, not free_symbols (a tenth of the time on sums); a bound non-index symbol (the t of
            # an elementwise function) gets a value it never uses
            scalars |= {s for s in expression.atoms(sympy.Symbol) if not s.is_integer}
        for symbol in symbols:
            dims |= {d for d in symbol.shape if isinstance(d, sympy.Symbol)}
        self.sizes = {dim: _SIZES[n % len(_SIZES)] for n, dim in enumerate(sorted(dims, key=str))}
        self.arrays = {symbol: self._array(symbol, assumptions) for symbol in sorted(symbols, key=str)}
        self.floats = {s: self.rng.uniform(0.5, 1.5) for s in sorted(scalars, key=str)}
        self._precise: tuple[dict, dict] | None = None

    @property
    def matrices(self) -> dict[MatrixSymbol, mpmath.matrix]:
        return self._mp()[0]

    @property
    def scalars(self) -> dict[sympy.Symbol, mpmath.mpf]:
        return self._mp()[1]

    def _mp(self) -> tuple[dict, dict]:
        if self._precise is None:
            matrices = {symbol: mpmath.matrix(array.tolist()) for symbol, array in self.arrays.items()}
            self._precise = matrices, {s: mpmath.mpf(v) for s, v in self.floats.items()}
        return self._precise

    def size(self, dim: sympy.Expr) -> int:
        return int(dim.xreplace(self.sizes))

    def _array(self, symbol: MatrixSymbol, assumptions: Assumptions) -> np.ndarray:
        rows, cols = (self.size(dim) for dim in symbol.shape)
        name = symbol.name
        if assumptions.holds("sums_to_one", name):
            weights = np.array([[self.rng.uniform(0.1, 1)] for _ in range(rows)])
            return weights / weights.sum()
        matrix = np.array([[self.rng.uniform(-1, 1) for _ in range(cols)] for _ in range(rows)])
        if assumptions.holds("positive_definite", name):
            return matrix @ matrix.T + rows * np.eye(rows)
        if assumptions.symmetric(name):
            matrix = (matrix + matrix.T) / 2
        if assumptions.holds("invertible", name) or assumptions.holds("positive_determinant", name):
            matrix = matrix + rows * np.eye(rows)  # diagonally dominant, positive diagonal: det > 0
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


def expression_seed(*expressions: sympy.Basic) -> int:
    """A seed for the random values, the same for the same expressions in every process: a CRC of the
    tree's classes and atom names (a tenth of the cost of ``srepr``; Python's ``hash`` of a name
    changes from run to run)."""
    tokens: list[str] = []
    stack = list(expressions)
    while stack:
        node = stack.pop()
        args = node.args
        if args:
            tokens.append(type(node).__name__)
            stack.extend(args)
        else:
            tokens.append(getattr(node, "name", None) or f"{type(node).__name__}{getattr(node, 'p', '')}")
    return zlib.crc32("|".join(tokens).encode())


# How many checks the contraction decided and how many went to the precise evaluator (and why):
# the tests read it to keep the fallback rare.
STATISTICS: Counter[str] = Counter()


def check_gradient(
    function: sympy.Expr,
    variable: MatrixSymbol,
    gradient: sympy.Basic,
    assumptions: Assumptions,
    transposed: bool,
) -> None:
    """Raise :class:`VerificationError` unless ``gradient`` (the variable's shape, or its transpose
    when ``transposed``) is the derivative of ``function`` by ``variable``.

    The contraction's complex step decides when it can and agrees; otherwise (a construct it cannot
    evaluate, or a disagreement to confirm) central differences at 40 digits decide."""
    seed = expression_seed(function)
    (function, variable, gradient), _ = shrunk([function, variable, gradient])
    values = _Values([function, gradient, variable], assumptions, seed)
    if _fast_gradient(function, variable, gradient, values, transposed):
        STATISTICS["gradient by contraction"] += 1
        return
    _precise_gradient(function, variable, gradient, values, transposed)


def _fast_gradient(function, variable, gradient, values: _Values, transposed: bool) -> bool:
    evaluator = _contraction(values, {})
    try:
        numeric = evaluator.gradient(function, variable)
        derived = evaluator.evaluate(gradient, {})
    except (Inexpressible, ArithmeticError) as error:
        STATISTICS[f"gradient precisely: {str(error)[:60]}"] += 1
        return False
    if ROW not in derived.axes:  # a scalar by a 1×1 variable
        derived = Tensor(derived.array[..., None, None], (*derived.axes, ROW, COL))
    if transposed:
        derived = derived.transposed()
    if tensors_agree(numeric, derived):
        return True
    STATISTICS["gradient precisely: the contraction disagrees"] += 1
    return False


def _precise_gradient(function, variable, gradient, values: _Values, transposed: bool) -> None:
    with mpmath.workdps(_DPS):
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
    random sizes, values, and values of the free indices (the i of ∂/∂x_i, a k bound outside).

    By contraction where it can express the step (every value of the free indices at once, as far
    as :data:`_VECTOR_BUDGET` allows); otherwise, or to confirm a disagreement, at 40 digits."""
    seed = expression_seed(before, after)
    (before, after), sizes = shrunk([before, after])
    ranges = {index: size.xreplace(sizes) for index, size in ranges.items()}
    values = _Values([before, after, *(sympy.Tuple(*ranges.values()),)], assumptions, seed)
    for size in ranges.values():
        for dim in size.free_symbols:
            values.sizes.setdefault(dim, _SIZES[len(values.sizes) % len(_SIZES)])
    # atoms, not free_symbols: sympy leaves the i of ∂/∂x_i out of a derivative's free symbols
    indices = sorted((before.atoms(sympy.Symbol) | after.atoms(sympy.Symbol)) & set(ranges), key=str)
    verdict = contraction_verdict(before, after, ranges, values, indices)
    STATISTICS[verdict] += 1
    if verdict == "by contraction":
        return
    _precise_step(before, after, ranges, values, indices, label, trials)


_VECTOR_BUDGET = 512  # entries: the free indices evaluated at all their values together, within this


def contraction_verdict(before, after, ranges, values: _Values, indices: list[sympy.Symbol]) -> str:
    """ "by contraction" when the contraction shows the step keeps its value, else why it cannot."""
    evaluator = _contraction(values, ranges)
    sizes = {index: evaluator.size(ranges[index]) for index in indices}
    # indices free in the step and meeting in a delta or a derivative run over all their values first
    # (a coincidence i = k matters there); the rest is held at random positions, two trials
    meeting = {s for e in (before, after) for n in e.atoms(KroneckerDelta, Derivative) for s in n.atoms(sympy.Symbol)}
    free = (_unbound(before) | _unbound(after)) & set(indices)
    running, budget = set(), 1
    for index in sorted(free, key=lambda s: (s not in meeting, str(s))):
        if budget * sizes[index] <= _VECTOR_BUDGET:
            running.add(index)
            budget *= sizes[index]
    held = [index for index in indices if index not in running]
    rng = random.Random(values.rng.random())
    for trial in range(2 if held else 1):
        fixed = _positions(held, sizes, rng, distinct=trial == 0)
        try:
            left, right = evaluator.evaluate(before, fixed), evaluator.evaluate(after, fixed)
        except (Inexpressible, ArithmeticError) as error:
            return f"precisely: {str(error)[:60]}"
        if not tensors_agree(left, right):
            return "precisely: the contraction disagrees"
    return "by contraction"


def _unbound(expr: sympy.Basic) -> set[sympy.Symbol]:
    """The symbols not bound by a sum around them, the i of ∂/∂x_i included (sympy's free_symbols
    leaves it out and costs ten times more on sums)."""
    if isinstance(expr, sympy.Symbol):
        return {expr}
    if isinstance(expr, Sum):
        (function, *limits) = expr.args
        inside = _unbound(function) - {limit[0] for limit in limits}
        return inside.union(*(_unbound(bound) for limit in limits for bound in limit.args[1:]))
    return set().union(*(_unbound(arg) for arg in expr.args))


def _positions(held: list[sympy.Symbol], sizes: dict, rng: random.Random, distinct: bool) -> dict:
    """A random position for every held index; different ones where the sizes allow (``distinct``),
    so that a swapped pair of indices shows."""
    fixed: dict[sympy.Symbol, int] = {}
    for index in held:
        choices = [p for p in range(sizes[index]) if not distinct or p not in fixed.values()]
        fixed[index] = rng.choice(choices or range(sizes[index]))
    return fixed


def _contraction(values: _Values, ranges: dict) -> ContractionEvaluator:
    return ContractionEvaluator(values.arrays, values.floats, values.sizes, ranges)


def tensors_agree(left: Tensor, right: Tensor) -> bool:
    """Equal to a relative :data:`_FLOAT_TOLERANCE` of the larger entry (at least 1), the same kind
    of value (matrix or scalar) and shape; never on an overflow or NaN."""
    if (ROW in left.axes, COL in left.axes) != (ROW in right.axes, COL in right.axes):
        return False
    for axis in (ROW, COL):
        if axis in left.axes and left.size(axis) != right.size(axis):
            return False
    try:
        difference = combine(np.subtract, [left, right]).array
    except Inexpressible:
        return False
    scale = max(1.0, float(np.max(np.abs(left.array), initial=0)), float(np.max(np.abs(right.array), initial=0)))
    return bool(np.all(np.isfinite(difference))) and float(np.max(np.abs(difference), initial=0)) <= (
        _FLOAT_TOLERANCE * scale
    )


def _precise_step(before, after, ranges, values: _Values, indices, label: str, trials: int) -> None:
    with mpmath.workdps(_DPS):
        evaluator = _Evaluator(values)
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
