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
from ..input.matrices import AsScalar, Diag, Softmax

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
        # a scalar factor may hold 1×1 products itself: exp(z) / (1ᵀexp(z))
        scalars = [to_index(arg, indices, keep) for arg in matrix.args if not isinstance(arg, MatrixExpr)]
        factors = [arg for arg in matrix.args if isinstance(arg, MatrixExpr)]
        if len(factors) == 1:
            return Mul(*scalars, inner(factors[0], row, col))
        # an inner dimension of size 1 (x xᵀ) is no sum: its index is ONE
        dummies = [ONE if factor.shape[1] == 1 else indices.fresh(factor.shape[1]) for factor in factors[:-1]]
        slots = [row, *dummies, col]
        product = Mul(
            *(_factor_entry(factor, slots[n], slots[n + 1], indices, keep) for n, factor in enumerate(factors))
        )
        return Mul(*scalars) * _sum(product, dummies, indices)
    if isinstance(matrix, MatPow):
        return inner(MatMul(*([matrix.base] * int(matrix.exp))), row, col)
    if isinstance(matrix, HadamardProduct):
        return Mul(*(inner(term, row, col) for term in matrix.args))
    if isinstance(matrix, ElementwiseApplyFunction):
        argument = matrix.expr
        if _holds_product(argument):  # tanh((Wx)_k): the product stays one entry, written out when derived
            return matrix.function(_kept_entry(argument, row, col))
        return matrix.function(inner(argument, row, col))
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


def _factor_entry(
    factor: MatrixExpr, row: sympy.Expr, col: sympy.Expr, indices: Indices, keep: tuple[type, ...]
) -> sympy.Expr:
    """Entry of one factor of a matrix product.  A sum holding a product, (AXB + C) in
    (AXB + C)(AXB + C)ᵀ, stays one entry (AXB + C)_{kl}, as a lecturer keeps it: written out it would
    multiply two long sums on every line.  Its own entry is written when it is derived (the rule
    ``entry_product``)."""
    matrix = factor.arg if isinstance(factor, Transpose) else factor
    if isinstance(matrix, MatAdd) and any(_is_product(term) for term in matrix.args):
        return _kept_entry(factor, row, col)
    return entry(factor, row, col, indices, keep)


def _kept_entry(matrix: MatrixExpr, row: sympy.Expr, col: sympy.Expr) -> MatrixElement:
    """The entry (row, col) of ``matrix``, read off the matrix or its transpose, whichever is written with
    fewer transposes: sympy writes (W₂h − y)ᵀ as hᵀW₂ᵀ − yᵀ, and the entry k of both factors of
    (W₂h − y)ᵀ(W₂h − y) should be the same (W₂h − y)_k."""
    matrix = _same_lambdas(matrix)
    flipped = _same_lambdas(canonical(Transpose(matrix)))
    if _transposes(flipped) < _transposes(matrix) or (
        _transposes(flipped) == _transposes(matrix) and matrix.shape[0] == 1 != matrix.shape[1]
    ):
        return MatrixElement(flipped, col, row)
    return MatrixElement(matrix, row, col)


_ARGUMENT = sympy.Dummy("t")


def _same_lambdas(matrix: sympy.Basic) -> sympy.Basic:
    """Every elementwise function written with the same bound variable: sympy gives each tanh(·) its own
    Dummy, and the two tanh(W₁x) of (W₂tanh(W₁x) − y)ᵀ(W₂tanh(W₁x) − y) would differ."""

    def renamed(node: ElementwiseApplyFunction) -> ElementwiseApplyFunction:
        (variable,) = node.function.variables
        function = sympy.Lambda(_ARGUMENT, node.function.expr.xreplace({variable: _ARGUMENT}))
        return ElementwiseApplyFunction(function, node.expr)

    return matrix.replace(lambda e: isinstance(e, ElementwiseApplyFunction), renamed)


def _transposes(matrix: sympy.Basic) -> int:
    return sum(isinstance(node, Transpose) for node in sympy.preorder_traversal(matrix))


def _is_product(matrix: sympy.Basic) -> bool:
    """A product of two matrices or more (a scalar multiple of one too)."""
    return isinstance(matrix, MatPow) or (
        isinstance(matrix, MatMul) and sum(isinstance(arg, MatrixExpr) for arg in matrix.args) > 1
    )


