"""The derivation model: the data every later stage (checks, presentation, documents) works from.

Every result — one variable (:class:`Derivation`), a gradient, Jacobian or Hessian
(:class:`~derivgen.calculus.multivariate.MatrixDerivation`), matrix calculus in index notation
(:class:`~derivgen.calculus.matrix_engine.MatrixCalculus`), a limit from first principles — offers
the same interface (:class:`Result`): ``result``, ``steps``, ``verified``, ``to_dict()`` and an
ordered list of presentable :class:`Part` s.  Presenters walk the parts and never ask which kind of
result they hold.  The model never imports the printer: LaTeX in ``to_dict()``/``latex()`` comes from
a :class:`Presenter` that the package's front door (:func:`derivgen.derive`) attaches.

A :class:`Derivation` is a list of :class:`Step`.  ``steps[0].before`` is the unevaluated
``Derivative(expression, wrt)``; every step rewrites exactly one sub-expression (its ``focus``,
found at ``path`` inside ``before``) and ``steps[i].after`` is ``steps[i + 1].before``.  The steps
of the derivative phase are followed by a few named tidy-up steps; the last ``after`` is the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import sympy

from ..errors import DerivgenError

if TYPE_CHECKING:
    from .multivariate import MatrixDerivation

LatexOf = Callable[[sympy.Basic], str]


class Presenter(Protocol):
    """What a result's conveniences need from the presentation layer."""

    def expression(self, expr: sympy.Basic) -> str:
        """LaTeX of one expression."""
        ...

    def body(self, result: DerivationResult, detail: str) -> str:
        """The body of an ``align*`` environment showing the whole result."""
        ...

    def text(self, result: DerivationResult, detail: str) -> str:
        """The whole result as the terminal shows it (``derivgen derive``)."""
        ...

    def html(self, result: DerivationResult, detail: str) -> str:
        """The whole result as an HTML table of lines and rule labels (notebooks)."""
        ...


@dataclass(frozen=True)
class Left:
    """What stands left of the first ``=`` of a part (or what a sheet asks for): the notation and
    what it is of.  Notations: ``derivative`` (d/dx f, the part's own start), ``gradient``,
    ``jacobian``, ``hessian``, ``higher`` (collected partial derivatives), ``matrix_gradient`` and
    ``matrix_gradient_entry`` (∇_x f and (∇_x f)_i in index notation)."""

    notation: str
    functions: tuple[sympy.Expr, ...] = ()
    variables: tuple[sympy.Basic, ...] = ()
    order: int = 1
    given: tuple[sympy.Basic, ...] = ()  # declared vectors and matrices (x ∈ ℝⁿ), in order
    facts: tuple[tuple[str, str], ...] = ()  # declared assumptions: ("symmetric", "M")
    written: frozenset[sympy.Basic] = frozenset()  # the sums as the user typed them (see Derivation)


@dataclass(frozen=True)
class Part:
    """A stretch of the page: the lines of ``derivation`` under ``left``, or — with ``collected`` —
    the line that collects the component derivations into one matrix."""

    left: Left
    derivation: Derivation | None = None
    collected: MatrixDerivation | None = None
    heading: str | None = None  # what the terminal text announces before it: "entry (1, 2)"
    continues: bool = False  # goes on from the part before (no start line of its own in text)


class DerivationResult(Protocol):
    """The interface every derivation result offers (see the module docstring)."""

    verified: bool
    presenter: Presenter | None

    @property
    def result(self) -> Any: ...

    @property
    def steps(self) -> list[Step]: ...

    @property
    def parts(self) -> list[Part]:
        """The presentable parts, in page order."""
        ...

    @property
    def left(self) -> Left:
        """What the whole result is the derivative of, and how it is written (a sheet's question)."""
        ...

    @property
    def check_note(self) -> str:
        """How the result was checked, in words."""
        ...

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]: ...

    def latex(self, detail: str = "normal") -> str: ...


