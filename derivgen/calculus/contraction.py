"""Index expressions evaluated by tensor contraction: numpy ``einsum`` at small random sizes.

A sum of products of matrix entries and Kronecker deltas is one ``einsum`` over the indices it
sums (with an optimized contraction path), so checking a step costs a polynomial in the number of
matrices, not ``n`` to the power of the number of indices as nested loops do.  A value is a
:class:`Tensor`: an array with one named axis per index it still depends on (a matrix has two
more, its row and column).  Matrix operations (product, inverse, det, trace, elementwise
functions, Hadamard products, softmax) are numpy operations on those axes.

Derivatives by an entry are taken by the complex step (f(x + ih) = f(x) + ih f'(x) + O(h²)): exact
to rounding for the analytic functions evaluated here, and independent of sympy.  Every entry of the
matrix is nudged at once, along two axes of its own, which become the derivative's indices.

Anything else raises :class:`Inexpressible`; the caller then checks with the precise evaluator.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from math import prod

import numpy as np
import sympy
from sympy import (
    Add,
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
    Mul,
    OneMatrix,
    Pow,
    Sum,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from ..input.functions import sigmoid
from ..input.matrices import AsScalar, Diag, Softmax

_STEP = 1e-20  # the complex step: far below rounding, so f(x + ih) has f'(x)·h exactly in its imaginary part
_SPLIT_TERMS = 64  # Σ (a + b) c is split into Σ a c + Σ b c up to this many terms


class Inexpressible(Exception):
    """A construct the contraction cannot evaluate (the precise evaluator must check this step)."""


class _Axis:
    """An axis that is no index: the row or column of a matrix, a complex-step direction."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


ROW, COL = _Axis("row"), _Axis("col")


@dataclass(frozen=True)
class Tensor:
    """An array whose axes are named: index symbols or :class:`_Axis` objects, each at most once."""

    array: np.ndarray
    axes: tuple[Hashable, ...]

    def size(self, axis: Hashable) -> int:
        return self.array.shape[self.axes.index(axis)]

    def aligned(self, axes: tuple[Hashable, ...]) -> np.ndarray:
        """The array with its axes in the order ``axes`` (a superset), size 1 where it has none."""
        order = [self.axes.index(a) for a in axes if a in self.axes]
        array = self.array.transpose(order)
        return array.reshape([self.size(a) if a in self.axes else 1 for a in axes])

    def renamed(self, old: Hashable, new: Hashable) -> Tensor:
        """Axis ``old`` called ``new``; where ``new`` is an axis already, the diagonal of the two."""
        if old == new:
            return self
        if new not in self.axes:
            return Tensor(self.array, tuple(new if a == old else a for a in self.axes))
        first, second = self.axes.index(new), self.axes.index(old)
        if self.array.shape[first] != self.array.shape[second]:
            raise Inexpressible(f"index {new} ranges over two different sizes")
        array = np.diagonal(self.array, axis1=first, axis2=second)  # the diagonal axis goes last
        rest = tuple(a for n, a in enumerate(self.axes) if n not in (first, second))
        return Tensor(array, (*rest, new))

    def relabelled(self, names: Mapping[Hashable, Hashable]) -> Tensor:
        """The same array with axes renamed by ``names`` (a permutation of names, no diagonal)."""
        return Tensor(self.array, tuple(names.get(a, a) for a in self.axes))

    def transposed(self) -> Tensor:
        return self.relabelled({ROW: COL, COL: ROW})

    def taken(self, axis: Hashable, position: int) -> Tensor:
        """The slice at ``position`` along ``axis``."""
        n = self.axes.index(axis)
        if not 0 <= position < self.array.shape[n]:
            raise Inexpressible(f"entry {position} is outside the range of {axis}")
        return Tensor(np.take(self.array, position, axis=n), self.axes[:n] + self.axes[n + 1 :])

    def matrix_last(self) -> np.ndarray:
        """The array with the row and column axes last (for numpy.linalg's stacked matrices)."""
        rest = tuple(a for a in self.axes if a not in (ROW, COL))
        return self.aligned((*rest, ROW, COL))


def scalar(value: complex | np.ndarray) -> Tensor:
    return Tensor(np.asarray(value, dtype=complex), ())


def combine(operation: Callable[..., np.ndarray], tensors: list[Tensor]) -> Tensor:
    """``operation`` applied entry by entry, broadcast over the union of the axes."""
    axes = tuple(dict.fromkeys(a for t in tensors for a in t.axes))
    try:
        return Tensor(np.asarray(operation(*(t.aligned(axes) for t in tensors))), axes)
    except ValueError as error:  # an index used with two sizes
        raise Inexpressible(str(error)) from None