def _holds_product(matrix: sympy.Basic) -> bool:
    """A product, or a sum with a product among its terms: Wx, Wx + b."""
    return _is_product(matrix) or (isinstance(matrix, MatAdd) and any(_is_product(t) for t in matrix.args))


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
    return canonical(MatAdd(*built)) if len(built) > 1 else built[0]


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
    for position, factor in enumerate(plain):
        if isinstance(factor, Add) and len(_free_indices(factor, indices)) > 2:
            # Σ_kl W_kl ((s − x)_k δ_il + (s − x)_l δ_ik): more indices than a matrix has, so the
            # product is distributed over the sum and each term read on its own
            rest = Mul(*plain[:position], *plain[position + 1 :])
            parts = [_term_to_matrix(_sum(rest * part, dummies, indices), free, indices) for part in factor.args]
            return canonical(MatAdd(*parts)) if free else Add(*parts)
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
        count = sum(slot == dummy for f in factors for slot in f.slots())
        if count == 1:
            factors.append(_Factor(OneMatrix(indices.ranges[dummy], 1), dummy, ONE))
        elif count == 0:  # Σ_l b_i over l = 1 … m: m b_i
            coefficient.append(indices.ranges[dummy])
    for index in free:  # a term without the free index (the 1 of 1 - y_k): an entry of the ones vector
        if not any(index in f.slots() for f in factors):
            factors.append(_Factor(OneMatrix(indices.ranges[index], 1), index, ONE))
    factors = _merge_hadamard(_diagonals_apart(factors, free, indices), dummies, indices)
    for dummy in dummies:  # Σ_kl M_kl N_kl merged into (M ∘ N)_kl: each end summed by a ones vector
        if sum(slot == dummy for f in factors for slot in f.slots()) == 1:
            factors.append(_Factor(OneMatrix(indices.ranges[dummy], 1), dummy, ONE))
    result = _assemble(factors, free, indices)
    scale = Mul(*coefficient)
    return result if scale == 1 else _scaled(scale, result)


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
    # a function of entries at one index, f(g_k), or two, f(g_kl): the entry of f applied elementwise to
    # the vector g or the matrix g
    if len(free) > 2:
        raise UnsupportedExpression(
            f"cannot write {sympy.sstr(factor)} as a matrix expression: it has {len(free)} free indices "
            f"({', '.join(map(str, free))}), and a matrix has two"
        )
    slots = (free[0], ONE) if len(free) == 1 else tuple(free)
    if isinstance(factor, Add):  # tanh(g_k) − y_k: each term on its own, then their sum
        return [_Factor(to_matrix(factor, tuple(free), indices), *slots)]
    arguments = _index_arguments(factor, indices)
    if len(arguments) != 1:
        raise UnsupportedExpression(
            f"cannot write {sympy.sstr(factor)} as an elementwise function: it has {len(arguments)} arguments"
        )
    (argument,) = arguments
    matrix = to_matrix(argument, tuple(free), indices)
    diagonal = _diagonal_of(matrix)
    if diagonal is not None:  # f(F_kk): the entry (k, k) of f(F), for the chains to place
        matrix, slots = diagonal, (free[0], free[0])
    if argument == factor:  # (Ax - b)_k itself: entry k of a vector (kl of a matrix)
        return [_Factor(matrix, *slots)]
    t = sympy.Dummy("t")
    function = sympy.Lambda(t, factor.xreplace({argument: t}))
    return [_Factor(ElementwiseApplyFunction(function, matrix), *slots)]


def _diagonal_of(vector: MatrixExpr) -> MatrixExpr | None:
    """F for the vector (I ∘ F) 1 of F's diagonal, as :func:`_assemble` writes F_kk at a free k."""
    if not (isinstance(vector, MatMul) and len(vector.args) == 2 and isinstance(vector.args[1], OneMatrix)):
        return None
    inner = vector.args[0]
    if isinstance(inner, HadamardProduct) and len(inner.args) == 2 and isinstance(inner.args[0], Identity):
        return inner.args[1]
    return None


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