class Result:
    """What every result class shares: the conveniences that need a printer, and the check note."""

    presenter: Presenter | None = None  # attached by derivgen.derive(); the model never imports it
    verified: bool

    @property
    def check_note(self) -> str:
        return "every step checked" if self.verified else "steps not checked"

    def _latex_of(self, latex: LatexOf | None) -> LatexOf | None:
        if latex is not None:
            return latex
        return self.presenter.expression if self.presenter is not None else None

    def latex(self, detail: str = "normal") -> str:
        """The body of an ``align*`` environment: one ``= …`` line per displayed step."""
        if self.presenter is None:
            raise DerivgenError(
                "this result has no printer attached: derive it with derivgen.derive(), or print it with "
                "derivgen.presentation.body.result_body(result)"
            )
        return self.presenter.body(self, detail)  # type: ignore[arg-type]  # each subclass is a DerivationResult

    def _repr_latex_(self) -> str:
        return "$\\begin{aligned}" + self.latex() + "\\end{aligned}$"

    def _repr_html_(self) -> str | None:
        """Notebooks: the lines and their rules as a table (None without a printer: Jupyter falls back)."""
        if self.presenter is None:
            return None
        return self.presenter.html(self, "normal")  # type: ignore[arg-type]  # each subclass is a DerivationResult

    def __str__(self) -> str:
        """The text ``derivgen derive`` prints, with a printer attached; else the dataclass' repr."""
        if self.presenter is None:
            return repr(self)
        return self.presenter.text(self, "normal")  # type: ignore[arg-type]


@dataclass(frozen=True)
class ChainInfo:
    """What a chain-rule step substituted, for slides in the "g(u) = u^3, u = f(x)" style."""

    variable: sympy.Symbol  # the stand-in for the inner function (u, v, w, …)
    outer: sympy.Expr  # outer function of the variable, e.g. u**3
    outer_derivative: sympy.Expr  # its derivative by the variable, e.g. 3*u**2
    inner: sympy.Expr  # inner function of the original variable, e.g. x**2 + 2
    outer_derivation: Derivation | None = None  # the steps that produced outer_derivative

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
        return {
            "variable": str(self.variable),
            "outer": str(self.outer),
            "outer_derivative": str(self.outer_derivative),
            "inner": str(self.inner),
            "outer_steps": [] if self.outer_derivation is None else self.outer_derivation.steps_to_dicts(latex),
        }


@dataclass(frozen=True)
class ChainProduct:
    """The chain rule through several inner functions, as the seed writes it: the row of the
    outer function's partial derivatives times the column of the inner functions' derivatives."""

    outer_partials: tuple[sympy.Expr, ...]  # ∂h/∂f_1, ∂h/∂f_2, …
    inner_derivatives: tuple[sympy.Expr, ...]  # d/dx f_1, d/dx f_2, … (still to be derived)
    inner: tuple[sympy.Expr, ...]  # f_1, f_2, …

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
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

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "label": self.label,
            "before": str(self.before),
            "after": str(self.after),
            "focus": str(self.focus),
            "replacement": str(self.replacement),
        }
        if latex is not None:
            data["before_latex"], data["after_latex"] = latex(self.before), latex(self.after)
        data["note"] = self.note
        if self.chain is not None:
            data["chain"] = self.chain.to_dict(latex)
        return data


@dataclass
class Derivation(Result):
    """A checked, step-by-step derivative of ``expression`` with respect to ``wrt``."""

    expression: sympy.Expr
    wrt: sympy.Symbol
    steps: list[Step] = field(default_factory=list)
    verified: bool = False
    partial: bool = False  # one of several variables: written with ∂ rather than d
    # The sums of the user's own text (``y - w x``, ``1 + e^x``): printed, and split by the sum rule,
    # in the order typed.  Empty for an expression built in Python, which prints in sympy's order.
    written: frozenset[sympy.Basic] = frozenset()

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

    @property
    def left(self) -> Left:
        return Left("derivative", (self.expression,), (self.wrt,), written=self.written)

    @property
    def parts(self) -> list[Part]:
        return [Part(self.left, derivation=self)]

    def steps_to_dicts(self, latex: LatexOf | None = None) -> list[dict[str, Any]]:
        return [step.to_dict(latex) for step in self.steps]

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
        """A JSON-ready picture of the trace; expressions as sympy ``str`` (and LaTeX with a printer)."""
        latex = self._latex_of(latex)
        data: dict[str, Any] = {
            "expression": str(self.expression),
            "wrt": str(self.wrt),
            "steps": self.steps_to_dicts(latex),
            "result": str(self.result),
        }
        if latex is not None:
            data["result_latex"] = latex(self.result)
        data["verified"] = self.verified
        return data
