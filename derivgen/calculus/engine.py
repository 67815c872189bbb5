"""The engine: rewrite one pending derivative at a time until none is left, then tidy up.

It picks the leftmost-outermost pending ``Derivative`` (the order a lecturer works in), asks the
rule registry for the first rule that applies, replaces exactly that node, checks the rewrite,
and records a :class:`~derivgen.calculus.model.Step`.  It knows no rule by name.
"""

from __future__ import annotations

import time
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import sympy
from sympy import Derivative, Subs, Symbol
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import LimitExceeded, UnsupportedExpression
from .model import Derivation, Step
from .rules import TRIVIAL, RuleRegistry
from .rules.base import unsupported_message
from .rules.final_form import SHORTEST, ResultForm
from .rules.tidy import drop_neutral_factors, without_neutral_argument
from .verify import check_equal, shared_values

_STAND_IN_NAMES = ("u", "v", "w", "z", "s", "t")
MAX_FINAL_STEPS = 8  # each final-form step shortens the expression; a page holds few of them


@dataclass(frozen=True)
class EngineLimits:
    """Bounds on one derivation (nested chain-rule derivations included)."""

    max_steps: int = 2000
    max_seconds: float = 30.0


DEFAULT_LIMITS = EngineLimits()


def is_pending(node: sympy.Basic) -> bool:
    """A derivative still to be worked out.  The derivative of an undefined function by one of
    its own (distinct) arguments is final: f'(x), f'(g(x)), ∂h/∂f1."""
    if not isinstance(node, Derivative):
        return False
    inner = node.expr
    if isinstance(inner, AppliedUndef) and len(set(inner.args)) == len(inner.args):
        return not all(variable in inner.args for variable in node.variables)
    return True


def last_variable(pending: Derivative) -> tuple[sympy.Expr, sympy.Symbol]:
    """What a rule differentiates, and by what: ``d/dy (∂f/∂x)`` for sympy's merged ``Derivative(f(x), x, y)``
    (a derivative taken of a derivative), else the expression and its one variable."""
    if len(pending.variable_count) == 1 and pending.variable_count[0][1] == 1:
        return pending.expr, pending.variables[0]
    *rest, (variable, count) = pending.variable_count
    if count > 1:
        rest.append((variable, count - 1))
    return Derivative(pending.expr, *rest, evaluate=False), variable


def find_pending(
    expr: sympy.Basic, start: tuple[int, ...] = (), settled: Container[sympy.Basic] = frozenset()
) -> tuple[int, ...] | None:
    """Path (argument indices) of the leftmost-outermost pending derivative, or None.

    ``start``: the search resumes there — the subtree at ``start`` first, then what stands right of
    it, level by level upwards — because nothing left of it is pending (the engine's worklist: after a
    rewrite at ``start`` only the new subtree and what follows it can hold the next derivative).  So
    each step visits what it built and what lies between it and the next pending derivative, never
    the finished part of the tree again.  ``settled``: sub-expressions known to hold no pending
    derivative (the function being derived, which every chain rule step copies whole), not entered."""
    ancestors = [expr]
    for index in start:
        ancestors.append(ancestors[-1].args[index])
    found = _first_pending(ancestors[-1], start, settled)
    for level in range(len(start) - 1, -1, -1):
        if found is not None:
            return found
        parent, prefix = ancestors[level], start[:level]
        for index in range(start[level] + 1, len(parent.args)):
            found = _first_pending(parent.args[index], (*prefix, index), settled)
            if found is not None:
                break
    return found


def _first_pending(
    root: sympy.Basic, root_path: tuple[int, ...], settled: Container[sympy.Basic]
) -> tuple[int, ...] | None:
    """The leftmost-outermost pending derivative inside ``root`` (standing at ``root_path``)."""
    stack: list[tuple[sympy.Basic, tuple[int, ...]]] = [(root, root_path)]
    while stack:
        node, path = stack.pop()
        if is_pending(node):
            return path
        if isinstance(node, Derivative | Subs) or node.is_Atom or node in settled:
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
    return rebuilt(expr, args)


