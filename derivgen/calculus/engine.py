"""The engine: rewrite one pending derivative at a time until none is left, then tidy up.

It picks the leftmost-outermost pending ``Derivative`` (the order a lecturer works in), asks the
rule registry for the first rule that applies, replaces exactly that node, checks the rewrite,
and records a :class:`~derivgen.calculus.model.Step`.  It knows no rule by name.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy
from sympy import Derivative, Subs, Symbol
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.core.function import AppliedUndef

from ..errors import DerivgenError, LimitExceeded, UnsupportedExpression
from ..input.parser import _IDENTIFIER, parse
from .model import Derivation, Step
from .rules import REGISTRY, RuleRegistry
from .verify import check_equal

if TYPE_CHECKING:
    from .matrix_engine import MatrixCalculus
    from .multivariate import MatrixDerivation

_STAND_IN_NAMES = ("u", "v", "w", "z", "s", "t")


@dataclass(frozen=True)
class EngineLimits:
    """Bounds on one derivation (nested chain-rule derivations included)."""

    max_steps: int = 2000
    max_seconds: float = 30.0


DEFAULT_LIMITS = EngineLimits()


MAX_ORDER = 10
METHODS = ("rules", "limit")


def derive(
    expression: str | sympy.Expr | list[str | sympy.Expr] | tuple[str | sympy.Expr, ...],
    wrt: str | sympy.Symbol | list[str | sympy.Symbol] | tuple[str | sympy.Symbol, ...],
    *,
    order: int = 1,
    verify: bool = True,
    positive: Iterable[str] = (),
    symbols: dict[str, str] | None = None,
    assume: Iterable[str] = (),
    layout: str = "row",
    method: str = "rules",
    limits: EngineLimits = DEFAULT_LIMITS,
    registry: RuleRegistry = REGISTRY,
) -> Derivation | MatrixDerivation | MatrixCalculus:
    """Derive ``expression`` with respect to ``wrt`` step by step.

    ``expression`` is text (read with :func:`derivgen.parse`, never ``eval``) or a sympy
    expression; a list of them gives the Jacobian.  ``wrt`` is a variable, or a list of them for
    the gradient (a 1×n row vector).  ``order=2`` with a list gives the Hessian, with one variable
    the second derivative.  Text is read with real symbols; those named in ``positive`` are
    positive (so that ``d/dx |ln x| = sign(ln x)/x``).  Variables are matched to the expression's
    symbols by name, so ``derive("sin(x)", Symbol("x"))`` derives by the real ``x`` of the text and
    the result is written in the expression's symbols; an expression holding two different symbols
    of one name is refused.  Every step is checked unless ``verify=False``.

    With ``symbols`` (``{"x": "vector(n)", "M": "matrix(n, n)"}``) the expression is a scalar
    function of vectors and matrices, derived in index notation (``assume=["symmetric(M)"]``,
    ``layout="row"`` or ``"shape"``); see :func:`derivgen.calculus.matrix_engine.derive_matrix`.
    ``method="limit"`` derives from the limit of the difference quotient instead of the rules.
    """
    if method not in METHODS:
        raise DerivgenError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "limit":
        if symbols is not None or order != 1 or isinstance(expression, list | tuple) or isinstance(wrt, list | tuple):
            raise DerivgenError("the limit method derives one function of one variable, once")
        from .limits import derive_by_limit

        expr = _assume_positive(_as_expression(expression), positive)
        return derive_by_limit(expr, _as_variable(wrt, expr), verify=verify)
    if symbols is not None:
        from ..input.matrices import ShapeError
        from .matrix_engine import derive_matrix

        if order != 1:
            raise DerivgenError("matrix derivatives are of order 1")
        if isinstance(expression, list | tuple) or isinstance(wrt, list | tuple):
            raise ShapeError("matrix calculus derives one scalar function by one vector or matrix, not lists")
        return derive_matrix(expression, wrt, symbols, assume, layout, verify, limits)
    several_functions = isinstance(expression, list | tuple)
    several_variables = isinstance(wrt, list | tuple)
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise DerivgenError(f"the order must be a whole number from 1 to {MAX_ORDER}, not {order!r}")
    if not (several_functions or several_variables or order > 1):
        expr = _assume_positive(_as_expression(expression), positive)
        variable = _as_variable(wrt, expr)
        return _Engine(registry, verify, limits, taken={s.name for s in expr.free_symbols}).run(expr, variable)

    from .multivariate import derive_many

    expressions = [
        _assume_positive(_as_expression(item), positive) for item in (expression if several_functions else [expression])
    ]
    if not expressions:
        raise DerivgenError("a Jacobian needs at least one function")
    names = list(wrt) if several_variables else [wrt]
    if not names:
        raise DerivgenError("give at least one variable to differentiate by")
    combined = sympy.Tuple(*expressions)
    variables = [_as_variable(name, combined) for name in names]
    partial = several_variables or several_functions

    def derive_one(expr: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        derivation = _Engine(registry, verify, limits, taken={s.name for s in combined.free_symbols}).run(
            expr, variable
        )
        derivation.partial = partial
        return derivation

    return derive_many(expressions, variables, order, derive_one, verify)


def only_variable(*expressions: sympy.Basic) -> str:
    """The name of the one variable of the expressions (``x`` when they are constant)."""
    names = sorted({symbol.name for expression in expressions for symbol in expression.free_symbols})
    if len(names) > 1:
        raise DerivgenError(f"the expression has several variables ({', '.join(names)}): say which one (wrt)")
    return names[0] if names else "x"


def _as_expression(expression: str | sympy.Expr) -> sympy.Expr:
    if isinstance(expression, str):
        return parse(expression)
    if isinstance(expression, int):
        return sympy.Integer(expression)
    if isinstance(expression, sympy.Expr) and not isinstance(expression, sympy.MatrixBase):
        if expression.has(sympy.zoo, sympy.nan):  # as the parser refuses 1/0 in text
            raise DerivgenError(f"the expression {sympy.sstr(expression)} is undefined (it holds zoo or nan)")
        return expression
    if isinstance(expression, list | tuple):
        raise DerivgenError("a list of functions must be flat: [f1, f2, …]")
    raise DerivgenError(f"cannot derive an object of type {type(expression).__name__}; give text or a sympy expression")


def _assume_positive(expr: sympy.Expr, names: Iterable[str]) -> sympy.Expr:
    names = set(names)
    for name in names:
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise DerivgenError(f"a positive variable must be a name such as x, not {name!r}")
    swap = {s: Symbol(s.name, positive=True) for s in expr.free_symbols if s.name in names}
    return expr.xreplace(swap) if swap else expr


def _as_variable(wrt: str | sympy.Symbol, expr: sympy.Basic) -> sympy.Symbol:
    """The symbol of ``expr`` that ``wrt`` names.

    Variables are matched by *name*: text is read with real symbols (positive ones for
    ``positive``), so a plain ``Symbol("x")`` given by the caller is another object than the
    ``x`` of ``"sin(x)"`` — matching by identity would silently give 0.  A name that stands for
    two different symbols in ``expr`` (say a real and a plain ``x``) cannot be resolved: error.
    """
    if isinstance(wrt, Symbol):
        name = wrt.name
    elif isinstance(wrt, str) and _IDENTIFIER.fullmatch(wrt):
        name = wrt
    else:
        raise DerivgenError(f"the variable to differentiate by must be a name such as x, not {wrt!r}")
    namesakes = sorted((s for s in expr.free_symbols if s.name == name), key=sympy.default_sort_key)
    if len(namesakes) > 1:
        kinds = ", ".join(_assumption_summary(s) for s in namesakes)
        raise DerivgenError(
            f"the expression holds {len(namesakes)} different symbols named {name} ({kinds}); "
            "build it with one symbol per name"
        )
    if namesakes:
        return namesakes[0]
    return wrt if isinstance(wrt, Symbol) else Symbol(name, real=True)


def _assumption_summary(symbol: sympy.Symbol) -> str:
    facts = [fact for fact in ("positive", "real", "integer") if symbol.assumptions0.get(fact)]
    return ", ".join(facts[:1]) if facts else "no assumptions"


def is_pending(node: sympy.Basic) -> bool:
    """A derivative still to be worked out.  The derivative of an undefined function by one of
    its own (distinct) arguments is final: f'(x), f'(g(x)), ∂h/∂f1."""
    if not isinstance(node, Derivative):
        return False
    inner = node.expr
    if isinstance(inner, AppliedUndef) and len(set(inner.args)) == len(inner.args):
        return not all(variable in inner.args for variable in node.variables)
    return True


def find_pending(expr: sympy.Basic) -> tuple[int, ...] | None:
    """Path (argument indices) of the leftmost-outermost pending derivative, or None."""
    stack: list[tuple[sympy.Basic, tuple[int, ...]]] = [(expr, ())]
    while stack:
        node, path = stack.pop()
        if is_pending(node):
            return path
        if isinstance(node, Derivative | Subs) or node.is_Atom:
            continue
        stack.extend((arg, (*path, i)) for i, arg in reversed(list(enumerate(node.args))))
    return None


def node_at(expr: sympy.Basic, path: tuple[int, ...]) -> sympy.Basic:
    for index in path:
        expr = expr.args[index]
    return expr


def replace_at(expr: sympy.Basic, path: tuple[int, ...], new: sympy.Basic) -> sympy.Basic:
    """``expr`` with the node at ``path`` replaced, nothing else re-evaluated or reordered."""
    if not path:
        return new
    index, rest = path[0], path[1:]
    args = list(expr.args)
    args[index] = replace_at(args[index], rest, new)
    if isinstance(expr, ExprWithLimits):  # Σ does no arithmetic, but wraps its body in 1·(…) unevaluated
        return expr.func(*args)
    with sympy.evaluate(False):
        return expr.func(*args)


class _Engine:
    def __init__(self, registry: RuleRegistry, verify: bool, limits: EngineLimits, taken: set[str]):
        self.registry = registry
        self.verify = verify
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds
        self.step_count = 0
        self.taken = set(taken)
        self.stand_ins = 0

    def run(self, expression: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        context = _Context(self, variable)
        current: sympy.Expr = Derivative(expression, variable, evaluate=False)
        steps: list[Step] = []
        while (path := find_pending(current)) is not None:
            focus = node_at(current, path)
            found = self.registry.rewrite(focus.expr, _Context(self, focus.variables[0]))
            if found is None:
                raise UnsupportedExpression(_unsupported_message(focus))
            rule, rewrite = found
            if self.verify:
                check_equal(focus, rewrite.replacement, rewrite.label or rule.label)
            after = replace_at(current, path, rewrite.replacement)
            steps.append(self._step(rule, rewrite, current, after, focus, path))
            current = after
        for rule in self.registry.family("tidy"):
            tidied = rule.apply(current, context) if rule.apply is not None else None
            if tidied is None or tidied.replacement == current:
                continue
            if self.verify:
                check_equal(current, tidied.replacement, rule.label)
            steps.append(self._step(rule, tidied, current, tidied.replacement, current, (), tidy=True))
            current = tidied.replacement
        derivation = Derivation(expression, variable, steps, verified=self.verify)
        if self.verify:
            # end to end as well: catches a slip in how steps were put together
            check_equal(derivation.start, derivation.result, "whole derivation")
        return derivation

    def _step(self, rule, rewrite, before, after, focus, path, tidy: bool = False) -> Step:
        self.step_count += 1
        if self.step_count > self.limits.max_steps:
            raise LimitExceeded(f"the derivation needs more than {self.limits.max_steps} steps")
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"the derivation takes longer than {self.limits.max_seconds:g} s")
        return Step(
            rule=rule.id,
            label=rewrite.label or rule.label,
            before=before,
            after=after,
            focus=focus,
            replacement=rewrite.replacement,
            path=path,
            note=rewrite.note,
            level=rule.level if rewrite.level is None else rewrite.level,
            chain=rewrite.chain,
            is_tidy=tidy,
        )

    def fresh_variable(self, real: bool = True) -> sympy.Symbol:
        while True:
            index, self.stand_ins = self.stand_ins, self.stand_ins + 1
            rounds, position = divmod(index, len(_STAND_IN_NAMES))
            name = _STAND_IN_NAMES[position] + (f"_{rounds}" if rounds else "")
            if name not in self.taken:
                self.taken.add(name)
                return Symbol(name, real=True) if real else Symbol(name)


class _Context:
    """What rules see of the engine (the :class:`~derivgen.calculus.rules.Context` protocol)."""

    def __init__(self, engine: _Engine, wrt: sympy.Symbol):
        self.engine = engine
        self.wrt = wrt

    def derive_outer(self, outer: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        return self.engine.run(outer, variable)

    def fresh_variable(self, real: bool = True) -> sympy.Symbol:
        return self.engine.fresh_variable(real)


def _unsupported_message(focus: Derivative) -> str:
    expr = focus.expr
    name = getattr(expr.func, "__name__", type(expr).__name__)
    return (
        f"no rule differentiates {name}(...) with respect to {focus.variables[0]} "
        f"(in {sympy.sstr(expr)}); it is not among the supported functions"
    )
