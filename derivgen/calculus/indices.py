"""Index notation: matrix expressions → explicit sums of entries, and back.

``to_index`` writes a scalar matrix expression with explicit sums as a lecturer does
(``xᵀMx = Σ_k Σ_l x_k M_{k,l} x_l``, ``tr(AB) = Σ_k Σ_l A_{k,l} B_{l,k}``).  ``to_matrix`` rebuilds
a matrix expression from an index expression with free indices (``Σ_k x_k M_{k,i} = (Mᵀx)_i``) by
following each chain of contracted indices; sympy's own conversions are not used because they
turn outer products into array products and trip over index names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy
from sympy import (
    Add,
    Determinant,
    HadamardProduct,
    Identity,
    Inverse,
    KroneckerDelta,
    MatAdd,
    MatMul,
    MatPow,
    MatrixExpr,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Pow,
    Sum,
    Symbol,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import UnsupportedExpression
from ..input.matrices import AsScalar, Softmax

ONE = sympy.Integer(0)  # the index of a dimension of size 1 (the column of a vector)
_DUMMY_NAMES = ("k", "l", "p", "q", "r", "s", "t", "a", "b", "c")


@dataclass
class Indices:
    """Index symbols, their ranges, and fresh names that clash with nothing in use."""

    taken: set[str] = field(default_factory=set)
    ranges: dict[sympy.Symbol, sympy.Expr] = field(default_factory=dict)

    def index(self, name: str, size: sympy.Expr) -> sympy.Symbol:
        symbol = Symbol(name, integer=True)
        self.taken.add(name)
        self.ranges[symbol] = size
        return symbol

    def fresh(self, size: sympy.Expr) -> sympy.Symbol:
        for round_ in range(100):
            for name in _DUMMY_NAMES:
                candidate = name if round_ == 0 else f"{name}_{round_}"
                if candidate not in self.taken:
                    return self.index(candidate, size)
        raise UnsupportedExpression("too many summation indices")

    def limits(self, index: sympy.Symbol) -> tuple:
        return (index, 0, self.ranges[index] - 1)


# -- matrix expression → index form ------------------------------------------------------------------


def write_traces(expr: sympy.Basic, indices: Indices) -> sympy.Basic:
    """tr(A) → Σ_k A_kk with the entry of A left as it stands ((AB)_kk): the definition of the trace,
    a step of its own before the matrix product is written out."""

    def written(trace: Trace) -> sympy.Expr:
        k = indices.fresh(trace.arg.shape[0])
        return _sum(MatrixElement(trace.arg, k, k), [k], indices)

    return expr.replace(lambda e: isinstance(e, Trace), written)


def to_index(expr: sympy.Basic, indices: Indices, keep: tuple[type, ...] = ()) -> sympy.Expr:
    """A scalar expression over vectors and matrices, with every matrix operation written out.
    Entries of the classes in ``keep`` (Softmax) stay entries, softmax(z)_k, for a later step."""
    if isinstance(expr, MatrixElement):
        return entry(expr.parent, expr.i, expr.j, indices, keep)
    if isinstance(expr, AsScalar):
        return entry(expr.matrix, ONE, ONE, indices, keep)
    if isinstance(expr, Trace):
        k = indices.fresh(expr.arg.shape[0])
        return _sum(entry(expr.arg, k, k, indices, keep), [k], indices)
    if isinstance(expr, Sum):  # Σ_k (AB)_kk: the written-out entry's own sum joins this one
        inner = to_index(expr.function, indices, keep)
        return Sum(inner.function, *expr.limits, *inner.limits) if isinstance(inner, Sum) else Sum(inner, *expr.limits)
    if isinstance(expr, Determinant) or expr.is_Atom:
        return expr
    if isinstance(expr, MatrixExpr):
        raise UnsupportedExpression(f"{sympy.sstr(expr)} is not a scalar")
    return expr.func(*(to_index(arg, indices, keep) for arg in expr.args))


def entry(
    matrix: sympy.Basic, row: sympy.Expr, col: sympy.Expr, indices: Indices, keep: tuple[type, ...] = ()
) -> sympy.Expr:
    """Entry (row, col) of a matrix expression, in index notation."""

    def inner(part: sympy.Basic, r: sympy.Expr, c: sympy.Expr) -> sympy.Expr:
        return entry(part, r, c, indices, keep)

    if isinstance(matrix, (MatrixSymbol, Inverse, *keep)):
        return MatrixElement(matrix, row, col)
    if isinstance(matrix, Transpose):
        return inner(matrix.arg, col, row)
    if isinstance(matrix, MatAdd):
        return Add(*(inner(term, row, col) for term in matrix.args))
    if isinstance(matrix, MatMul):
        scalars = [arg for arg in matrix.args if not isinstance(arg, MatrixExpr)]
        factors = [arg for arg in matrix.args if isinstance(arg, MatrixExpr)]
        if len(factors) == 1:
            return Mul(*scalars, inner(factors[0], row, col))
        # an inner dimension of size 1 (x xᵀ) is no sum: its index is ONE
        dummies = [ONE if factor.shape[1] == 1 else indices.fresh(factor.shape[1]) for factor in factors[:-1]]
        slots = [row, *dummies, col]
        product = Mul(*(inner(factor, slots[n], slots[n + 1]) for n, factor in enumerate(factors)))
        return Mul(*scalars) * _sum(product, dummies, indices)
    if isinstance(matrix, MatPow):
        return inner(MatMul(*([matrix.base] * int(matrix.exp))), row, col)
    if isinstance(matrix, HadamardProduct):
        return Mul(*(inner(term, row, col) for term in matrix.args))
    if isinstance(matrix, ElementwiseApplyFunction):
        return matrix.function(inner(matrix.expr, row, col))
    if isinstance(matrix, Softmax):
        k = indices.fresh(matrix.shape[0])
        return sympy.exp(inner(matrix.arg, row, ONE)) / _sum(sympy.exp(inner(matrix.arg, k, ONE)), [k], indices)
    if isinstance(matrix, Identity):
        return KroneckerDelta(row, col)
    if isinstance(matrix, OneMatrix):
        return sympy.S.One
    if isinstance(matrix, ZeroMatrix):
        return sympy.S.Zero
    if isinstance(matrix, MatrixElement):  # a 1×1 product used as a scalar inside a matrix
        return inner(matrix.parent, matrix.i, matrix.j)
    if isinstance(matrix, AsScalar):
        return inner(matrix.matrix, ONE, ONE)
    raise UnsupportedExpression(f"no index form for {sympy.sstr(matrix)}")


def _sum(term: sympy.Expr, dummies: list[sympy.Symbol], indices: Indices) -> sympy.Expr:
    """Σ over ``dummies`` of ``term``, the sums merged into one with several limits."""
    dummies = [d for d in dummies if d != ONE]
    if not dummies:
        return term
    limits = [indices.limits(d) for d in dummies]
    if isinstance(term, Sum):
        return Sum(term.function, *limits, *term.limits)
    return Sum(term, *limits)


# -- index form → matrix expression --------------------------------------------------------------------


@dataclass
class _Factor:
    """One entry factor: matrix[row, col] with index slots (ONE for a size-1 dimension)."""

    matrix: MatrixExpr
    row: sympy.Expr
    col: sympy.Expr

    def slots(self) -> tuple:
        return (self.row, self.col)

    def oriented(self, first: sympy.Expr) -> tuple[MatrixExpr, sympy.Expr]:
        """The matrix read from slot ``first`` to the other slot (transposed if need be)."""
        if self.row == first:
            return self.matrix, self.col
        return Transpose(self.matrix), self.row


def to_matrix(expr: sympy.Expr, free: tuple[sympy.Symbol, ...], indices: Indices) -> MatrixExpr | sympy.Expr:
    """The matrix expression whose entry at the ``free`` indices is ``expr``: a column vector for one
    free index, a matrix for two, a scalar (of 1×1 products such as wᵀx) for none."""
    # Σ_k (a_k + b_k) = Σ_k a_k + Σ_k b_k: each term is read on its own
    expr = expr.replace(
        lambda e: isinstance(e, Sum) and isinstance(e.function, Add),
        lambda e: Add(*(Sum(term, *e.limits) for term in e.function.args)),
    )
    terms = Add.make_args(expr)
    built = [_term_to_matrix(term, free, indices) for term in terms]
    if not free:
        return Add(*built)
    return MatAdd(*built).doit() if len(built) > 1 else built[0]


def _term_to_matrix(term: sympy.Expr, free: tuple[sympy.Symbol, ...], indices: Indices) -> MatrixExpr:
    dummies: list[sympy.Symbol] = []
    pending, plain = list(Mul.make_args(term)), []
    while pending:  # c · Σ_k (a_k · Σ_l b_l) → one product summed over k and l
        factor = pending.pop()
        if isinstance(factor, Sum):
            clash = {limit[0] for limit in factor.limits} & set(dummies)
            renamed = {old: indices.fresh(indices.ranges[old]) for old in clash}
            function = factor.function.xreplace(renamed)
            dummies.extend(renamed.get(limit[0], limit[0]) for limit in factor.limits)
            pending.extend(Mul.make_args(function))
        else:
            plain.append(factor)
    coefficient: list[sympy.Expr] = []
    factors: list[_Factor] = []
    for factor in plain:
        found = _as_factor(factor, indices)
        if found is None:
            coefficient.append(factor)
        elif isinstance(found, list):
            factors.extend(found)
        else:
            coefficient.append(found)
    for dummy in dummies:  # an index summed over in one factor only: the sum is a product with 1ᵀ
        if sum(slot == dummy for f in factors for slot in f.slots()) == 1:
            factors.append(_Factor(OneMatrix(indices.ranges[dummy], 1), dummy, ONE))
    for index in free:  # a term without the free index (the 1 of 1 - y_k): an entry of the ones vector
        if not any(index in f.slots() for f in factors):
            factors.append(_Factor(OneMatrix(indices.ranges[index], 1), index, ONE))
    result = _assemble(_merge_hadamard(factors, dummies), free, indices)
    scale = Mul(*coefficient)
    return result if scale == 1 else scale * result


def _as_factor(factor: sympy.Expr, indices: Indices) -> list[_Factor] | sympy.Expr | None:
    """Entry factors of one factor of a product; None for a scalar without indices, a scalar
    expression for a function of whole sums."""
    if isinstance(factor, Pow) and factor.exp.is_Integer and factor.exp > 0 and _has_index(factor.base, indices):
        inner = _as_factor(factor.base, indices)
        if inner is None or not isinstance(inner, list):
            return inner if inner is None else inner**factor.exp
        return inner * int(factor.exp)
    if isinstance(factor, MatrixElement):
        return [_Factor(factor.parent, factor.i, factor.j)]
    if isinstance(factor, KroneckerDelta):
        size = indices.ranges.get(factor.args[0]) or indices.ranges.get(factor.args[1])
        return [_Factor(Identity(size), factor.args[0], factor.args[1])]
    if not _has_index(factor, indices):
        return None
    free = sorted(_free_indices(factor, indices), key=str)
    if not free:  # a scalar function of whole sums, σ(Σ_k w_k x_k) = σ(wᵀx): no index left outside
        return _scalar_of(factor, indices)
    # a function of entries at one index, f(g_k): entry k of f applied elementwise to the vector g
    if len(free) != 1:
        raise UnsupportedExpression(f"cannot write {sympy.sstr(factor)} as a matrix expression")
    (k,) = free
    arguments = _index_arguments(factor, indices)
    if len(arguments) != 1:
        raise UnsupportedExpression(f"cannot write {sympy.sstr(factor)} as an elementwise function")
    (argument,) = arguments
    if argument == factor:  # (Ax - b)_k itself: entry k of a vector
        return [_Factor(to_matrix(argument, (k,), indices), k, ONE)]
    t = sympy.Dummy("t")
    function = sympy.Lambda(t, factor.xreplace({argument: t}))
    vector = to_matrix(argument, (k,), indices)
    return [_Factor(ElementwiseApplyFunction(function, vector), k, ONE)]


def _scalar_of(expr: sympy.Expr, indices: Indices) -> sympy.Expr:
    """``expr`` with every sum in it written as the 1×1 matrix product it is."""
    replacements = {argument: _scalar(to_matrix(argument, (), indices)) for argument in _index_arguments(expr, indices)}
    return expr.xreplace(replacements)


def _has_index(expr: sympy.Basic, indices: Indices) -> bool:
    return bool(expr.atoms(MatrixElement)) or any(s in indices.ranges for s in expr.free_symbols)


def _free_indices(expr: sympy.Basic, indices: Indices) -> set:
    return {s for s in expr.free_symbols if s in indices.ranges}


def _entry_like(expr: sympy.Basic, indices: Indices) -> bool:
    """An entry, a sum of products of entries, or a scalar multiple of one: what to_matrix reads."""
    if isinstance(expr, MatrixElement | Sum | KroneckerDelta) or not _has_index(expr, indices):
        return True
    if isinstance(expr, Mul | Add):
        return all(_entry_like(arg, indices) for arg in expr.args)
    return False


def _index_arguments(expr: sympy.Basic, indices: Indices) -> list[sympy.Expr]:
    """The largest sub-expressions that are sums or products of entries (arguments of f)."""
    if _has_index(expr, indices) and _entry_like(expr, indices):
        return [expr]
    found: list[sympy.Expr] = []
    for arg in expr.args:
        for candidate in _index_arguments(arg, indices):
            if candidate not in found:
                found.append(candidate)
    return found


def _merge_hadamard(factors: list[_Factor], dummies: list[sympy.Symbol]) -> list[_Factor]:
    """Σ_l X_li y_l f_l: a dummy shared by more than two factors joins its vectors elementwise,
    (y ∘ f)_l, so that every chain is a plain matrix product again."""
    for dummy in dummies:
        holders = [f for f in factors if dummy in f.slots()]
        vectors = [f for f in holders if ONE in f.slots()]
        if len(holders) > 2 and len(vectors) >= 2:
            combined = HadamardProduct(*(f.oriented(dummy)[0] for f in vectors))
            factors = [f for f in factors if f not in vectors] + [_Factor(combined, dummy, ONE)]
    return factors


def _assemble(factors: list[_Factor], free: tuple[sympy.Symbol, ...], indices: Indices) -> MatrixExpr:
    """Follow chains of shared indices: free → … → ONE (a column), free → … → free (a matrix),
    ONE → … → ONE (a scalar), closed loops (traces)."""
    unused = list(factors)

    def walk(start: sympy.Expr, stop: sympy.Expr) -> MatrixExpr:
        pieces, slot = [], start
        while True:
            holder = next((f for f in unused if slot in f.slots()), None)
            if holder is None:
                raise UnsupportedExpression(f"index {slot} appears in no factor")
            unused.remove(holder)
            matrix, slot = holder.oriented(slot)
            pieces.append(matrix)
            if slot in (stop, ONE):
                return MatMul(*pieces).doit() if len(pieces) > 1 else pieces[0]

    def from_index(index: sympy.Symbol) -> MatrixExpr:
        # several chains start at a free index: their elementwise (Hadamard) product
        chains = []
        while any(index in f.slots() for f in unused):
            chains.append(walk(index, ONE))
        return chains[0] if len(chains) == 1 else HadamardProduct(*chains)

    if len(free) == 1:
        main = from_index(free[0])
    elif len(free) == 2:
        i, j = free
        holder = next((f for f in unused if i in f.slots()), None)
        chain_end = _chain_end(holder, i, unused) if holder is not None else None
        # a chain from i to j is a matrix product; a_i b_j (chains ending in ONE) an outer product
        main = walk(i, j) if chain_end == j else MatMul(from_index(i), Transpose(from_index(j))).doit()
    else:
        main = None
    scalars = []
    while unused:
        start = next((f for f in unused if ONE in f.slots()), None)
        if start is not None:
            chain = walk(ONE, ONE)
            scalars.append(_scalar(chain))
        else:
            loop_start = unused[0].row
            scalars.append(Trace(walk(loop_start, loop_start)))
    scale = Mul(*scalars)
    if main is None:  # no free index: the scalar itself
        return scale
    return main if scale == 1 else scale * main


def _chain_end(holder: _Factor, start: sympy.Expr, unused: list[_Factor]) -> sympy.Expr:
    seen: set[int] = set()
    slot: sympy.Expr = start
    current: _Factor | None = holder
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        _, slot = current.oriented(slot)
        if slot == ONE:
            return ONE
        current = next((f for f in unused if slot in f.slots() and id(f) not in seen), None)
    return slot


def _scalar(matrix: sympy.Basic) -> sympy.Expr:
    if isinstance(matrix, MatrixExpr):
        return AsScalar(matrix) if matrix.shape == (1, 1) else matrix
    if isinstance(matrix, sympy.MatrixBase):
        return matrix[0, 0]
    return matrix