# Nodes whose constructor takes ``evaluate=False`` with the meaning of ``sympy.evaluate(False)``:
# built so, since entering and leaving that context clears sympy's whole cache (twice per node).
_TAKES_EVALUATE = (sympy.Add, sympy.Mul, sympy.Pow, sympy.Function)


def rebuilt(expr: sympy.Basic, args: list[sympy.Basic]) -> sympy.Basic:
    """``expr`` with new arguments, nothing evaluated."""
    if isinstance(expr, ExprWithLimits):  # Σ does no arithmetic, but wraps its body in 1·(…) unevaluated
        return expr.func(*args)
    if isinstance(expr, _TAKES_EVALUATE):
        return expr.func(*args, evaluate=False)
    with sympy.evaluate(False):
        return expr.func(*args)


def settle_neutral(expr: sympy.Basic, path: tuple[int, ...]) -> tuple[tuple[int, ...], sympy.Basic]:
    """Drop a neutral 1 or 0 that now stands at ``path`` from the node around it, and so on
    upwards (``-1·0`` is 0, which then leaves its sum); two signs that meet cancel.  Returns the
    path of the outermost node changed and the whole expression."""
    while path:
        parent_path = path[:-1]
        settled = without_neutral_argument(node_at(expr, parent_path), path[-1])
        if settled is None:
            break
        expr, path = replace_at(expr, parent_path, settled), parent_path
    return path, expr


