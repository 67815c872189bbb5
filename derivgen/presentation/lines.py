"""Which steps get a line of their own at each detail level, and the LaTeX of those lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy
from sympy import Derivative
from sympy.core.function import AppliedUndef

from ..calculus.model import ChainProduct, Derivation, Step
from ..calculus.rules.base import COSMETIC, STRUCTURAL, TRIVIAL
from ..options import DETAILS
from .page_check import outside_stands_in
from .printer import LectureLatexPrinter, PrintMemo, path_to, to_latex


@dataclass(frozen=True)
class DisplayLine:
    """One displayed line ``= expression`` and the steps it stands for."""

    steps: tuple[Step, ...]
    written: frozenset[sympy.Basic] = frozenset()  # the derivation's sums as typed (printed in that order)
    # LaTeX of subtrees, shared by all lines of the derivation: unchanged parts print once, identically
    memo: PrintMemo = field(default_factory=PrintMemo, compare=False, repr=False)
    # how many of the last steps changed nothing a reader can see (-(2x) to -2x): they name nothing
    unseen: int = 0

    @property
    def expression(self) -> sympy.Expr:
        """What the line shows: the last step's result, unless that step only reordered."""
        shown = [step for step in self.steps if step.level != COSMETIC]
        return (shown or self.steps)[-1].after

    @property
    def labels(self) -> list[str]:
        """The labels of every rule the line applied, each once, in order ("product rule, Kronecker
        delta property"); a step that only reordered names nothing."""
        seen = self.steps[: len(self.steps) - self.unseen]
        named = [step.label for step in seen if step.level != COSMETIC]
        return list(dict.fromkeys(named or [step.label for step in seen]))

    @property
    def label(self) -> str:
        return ", ".join(self.labels)

    @property
    def notes(self) -> list[tuple[str, str]]:
        """(label of the step, its note in LaTeX), each once."""
        return list(dict.fromkeys((step.label, step.note) for step in self.steps if step.note))