def contract(tensors: list[Tensor], summed: Iterable[Hashable] = ()) -> Tensor:
    """The product of ``tensors`` summed over the axes ``summed``: one einsum with an optimized path."""
    summed = set(summed)
    numbers: dict[Hashable, int] = {}
    operands: list = []
    for t in tensors:
        operands += [t.array, [numbers.setdefault(a, len(numbers)) for a in t.axes]]
    kept = tuple(a for a in numbers if a not in summed)
    if len(numbers) > 52:
        raise Inexpressible("more than 52 indices in one product")
    try:
        array = np.einsum(*operands, [numbers[a] for a in kept], optimize="greedy" if len(tensors) > 2 else False)
    except ValueError as error:
        raise Inexpressible(str(error)) from None
    return Tensor(np.asarray(array), kept)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


# analytic functions only: the complex step needs them (|x|, sign, max are not)
_FUNCTIONS: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    sympy.exp: np.exp,
    sympy.log: np.log,
    sympy.sin: np.sin,
    sympy.cos: np.cos,
    sympy.tan: np.tan,
    sympy.sinh: np.sinh,
    sympy.cosh: np.cosh,
    sympy.tanh: np.tanh,
    sympy.asin: np.arcsin,
    sympy.acos: np.arccos,
    sympy.atan: np.arctan,
    sympy.asinh: np.arcsinh,
    sympy.acosh: np.arccosh,
    sympy.atanh: np.arctanh,
    sigmoid: _sigmoid,
}


@dataclass(frozen=True)
class _Probe:
    """A matrix (or scalar) nudged by the complex step, along the axes ``rows`` and ``cols``."""

    symbol: sympy.Basic
    rows: _Axis
    cols: _Axis
    at: tuple[int | None, int | None]  # a fixed entry, or None for every row / column