class RuleEngine:
    def __init__(
        self,
        registry: RuleRegistry,
        verify: bool,
        limits: EngineLimits,
        taken: set[str],
        written: frozenset[sympy.Basic] = frozenset(),
        form: ResultForm = SHORTEST,
        indices: Any = None,
    ):
        self.registry = registry
        self.indices = indices  # index notation: the summation indices in use (calculus.indices.Indices)
        self.verify = verify
        self.limits = limits
        self.form = form
        self.depth = 0
        self.deadline = time.monotonic() + limits.max_seconds
        self.step_count = 0
        self.taken = set(taken)
        self.stand_ins = 0
        self.written = written  # the user's sums: their terms keep the written order
        self._clean: set[sympy.Basic] = set()  # subtrees known to hold no neutral 1 or 0 (see _is_clean)
        self._settled: set[sympy.Basic] = set()  # subtrees known to hold no pending derivative

    def run(self, expression: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        with shared_values():  # the checks of one derivation share the values of unchanged subtrees
            return self._run(expression, variable)

    def _run(self, expression: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        context = _Context(self, variable)
        current: sympy.Expr = Derivative(expression, variable, evaluate=False)
        self._settle(expression)
        steps: list[Step] = []
        self.depth += 1  # nested runs (the chain rule's outer derivatives) end as derived
        try:
            path = find_pending(current, (), self._settled)
            while path is not None:
                pending = node_at(current, path)
                inner, wrt = last_variable(pending)
                found = self.registry.rewrite(inner, _Context(self, wrt))
                if found is None:
                    raise UnsupportedExpression(unsupported_message(inner, wrt), pending)
                rule, rewrite = found
                # a neutral 1 or 0 the rule produced goes in the same step: the step then rewrites
                # the enclosing node (d/dx(x)·eˣ becomes eˣ, not 1·eˣ carried over several lines)
                built = self._without_neutral(rewrite.replacement)  # 1·(1 + u²)⁻¹ from a table entry
                path, after = settle_neutral(replace_at(current, path, built), path)
                focus, replacement = node_at(current, path), node_at(after, path)
                if self.verify:
                    check_equal(focus, replacement, rewrite.label or rule.label)
                steps.append(self._step(rule, rewrite, current, after, focus, path, replacement))
                current = after
                path = find_pending(current, path, self._settled)
            current = self._tidy(current, context, steps, final=self.depth == 1)
        finally:
            self.depth -= 1
        derivation = Derivation(expression, variable, steps, verified=self.verify, written=self.written)
        if self.verify:
            # end to end as well: catches a slip in how steps were put together
            check_equal(derivation.start, derivation.result, "whole derivation")
        return derivation

    def _settle(self, node: sympy.Basic) -> bool:
        """True where ``node`` holds no pending derivative; such nodes are remembered (``_settled``)."""
        if node in self._settled:
            return True
        if is_pending(node):
            return False
        if not (node.is_Atom or isinstance(node, Derivative | Subs)):
            settled = [self._settle(arg) for arg in node.args]  # every argument: each is remembered
            if not all(settled):
                return False
        self._settled.add(node)
        return True

    def _without_neutral(self, replacement: sympy.Expr) -> sympy.Expr:
        """``drop_neutral_factors`` of a rule's replacement, skipped where it would change nothing: it
        rebuilds the whole replacement, and a chain rule's replacement holds the inner function whole,
        so a nested chain would cost its depth at every step."""
        return replacement if self._is_clean(replacement) else drop_neutral_factors(replacement)

    def _is_clean(self, node: sympy.Basic) -> bool:
        """True where ``drop_neutral_factors`` leaves ``node`` as it is (no term 0, no factor 0 or 1, no
        exponent 0 or 1, only nodes it rebuilds unchanged); remembered, so only new nodes are looked at."""
        if node.is_Atom or isinstance(node, Derivative | Subs | MatrixElement) or node in self._clean:
            return True
        if isinstance(node, sympy.Add):
            neutral = any(arg == 0 for arg in node.args)
        elif isinstance(node, sympy.Mul):
            neutral = any(arg == 0 or arg == 1 for arg in node.args)
        elif isinstance(node, sympy.Pow):
            neutral = node.exp == 1 or node.exp == 0
        else:
            neutral = not isinstance(node, sympy.Function) or isinstance(node, sympy.Piecewise)
        if neutral or not all(self._is_clean(arg) for arg in node.args):
            return False
        self._clean.add(node)
        return True

    def _tidy(self, current: sympy.Expr, context: _Context, steps: list[Step], final: bool) -> sympy.Expr:
        """The tidy family in its declared order, each rule once (the result form may stop after
        the trivial ones), then — for the derivation asked for, not a nested one — the final-form
        family: the first rule that applies, again and again, until none does."""
        for rule in self.registry.family("tidy"):
            if self.form.tidy_only and rule.level > TRIVIAL:
                continue
            current = self._tidy_step(rule, current, context, steps)
        if not final or self.form.tidy_only:
            return current
        for _ in range(MAX_FINAL_STEPS):
            for rule in self.registry.family("final"):
                tidied = self._tidy_step(rule, current, context, steps)
                if tidied is not current:
                    current = tidied
                    break
            else:
                break
        return current

    def _tidy_step(self, rule, current: sympy.Expr, context: _Context, steps: list[Step]) -> sympy.Expr:
        tidied = rule.apply(current, context) if rule.apply is not None else None
        if tidied is None or tidied.replacement == current:
            return current
        if self.verify:
            check_equal(current, tidied.replacement, rule.label)
        steps.append(self._step(rule, tidied, current, tidied.replacement, current, (), tidied.replacement, tidy=True))
        return tidied.replacement

    def _step(self, rule, rewrite, before, after, focus, path, replacement, tidy: bool = False) -> Step:
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
            replacement=replacement,
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

    def __init__(self, engine: RuleEngine, wrt: sympy.Symbol):
        self.engine = engine
        self.wrt = wrt

    def derive_outer(self, outer: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        return self.engine.run(outer, variable)

    def fresh_variable(self, real: bool = True) -> sympy.Symbol:
        return self.engine.fresh_variable(real)

    @property
    def form(self) -> ResultForm:
        return self.engine.form

    @property
    def indices(self) -> Any:
        return self.engine.indices

    @property
    def written(self) -> frozenset[sympy.Basic]:
        return self.engine.written
