"""Matrix calculus in index notation, as the seed deck derives it (S7-S10).

(∇_x f)_i = ∂f/∂x_i → index notation (the definition of the matrix product or trace) → the rule
engine, entry by entry (sum rule into the sums, product rule, Kronecker delta property, Jacobi's
formula, …) → contraction of the Kronecker deltas → assumptions (symmetric M) → renaming dummy
indices → back to matrix form → the gradient in the chosen layout.  Every step is recorded; the
result is checked by finite differences (:mod:`derivgen.calculus.matrix_check`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy import Add, Derivative, KroneckerDelta, MatAdd, MatMul, MatrixSymbol, Mul, OneMatrix, Sum, Transpose
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import DerivgenError
from ..input.matrices import (
    AsScalar,
    Assumptions,
    ShapeError,
    Softmax,
    declare,
    evaluated_matrix,
    parse_matrix,
    read_assumptions,
)
from .engine import DEFAULT_LIMITS, EngineLimits, RuleEngine, node_at, replace_at
from .indices import ONE, Indices, canonical, to_index, to_matrix, write_traces
from .matrix_check import check_gradient, check_step
from .model import Derivation, LatexOf, Left, Part, Result, Step
from .rules import REGISTRY
from .rules.base import COSMETIC, written_sums
from .rules.tidy import evaluated, same_up_to_order

LAYOUTS = ("row", "shape")


@dataclass
class MatrixCalculus(Result):
    """A scalar function of a vector or matrix, derived in index notation and checked."""

    expression: sympy.Expr
    variable: MatrixSymbol
    layout: str
    assumptions: Assumptions
    index_derivation: Derivation  # (∇f)_i = … step by step, ending with the entry in matrix form
    matrix_steps: list[Step] = field(default_factory=list)  # layout, assumptions, tidying
    verified: bool = False
    # the function as the user typed it (parse_matrix(..., written=True)): the same function, shown on
    # the left side and in a sheet's question with its sums in the order typed; derived is ``expression``
    shown: sympy.Basic | None = None

    @property
    def steps(self) -> list[Step]:
        return [*self.index_derivation.steps, *self.matrix_steps]

    @property
    def result(self) -> sympy.Basic:
        return self.matrix_steps[-1].after if self.matrix_steps else self.index_derivation.result

    @property
    def left(self) -> Left:
        given = tuple(sorted(self.expression.atoms(MatrixSymbol), key=str))
        facts = tuple((kind, name) for kind, names in sorted(self.assumptions.facts.items()) for name in sorted(names))
        return dataclasses.replace(self._entry_left, notation="matrix_gradient", given=given, facts=facts)

    @property
    def _entry_left(self) -> Left:
        """(∇_x f)_i, f as the user typed it where it was typed."""
        if self.shown is None:
            return Left("matrix_gradient_entry", (self.expression,), (self.variable,))
        return Left("matrix_gradient_entry", (self.shown,), (self.variable,), written=written_sums(self.shown))

    @property
    def matrix_phase(self) -> Derivation:
        """The steps after the index notation as a derivation of their own."""
        phase = Derivation(self.expression, self.variable, list(self.matrix_steps), self.verified, True)
        phase.presenter = self.presenter  # built anew on each access: it prints like its whole
        return phase

    @property
    def parts(self) -> list[Part]:
        """The index phase under (∇_x f)_i, then the matrix phase under ∇_x f."""
        return [
            Part(self._entry_left, derivation=self.index_derivation),
            Part(self.left, derivation=self.matrix_phase, continues=True),
        ]

    @property
    def check_note(self) -> str:
        return "checked by finite differences" if self.verified else "not checked"

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
        latex = self._latex_of(latex)
        data: dict[str, Any] = {
            "expression": str(self.expression),
            "wrt": self.variable.name,
            "layout": self.layout,
            "steps": [step.to_dict(latex) for step in self.steps],
            "result": str(self.result),
        }
        if latex is not None:
            data["result_latex"] = latex(self.result)
        data["verified"] = self.verified
        return data


def derive_matrix(
    expression: str | sympy.Basic,
    wrt: str | sympy.Basic,
    symbols: dict[str, str],
    assume: Iterable[str] = (),
    layout: str = "row",
    verify: bool = True,
    limits: EngineLimits = DEFAULT_LIMITS,
    written: bool | None = None,
) -> MatrixCalculus:
    """Derive a scalar function of vectors and matrices by ``wrt`` in index notation.

    ``symbols`` declares every name: ``{"x": "vector(n)", "M": "matrix(n, n)", "lam": "scalar"}``;
    ``assume`` lists facts such as ``"symmetric(M)"``.  ``layout="row"`` (the seed's convention)
    gives the gradient by a column vector as a row; ``"shape"`` gives it the variable's shape.

    Text is shown as written (``written=None``): the left side ∇_x f and a sheet's question keep the
    order of the terms typed.  A tree is shown as sympy orders it, unless ``written=True`` says it is
    ``parse_matrix(text, symbols, written=True)``'s.  The engine derives the evaluated function either
    way (the same function; index notation is built on evaluated trees).
    """
    if layout not in LAYOUTS:
        raise DerivgenError(f"layout must be row or shape, not {layout!r}")
    if not isinstance(symbols, dict) or not symbols:
        raise ShapeError("declare the symbols: symbols={'x': 'vector(n)', 'M': 'matrix(n, n)'}")
    declared = {name: declare(name, spec) for name, spec in symbols.items()}
    facts = read_assumptions(list(assume), declared)
    shown: sympy.Basic | None = None
    if isinstance(expression, str):
        function = parse_matrix(expression, declared)
        if written is not False:
            shown = parse_matrix(expression, declared, written=True)
    elif written:
        function, shown = evaluated_matrix(expression), expression
    else:
        function = expression
    variable = _declared_variable(wrt, declared, function)
    calculus = _MatrixEngine(function, variable, facts, layout, verify, limits).run()
    calculus.shown = shown
    return calculus


def _declared_variable(wrt, declared: dict[str, sympy.Basic], function) -> MatrixSymbol | sympy.Symbol:
    """The vector or matrix ``wrt`` names, matched by name like scalar variables: a caller's own
    ``Symbol("x")`` or ``MatrixSymbol("x", 3, 1)`` is not the declared ``x`` object, and taking it
    as given would silently derive 0."""
    name = wrt if isinstance(wrt, str) else getattr(wrt, "name", None)
    if not isinstance(name, str):
        raise ShapeError(f"the variable to differentiate by must be a name such as x, not {wrt!r}")
    in_function = {m for m in function.atoms(MatrixSymbol) if m.name == name}
    if len(in_function) > 1:
        raise ShapeError(f"the expression holds {len(in_function)} different matrices named {name}")
    variable = next(iter(in_function), declared.get(name))
    if isinstance(variable, sympy.Symbol):  # a declared scalar: the ordinary derivative, in index notation
        return variable
    if not isinstance(variable, MatrixSymbol):
        raise ShapeError(f"{name!r} must be a declared scalar, vector or matrix to differentiate by")
    # dimensions by name too: the declared n is a positive integer symbol, the caller's may be plain
    given, known = ("×".join(map(str, shape)) for shape in (getattr(wrt, "shape", variable.shape), variable.shape))
    if given != known:
        raise ShapeError(f"{name} is declared {known}, but the variable given is {given}")
    return variable


class _MatrixEngine:
    def __init__(self, function, variable: MatrixSymbol, facts: Assumptions, layout: str, verify: bool, limits):
        self.function = function
        self.variable = variable
        self.facts = facts
        self.layout = layout
        self.verify = verify
        self.limits = limits
        # the user's own names, dimensions included: no index may take one (a scalar k beside Σ_k would read
        # as the index, an index p in Σ_{k=0}^{p-1} as the dimension p of a p×n matrix)
        names = {s.name for s in function.free_symbols} | {m.name for m in function.atoms(MatrixSymbol)}
        shaped = function.atoms(MatrixSymbol, OneMatrix)
        names |= {d.name for m in shaped for d in sympy.Tuple(*m.shape).free_symbols}
        self.user_names = frozenset(names)
        self.indices = Indices(taken=set(self.user_names))
        if isinstance(variable, sympy.Symbol):  # by a scalar: no entry, no free index
            self.free: tuple[sympy.Symbol, ...] = ()
            self.entry: sympy.Basic = variable
            return
        rows, cols = variable.shape
        self.free = tuple(self._free_index(size) for size in ((rows,) if cols == 1 else (rows, cols)))
        self.entry = MatrixElement(variable, self.free[0], self.free[1] if cols != 1 else ONE)

    def _free_index(self, size) -> sympy.Symbol:
        """i (then j) for the entry of the gradient, unless the user has a symbol of that name."""
        name = next(n for n in ("i", "j", "i_1", "j_1", "i_2", "j_2") if n not in self.indices.taken)
        return self.indices.index(name, size)

    def _check(self, steps: list[Step]) -> None:
        """Every step keeps its value (random sizes, values and index values)."""
        if not self.verify:
            return
        for step in steps:
            replacement = step.replacement
            if step.rule in _COLLECT:  # compare with the entry (i, j) of the collected matrix
                row_layout = self.layout == "row" and self.variable.shape[1] == 1
                replacement = (
                    MatrixElement(replacement, ONE, self.free[0]) if row_layout else self.entry_of(replacement)
                )
            focus = step.focus
            if not self.free:  # by a scalar λ: checked as the entry of a 1×1 matrix, which the checker nudges
                stand_in = {self.variable: MatrixSymbol(f"{self.variable.name}_", 1, 1)[0, 0]}
                focus, replacement = focus.xreplace(stand_in), replacement.xreplace(stand_in)
            check_step(focus, replacement, self.indices.ranges, self.facts, step.label)

    def entry_of(self, matrix: sympy.Basic) -> sympy.Basic:
        """Entry (i, j) — or i of a column — of a matrix of the variable's shape (a scalar itself)."""
        if not self.free:
            return matrix
        return MatrixElement(matrix, self.free[0], self.free[1] if len(self.free) > 1 else ONE)

    def run(self) -> MatrixCalculus:
        steps: list[Step] = []
        index_form = self._index_notation(steps)
        engine = RuleEngine(
            REGISTRY, False, self.limits, taken=self.indices.taken | {"u", "v", "w"}, indices=self.indices
        )
        derived = engine.run(index_form, self.entry)
        steps.extend(_reorderings_folded(derived.steps))
        current = steps[-1].after if steps else derived.result
        current = self._local_pass(current, steps)
        current = self._symmetric_entries(current, steps)
        current = self._rename_dummies(current, steps)
        current = self._evaluate(current, steps)
        current = self._softmax_entries(current, steps)
        current = self._combine_sums(current, steps)
        self._check(steps)  # before rebuilding: a wrong index step must be named, not trip to_matrix
        matrix = to_matrix(current, self.free, self.indices)
        entry = self.entry_of(matrix)
        _record(steps, "to_matrix", current, entry)  # none where the entry already reads as one: a_i
        index_derivation = Derivation(self.function, self.entry, steps, verified=self.verify, partial=True)
        calculus = MatrixCalculus(self.function, self.variable, self.layout, self.facts, index_derivation)
        calculus.matrix_steps = self._matrix_phase(entry, matrix)
        if self.verify:
            self._check([steps[-1], *calculus.matrix_steps] if steps else calculus.matrix_steps)
            # … and the result is the derivative (finite differences of the function itself)
            function, variable, result = self.function, self.variable, calculus.result
            if isinstance(variable, sympy.Symbol):  # a scalar λ checked as the entry of a 1×1 matrix
                variable = MatrixSymbol(f"{variable.name}_", 1, 1)
                function, result = (e.xreplace({self.variable: variable[0, 0]}) for e in (function, result))
            check_gradient(
                function, variable, result, self.facts, transposed=self.layout == "row" and variable.shape[1] == 1
            )
            calculus.verified = True
        return calculus

    def _index_notation(self, steps: list[Step]) -> sympy.Expr:
        """The function written with explicit sums, one definition a step (the trace, the matrix
        product), so that every line names what it used; softmax(z)_k stays an entry, for the
        log-softmax and softmax-Jacobian rules.  Returns the index form."""
        current = self.function
        stages: list[tuple[str, Callable[[sympy.Basic], sympy.Basic]]] = [
            ("softmax_definition", _softmax_written),
            ("trace_definition", lambda e: write_traces(e, self.indices)),
            (
                "matrix_product" if self.function.has(MatMul) else "index_notation",
                lambda e: to_index(e, self.indices, keep=(Softmax,)),
            ),
        ]
        for rule_id, write in stages:
            written = write(current)
            before, after = (Derivative(e, self.entry, evaluate=False) for e in (current, written))
            _record(steps, rule_id, before, after)
            current = written
        return current

    # -- the index phase after the derivative rules: contract the Kronecker deltas --------------------
    def _local_pass(self, expr: sympy.Basic, steps: list[Step]) -> sympy.Basic:
        """Apply the local rewrites (multiply out, split sums, contract deltas) until none applies."""
        rewrites: list[tuple[str, Callable]] = [
            ("multiply_out", _multiply_out),
            ("split_sum", _split_sum),
            ("merge_sums", _merge_nested_sums),
            ("contract", _contract),
        ]
        for _ in range(500):
            for rule_id, rewrite in rewrites:
                found = _first(expr, rewrite)
                if found is not None:
                    path, replacement = found
                    after = replace_at(expr, path, replacement)
                    _record(steps, rule_id, expr, after, focus=node_at(expr, path), replacement=replacement, path=path)
                    expr = after
                    break
            else:
                return expr
        raise DerivgenError("the contraction of Kronecker deltas did not finish")

    def _symmetric_entries(self, expr: sympy.Basic, steps: list[Step]) -> sympy.Basic:
        """S_li → S_il for a symmetric S, so that equal terms look equal (free index last)."""
        free = set(self.free)
        swaps = {}
        for element in expr.atoms(MatrixElement):
            parent = element.parent
            symmetric = isinstance(parent, MatrixSymbol) and self.facts.symmetric(parent.name)
            if symmetric and element.i in free and element.j not in free:
                swaps[element] = MatrixElement(parent, element.j, element.i)
        if not swaps:
            return expr
        after = expr.xreplace(swaps)
        names = sorted({e.parent.name for e in swaps})
        _record(steps, "symmetric", expr, after, note=_symmetric_note(names), subject=names)
        return after

    def _rename_dummies(self, expr: sympy.Basic, steps: list[Step]) -> sympy.Basic:
        """Each sum's dummy indices renamed k, l, … in order, so that equal terms can merge."""
        renamed = self._renamed_apart(expr, frozenset())
        _record(steps, "rename", expr, renamed)
        return renamed

    def _renamed_apart(self, expr: sympy.Basic, bound: frozenset[str]) -> sympy.Basic:
        """Outermost sums first, so that an inner sum never takes the name of an index bound around
        it: Σ_k y_k / Σ_l e^{z_l}, not Σ_k y_k / Σ_k e^{z_k}."""
        if not expr.has(Sum):
            return expr
        if isinstance(expr, Sum):
            total = self._canonical_sum(expr, bound)
            inside = bound | {limit[0].name for limit in total.limits}
            return Sum(self._renamed_apart(total.function, inside), *total.limits)
        args = [self._renamed_apart(arg, bound) for arg in expr.args]
        return expr if args == list(expr.args) else expr.func(*args)

    def _canonical_sum(self, total: Sum, bound: frozenset[str]) -> Sum:
        own = {limit[0] for limit in total.limits}
        # names the new ones must avoid: free in the body (an index bound inside is renamed later),
        # bound around this sum, the gradient's own indices and the user's symbols
        used = {str(s) for s in total.function.free_symbols if s not in own} | {str(f) for f in self.free}
        used |= self.user_names | bound
        mapping = {}
        for index, *_ in total.limits:
            size = self.indices.ranges[index]
            # the first free name that ranges over the same dimension (an index has one range)
            name = next(
                n
                for n in ("k", "l", "p", "q", "r", "s", "a", "b", "c", "k_1", "l_1", "p_1", "q_1")
                if n not in used and self.indices.ranges.get(sympy.Symbol(n, integer=True), size) == size
            )
            used.add(name)
            mapping[index] = self.indices.index(name, size)
        function = total.function.xreplace(mapping)
        return Sum(function, *((mapping.get(i, i), low, high) for i, low, high in total.limits))

    def _softmax_entries(self, expr: sympy.Basic, steps: list[Step]) -> sympy.Basic:
        """e^{g_i} / Σ_l e^{g_l} → softmax(g)_i wherever the quotient stands in a product."""
        found = _softmax_quotients(expr)
        _record(steps, "softmax_definition", expr, found)
        return found

    def _combine_sums(self, expr: sympy.Basic, steps: list[Step]) -> sympy.Basic:
        """Σ_k a_k + Σ_k b_k → Σ_k (a_k + b_k) multiplied out, where terms cancel: logistic regression's
        (1 − y_k)σ_k X_ki − (1 − σ_k) y_k X_ki becomes σ_k X_ki − y_k X_ki."""
        sums = [term for term in Add.make_args(expr) if isinstance(_unscaled(term), Sum)]
        if len(sums) < 2 or len({_unscaled(term).limits for term in sums}) != 1:
            return expr
        limits = _unscaled(sums[0]).limits
        summands = [term.as_coeff_Mul()[0] * _unscaled(term).function for term in sums]
        inside = sympy.expand(Add(*summands))
        # worth a step only where multiplying out cancels terms
        if len(Add.make_args(inside)) >= sum(len(Add.make_args(sympy.expand(f))) for f in summands):
            return expr
        rest = [term for term in Add.make_args(expr) if term not in sums]
        combined = Add(Sum(inside, *limits), *rest)
        _record(steps, "combine_sums", expr, combined)
        return combined

    def _evaluate(self, expr: sympy.Basic, steps: list[Step]) -> sympy.Basic:
        result = evaluated(expr)
        _record(steps, "evaluate", expr, result)
        return result

    # -- the matrix phase ----------------------------------------------------------------------------
    def _matrix_phase(self, entry: sympy.Basic, matrix: sympy.Basic) -> list[Step]:
        steps: list[Step] = []
        if not self.free:  # by a scalar: the derivative is the scalar the index phase ended with
            return steps
        if self.variable.shape[1] == 1 and self.layout == "row":
            current = canonical(Transpose(matrix))
            _record(steps, "gradient_row", entry, current)
        else:
            current = matrix
            _record(steps, "gradient_shape", entry, current)
        symmetric = {Transpose(m): m for m in current.atoms(MatrixSymbol) if self.facts.symmetric(m.name)}
        if symmetric and current.has(*symmetric):  # the matrix form still shows Sᵀ
            after = canonical(current.xreplace(symmetric))
            matrices = sorted({m.name for m in symmetric.values()})
            _record(steps, "symmetric", current, after, note=_symmetric_note(matrices), subject=matrices)
            current = after
        ones = _sums_to_one(current, self.facts)
        if ones is not None:
            after, vectors = ones
            note = f"the entries of {vectors} sum to one"
            _record(steps, "sums_to_one", current, after, note=note, subject=[vectors])
            current = after
        softmax = _recognize_softmax(current)
        _record(steps, "softmax_definition", current, softmax)
        current = softmax
        _record(steps, "factor_matrix", current, _factor_common(current))
        return steps


_COLLECT = ("gradient_row", "gradient_shape")


def _symmetric_note(names: list[str]) -> str:
    """Which declared matrix the step needs symmetric, in words for the notes."""
    ordered = sorted(names)
    return f"{', '.join(ordered)} {'is' if len(ordered) == 1 else 'are'} symmetric"


def _record(
    steps: list[Step], rule: str, before, after, *, note: str | None = None, subject: Iterable[str] = (), **where
) -> None:
    """Append the step of registry rule ``rule`` unless it changes nothing; a step that only reorders
    terms or factors is cosmetic: it joins the line before instead of showing the same line again."""
    if after == before:
        return
    step = _step(rule, before, after, note=note, subject=subject, **where)
    steps.append(_folded_if_reordering(step))


def _folded_if_reordering(step: Step) -> Step:
    if step.level != COSMETIC and _only_reordered(step.before, step.after):
        return dataclasses.replace(step, level=COSMETIC)
    return step


def _reorderings_folded(steps: list[Step]) -> list[Step]:
    """The rule engine's tidy-up steps, with those that only reorder (B_lk δ_ik δ_jl → δ_ik δ_jl B_lk)
    made cosmetic, under their rule's own label."""
    return [
        dataclasses.replace(_folded_if_reordering(step), label=REGISTRY[step.rule].label) if step.is_tidy else step
        for step in steps
    ]


def _only_reordered(before: sympy.Basic, after: sympy.Basic) -> bool:
    """Equal up to the order and grouping of terms and factors: (a b) c and c b a print alike but for
    the order."""
    return same_up_to_order(_flattened(before), _flattened(after))


def _flattened(expr: sympy.Basic) -> sympy.Basic:
    """Nested sums and products merged into one, nothing else changed: Mul(a, Mul(b, c)) → Mul(a, b, c)."""
    if expr.is_Atom or not expr.args:
        return expr
    args = [_flattened(arg) for arg in expr.args]
    if isinstance(expr, Add | Mul):
        args = [part for arg in args for part in (arg.args if type(arg) is type(expr) else (arg,))]
        return expr.func(*args, evaluate=False)
    return expr.func(*args)


def _step(
    rule: str,
    before,
    after,
    focus=None,
    replacement=None,
    path=(),
    note: str | None = None,
    subject: Iterable[str] = (),
) -> Step:
    """A step of the registry rule ``rule``, with its label (naming ``subject``: the matrix that
    must be symmetric) and level."""
    registered = REGISTRY[rule]
    return Step(
        rule=rule,
        label=registered.label_for(subject),
        before=before,
        after=after,
        focus=before if focus is None else focus,
        replacement=after if replacement is None else replacement,
        path=path,
        note=note,
        level=registered.level,
        is_tidy=True,
    )


def _first(expr: sympy.Basic, rewrite: Callable) -> tuple[tuple[int, ...], sympy.Basic] | None:
    """Path and replacement of the first node (outermost first) that ``rewrite`` changes."""
    stack: list[tuple[sympy.Basic, tuple[int, ...]]] = [(expr, ())]
    while stack:
        node, path = stack.pop()
        replacement = rewrite(node)
        if replacement is not None:
            return path, replacement
        if not node.is_Atom:
            stack.extend((arg, (*path, i)) for i, arg in reversed(list(enumerate(node.args))))
    return None


def _multiply_out(node: sympy.Basic) -> sympy.Basic | None:
    """Σ c (δ a + b δ) → Σ (c δ a + c b δ): a sum whose product hides a delta in a bracket."""
    if not isinstance(node, Sum) or not isinstance(node.function, Mul):
        return None
    if not any(isinstance(f, Add) and f.has(KroneckerDelta) for f in node.function.args):
        return None
    return Sum(sympy.expand(node.function, deep=False), *node.limits)


def _split_sum(node: sympy.Basic) -> sympy.Basic | None:
    """Σ (a + b) → Σ a + Σ b."""
    if not isinstance(node, Sum) or not isinstance(node.function, Add):
        return None
    return Add(*(Sum(term, *node.limits) for term in node.function.args), evaluate=False)


def _merge_nested_sums(node: sympy.Basic) -> sympy.Basic | None:
    """Σ_k a_k Σ_p δ_jk b_p → Σ_k Σ_p a_k δ_jk b_p: an inner sum (from Jacobi's formula, the inverse)
    whose delta holds an index of the outer sum joins it, so that the delta can be contracted.  Not
    where an index of the inner sum is also bound elsewhere in the product (it would be captured)."""
    if not isinstance(node, Sum) or not isinstance(node.function, Mul):
        return None
    outer = {limit[0] for limit in node.limits}
    for inner in node.function.args:
        if not isinstance(inner, Sum):
            continue
        deltas = inner.function.atoms(KroneckerDelta)
        if not any(set(delta.args) & outer for delta in deltas):
            continue
        rest = [f for f in node.function.args if f is not inner]
        if {limit[0] for limit in inner.limits} & Mul(*rest).atoms(sympy.Symbol):
            continue
        return Sum(Mul(*rest, inner.function), *node.limits, *inner.limits)
    return None


def _contract(node: sympy.Basic) -> sympy.Basic | None:
    """Σ_k δ_ik a_k → a_i."""
    if not isinstance(node, Sum):
        return None
    summed = [limit[0] for limit in node.limits]
    product = Mul(*Mul.make_args(node.function))  # flattened: a delta may sit in a nested product
    for factor in Mul.make_args(product):
        if not isinstance(factor, KroneckerDelta):
            continue
        first, second = factor.args[:2]
        for index, other in ((first, second), (second, first)):
            if index in summed and other != index:
                rest = Mul(*(f for f in Mul.make_args(product) if f is not factor))
                function = rest.xreplace({index: other})
                limits = [limit for limit in node.limits if limit[0] != index]
                return Sum(function, *limits) if limits else function
    return None


def _sums_to_one(expr: sympy.Basic, facts: Assumptions) -> tuple[sympy.Basic, str] | None:
    """1ᵀy → 1 (and yᵀ1) for a declared sums_to_one(y)."""
    replacements, names = {}, set()
    for scalar in expr.atoms(AsScalar):
        factors = set(scalar.matrix.args) if isinstance(scalar.matrix, MatMul) else set()
        for factor in factors:
            vector = factor.arg if isinstance(factor, Transpose) else factor
            if isinstance(vector, MatrixSymbol) and facts.holds("sums_to_one", vector.name):
                others = factors - {factor}
                if len(others) == 1 and isinstance(_untransposed(next(iter(others))), OneMatrix):
                    replacements[scalar] = sympy.S.One
                    names.add(vector.name)
    if not replacements:
        return None
    return expr.xreplace(replacements).doit(), ", ".join(sorted(names))


def _softmax_quotients(expr: sympy.Basic) -> sympy.Basic:
    """Every product e^{g_i} · (Σ_l e^{g_l})⁻¹ (g a column vector, entries g_i) → softmax(g)_i."""
    if expr.is_Atom or not expr.args:
        return expr
    args = [_softmax_quotients(arg) for arg in expr.args]
    if isinstance(expr, Mul):
        args = _softmax_factors(args)
        return Mul(*args)
    return expr if args == list(expr.args) else expr.func(*args)


def _softmax_factors(factors: list[sympy.Basic]) -> list[sympy.Basic]:
    for normaliser in factors:
        if not (normaliser.is_Pow and normaliser.exp == -1 and isinstance(normaliser.base, Sum)):
            continue
        total = normaliser.base
        if len(total.limits) != 1 or not isinstance(total.function, sympy.exp):
            continue
        inner = total.function.args[0]
        index = total.limits[0][0]
        if not (isinstance(inner, MatrixElement) and inner.i == index and inner.j == 0):
            continue
        vector = inner.parent
        for numerator in factors:
            argument = numerator.args[0] if isinstance(numerator, sympy.exp) else None
            if isinstance(argument, MatrixElement) and argument.parent == vector and argument.j == 0:
                rest = [f for f in factors if f is not normaliser and f is not numerator]
                return [*rest, MatrixElement(Softmax(vector), argument.i, 0)]
    return factors


def _unscaled(term: sympy.Basic) -> sympy.Basic:
    """The Σ in c·Σ (or the term itself)."""
    return term.as_coeff_Mul()[1]


def _untransposed(matrix: sympy.Basic) -> sympy.Basic:
    return matrix.arg if isinstance(matrix, Transpose) else matrix


def _exp_argument(matrix: sympy.Basic) -> tuple[sympy.Basic, bool] | None:
    """(g, transposed) when ``matrix`` is exp applied elementwise to the column vector g or to gᵀ
    (also written xᵀWᵀ for (Wx)ᵀ)."""
    if not isinstance(matrix, ElementwiseApplyFunction):
        return None
    t = matrix.function.variables[0]
    if matrix.function.expr != sympy.exp(t):
        return None
    inner = matrix.expr
    if inner.shape[1] == 1:
        return inner, False
    return canonical(Transpose(inner)), True


def _normalises(factor: sympy.Basic, vector: sympy.Basic) -> bool:
    """Whether ``factor`` is 1 / (1ᵀ exp(g)) (or exp(g)ᵀ1) for the column vector g = ``vector``."""
    if not (factor.is_Pow and factor.exp == -1 and isinstance(factor.base, AsScalar)):
        return False
    inside = factor.base.matrix
    parts = inside.args if isinstance(inside, MatMul) else ()
    return any((_exp_argument(p) or (None,))[0] == vector for p in parts)


def _recognize_softmax(expr: sympy.Basic) -> sympy.Basic:
    """exp(g) / (1ᵀ exp(g)) → softmax(g), term by term, also where exp(g) is one factor of a product
    (exp(Wx)xᵀ / (1ᵀexp(Wx)) → softmax(Wx)xᵀ)."""
    terms = expr.args if isinstance(expr, MatAdd) else (expr,)
    rebuilt = []
    for term in terms:
        coefficient, matrices = _coefficient_and_factors(term)
        scalars = list(Mul.make_args(coefficient))
        for n, matrix in enumerate(matrices):
            found = _exp_argument(matrix)
            normaliser = next((f for f in scalars if found and _normalises(f, found[0])), None)
            if found is None or normaliser is None:
                continue
            z, transposed = found
            matrices[n] = Transpose(Softmax(z)) if transposed else Softmax(z)
            scalars.remove(normaliser)
        rest = Mul(*scalars)
        product = MatMul(*matrices) if len(matrices) > 1 else matrices[0]
        rebuilt.append(product if rest == 1 else rest * product)
    return MatAdd(*rebuilt) if len(rebuilt) > 1 else rebuilt[0]


def _softmax_written(expr: sympy.Basic) -> sympy.Basic:
    """exp(g) / (1ᵀexp(g)) → softmax(g) wherever the user wrote softmax out (log of it included)."""
    return expr.replace(lambda e: isinstance(e, MatMul), _recognize_softmax)


def _factor_common(expr: sympy.Basic) -> sympy.Basic:
    """xᵀA + xᵀB → xᵀ(A + B), and σᵀX − yᵀX → (σ − y)ᵀX: the same first (or last) matrix factor in every
    term, where every term keeps a matrix besides it (S⁻¹/2 − S⁻¹vvᵀS⁻¹/2 stays as it is)."""
    if not isinstance(expr, MatAdd):
        return expr
    split = [_coefficient_and_factors(term) for term in expr.args]
    for end in (0, -1):
        common = split[0][1][end]
        if not all(len(factors) >= 2 and factors[end] == common for _, factors in split):
            continue
        rest = [
            coefficient * canonical(MatMul(*(factors[1:] if end == 0 else factors[:-1])))
            for coefficient, factors in split
        ]
        total = MatAdd(*rest)
        return MatMul(common, total) if end == 0 else MatMul(total, common)
    return expr


def _coefficient_and_factors(term: sympy.Basic) -> tuple[sympy.Expr, list[sympy.Basic]]:
    """The scalar coefficient and the matrix factors of one term of a sum of matrices."""
    if isinstance(term, MatMul):
        scalars = [f for f in term.args if not isinstance(f, sympy.MatrixExpr)]
        return Mul(*scalars), [f for f in term.args if isinstance(f, sympy.MatrixExpr)]
    return sympy.S.One, [term]


__all__ = ["LAYOUTS", "MatrixCalculus", "derive_matrix"]