class ContractionEvaluator:
    """Values of index and matrix expressions as tensors.

    ``matrices`` and ``scalars`` give the random point, ``sizes`` the size of every dimension
    symbol, ``ranges`` the dimension every index runs over, and ``fixed`` the indices held at one
    value (those an expression leaves free are axes of its value unless fixed).
    """

    def __init__(
        self,
        matrices: Mapping[MatrixSymbol, np.ndarray],
        scalars: Mapping[sympy.Symbol, float],
        sizes: Mapping[sympy.Symbol, int],
        ranges: Mapping[sympy.Symbol, sympy.Expr],
    ):
        self.matrices = matrices
        self.scalars = scalars
        self.sizes = sizes
        self.ranges = ranges
        self._replacements = {dim: sympy.Integer(size) for dim, size in sizes.items()}

    def size(self, dim: sympy.Expr) -> int:
        value = sympy.sympify(dim).xreplace(self._replacements)
        if not value.is_Integer:
            raise Inexpressible(f"no size for {dim}")
        return int(value)

    def evaluate(self, expr: sympy.Basic, fixed: Mapping[sympy.Symbol, int]) -> Tensor:
        """A matrix (axes :data:`ROW`, :data:`COL` among others) or a scalar of index axes."""
        env = _Env(dict(fixed), {}, None)
        if isinstance(expr, sympy.MatrixExpr) and not isinstance(expr, MatrixElement):
            return self.matrix(expr, env)
        return self.value(expr, env)

    # -- scalars -----------------------------------------------------------------------------------
    def value(self, expr: sympy.Basic, env: _Env) -> Tensor:
        if expr.is_Number or isinstance(expr, sympy.NumberSymbol):
            return scalar(complex(expr))
        if expr.is_Symbol:
            return self._symbol(expr, env)
        if isinstance(expr, Add):
            return combine(lambda *a: sum(a[1:], a[0]), [self.value(arg, env) for arg in expr.args])
        if isinstance(expr, Mul):
            return contract([self.value(arg, env) for arg in _factors(expr)])
        if isinstance(expr, Pow):
            return combine(np.power, [self.value(expr.base, env), self.value(expr.exp, env)])
        if isinstance(expr, Sum):
            return self._sum(expr.function, expr.limits, env)
        if isinstance(expr, MatrixElement):
            return self._element(self.matrix(expr.parent, env), expr.i, expr.j, env)
        if isinstance(expr, KroneckerDelta):
            return self._delta(expr.args[0], expr.args[1], env)
        if isinstance(expr, AsScalar):
            return self.matrix(expr.matrix, env).taken(ROW, 0).taken(COL, 0)
        if isinstance(expr, Trace):
            matrix = self.matrix(expr.arg, env)
            return contract([matrix.renamed(COL, ROW)], [ROW])
        if isinstance(expr, Determinant):
            return self._stacked(np.linalg.det, self.matrix(expr.arg, env), square=False)
        if isinstance(expr, Derivative):
            return self._derivative(expr, env)
        function = _FUNCTIONS.get(type(expr))
        if function is not None and len(expr.args) == 1:
            inner = self.value(expr.args[0], env)
            return Tensor(function(inner.array), inner.axes)
        raise Inexpressible(type(expr).__name__)

    def _symbol(self, symbol: sympy.Symbol, env: _Env) -> Tensor:
        if symbol in env.bound:
            return env.bound[symbol]
        if symbol in self.scalars:
            value = self.scalars[symbol]
            probe = env.probe
            return scalar(value + 1j * _STEP if probe is not None and probe.symbol == symbol else value)
        if symbol in self.sizes:
            return scalar(self.sizes[symbol])
        raise Inexpressible(f"no value for {symbol}")  # an index used as a number, say

    def _index(self, index: sympy.Expr, env: _Env) -> int | sympy.Symbol:
        """A fixed position, or the index symbol that names an axis."""
        if index.is_Integer:
            return int(index)
        if index in env.fixed:
            return env.fixed[index]
        if index.is_Symbol and index.is_integer:
            return index
        raise Inexpressible(f"index {index}")

    def _element(self, matrix: Tensor, row: sympy.Expr, col: sympy.Expr, env: _Env) -> Tensor:
        for axis, index in ((ROW, row), (COL, col)):
            where = self._index(index, env)
            matrix = matrix.taken(axis, where) if isinstance(where, int) else matrix.renamed(axis, where)
        return matrix

    def _range(self, index: sympy.Symbol) -> int:
        if index not in self.ranges:
            raise Inexpressible(f"no range for the index {index}")
        return self.size(self.ranges[index])

    def _delta(self, first: sympy.Expr, second: sympy.Expr, env: _Env) -> Tensor:
        a, b = self._index(first, env), self._index(second, env)
        if isinstance(a, int) and isinstance(b, int):
            return scalar(float(a == b))
        if a == b:
            return scalar(1.0)
        if isinstance(a, int) or isinstance(b, int):
            index, position = (b, a) if isinstance(a, int) else (a, b)
            vector = np.zeros(self._range(index), dtype=complex)
            if position < len(vector):
                vector[position] = 1
            return Tensor(vector, (index,))
        eye = np.eye(self._range(a), self._range(b), dtype=complex)
        return Tensor(eye, (a, b))

    def _sum(self, function: sympy.Expr, limits: tuple, env: _Env) -> Tensor:
        """Σ over ``limits``: one einsum of the factors; a sum of terms summed term by term."""
        indices = [limit[0] for limit in limits]
        inner = env.shadowing(indices)
        terms = _distributed(function)
        if terms is not None:
            return combine(lambda *a: sum(a[1:], a[0]), [self._sum(term, limits, env) for term in terms])
        if isinstance(function, Derivative) and not _mentions(function.variables, indices):
            # Σ ∂f/∂v = ∂(Σ f)/∂v: the sum contracted inside the complex step, never the whole product
            body = Derivative(Sum(function.expr, *limits), *function.variable_count)
            return self._derivative(body, env)
        factors = [self.value(factor, inner) for factor in _factors(function)]
        scale = 1
        for index, low, high in limits:
            low_value, high_value = self.size(low), self.size(high)
            count = high_value - low_value + 1
            holding = [n for n, t in enumerate(factors) if index in t.axes]
            if not holding:  # the summand does not depend on the index: count times itself
                scale *= count
            for n in holding:
                factors[n] = _sliced(factors[n], index, low_value, count)
        total = contract(factors, indices)
        return Tensor(total.array * scale, total.axes) if scale != 1 else total

    def _derivative(self, expr: Derivative, env: _Env) -> Tensor:
        """∂f/∂X_rc for every r, c at once: X + ih E_rc along two new axes, the imaginary part / h."""
        if env.probe is not None or len(expr.variable_count) != 1 or expr.variable_count[0][1] != 1:
            raise Inexpressible("only first derivatives by one variable, not nested")
        variable = expr.variables[0]
        if isinstance(variable, MatrixElement) and isinstance(variable.parent, MatrixSymbol):
            row, col = self._index(variable.i, env), self._index(variable.j, env)
            probe = _Probe(
                variable.parent,
                _Axis("∂row"),
                _Axis("∂col"),
                (row if isinstance(row, int) else None, col if isinstance(col, int) else None),
            )
        elif variable.is_Symbol and variable in self.scalars:
            row = col = 0
            probe = _Probe(variable, _Axis("∂row"), _Axis("∂col"), (0, 0))
        else:
            raise Inexpressible(f"a derivative by {variable}")
        value = self._complex_step(expr.expr, _Env(env.fixed, env.bound, probe))
        for axis, where in ((probe.rows, row), (probe.cols, col)):
            if axis not in value.axes:  # the expression does not hold the variable: ∂ = 0
                continue
            value = value.taken(axis, 0) if isinstance(where, int) else value.renamed(axis, where)
        return value

    def gradient(self, function: sympy.Expr, variable: MatrixSymbol) -> Tensor:
        """∂f/∂X_rc of a scalar function for every entry, as a matrix (axes :data:`ROW`, :data:`COL`)."""
        probe = _Probe(variable, _Axis("∂row"), _Axis("∂col"), (None, None))
        value = self._complex_step(function, _Env({}, {}, probe))
        if ROW in value.axes or COL in value.axes:
            raise Inexpressible("the gradient of a matrix")
        value = value.renamed(probe.rows, ROW).renamed(probe.cols, COL)
        shape = tuple(self.size(d) for d in variable.shape)
        zeros = Tensor(np.zeros(shape, dtype=complex), (ROW, COL))  # for a function without the variable
        return combine(np.add, [value, zeros])

    def _complex_step(self, expr: sympy.Expr, env: _Env) -> Tensor:
        """The imaginary part of the value at the nudged point over the step: the derivative."""
        if isinstance(expr, sympy.MatrixExpr) and not isinstance(expr, MatrixElement):
            raise Inexpressible("the derivative of a matrix")
        value = self.value(expr, env)
        return Tensor(value.array.imag / _STEP + 0j, value.axes)

    # -- matrices ----------------------------------------------------------------------------------
    def matrix(self, expr: sympy.Basic, env: _Env) -> Tensor:
        if isinstance(expr, MatrixSymbol):
            return self._leaf(expr, env)
        if isinstance(expr, Transpose):
            return self.matrix(expr.arg, env).transposed()
        if isinstance(expr, MatAdd):
            return combine(lambda *a: sum(a[1:], a[0]), [self.matrix(term, env) for term in expr.args])
        if isinstance(expr, MatMul):
            return self._product(expr, env)
        if isinstance(expr, Inverse):
            return self._stacked(np.linalg.inv, self.matrix(expr.arg, env), square=True)
        if isinstance(expr, MatPow):
            if not expr.exp.is_Integer:
                raise Inexpressible("a matrix to a non-integer power")
            power = int(expr.exp)
            return self._stacked(lambda a: np.linalg.matrix_power(a, power), self.matrix(expr.base, env), square=True)
        if isinstance(expr, HadamardProduct):
            return contract([self.matrix(term, env) for term in expr.args])
        if isinstance(expr, HadamardPower):
            return combine(np.power, [self.matrix(expr.base, env), self.value(expr.exp, env)])
        if isinstance(expr, ElementwiseApplyFunction):
            inner = self.matrix(expr.expr, env)
            (t,) = expr.function.variables
            return self.value(expr.function.expr, _Env(env.fixed, {**env.bound, t: inner}, env.probe))
        if isinstance(expr, Softmax):
            exps = self.matrix(expr.arg, env)
            exps = Tensor(np.exp(exps.array), exps.axes)
            return combine(np.divide, [exps, contract([exps], [ROW])])
        if isinstance(expr, Diag):  # the column vector on the diagonal: v_i δ_ij
            vector = self.matrix(expr.arg, env).taken(COL, 0)
            eye = Tensor(np.eye(self.size(expr.shape[0]), dtype=complex), (ROW, COL))
            return combine(np.multiply, [vector, eye])
        if isinstance(expr, Identity | OneMatrix | ZeroMatrix):
            shape = (self.size(expr.shape[0]), self.size(expr.shape[1]))
            array = np.eye(*shape) if isinstance(expr, Identity) else np.full(shape, float(isinstance(expr, OneMatrix)))
            return Tensor(array.astype(complex), (ROW, COL))
        raise Inexpressible(type(expr).__name__)

    def _leaf(self, symbol: MatrixSymbol, env: _Env) -> Tensor:
        value = self.matrices[symbol]
        probe = env.probe
        if probe is None or probe.symbol != symbol:
            return Tensor(value.astype(complex), (ROW, COL))
        rows, cols = value.shape
        # E[a, b, p, q] = 1 where (a, b) is the p-th row and q-th column nudged
        row_at = range(rows) if probe.at[0] is None else [probe.at[0]]
        col_at = range(cols) if probe.at[1] is None else [probe.at[1]]
        nudge = np.zeros((rows, cols, len(row_at), len(col_at)), dtype=complex)
        for p, r in enumerate(row_at):
            for q, c in enumerate(col_at):
                nudge[r, c, p, q] = 1j * _STEP
        return Tensor(value[:, :, None, None] + nudge, (ROW, COL, probe.rows, probe.cols))

    def _product(self, expr: MatMul, env: _Env) -> Tensor:
        """A₁A₂⋯A_m as one contraction: the column of each factor is the row of the next."""
        scalars = [self.value(arg, env) for arg in expr.args if not isinstance(arg, sympy.MatrixExpr)]
        matrices = [self.matrix(arg, env) for arg in expr.args if isinstance(arg, sympy.MatrixExpr)]
        links = [ROW, *(_Axis(f"link{n}") for n in range(len(matrices) - 1)), COL]
        chained = []
        for n, m in enumerate(matrices):
            chained.append(m.relabelled({ROW: links[n], COL: links[n + 1]}))
        return contract([*scalars, *chained], links[1:-1])

    def _stacked(self, function: Callable[[np.ndarray], np.ndarray], matrix: Tensor, square: bool) -> Tensor:
        """numpy.linalg's ``function`` on the row and column axes, for every value of the others."""
        rest = tuple(a for a in matrix.axes if a not in (ROW, COL))
        try:
            array = function(matrix.matrix_last())
        except np.linalg.LinAlgError as error:
            raise Inexpressible(str(error)) from None
        return Tensor(array, (*rest, ROW, COL) if square else rest)