def _diagonals_apart(factors: list[_Factor], free: tuple, indices: Indices) -> list[_Factor]:
    """F_kk beside other factors at k: Σ_k A_ki F_kk B_jk = Σ_k Σ_l A_ki (I ∘ F)_kl B_jl, so that every
    index joins at most two slots (F_kk alone is a trace, left to the chains)."""
    factors = list(factors)
    for k in {f.row for f in factors if f.row == f.col != ONE}:  # F_kk G_kk = (F ∘ G)_kk
        diagonal = [f for f in factors if f.row == f.col == k]
        if len(diagonal) > 1:
            factors = [f for f in factors if f not in diagonal]
            factors.append(_Factor(HadamardProduct(*(f.matrix for f in diagonal)), k, k))

    def apart(factor: _Factor) -> bool:
        k = factor.row
        others = [f for f in factors if f is not factor and k in f.slots()]
        return factor.col == k and k != ONE and bool(others or k in free)

    while (factor := next((f for f in factors if apart(f)), None)) is not None:
        k = factor.row
        others = [f for f in factors if f is not factor and k in f.slots()]
        other = indices.fresh(indices.ranges[k])
        factors.remove(factor)
        factors.append(_Factor(HadamardProduct(Identity(indices.ranges[k]), factor.matrix), k, other))
        if others:  # the other end of k becomes l
            moved = others[-1]
            slots = (other, moved.col) if moved.row == k else (moved.row, other)
            factors[factors.index(moved)] = _Factor(moved.matrix, *slots)
        else:  # F_ii at a free index only: ((I ∘ F) 1)_i
            factors.append(_Factor(OneMatrix(indices.ranges[k], 1), other, ONE))
    return factors


def _merge_hadamard(factors: list[_Factor], dummies: list[sympy.Symbol], indices: Indices) -> list[_Factor]:
    """Index patterns that are elementwise products, written as such so that every chain is a plain
    matrix product again: M_kl N_kl → (M ∘ N)_kl; Σ_l X_li y_l f_l → (y ∘ f)_l; and a vector v_k at an
    index two matrices share, A_ki v_k B_jk → (Aᵀ diag(v) Bᵀ)_ij."""
    merged = True
    while merged:  # two factors on the same pair of indices
        merged = False
        for n, first in enumerate(factors):
            pair = set(first.slots())
            if ONE in pair or len(pair) != 2:
                continue
            twin = next((f for f in factors[n + 1 :] if set(f.slots()) == pair), None)
            alone = pair <= set(dummies) and all(f in (first, twin) for f in factors if pair & set(f.slots()))
            if twin is not None and not alone:  # Σ_kl M_kl N_kl alone is the loop tr(M Nᵀ), left to _assemble
                combined = HadamardProduct(first.matrix, twin.oriented(first.row)[0])
                factors = [f for f in factors if f is not first and f is not twin]
                factors.append(_Factor(combined, first.row, first.col))
                merged = True
                break
    for dummy in dummies:
        holders = [f for f in factors if dummy in f.slots()]
        vectors = [f for f in holders if ONE in f.slots()]
        if len(holders) > 2 and len(vectors) >= 2:
            combined = HadamardProduct(*(f.oriented(dummy)[0] for f in vectors))
            factors = [f for f in factors if f not in vectors] + [_Factor(combined, dummy, ONE)]
            holders = [f for f in factors if dummy in f.slots()]
            vectors = [f for f in holders if ONE in f.slots()]
        if len(holders) == 3 and len(vectors) == 1:
            (vector,) = vectors
            moved = next(f for f in holders if f is not vector)
            other = indices.fresh(indices.ranges[dummy])
            factors = [f for f in factors if f is not vector and f is not moved]
            diagonal = _Factor(Diag(vector.oriented(dummy)[0]), dummy, other)
            renamed = _Factor(moved.matrix, *(other if slot == dummy else slot for slot in moved.slots()))
            factors += [diagonal, renamed]
    return factors


