"""What a rule is, and the registry that decides which rule rewrites a derivative.

A rule is data (id, label, statement, level) plus one pure function.  The function gets the
expression under ``d/dx`` and a :class:`Context`, and returns a :class:`Rewrite` or ``None``
to decline.  The engine asks the registry; it never names a rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import sympy
from sympy import Add, Derivative, MatAdd, Mul, Pow
from sympy.matrices.expressions.matexpr import MatrixElement

if TYPE_CHECKING:
    from ..indices import Indices
    from ..model import ChainInfo, ChainProduct, Derivation
    from .final_form import ResultForm

# How much a step matters for a brief view: trivial steps fold into the line before them,
# structural ones (chain, product, quotient) always get a line of their own.
TRIVIAL, ELEMENTARY, STRUCTURAL = 0, 1, 2
# A step that changes nothing but the order of terms or factors: it never gets a line of its own,
# and the line it joins keeps showing the order before it.
COSMETIC = -1


@dataclass(frozen=True)
class Rewrite:
    """What a rule replaces the derivative (or, for a tidy rule, the whole expression) with."""

    replacement: sympy.Expr
    note: str | None = None
    label: str | None = None  # overrides the rule's label, e.g. "derivative of erf"
    level: int | None = None  # overrides the rule's level (a tidy-up that only reorders)
    chain: ChainInfo | ChainProduct | None = None


class Context(Protocol):
    """What a rule may ask of the engine running it."""

    wrt: sympy.Symbol

    def derive_outer(self, outer: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        """Derive an outer function by its own variable (for the chain rule)."""

    def fresh_variable(self, real: bool = True) -> sympy.Symbol:
        """A new stand-in name for an inner function: u, v, w, …"""

    @property
    def written(self) -> frozenset[sympy.Basic]:
        """The sums of the expression as the user wrote them: their terms keep the written order."""

    @property
    def form(self) -> ResultForm:
        """How the derivation ends (the ``result:`` key): the final-form rules ask it."""

    @property
    def indices(self) -> Indices | None:
        """In index notation, the summation indices in use (fresh ones for Jacobi's formula)."""


RuleFunction = Callable[[sympy.Expr, Context], "Rewrite | None"]


@dataclass(frozen=True)
class Rule:
    """One named rewrite.  ``statement`` is the general rule in LaTeX, for a "rules" slide."""

    id: str
    label: str
    statement: str | TableStatement  # LaTeX, or a table entry the presentation layer prints
    apply: RuleFunction | None = field(repr=False)  # None: a statement for rules slides only
    family: str = "scalar"
    level: int = ELEMENTARY
    heads: tuple[type, ...] = ()  # expression classes the rule can apply to; () means any
    # A generic name in the label that a step replaces by its own: "requires M to be symmetric"
    # is shown as "requires S to be symmetric" where S is the matrix the step needs symmetric.
    subject: str | None = None

    def label_for(self, names: Iterable[str] = ()) -> str:
        """The label with the generic name replaced by ``names`` ("requires M, N to be symmetric")."""
        names = list(names)
        if self.subject is None or not names:
            return self.label
        return re.sub(rf"\b{re.escape(self.subject)}\b", ", ".join(names), self.label, count=1)

    def shows(self, label: str) -> bool:
        """Whether a step's label is this rule's (with any names in place of the generic one)."""
        if self.subject is None:
            return label == self.label
        before, after = re.split(rf"\b{re.escape(self.subject)}\b", self.label, maxsplit=1)
        return re.fullmatch(re.escape(before) + r"[\w, ]+" + re.escape(after), label) is not None


@dataclass(frozen=True)
class TableStatement:
    """d/du function = derivative: a row of the table of derivatives, as sympy expressions (the
    calculus layer does not print; see :func:`derivgen.presentation.printer.rule_statement`)."""

    function: sympy.Expr
    derivative: sympy.Expr
    variable: sympy.Symbol | None = None  # the argument it is by, where that is not x: ∂/∂y atan2(y, x)


class RuleRegistry:
    """Rules in search order (declared data); the first rule that does not decline wins."""

    def __init__(self, rules: Iterable[Rule]):
        self._rules = list(rules)
        ids = [rule.id for rule in self._rules]
        duplicated = {rule_id for rule_id in ids if ids.count(rule_id) > 1}
        if duplicated:
            raise ValueError(f"rule ids must be unique: {sorted(duplicated)}")
        self._by_id = {rule.id: rule for rule in self._rules}
        self._by_head: dict[type, list[Rule]] = {}

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __getitem__(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def family(self, name: str) -> list[Rule]:
        return [rule for rule in self._rules if rule.family == name]

    def candidates(self, expression: sympy.Expr, families_excluded: tuple[str, ...] = ("tidy", "final")) -> list[Rule]:
        """Rules that may apply to ``expression``, by its class (cached per class)."""
        head = type(expression)
        found = self._by_head.get(head)
        if found is None:
            found = [
                rule
                for rule in self._rules
                if rule.apply is not None
                and rule.family not in families_excluded
                and (not rule.heads or issubclass(head, rule.heads))
            ]
            self._by_head[head] = found
        return found

    def rewrite(self, expression: sympy.Expr, context: Context) -> tuple[Rule, Rewrite] | None:
        for rule in self.candidates(expression):
            assert rule.apply is not None  # candidates() leaves out the rules without a function
            rewrite = rule.apply(expression, context)
            if rewrite is not None:
                return rule, rewrite
        return None


# -- building blocks shared by the rule families ----------------------------------------------


def unsupported_message(expression: sympy.Expr, variable: sympy.Basic) -> str:
    """Why ``d/d(variable) expression`` stops: no rule differentiates it."""
    name = getattr(expression.func, "__name__", type(expression).__name__)
    return (
        f"no rule differentiates {name}(...) with respect to {variable} "
        f"(in {sympy.sstr(expression)}); it is not among the supported functions"
    )


def depends(expression: sympy.Basic, variable: sympy.Basic) -> bool:
    """Whether ``expression`` may change with ``variable``.  For an entry x_i of a vector or
    matrix, any entry of the same vector or matrix may be it (x_k with k = i): index notation."""
    if isinstance(variable, MatrixElement):
        return expression.has(variable.parent)
    return expression.has(variable)


def d(expression: sympy.Expr, variable: sympy.Symbol) -> Derivative:
    """An unevaluated derivative, the 'pending' node the engine rewrites next."""
    return Derivative(expression, variable, evaluate=False)


def mul(*factors: sympy.Expr) -> sympy.Expr:
    """A product kept exactly as written (sympy would reorder and merge its factors)."""
    return Mul(*factors, evaluate=False)


def add(*terms: sympy.Expr) -> sympy.Expr:
    """A sum kept exactly in the given order."""
    return Add(*terms, evaluate=False)


def power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    return Pow(base, exponent, evaluate=False)


def display_terms(expression: sympy.Expr, written: frozenset[sympy.Basic] = frozenset()) -> list[sympy.Expr]:
    """The terms of a sum in the order a slide shows them: as written (``y - w x``, ``1 + e^x``) for
    a sum of the user's input, as built for one a rule built, else in sympy's printing order."""
    if expression in written or not _is_evaluated(expression):
        return list(expression.args)
    return list(expression.as_ordered_terms())


def written_sums(expression: sympy.Basic) -> frozenset[sympy.Basic]:
    """The sums of an expression as written, whose order of terms slides keep: scalar sums and sums
    of matrices (``(1 - y)ᵀ``)."""
    return frozenset(node for node in sympy.preorder_traversal(expression) if isinstance(node, Add | MatAdd))


def negated(term: sympy.Expr) -> sympy.Expr:
    """``u`` for a term ``-u``: a written ``-1 · u · v`` keeps the order of its other factors."""
    if isinstance(term, Mul) and len(term.args) > 1 and term.args[0] == -1:
        rest = term.args[1:]
        return rest[0] if len(rest) == 1 else Mul(*rest, evaluate=False)
    return -term


def display_factors(expression: sympy.Expr) -> list[sympy.Expr]:
    """The factors of a product in the order a slide shows them."""
    return list(expression.as_ordered_factors()) if _is_evaluated(expression) else list(expression.args)


def _is_evaluated(expression: sympy.Expr) -> bool:
    return expression.func(*expression.args) == expression