@dataclass(frozen=True)
class _Env:
    fixed: dict[sympy.Symbol, int]  # indices held at one position
    bound: dict[sympy.Symbol, Tensor]  # the variable of an elementwise function
    probe: _Probe | None  # the variable of the derivative being taken

    def shadowing(self, indices: list[sympy.Symbol]) -> _Env:
        """Inside a sum over ``indices``: they run, whatever value they hold outside."""
        if not any(index in self.fixed for index in indices):
            return self
        fixed = {k: v for k, v in self.fixed.items() if k not in indices}
        return _Env(fixed, self.bound, self.probe)


def _mentions(expressions: Iterable[sympy.Basic], symbols: list[sympy.Symbol]) -> bool:
    return any(e.has(*symbols) for e in expressions)


def _distributed(function: sympy.Expr) -> list[sympy.Expr] | None:
    """The terms of Σ (a + b) c as [a c, b c] (one bracket at a time), or None where there is no bracket
    or too many terms would come out."""
    if isinstance(function, Add):
        return list(function.args)
    if not isinstance(function, Mul):
        return None
    factors = _factors(function)
    brackets = [f for f in factors if isinstance(f, Add)]
    if not brackets or prod(len(b.args) for b in brackets) > _SPLIT_TERMS:
        return None
    bracket = brackets[0]
    rest = [f for f in factors if f is not bracket]
    return [Mul(term, *rest, evaluate=False) for term in bracket.args]


def _factors(expr: sympy.Expr) -> list[sympy.Expr]:
    """The factors of a product, nested products flattened (an unevaluated a·(b·c) is one einsum)."""
    if not isinstance(expr, Mul):
        return [expr]
    return [factor for arg in expr.args for factor in _factors(arg)]


def _sliced(tensor: Tensor, index: sympy.Symbol, low: int, count: int) -> Tensor:
    """The entries ``low`` … ``low + count − 1`` along the index (all of them, as a rule)."""
    n = tensor.axes.index(index)
    length = tensor.array.shape[n]
    if low == 0 and count == length:
        return tensor
    if low < 0 or low + count > length:
        raise Inexpressible(f"a sum over {index} beyond its range")
    return Tensor(np.take(tensor.array, range(low, low + count), axis=n), tensor.axes)


__all__ = ["COL", "ROW", "ContractionEvaluator", "Inexpressible", "Tensor", "combine", "contract", "scalar"]