def _assemble(factors: list[_Factor], free: tuple[sympy.Symbol, ...], indices: Indices) -> MatrixExpr:
    """Follow chains of shared indices: free → … → ONE (a column), free → … → free (a matrix),
    ONE → … → ONE (a scalar), closed loops (traces).  Several chains at a free index multiply
    elementwise (Hadamard)."""
    unused = list(factors)

    def walk(start: sympy.Expr, stop: sympy.Expr) -> tuple[MatrixExpr, sympy.Expr]:
        """The product along the chain from ``start``, and the slot it ends at (``stop``, ONE, or
        ``start`` again: a chain back to its own free index is a diagonal)."""
        pieces, slot = [], start
        while True:
            holder = next((f for f in unused if slot in f.slots()), None)
            if holder is None:
                pattern = sympy.sstr(Mul(*(_entry_of(f) for f in factors)))
                raise UnsupportedExpression(
                    f"cannot write {pattern} as a matrix expression: index {slot} ends in no factor"
                )
            unused.remove(holder)
            matrix, slot = holder.oriented(slot)
            pieces.append(matrix)
            if slot in (stop, ONE) or (slot == start and start in free):
                return (canonical(MatMul(*pieces)) if len(pieces) > 1 else pieces[0]), slot

    def from_index(index: sympy.Symbol, stop: sympy.Expr = ONE) -> tuple[list[MatrixExpr], list[MatrixExpr]]:
        """The chains from a free index: those that end at ``stop`` (matrices), and the vectors."""
        matrices: list[MatrixExpr] = []
        vectors: list[MatrixExpr] = []
        while any(index in f.slots() for f in unused):
            chain, end = walk(index, stop)
            if end == index:  # back at its own index: the diagonal, F_ii = ((I ∘ F) 1)_i
                size = indices.ranges[index]
                chain, end = MatMul(HadamardProduct(Identity(size), chain), OneMatrix(size, 1)), ONE
            (vectors if end == ONE else matrices).append(chain)
        return matrices, vectors

    def hadamard(parts: list[MatrixExpr]) -> MatrixExpr:
        return canonical(HadamardProduct(*parts)) if len(parts) > 1 else parts[0]

    if len(free) == 1:
        main = hadamard(from_index(free[0])[1])
    elif len(free) == 2:
        i, j = free
        matrices, rows = from_index(i, j)
        columns = from_index(j)[1]
        if rows or columns or not matrices:  # a_i b_j: an outer product (with 1 where a side has none)
            row = hadamard(rows) if rows else OneMatrix(indices.ranges[i], 1)
            column = hadamard(columns) if columns else OneMatrix(indices.ranges[j], 1)
            matrices.append(canonical(MatMul(row, Transpose(column))))
        main = hadamard(matrices)
    else:
        main = None
    scalars = []
    while unused:
        start = next((f for f in unused if ONE in f.slots()), None)
        if start is not None:
            scalars.append(_scalar(walk(ONE, ONE)[0]))
        else:
            loop_start = unused[0].row
            scalars.append(Trace(walk(loop_start, loop_start)[0]))
    scale = Mul(*scalars)
    if main is None:  # no free index: the scalar itself
        return scale
    return main if scale == 1 else _scaled(scale, main)


def _entry_of(factor: _Factor) -> sympy.Expr:
    return MatrixElement(factor.matrix, factor.row, factor.col)


def _scaled(scale: sympy.Expr, matrix: sympy.Basic) -> sympy.Basic:
    """scale · matrix, its determinants kept (sympy's * would write det(AXB) as det(A) det(X) det(B))."""
    return canonical(MatMul(scale, matrix)) if isinstance(matrix, MatrixExpr) else scale * matrix


def canonical(matrix: sympy.Basic) -> sympy.Basic:
    """``matrix.doit()`` with every determinant kept as written: det(AXB) stays det(AXB), as the
    Cookbook writes Jacobi's formula, not det(A) det(X) det(B)."""
    kept = {det: sympy.Dummy(f"det{n}") for n, det in enumerate(matrix.atoms(Determinant))}
    done = matrix.xreplace(kept).doit()
    return done.xreplace({dummy: det for det, dummy in kept.items()})


def _scalar(matrix: sympy.Basic) -> sympy.Expr:
    if isinstance(matrix, MatrixExpr):
        return AsScalar(matrix) if matrix.shape == (1, 1) else matrix
    if isinstance(matrix, sympy.MatrixBase):
        return matrix[0, 0]
    return matrix
