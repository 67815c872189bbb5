"""Expressions and traces as a lecturer writes them.

SymPy reorders and merges factors when printing (``3(x^2+2)^2 · 2x`` comes out as
``2 x 3 (x^2+2)^2``).  The printers here print every node a rule built *as built*, in its stored
order, and leave sympy's own ordering to nodes in sympy's normal form.  A node is "as built" when
rebuilding it with evaluation would change it, or when it holds a pending derivative.

The lines of a derivation are laid out in :mod:`.lines`, matrices in :mod:`.matrices`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import sympy
from sympy import Derivative, Inverse, MatMul, MatrixSymbol, Mul, Pow, S, Subs, Transpose
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from ..calculus.rules.base import Rule, TableStatement
from ..input.matrices import AsScalar
from ..input.spec import Notation

_SYMBOL_NAMES = {"lam": "lambda"}  # `lambda` is a Python keyword, so lecturers type `lam`

# One notation per deck (det X or |X|, log or ln, X^{-T} or (X^T)^{-1}): set around a whole build, so
# that every line, question and matrix of it is printed the same way without passing it everywhere.
_NOTATION: ContextVar[Notation] = ContextVar("notation", default=Notation())  # noqa: B039 (a frozen model)


@contextmanager
def notation(chosen: Notation) -> Iterator[None]:
    """Print with ``chosen`` (a deck's ``notation:``) inside the ``with`` block."""
    token = _NOTATION.set(chosen)
    try:
        yield
    finally:
        _NOTATION.reset(token)


class _AsBuilt:
    """Decides, once per printed expression, which nodes keep the order a rule gave them — or the
    user: a sum in ``written`` (typed ``1 + e^x``) keeps its order though sympy's would differ."""

    def __init__(self, written: frozenset[sympy.Basic] = frozenset(), shared: dict | None = None) -> None:
        self._memo: dict[int, bool] = {}
        self._written = written
        # decisions by node (they depend on the node and ``written`` alone), kept across the prints of one
        # derivation's lines: deciding a node looks at its whole subtree, and evaluates every sum in it
        self._shared = shared

    def __call__(self, node: sympy.Basic) -> bool:
        key = id(node)
        if key not in self._memo:
            if self._shared is None:
                self._memo[key] = self._as_built(node)
            else:
                found = self._shared.get(node)
                if found is None:
                    found = self._shared[node] = self._as_built(node)
                self._memo[key] = found
        return self._memo[key]

    def _as_built(self, node: sympy.Basic) -> bool:
        if node.is_Atom:
            return False
        if isinstance(node, Derivative) or node in self._written:
            return True
        children = [self(arg) for arg in node.args]
        if any(children) and isinstance(node, sympy.Add | Mul):
            return True
        if isinstance(node, sympy.Add | Mul | Pow):
            try:
                evaluated = node.func(*node.args)
                # hashes first: they are kept, where == compares two deep trees argument by argument
                return hash(evaluated) != hash(node) or evaluated != node
            except (TypeError, ValueError):
                return True
        return False

    def keep_written_difference(self, limit: sympy.Limit) -> None:
        """In lim (f(x + h) − f(x))/h the difference reads as written, f(x + h) first, even where
        sympy's order would print −f(x) first.  Decided from the tree being printed, so printing
        one expression never changes how another prints."""
        for factor in Mul.make_args(limit.args[0]):
            if isinstance(factor, sympy.Add) and len(factor.args) == 2 and _negated(factor.args[1]) is not None:
                self._memo[id(factor)] = True


def _is_derivative_like(node: sympy.Basic) -> bool:
    return isinstance(node, Derivative) and not _is_final_derivative(node)


def _is_final_derivative(node: sympy.Basic) -> bool:
    """f'(x), f'(g(x)), ∂h/∂f1: an undefined function derived once by one of its arguments."""
    return (
        isinstance(node, Derivative)
        and isinstance(node.expr, AppliedUndef)
        and len(node.variables) == 1
        and node.variables[0] in node.expr.args
    )


def _argument_name(argument: sympy.Basic) -> sympy.Symbol:
    """What a partial derivative is taken by: f1 for f1(x), x for x."""
    return sympy.Symbol(argument.func.__name__) if isinstance(argument, AppliedUndef) else argument


class PrintMemo:
    """What the prints of one derivation's lines share: the LaTeX of every subtree printed, per printer
    settings (``partial``, the deck's notation: a node prints the same only under the same ones), and
    the as-built decisions.  Made for one derivation (``written`` fixed) and dropped with its lines."""

    def __init__(self) -> None:
        self._latex: dict[tuple, dict[sympy.Basic, str]] = {}
        self._signs: dict[tuple, dict[sympy.Basic, tuple[str, str]]] = {}
        self.as_built: dict[sympy.Basic, bool] = {}

    def latex(self, settings: tuple) -> dict[sympy.Basic, str]:
        return self._latex.setdefault(settings, {})

    def signs(self, settings: tuple) -> dict[sympy.Basic, tuple[str, str]]:
        return self._signs.setdefault(settings, {})


class LectureLatexPrinter(LatexPrinter):
    """LaTeX that keeps rule-built products and sums in the order the rule wrote them."""

    def __init__(
        self,
        settings: dict | None = None,
        partial: bool = False,
        operator: sympy.Basic = None,
        highlight: tuple[sympy.Basic, str] | None = None,
        written: frozenset[sympy.Basic] = frozenset(),
        memo: PrintMemo | None = None,
        highlight_path: Sequence[sympy.Basic] | None = None,
    ):
        super().__init__(settings or {})
        self._highlight_path = highlight_path  # the nodes from the root down to the highlighted one, if known
        self._as_built = _AsBuilt(written, None if memo is None else memo.as_built)
        # LaTeX of subtrees, shared by the lines of one derivation (see to_latex), for these settings
        settings_key = (partial, _NOTATION.get(), repr(sorted(self._settings.items())))
        self._memo = None if memo is None else memo.latex(settings_key)
        self._signs = None if memo is None else memo.signs(settings_key)  # (sign, text) of terms of sums
        self._around_highlight: set[int] = set()  # ids of the nodes holding the highlighted one
        self._partial = partial
        self._operator = operator  # a derivative to print as d/dx … even where it is final
        self._highlight = highlight  # (node, "\\alert{%s}"): wrap the first print of that node

    def doprint(self, expr) -> str:
        if self._highlight is not None:
            path = self._highlight_path if self._highlight_path is not None else path_to(expr, self._highlight[0])
            self._around_highlight = {id(node) for node in path}
        return super().doprint(expr)

    def _print(self, expr, **kwargs) -> str:
        cacheable = (
            self._memo is not None
            and not kwargs
            and isinstance(expr, sympy.Basic)
            and expr is not self._operator
            and id(expr) not in self._around_highlight
        )
        if not cacheable:
            text = super()._print(expr, **kwargs)
        elif (cached := self._memo.get(expr)) is not None:  # type: ignore[union-attr]  # cacheable: a memo
            text = cached
        else:
            text = self._memo[expr] = super()._print(expr)  # type: ignore[index]
        if self._highlight is not None and expr is self._highlight[0]:
            wrapper = self._highlight[1]
            self._highlight = None  # only the first occurrence
            return wrapper % text
        return text

    def _print_Limit(self, expr: sympy.Limit) -> str:
        self._as_built.keep_written_difference(expr)
        return super()._print_Limit(expr)

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        if expr.name in _SYMBOL_NAMES:
            return super()._print_Symbol(sympy.Symbol(_SYMBOL_NAMES[expr.name]), style)
        return super()._print_Symbol(expr, style)

    def _print_Add(self, expr: sympy.Add, order: str | None = None) -> str:
        if self._as_built(expr):
            return self._terms(list(expr.args))
        if any(_negated_matrix(term) is not None for term in expr.args):  # y - wᵀx, not sympy's y + - wᵀx
            return self._terms(self._as_ordered_terms(expr, order))
        return super()._print_Add(expr, order)

    def _print_MatAdd(self, expr) -> str:
        """A sum of matrices: a written one in the order typed, each negative term as a difference."""
        return self._terms(list(expr.args) if self._as_built(expr) else _ordered_matrix_terms(expr))

    def _terms(self, terms: list[sympy.Basic]) -> str:
        """Terms in the given order, a negated term after a minus: ``a - b + c``."""
        pieces = []
        for i, term in enumerate(terms):
            sign, text = self._signed(term)
            pieces.append((f"{sign} " if sign == "-" else "") + text if i == 0 else f" {sign} {text}")
        return "".join(pieces)

    def _signed(self, term: sympy.Basic) -> tuple[str, str]:
        """The sign and the text of a term of a sum; remembered with the LaTeX of the subtrees, since a
        sum of N terms is printed again on each of its lines."""
        cacheable = self._signs is not None and id(term) not in self._around_highlight and term is not self._operator
        if cacheable and (found := self._signs.get(term)) is not None:  # type: ignore[union-attr]  # a memo
            return found
        negated = _negated(term)
        if negated is not None:
            text = self._print(negated)
            if isinstance(negated, sympy.Add) or text.startswith("-"):
                text = rf"\left({text}\right)"
            sign = "-"
        else:
            text = self._print(term)
            if isinstance(term, sympy.Add):
                text = rf"\left({text}\right)"
            sign = "-" if text.startswith("-") else "+"
            text = text.removeprefix("-").lstrip()
        if cacheable:
            self._signs[term] = (sign, text)  # type: ignore[index]
        return sign, text

    def _print_Mul(self, expr: sympy.Mul) -> str:
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient.is_Rational and not coefficient.is_Integer and rest.has(sympy.Sum):
            # ½ Σ_k …, as a lecturer writes it: a fraction over a whole sum in index notation could not
            # be broken across lines (the layout breaks only outside braces)
            body = self._print(rest) if isinstance(rest, sympy.Sum) else self.parenthesize(rest, PRECEDENCE["Mul"])
            return f"{self._print(coefficient)} {body}"
        if not self._as_built(expr):
            return super()._print_Mul(expr)
        factors = list(expr.args)
        sign = ""
        if factors and factors[0] == S.NegativeOne and len(factors) > 1:
            sign, factors = "- ", factors[1:]
        numerator, denominator = _split_fraction(factors, self._as_built)
        if denominator:
            top = self._product(numerator) if numerator else "1"
            return sign + rf"\frac{{{top}}}{{{self._product(denominator)}}}"
        body = self._product(factors)
        if sign and (body.startswith("-") or (len(factors) == 1 and isinstance(factors[0], sympy.Add))):
            body = rf"\left({body}\right)"  # - (-1/x^2), not - - 1/x^2
        return sign + body

    def _product(self, factors: list[sympy.Basic]) -> str:
        """Factors side by side; a \\cdot where juxtaposition would misread (before a digit,
        after a derivative operator)."""
        tex = ""
        previous: sympy.Basic | None = None
        for i, factor in enumerate(factors):
            term = self._print(factor)
            needs_brackets = isinstance(factor, sympy.Add) and len(factors) > 1
            needs_brackets |= i > 0 and term.startswith("-")
            # d/dx u · v would read as d/dx (u v): bracket a derivative that is not the last factor
            needs_brackets |= _is_derivative_like(factor) and i < len(factors) - 1
            if needs_brackets:
                term = rf"\left({term}\right)"
            if previous is not None:
                # juxtaposed digits would merge (3 · 2x); a number before a fraction reads as a mixed number
                ambiguous_next = term.lstrip()[:1].isdigit() or (term.startswith(r"\frac") and previous.is_Number)
                tex += r" \cdot " if ambiguous_next else " "
            tex += term
            previous = factor
        return tex

    def _print_Pow(self, expr: sympy.Pow) -> str:
        if self._as_built(expr) and expr.exp == -1:
            return rf"\frac{{1}}{{{self._print(expr.base)}}}"
        if self._as_built(expr) and isinstance(expr.base, sympy.Pow):
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Derivative(self, expr: Derivative) -> str:
        if _is_final_derivative(expr) and expr is not self._operator:
            function = expr.expr.func
            if len(expr.expr.args) == 1:
                return self._prime(function, [self._print(arg) for arg in expr.expr.args])
            by = self._print(_argument_name(expr.variables[0]))
            return r"\frac{\partial %s}{\partial %s}" % (self._print(sympy.Symbol(function.__name__)), by)
        if len(expr.variables) != 1:
            return super()._print_Derivative(expr)
        variable = self._print(expr.variables[0])
        d = r"\partial" if self._partial else "d"
        if isinstance(expr.expr, AppliedUndef) and len(expr.expr.args) > 1:
            # ∂h/∂x_1 for h(f_1(x_1, x_2), f_2(x_1, x_2)): the arguments are known from the context
            return r"\frac{%s %s}{%s %s}" % (d, self._print(sympy.Symbol(expr.expr.func.__name__)), d, variable)
        operand = self._print(expr.expr)
        # d/dx acts on the one factor after it: a sum or product (also of matrices, also wᵀx used as a
        # scalar) is bracketed
        operated = expr.expr.matrix if isinstance(expr.expr, AsScalar) else expr.expr
        if isinstance(operated, sympy.Add | Mul | sympy.Piecewise | MatMul | sympy.MatAdd | sympy.HadamardProduct):
            operand = rf"\left({operand}\right)"
        return rf"\frac{{{d}}}{{{d} {variable}}} {operand}"

    def _print_Subs(self, subs: Subs) -> str:
        found = _partial_at_point(subs)
        if found is None:
            return super()._print_Subs(subs)
        function, index, points = found
        arguments = [self._print(point) for point in points]
        if len(points) == 1:
            return self._prime(function, arguments)
        return r"\partial_{%d} %s\left(%s\right)" % (
            index,
            self._print(sympy.Symbol(function.__name__)),
            ", ".join(arguments),
        )

    # -- one notation per deck ------------------------------------------------------------------
    def _print_Determinant(self, expr) -> str:
        matrix = self._print(expr.arg)
        if _NOTATION.get().det == "bars":
            return r"\left|{%s}\right|" % matrix
        return r"\operatorname{det}\left(%s\right)" % matrix  # bracketed: det X X^{-T} reads as det(X X^{-T})

    def _print_log(self, expr, exp=None) -> str:
        name = r"\ln" if _NOTATION.get().log == "ln" else r"\log"
        tex = r"%s{\left(%s \right)}" % (name, self._print(expr.args[0]))
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_Transpose(self, expr) -> str:
        inner = expr.arg
        if isinstance(inner, Inverse):
            return self._inverse_transpose(inner.arg)
        if isinstance(inner, sympy.OneMatrix | sympy.Identity | sympy.ZeroMatrix):
            return r"%s^{T}" % self._print(inner)  # 1ᵀ, not (1)ᵀ
        return super()._print_Transpose(expr)

    def _print_OneMatrix(self, expr) -> str:
        """The ones vector 1, and a row of ones as the transpose it is, 1ᵀ (sympy evaluates (1)ᵀ to a 1×n
        ones matrix and prints it 1)."""
        rows, cols = expr.shape
        return r"\mathbf{1}^{T}" if rows == 1 and cols != 1 else r"\mathbf{1}"

    def _print_Inverse(self, expr) -> str:
        if isinstance(expr.arg, Transpose):
            return self._inverse_transpose(expr.arg.arg)
        return super()._print_MatPow(expr)

    def _inverse_transpose(self, matrix: sympy.Basic) -> str:
        """(Xᵀ)⁻¹ = (X⁻¹)ᵀ, written the deck's one way."""
        tex = self._print(matrix)
        if not isinstance(matrix, MatrixSymbol):
            tex = r"\left(%s\right)" % tex
        if _NOTATION.get().inverse_transpose == "X^-T":
            return r"%s^{-T}" % tex
        return r"\left(%s^{T}\right)^{-1}" % tex

    # -- index notation -------------------------------------------------------------------------
    def _print_Sum(self, expr: sympy.Sum) -> str:
        """Σ_k Σ_l as a lecturer writes it: the range is understood."""
        prefix = " ".join(r"\sum_{%s}" % self._print(limit[0]) for limit in expr.limits)
        body = self._print(expr.function)
        if isinstance(expr.function, sympy.Add):
            body = r"\left(%s\right)" % body
        return f"{prefix} {body}"

    def _print_MatrixElement(self, expr) -> str:
        parent, index = expr.parent, _entry_index(self, expr)
        if index is None:
            return self._print(parent)
        if isinstance(parent, sympy.MatrixSymbol):  # entries in plain letters, x_k, even for a bold x
            name = self._print(sympy.Symbol(parent.name))
            if "_" in name:  # W₂'s entry (W_2)_{i,j}: W_{2}_{i,j} is a double subscript
                return r"\left(%s\right)_{%s}" % (name, index)
            return f"{name}_{{{index}}}"
        return r"\left(%s\right)_{%s}" % (self._print(parent), index)

    def _print_KroneckerDelta(self, expr, exp=None) -> str:
        tex = r"\delta_{%s,%s}" % (self._print(expr.args[0]), self._print(expr.args[1]))
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_ElementwiseApplyFunction(self, expr) -> str:
        """f applied entry by entry, written as f of the matrix: tanh(Wx + b), 1 - tanh²(Wx + b);
        f of a transpose as the transpose of f: (e^z)ᵀ, not e^{zᵀ}."""
        if isinstance(expr.expr, Transpose):
            return self._print(Transpose(expr.func(expr.function, expr.expr.arg)))
        column = _row_as_column(expr)
        if column is not None:  # tanh(xᵀWᵀ) read as tanh(Wx)ᵀ
            return self._print(Transpose(column))
        body, compound = _elementwise(self, expr)
        return r"\left(%s\right)" % body if compound else body

    def _print_HadamardProduct(self, expr) -> str:
        """A ∘ B with the factors in the order a lecturer writes them: σ(z) ∘ (1 − σ(z))."""
        precedence = PRECEDENCE["Pow"]
        return r" \circ ".join(self.parenthesize(arg, precedence, strict=True) for arg in _hadamard_order(expr))

    def _print_HadamardPower(self, expr) -> str:
        """f(X)^∘2 as f²(X), elementwise, as tanh²(x) is written for a number: 1 − tanh²(X)."""
        squared = _elementwise_power(expr)
        return self._print(squared) if squared is not None else super()._print_HadamardPower(expr)

    def _prime(self, function, arguments: list[str]) -> str:
        return r"{}'\left({}\right)".format(self._print(sympy.Symbol(function.__name__)), ", ".join(arguments))


def path_to(root: sympy.Basic, node: sympy.Basic, _without: set[int] | None = None) -> list[sympy.Basic]:
    """The nodes from ``root`` down to ``node`` (found by identity), or [] where it is not inside.
    A subtree shared by several parents (the inner function in every factor of a chain rule) is
    searched once: ``_without`` holds the ids of those known not to hold ``node``."""
    without = set() if _without is None else _without
    if root is node:
        return [root]
    for argument in root.args:
        if id(argument) in without:
            continue
        found = path_to(argument, node, without)
        if found:
            return [root, *found]
    without.add(id(root))
    return []


def _negated(term: sympy.Basic) -> sympy.Basic | None:
    """``u`` when ``term`` is a rule-built ``-1 · u`` (the minus the sum rule keeps outside), or a
    matrix term ``-1 · A B`` (``- wᵀx``)."""
    if isinstance(term, Mul) and len(term.args) > 1 and term.args[0] == S.NegativeOne:
        rest = term.args[1:]
        return rest[0] if len(rest) == 1 else Mul(*rest, evaluate=False)
    return _negated_matrix(term)


def _negated_matrix(term: sympy.Basic) -> sympy.Basic | None:
    """``A B`` for the matrix product ``-1 · A B``, also used as a scalar (``- wᵀx``)."""
    product = term.matrix if isinstance(term, AsScalar) else term
    if not (isinstance(product, MatMul) and len(product.args) > 1 and product.args[0] == S.NegativeOne):
        return None
    rest = product.args[1:]
    positive = rest[0] if len(rest) == 1 else MatMul(*rest)
    return AsScalar(positive) if isinstance(term, AsScalar) else positive


def _ordered_matrix_terms(expr: sympy.Basic) -> list[sympy.Basic]:
    """sympy's printing order of a sum of matrices, positive terms first (1 - y rather than -y + 1)."""
    return sorted(expr.args, key=lambda term: _negated_matrix(term) is not None)


def _split_fraction(factors: list[sympy.Basic], as_built: _AsBuilt) -> tuple[list, list]:
    """Numerator and denominator of a rule-built product: a reciprocal the rule wrote itself (the
    quotient rule's ``1/g^2``) or one dividing a sum goes below the line; ``x · 1/x`` stays a product."""
    numerator, denominator = [], []
    over_a_sum = any(isinstance(factor, sympy.Add) for factor in factors)  # (a + b) · 1/h reads as (a + b)/h
    for factor in factors:
        if isinstance(factor, Pow) and factor.exp == -1 and (as_built(factor) or over_a_sum):
            denominator.append(factor.base)
        else:
            numerator.append(factor)
    return numerator, denominator


class LectureStrPrinter(StrPrinter):
    """Plain text for the terminal, in the same order as the LaTeX: ``d/dx(x**2)``, ``f'(x)``."""

    def __init__(
        self, settings: dict | None = None, operator: sympy.Basic = None, written: frozenset[sympy.Basic] = frozenset()
    ):
        super().__init__(settings or {})
        self._as_built = _AsBuilt(written)
        self._operator = operator

    def _print_Add(self, expr, order=None):
        return super()._print_Add(expr, order="none" if self._as_built(expr) else order)

    def _print_Mul(self, expr):
        if not self._as_built(expr):
            return super()._print_Mul(expr)
        factors = list(expr.args)
        sign = ""
        if factors[0] == S.NegativeOne and len(factors) > 1:
            sign, factors = "-", factors[1:]
        numerator, denominator = _split_fraction(factors, self._as_built)
        if not denominator:
            return sign + self._product(numerator)
        top = self._group(numerator) if numerator else "1"
        return f"{sign}{top}/{self._group(denominator)}"

    def _group(self, factors: list[sympy.Basic]) -> str:
        text = self._product(factors)
        single = len(factors) == 1 and (factors[0].is_Atom or isinstance(factors[0], sympy.Add | sympy.Function))
        return text if single else f"({text})"

    def _product(self, factors: list[sympy.Basic]) -> str:
        parts: list[str] = []
        for factor in factors:
            text = self._print(factor)
            if isinstance(factor, sympy.Add) or (parts and text.startswith("-")):
                text = f"({text})"
            parts.append(text)
        return "*".join(parts)

    def _print_Derivative(self, expr):
        if _is_final_derivative(expr) and expr is not self._operator:
            function = expr.expr.func.__name__
            if len(expr.expr.args) == 1:
                return f"{function}'({self._print(expr.expr.args[0])})"
            return f"d{function}/d{self._print(_argument_name(expr.variables[0]))}"
        if len(expr.variables) != 1:
            return super()._print_Derivative(expr)
        return f"d/d{self._print(expr.variables[0])}({self._print(expr.expr)})"

    def _print_Sum(self, expr):
        prefix = " ".join(f"sum_{self._print(limit[0])}" for limit in expr.limits)
        return f"{prefix} ({self._print(expr.function)})"

    def _print_Limit(self, expr):
        # as written on the board, lim_{h→0} (…), not sympy's Limit(…, h, 0, dir='+-')
        self._as_built.keep_written_difference(expr)
        body, variable, point, direction = expr.args
        side = "" if str(direction) == "+-" or point.is_infinite else str(direction)
        return f"lim_{{{self._print(variable)}→{self._print(point)}{side}}} ({self._print(body)})"

    def _print_MatrixElement(self, expr):
        parent, index = expr.parent, _entry_index(self, expr)
        if index is None:
            return self._print(parent)
        name = self._print(parent)
        return f"{name}[{index}]" if isinstance(parent, sympy.MatrixSymbol) else f"({name})[{index}]"

    def _print_KroneckerDelta(self, expr):
        return f"delta({self._print(expr.args[0])},{self._print(expr.args[1])})"

    def _print_ElementwiseApplyFunction(self, expr):
        column = _row_as_column(expr)
        if column is not None:
            return self._print(Transpose(column))
        body, compound = _elementwise(self, expr)
        return f"({body})" if compound else body

    def _print_MatAdd(self, expr):
        terms = list(expr.args) if self._as_built(expr) else _ordered_matrix_terms(expr)
        text = ""
        for n, term in enumerate(terms):
            printed = self._print(term)
            sign = "-" if printed.startswith("-") else "+"
            printed = printed.removeprefix("-").lstrip()
            text += (f"{sign}{printed}" if sign == "-" else printed) if n == 0 else f" {sign} {printed}"
        return text

    def _print_HadamardProduct(self, expr):
        return " ∘ ".join(self.parenthesize(arg, PRECEDENCE["Pow"], strict=True) for arg in _hadamard_order(expr))

    def _print_HadamardPower(self, expr):
        squared = _elementwise_power(expr)
        if squared is not None:
            return self._print(squared)
        return f"{self.parenthesize(expr.base, PRECEDENCE['Pow'], strict=True)}^∘{self._print(expr.exp)}"

    def _print_Subs(self, subs):
        found = _partial_at_point(subs)
        if found is None:
            return super()._print_Subs(subs)
        function, index, points = found
        arguments = ", ".join(self._print(point) for point in points)
        if len(points) == 1:
            return f"{function.__name__}'({arguments})"
        return f"D[{index}]{function.__name__}({arguments})"


def _entry_index(printer, expr) -> str | None:
    """ "k" or "k,l" for an entry; None for the 1×1 product xᵀy used as a scalar (printed as itself)."""
    if expr.parent.shape == (1, 1) and expr.i == 0 and expr.j == 0:
        return None
    if expr.parent.shape[1] == 1:
        return printer._print(expr.i)
    return f"{printer._print(expr.i)},{printer._print(expr.j)}"


def _elementwise(printer, expr) -> tuple[str, bool]:
    """The body of f applied entrywise with the matrix in place of its variable, and whether it is a
    sum or product (which needs brackets before a further factor)."""
    inner = expr.function.expr.xreplace({expr.function.variables[0]: sympy.Symbol("ELEMENTWISE")})
    return printer._print(inner).replace("ELEMENTWISE", printer._print(expr.expr)), isinstance(inner, sympy.Add | Mul)


def _row_as_column(expr: sympy.Basic) -> sympy.Basic | None:
    """f(Wx) for f applied to the row xᵀWᵀ (a lecturer transposes the column): None otherwise."""
    inner = expr.expr
    if inner.shape[0] != 1 or inner.shape[1] == 1 or not isinstance(inner, MatMul):
        return None
    return ElementwiseApplyFunction(expr.function, Transpose(inner).doit())


def _hadamard_order(expr: sympy.Basic) -> list[sympy.Basic]:
    """The factors of an elementwise product as a lecturer orders them: plain factors first, then
    differences (tanh(Wx) − y), then the derivative factors that start from one (1 − σ(z))."""

    def rank(arg: sympy.Basic) -> int:
        if not isinstance(arg, sympy.MatAdd):
            return 0
        return 2 if any(isinstance(term, sympy.OneMatrix) for term in arg.args) else 1

    return sorted(expr.args, key=rank)


def _elementwise_power(expr: sympy.Basic) -> sympy.Basic | None:
    """f^n applied elementwise for the elementwise power of f(X) (f a named function), else None."""
    base = expr.base
    if not isinstance(base, ElementwiseApplyFunction) or not isinstance(base.function.expr, sympy.Function):
        return None
    t = base.function.variables[0]
    return ElementwiseApplyFunction(sympy.Lambda(t, base.function.expr**expr.exp), base.expr)


def _partial_at_point(subs: Subs) -> tuple[type, int, list] | None:
    """(f, i, arguments) when ``subs`` is the i-th partial derivative of an undefined f taken
    at the given arguments, as the chain rule writes it; None for any other Subs."""
    inner = subs.expr
    if not (
        isinstance(inner, Derivative)
        and isinstance(inner.expr, AppliedUndef)
        and len(inner.variables) == 1
        and len(subs.variables) == 1
        and inner.variables[0] == subs.variables[0]
        and inner.variables[0] in inner.expr.args
    ):
        return None
    arguments = list(inner.expr.args)
    index = arguments.index(subs.variables[0])
    arguments[index] = subs.point[0]
    return inner.expr.func, index + 1, arguments


def to_latex(
    expr: sympy.Basic,
    partial: bool = False,
    operator: bool = False,
    highlight: tuple[sympy.Basic, str] | None = None,
    written: frozenset[sympy.Basic] = frozenset(),
    memo: PrintMemo | None = None,
    highlight_path: Sequence[sympy.Basic] | None = None,
) -> str:
    """LaTeX of an expression in the lecturer's order.  ``operator``: print a top-level
    derivative as ``d/dx f(x)`` even where it is already final (``f'(x)``).  ``highlight``:
    (a node of ``expr``, a LaTeX wrapper such as ``\\alert{%s}``).  ``written``: sums to print in
    the order the user typed them (a derivation's ``written``).  ``memo``: a :class:`PrintMemo`
    shared by the prints of one derivation's lines (same ``written``), so an untouched subtree prints
    once, identically on every line, and a line costs what changed, not the whole tree.
    ``highlight_path``: the nodes from ``expr`` down to the highlighted one, where the caller knows
    them (else they are searched for)."""
    # vectors and matrices in bold, as the seed writes them
    settings = {"mat_symbol_style": "bold"}
    printer = LectureLatexPrinter(
        settings,
        partial=partial,
        operator=expr if operator else None,
        highlight=highlight,
        written=written,
        memo=memo,
        highlight_path=highlight_path,
    )
    return printer.doprint(expr)


def changed_part(before: sympy.Basic, after: sympy.Basic) -> sympy.Basic | None:
    """The smallest sub-expression of ``after`` holding everything that differs from ``before``;
    None when nothing changed or the whole expression did (nothing worth highlighting)."""
    path = changed_path(before, after)
    if path is None:
        return None
    for index in path:
        after = after.args[index]
    return after


def changed_path(before: sympy.Basic, after: sympy.Basic) -> tuple[int, ...] | None:
    """Where :func:`changed_part` stands in ``after`` (argument indices); None as there."""
    path: tuple[int, ...] = ()
    while _differs(before, after):
        if type(before) is not type(after) or before.is_Atom or len(before.args) != len(after.args):
            break
        differing = [i for i, (a, b) in enumerate(zip(before.args, after.args, strict=True)) if _differs(a, b)]
        if len(differing) != 1:
            break
        before, after = before.args[differing[0]], after.args[differing[0]]
        path = (*path, differing[0])
    return path or None  # () when nothing changed, or the whole expression did


def _differs(a: sympy.Basic, b: sympy.Basic) -> bool:
    """``a != b``, the same object and then the kept hashes first: == compares deep trees."""
    return a is not b and (hash(a) != hash(b) or a != b)


def to_text(expr: sympy.Basic, operator: bool = False, written: frozenset[sympy.Basic] = frozenset()) -> str:
    """Plain text of an expression in the lecturer's order (``written``: as in :func:`to_latex`)."""
    return LectureStrPrinter(operator=expr if operator else None, written=written).doprint(expr)


def rule_statement(rule: Rule) -> str:
    """The general statement of a rule in LaTeX, for a rules slide and ``derivgen rules``."""
    statement = rule.statement
    if isinstance(statement, TableStatement):
        if statement.variable is None:
            return rf"\frac{{d}}{{dx}} {to_latex(statement.function)} = {to_latex(statement.derivative)}"
        by = to_latex(statement.variable)
        return rf"\frac{{\partial}}{{\partial {by}}} {to_latex(statement.function)} = {to_latex(statement.derivative)}"
    return statement
