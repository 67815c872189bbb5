"""The derivation trace: the data every later stage (verify, present, render) works from.

A :class:`Derivation` is a list of :class:`Step`.  ``steps[0].before`` is the unevaluated
``Derivative(expression, wrt)``; every step rewrites exactly one sub-expression (its ``focus``,
found at ``path`` inside ``before``) and ``steps[i].after`` is ``steps[i + 1].before``.  The steps
of the derivative phase are followed by a few named tidy-up steps; the last ``after`` is the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy


@dataclass(frozen=True)
class ChainInfo:
    """What a chain-rule step substituted, for slides in the "g(u) = u^3, u = f(x)" style."""

    variable: sympy.Symbol  # the stand-in for the inner function (u, v, w, …)
    outer: sympy.Expr  # outer function of the variable, e.g. u**3
    outer_derivative: sympy.Expr  # its derivative by the variable, e.g. 3*u**2
    inner: sympy.Expr  # inner function of the original variable, e.g. x**2 + 2
    outer_derivation: Derivation | None = None  # the steps that produced outer_derivative

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": str(self.variable),
            "outer": str(self.outer),
            "outer_derivative": str(self.outer_derivative),
            "inner": str(self.inner),
            "outer_steps": [] if self.outer_derivation is None else self.outer_derivation.steps_to_dicts(),
        }


@dataclass(frozen=True)
class ChainProduct:
    """The chain rule through several inner functions, as the seed writes it: the row of the
    outer function's partial derivatives times the column of the inner functions' derivatives."""

    outer_partials: tuple[sympy.Expr, ...]  # ∂h/∂f_1, ∂h/∂f_2, …
    inner_derivatives: tuple[sympy.Expr, ...]  # d/dx f_1, d/dx f_2, … (still to be derived)
    inner: tuple[sympy.Expr, ...]  # f_1, f_2, …

    def to_dict(self) -> dict[str, Any]:
        return {
            "outer_partials": [str(e) for e in self.outer_partials],
            "inner_derivatives": [str(e) for e in self.inner_derivatives],
            "inner": [str(e) for e in self.inner],
        }


@dataclass(frozen=True)
class Step:
    """One rewrite: ``focus`` (at ``path`` inside ``before``) was replaced by ``replacement``."""

    rule: str  # stable rule id, e.g. "chain"
    label: str  # what a slide shows, e.g. "chain rule"
    before: sympy.Expr
    after: sympy.Expr
    focus: sympy.Expr
    replacement: sympy.Expr
    path: tuple[int, ...] = ()
    note: str | None = None
    level: int = 1  # 0 trivial, 1 elementary, 2 structural: which steps a brief view keeps
    chain: ChainInfo | ChainProduct | None = None
    is_tidy: bool = False  # a tidy-up step of the whole expression, not a derivative rule

    def to_dict(self) -> dict[str, Any]:
        from ..presentation.printer import to_latex

        data: dict[str, Any] = {
            "rule": self.rule,
            "label": self.label,
            "before": str(self.before),
            "after": str(self.after),
            "focus": str(self.focus),
            "replacement": str(self.replacement),
            "before_latex": to_latex(self.before),
            "after_latex": to_latex(self.after),
            "note": self.note,
        }
        if self.chain is not None:
            data["chain"] = self.chain.to_dict()
        return data


@dataclass
class Derivation:
    """A checked, step-by-step derivative of ``expression`` with respect to ``wrt``."""

    expression: sympy.Expr
    wrt: sympy.Symbol
    steps: list[Step] = field(default_factory=list)
    verified: bool = False
    partial: bool = False  # one of several variables: written with ∂ rather than d

    @property
    def start(self) -> sympy.Expr:
        """The unevaluated derivative the derivation starts from."""
        return self.steps[0].before if self.steps else sympy.Derivative(self.expression, self.wrt)

    @property
    def result(self) -> sympy.Expr:
        """The final, tidied derivative (equal to ``sympy.diff(expression, wrt)``)."""
        return self.steps[-1].after if self.steps else self.start

    @property
    def unsimplified(self) -> sympy.Expr:
        """The expression right after the last derivative rule, before any tidy-up."""
        for step in reversed(self.steps):
            if not step.is_tidy:
                return step.after
        return self.result

    @property
    def lecturer_result(self) -> sympy.Expr:
        """The derivative as derived, tidied only by trivial steps (dropping ``+ 0``, ``· 1``):
        ``σ(x)(1 - σ(x))`` rather than sympy's reordered ``(1 - σ(x))σ(x)``."""
        form = self.unsimplified
        for step in self.steps:
            if step.is_tidy and step.level == 0:
                form = step.after
        return form

    def steps_to_dicts(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self.steps]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready picture of the trace; expressions as sympy ``str``."""
        from ..presentation.printer import to_latex

        return {
            "expression": str(self.expression),
            "wrt": str(self.wrt),
            "steps": self.steps_to_dicts(),
            "result": str(self.result),
            "result_latex": to_latex(self.result),
            "verified": self.verified,
        }

    def latex(self, detail: str = "normal") -> str:
        """The body of an ``align*`` environment: one ``= …`` line per displayed step."""
        from ..presentation.lines import align_body

        return align_body(self, detail, self.partial)

    def _repr_latex_(self) -> str:
        return "$\\begin{aligned}" + self.latex() + "\\end{aligned}$"