def display_lines(derivation: Derivation, detail: str = "normal") -> list[DisplayLine]:
    """Group the steps into displayed lines.

    ``full``: one line per step.  ``normal``: trivial steps (constants, dropping zeros) join the
    line before them.  ``brief``: a line per structural rule (chain, product, quotient) and per
    tidy-up; everything else joins the line before it.
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    steps = derivation.steps
    if not steps:
        return []
    groups: list[list[Step]] = []
    for step in steps:
        if step.level == COSMETIC:
            starts_line = False
        elif detail == "full":
            starts_line = True
        elif detail == "normal":
            starts_line = step.level > TRIVIAL
        else:
            starts_line = step.level >= STRUCTURAL or (step.is_tidy and step.level > TRIVIAL)
        if starts_line or not groups:
            groups.append([step])
        else:
            groups[-1].append(step)
    memo = PrintMemo()
    lines: list[DisplayLine] = []
    for group in groups:
        line = DisplayLine(tuple(group), derivation.written, memo)
        if lines and _printed(line, derivation.partial) == _printed(lines[-1], derivation.partial):
            # the page would show the same line twice ("simplify" of -(2x) to -2x): it joins the one before
            before = lines[-1]
            line = DisplayLine(before.steps + line.steps, before.written, memo, before.unseen + len(line.steps))
            lines[-1] = line
        else:
            lines.append(line)
    return lines


def _printed(line: DisplayLine, partial: bool) -> str:
    return to_latex(line.expression, partial, written=line.written, memo=line.memo)


# Marks of the highlighted part while printing: characters LaTeX output never holds, swapped for the
# real wrapper (\alert<k|…>{…}) once the marked print is known to equal the plain one without them.
_MARK_OPEN, _MARK_CLOSE = "\x01", "\x02"


def line_forms(
    line: DisplayLine,
    partial: bool = False,
    highlight: tuple[sympy.Basic, str] | None = None,
    previous: str | None = None,
    counts: dict[sympy.Basic, int] | None = None,
    at: tuple[int, ...] | None = None,
) -> list[str]:
    """The right-hand side(s) of a displayed line.  A line made by the multivariate chain rule on
    the whole expression first shows the seed's row·column product (and Σ form).

    ``highlight`` (a node of the line's expression, a wrapper such as ``\alert{%s}``) marks the changed
    part, which must obey the page's invariants (:mod:`.page_check`): (a) the highlighted line without
    its wrapper is the plain line, character for character, and (b) the text outside the highlight
    stands in ``previous`` (the plain line before).  Where marking the node would break them (a
    factor losing its ``\\cdot`` or its brackets, a product now printed as a fraction), the smallest
    enclosing node that keeps them is marked instead; where only the whole line would, nothing is.
    ``counts``: the :func:`occurrences` in the line's expression, where the caller keeps them
    (:class:`Occurrences`), else counted here; ``at``: where the highlighted node stands in it
    (argument indices), where the caller knows it, else it is searched for."""
    plain = _forms(line, partial, None)
    if highlight is None or len(plain) > 1:  # row · column = Σ = …: every form is new
        return plain
    node, wrapper = highlight
    opening, closing = wrapper.split("%s")
    if at is None:
        path = path_to(line.expression, node)
    else:
        path = [line.expression]
        for index in at:
            path.append(path[-1].args[index])
    for depth, candidate in _node_and_enclosing(line.expression, path, counts):
        (marked,) = _forms(line, partial, (candidate, _MARK_OPEN + "%s" + _MARK_CLOSE), path[: depth + 1])
        if _MARK_OPEN not in marked or marked.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "") != plain[0]:
            continue
        before, rest = marked.split(_MARK_OPEN, 1)
        inside, after = rest.split(_MARK_CLOSE, 1)
        if previous is None or outside_stands_in(before, after, previous):
            return [before + opening + inside + closing + after]
    return plain  # only the whole line would do: nothing worth a highlight


def _forms(
    line: DisplayLine,
    partial: bool,
    highlight: tuple[sympy.Basic, str] | None,
    highlight_path: list[sympy.Basic] | None = None,
) -> list[str]:
    tex = to_latex(
        line.expression,
        partial,
        highlight=highlight,
        written=line.written,
        memo=line.memo,
        highlight_path=highlight_path,
    )
    first = line.steps[0]
    if isinstance(first.chain, ChainProduct) and first.path == ():
        return [*product_forms(first.chain, first.focus, partial), tex]
    return [tex]


def _node_and_enclosing(
    expression: sympy.Basic, path: list[sympy.Basic], counts: dict[sympy.Basic, int] | None = None
) -> list[tuple[int, sympy.Basic]]:
    """The last node of ``path`` (the nodes from ``expression`` down to it) and the nodes around it,
    innermost first, each with its depth, the whole expression left out — each only if it occurs
    once in the expression: the printer marks the first print of an object, and the factor ``2``
    that changed in σ'(2x + 1) · 2 is also the 2 inside σ'."""
    counts = occurrences(expression) if counts is None else counts
    return [(depth, path[depth]) for depth in range(len(path) - 1, 0, -1) if counts[path[depth]] == 1]


def occurrences(expression: sympy.Basic) -> dict[sympy.Basic, int]:
    """How often each sub-expression stands in ``expression`` (as ``preorder_traversal`` would count
    it), counted over the distinct sub-expressions: a chain rule's factors share the inner function,
    so the tree is as large as the square of its distinct nodes."""
    order: list[sympy.Basic] = []  # every distinct node after all nodes below it
    seen: set[sympy.Basic] = set()
    stack: list[tuple[sympy.Basic, bool]] = [(expression, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((arg, False) for arg in node.args if arg not in seen)
    counts = dict.fromkeys(order, 0)
    counts[expression] = 1
    for node in reversed(order):  # parents before their arguments
        for arg in node.args:
            counts[arg] += counts[node]
    return counts


class Occurrences:
    """The :func:`occurrences` of successive lines, each line's made from the line before's by what
    changed: the old changed part (and the nodes above it) out, the new one in.  A line then costs
    the size of its change, not of the whole expression (N terms of N factors for a product)."""

    def __init__(self) -> None:
        self._expression: sympy.Basic | None = None
        self._counts: dict[sympy.Basic, int] = {}

    def of(self, expression: sympy.Basic, previous: sympy.Basic, path: tuple[int, ...] | None) -> dict:
        """The counts of ``expression``, which is ``previous`` changed at ``path`` (or anywhere: None)."""
        if path is None or self._expression is not previous:
            self._counts = occurrences(expression)
        else:
            old: sympy.Basic = previous
            new: sympy.Basic = expression
            for index in path:  # the nodes above the change: each stands once more in its own line
                self._add(old, -1)
                self._add(new, 1)
                old, new = old.args[index], new.args[index]
            for node, count in occurrences(old).items():
                self._add(node, -count)
            for node, count in occurrences(new).items():
                self._add(node, count)
        self._expression = expression
        return self._counts

    def _add(self, node: sympy.Basic, count: int) -> None:
        total = self._counts.get(node, 0) + count
        if total:
            self._counts[node] = total
        else:
            del self._counts[node]


def line_latex(line: DisplayLine, partial: bool = False, highlight: tuple[sympy.Basic, str] | None = None) -> str:
    """The right-hand side of a displayed line, its forms joined by ``=``."""
    return " = ".join(line_forms(line, partial, highlight))


def product_forms(product: ChainProduct, focus: Derivative, partial: bool) -> list[str]:
    """``[∂h/∂f_1  ∂h/∂f_2] [∂f_1/∂x ; ∂f_2/∂x]`` and, for f_1, f_2, …, ``Σ_i ∂h/∂f_i ∂f_i/∂x``."""
    row = " & ".join(to_latex(partial_, partial) for partial_ in product.outer_partials)
    column = r" \\ ".join(to_latex(derivative, partial) for derivative in product.inner_derivatives)
    forms = [r"\begin{bmatrix} %s \end{bmatrix} \begin{bmatrix} %s \end{bmatrix}" % (row, column)]
    base = _common_base(product.inner)
    if base is not None:
        d = r"\partial" if partial else "d"
        outer = LectureLatexPrinter()._print(sympy.Symbol(focus.expr.func.__name__))
        variable = to_latex(focus.variables[0])
        forms.append(
            r"\sum_i \frac{\partial %s}{\partial %s_i} \frac{%s %s_i}{%s %s}" % (outer, base, d, base, d, variable)
        )
    return forms


def _common_base(functions: tuple[sympy.Expr, ...]) -> str | None:
    """``f`` when the functions are f1, f2, … (undefined, numbered): then Σ_i reads naturally."""
    bases = set()
    for function in functions:
        if not isinstance(function, AppliedUndef):
            return None
        match = re.fullmatch(r"([A-Za-z]+)_?(\d+)", function.func.__name__)
        if match is None:
            return None
        bases.add(match.group(1))
    return bases.pop() if len(bases) == 1 else None
