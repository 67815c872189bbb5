r"""An independent reader of the LaTeX derivgen prints, and a numeric comparison with sympy.

The printed line is the second rendering a student reads; the sympy expression behind it is what
was checked.  This module reads the LaTeX back into sympy objects of its own (a lark grammar, built
node by node: no ``eval``, no ``sympify``, nothing from derivgen) and evaluates both the read-back
and the claimed expression numerically (numpy, complex arithmetic, derivatives by finite
differences), so a printer that drops a sign, a bracket or a factor shows up as a different value.

Conventions of the LaTeX it reads are those of the lecture notes:

- juxtaposition and ``\cdot`` multiply; ``\sum_{k}`` takes the whole rest of the product as its
  body, ``\frac{d}{dx}`` takes the one factor after it (a sum, a bracket, a power);
- ``\mathbf{x}`` is a declared vector or matrix (shapes in :class:`Context`), ``x_{k}`` and
  ``M_{k,l}`` are its entries, ``\left(\ldots\right)_{i,j}`` an entry of a matrix expression,
  ``^{T}`` a transpose, ``\left|{\mathbf{X}}\right|`` a determinant, ``\circ`` the Hadamard
  product (its operands are powers or tighter, as derivgen brackets anything looser);
- ``\mathbf{1}`` is a ones vector whose length the LaTeX leaves open: the matrix it multiplies or
  a term added to (or Hadamard-multiplied with) the product it stands in fixes it;
- a scalar function of a matrix (``\tanh``, ``e^{\cdot}``, ``\sigma``, also ``1 - \tanh^{2}(\ldots)``)
  acts entry by entry, and a 1×1 matrix product used among scalars is that scalar;
- ``\frac{\partial h}{\partial f_{1}}`` and ``f'\left(x\right)`` are derivatives of undefined
  functions, whose applications the caller names in :attr:`Context.functions`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import lark
import numpy as np
import sympy
from sympy.core.function import AppliedUndef
from sympy.matrices.exceptions import ShapeError
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

GRAMMAR = r"""
start: sum

sum: MINUS* term (addop term)*  // "- - a" (a printed −1·(−a)) is −(−a)
addop: PLUS | MINUS
term: factor (CDOT? factor)*

?factor: hadamard
       | _SUMOP subscript [MINUS] term                        -> sum_op
       | _DOP var "}" factor                                  -> d_op
       | _POP var "}" factor                                  -> partial_op
       | _LIM "_" "{" var "\\to" sum "}" factor               -> limit

?hadamard: power (_CIRC power)*                             // A ∘ B
power: primary ["^" group]

?primary: NUMBER                                             -> number
       | letter [subscript]                                   -> name
       | BOLD                                                -> bold
       | BOLD_NUMBERED                                       -> bold
       | "\\left(" sum "\\right)" [subscript]                 -> paren
       | "\\left|" "{" sum "}" "\\right|"                    -> bars
       | FUNC ["^" group] "{" "\\left(" sum "\\right)" "}"  -> function
       | OPNAME "\\left(" sum "\\right)"                     -> opname
       | "\\sigma" "\\left(" sum "\\right)"                 -> sigmoid
       | _FRAC group group                                    -> frac
       | _SQRT ["[" NUMBER "]"] group                         -> sqrt
       | _DELTA "{" sum "," sum "}"                           -> delta
       | letter [subscript] "{" "\\left(" args "\\right)" "}" -> applied
       | letter [subscript] "'" "\\left(" args "\\right)"     -> prime
       | _PARTIAL_K NUMBER "}" letter "\\left(" args "\\right)" -> partial_k
       | _PNAMED letter [subscript] "}" "{" "\\partial" var "}" -> named_partial
       | _DNAMED letter [subscript] "}" _DBY var "}"               -> named_d
       | "\\begin{bmatrix}" rows "\\end{bmatrix}"            -> bmatrix

var: letter [subscript]
   | "\\left(" letter subscript "\\right)" subscript       -> var_entry  // (W_2)_{i,j}, an entry of W2
args: sum ("," sum)*
rows: row ("\\\\" row)*
row: sum ("&" sum)*
group: "{" sum "}"
subscript: "_" "{" sum ("," sum)* "}"
         | "_" SUBCHAR
letter: LETTER | GREEK

NUMBER: /\d+(\.\d+)?/
LETTER: /[a-zA-Z]/
SUBCHAR: /[a-zA-Z0-9]/
GREEK: /\\(alpha|beta|gamma|epsilon|zeta|eta|theta|kappa|lambda|mu|nu|xi|pi|rho|tau|phi|chi|psi|omega)(?![a-zA-Z])/
BOLD: /\\mathbf\{(\\?[a-zA-Z]+|1)\}/
BOLD_NUMBERED: /\\mathbf\{[a-zA-Z]+\}_\{\d+\}/
FUNC: /\\(sin|cos|tan|cot|sec|csc|sinh|cosh|tanh|coth|asin|acos|atan|arcsin|arccos|arctan|log|ln|exp)(?![a-zA-Z])/
OPNAME: /\\operatorname\{[a-zA-Z]+\}/
_FRAC: "\\frac"
_SQRT: "\\sqrt"
_SUMOP: "\\sum"
_LIM: "\\lim"
_DOP: "\\frac{d}{d"
_POP: "\\frac{\\partial}{\\partial"
_PNAMED: /\\frac\{\\partial(?=\s)/
_DNAMED: /\\frac\{d(?=\s)/
_PARTIAL_K: "\\partial_{"
_DELTA: "\\delta_"
_CIRC: "\\circ"
_DBY: /\{d\s/
CDOT: "\\cdot"
PLUS: "+"
MINUS: "-"
%ignore /\s+/
%ignore /\\[,;!]/
"""


class ReadError(ValueError):
    """The text is not LaTeX this reader understands, or means nothing (a shape mismatch)."""


@dataclass
class Context:
    r"""What the LaTeX does not say itself.

    ``shapes``: the vectors and matrices (name → (rows, cols), concrete sizes); ``index_ranges``: the
    free indices (``i`` → its size); ``functions``: undefined functions as the expression applies
    them (``"h"`` → ``h(f1(x1, x2), f2(x1, x2))``); ``square``: the size of ``\mathbf{I}``."""

    shapes: dict[str, tuple[int, int]] = field(default_factory=dict)
    index_ranges: dict[str, int] = field(default_factory=dict)
    functions: dict[str, sympy.Expr] = field(default_factory=dict)
    square: int | None = None


@cache
def _parser() -> lark.Lark:
    return lark.Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


_ALERT = re.compile(r"\\alert<[^>]*>\{")


def strip_alert(text: str) -> str:
    r"""``text`` with every ``\alert<…>{…}`` replaced by its content (the highlight removed)."""
    while (match := _ALERT.search(text)) is not None:
        depth, position = 1, match.end()
        while depth:
            if position >= len(text):
                raise ReadError(f"unbalanced \\alert in {text!r}")
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            position += 1
        text = text[: match.start()] + text[match.end() : position - 1] + text[position:]
    return text


def read_latex(text: str, context: Context | None = None) -> sympy.Basic:
    """The sympy object a printed right-hand side means."""
    try:
        tree = _parser().parse(text)
    except lark.exceptions.LarkError as error:
        raise ReadError(f"cannot read {text!r}: {error}") from None
    try:
        value = _Builder(context or Context()).build(tree.children[0], {})
    except ShapeError as error:
        raise ReadError(f"shapes do not fit in {text!r}: {error}") from None
    return _known(value, "the whole line")


_GREEK_NAMES = {"lambda", "mu", "alpha", "beta", "gamma", "epsilon", "theta", "eta", "rho", "tau", "phi", "omega"}
_FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "coth": sympy.coth,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "log": sympy.log,
    "ln": sympy.log,
    "exp": sympy.exp,
}


def _symbol_or_euler(name: str) -> sympy.Expr:
    """A plain letter; ``e`` is Euler's number (derivgen reads and prints it so: no variable is named e)."""
    return sympy.E if name == "e" else sympy.Symbol(name)


def _sigmoid(t: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-t))


def _index(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, integer=True)


_PROBE = 101  # a length no declared size has: what a step does to the open side shows in the shape


@dataclass(frozen=True)
class _Unsized:
    r"""A matrix with one side of unknown length: ``\mathbf{1}`` (rows unknown), ``\mathbf{1}^{T}``
    (columns unknown), and what products, scalings and negations of them make before a neighbour
    fixes the length (``\mathbf{1} \mathbf{b}^{T}`` in ``\mathbf{X} \mathbf{W} + \mathbf{1}
    \mathbf{b}^{T}``: its rows are those of ``\mathbf{X} \mathbf{W}``).

    ``axis`` is the unknown side (0 rows, 1 columns), ``known`` the length of the other side,
    ``make`` builds the matrix once the unknown length is given; ``whole`` (a bare ``\mathbf{1}``,
    signed or scaled) builds it in a sum or a Hadamard product, where it is the ones matrix of the
    other terms' shape (``\mathbf{1} - \tanh^{2}(\mathbf{X})``)."""

    axis: int
    known: int
    make: Callable[[int], Any]
    whole: Callable[[tuple], Any] | None = None

    def sized(self, length: int) -> Any:
        return self.make(length)

    def then(self, step: Callable[[Any], Any]) -> _Unsized:
        """The same open side, the matrix transformed by ``step`` once sized (a product with a
        matrix on the known side, a scalar factor, a sign); the known side as ``step`` makes it."""
        make = self.make
        shape = step(make(_PROBE)).shape
        if shape[self.axis] != _PROBE:
            raise ReadError(r"a \mathbf{1} of unknown length in a product that drops its length")
        whole = self.whole if self.whole is not None and _keeps_any_shape(step) else None
        kept = None if whole is None else (lambda shape: step(whole(shape)))
        return _Unsized(self.axis, int(shape[1 - self.axis]), lambda n: step(make(n)), kept)

    def transposed(self) -> _Unsized:
        make = self.make
        return _Unsized(1 - self.axis, self.known, lambda n: sympy.Transpose(make(n)), self.whole)


def _keeps_any_shape(step: Callable[[Any], Any]) -> bool:
    r"""``step`` is a sign or a scalar factor (a bare ``\mathbf{1}`` after it is still a ones matrix
    of any shape), not a product with a matrix."""
    try:
        return step(sympy.OneMatrix(_PROBE, _PROBE + 1)).shape == (_PROBE, _PROBE + 1)
    except (ReadError, ShapeError):
        return False


def _ones() -> _Unsized:
    return _Unsized(0, 1, lambda n: sympy.OneMatrix(n, 1), lambda shape: sympy.OneMatrix(*shape))


class _MatrixDerivative(sympy.MatrixExpr):
    """The derivative of a matrix by a scalar, entry by entry (sympy's Derivative of a matrix
    expression is no matrix a product accepts)."""

    @property
    def shape(self) -> tuple:
        return self.args[0].shape


def _is_matrix(value: Any) -> bool:
    return isinstance(value, sympy.MatrixExpr | sympy.MatrixBase | _Unsized)


def _sized_by_shape(value: Any, shape: tuple) -> Any:
    """``value`` sized as a term of that shape (added to it, or Hadamard-multiplied with it)."""
    if not isinstance(value, _Unsized):
        return value
    if value.whole is not None:
        return value.whole(tuple(shape))
    if value.known != shape[1 - value.axis]:
        raise ReadError(f"a matrix with {value.known} on one side beside a {shape} matrix")
    return value.sized(int(shape[value.axis]))


def _known(value: Any, what: str) -> Any:
    if isinstance(value, _Unsized):
        raise ReadError(rf"{what} of a \mathbf{{1}} of unknown length")
    return value


def _scalar(value: Any) -> Any:
    """A 1×1 matrix used among scalars is its one entry."""
    if isinstance(value, sympy.MatrixExpr | sympy.MatrixBase) and value.shape == (1, 1):
        return MatrixElement(value, 0, 0) if isinstance(value, sympy.MatrixExpr) else value[0, 0]
    return value


class _Builder:
    def __init__(self, context: Context):
        self.context = context

    def build(self, node: lark.Tree | lark.Token, scope: dict[str, Any]) -> Any:
        if isinstance(node, lark.Token):
            raise ReadError(f"unexpected token {node!r}")
        method = getattr(self, f"_{node.data}", None)
        if method is None:
            raise ReadError(f"no reading for {node.data}")
        return method(node.children, scope)

    # -- sums and products ----------------------------------------------------------------------
    def _sum(self, children, scope):
        signs = 0
        while isinstance(children[signs], lark.Token):
            signs += 1
        first, *rest = children[signs:]
        terms = [self.build(first, scope)]
        for _ in range(signs):
            terms[0] = self._negate(terms[0])
        for operator, term in zip(rest[::2], rest[1::2], strict=True):
            value = self.build(term, scope)
            terms.append(self._negate(value) if operator.children[0].type == "MINUS" else value)
        return _add(terms, self.context)

    def _term(self, children, scope):
        factors = [self.build(child, scope) for child in children if not isinstance(child, lark.Token)]
        value = factors[0]
        for factor in factors[1:]:
            value = _multiply(value, factor)
        return value

    def _hadamard(self, children, scope):
        return _hadamard([self.build(child, scope) for child in children])

    def _negate(self, value):
        if isinstance(value, _Unsized):
            return value.then(lambda matrix: -matrix)
        return -value

    def _sum_op(self, children, scope):
        subscript, negative, body = children
        name = self._subscript_names(subscript, scope)
        if len(name) != 1:
            raise ReadError("a sum runs over one index")
        name = name[0]
        family = self._function_family(body, name)
        if family:  # Σ_i ∂h/∂f_i ∂f_i/∂x: one term per inner function f_1, f_2, …
            terms = [self.build(body, {**scope, name: number}) for number in family]
            total = sympy.Add(*[_scalar(term) for term in terms])
            return -total if negative is not None else total
        index = _index(name)
        inner_scope = {**scope, name: index}
        value = self.build(body, inner_scope)
        if negative is not None:
            value = -value
        size = self._range_of(index, value, scope)
        return sympy.Sum(value, (index, 0, size - 1))

    def _function_family(self, body: lark.Tree, name: str) -> list[str]:
        """The numbers of f_1, f_2, … when the sum's index is the subscript of a function name."""
        for subtree in body.iter_subtrees():
            if subtree.data not in ("named_partial", "named_d", "var"):
                continue
            tokens = [t for t in subtree.scan_values(lambda v: isinstance(v, lark.Token))]
            letters = [str(t) for t in tokens if t.type in ("LETTER", "SUBCHAR", "GREEK")]
            for position, letter in enumerate(letters[:-1]):
                if letters[position + 1] == name:
                    numbers = sorted(
                        key[len(letter) :]
                        for key in self.context.functions
                        if key.startswith(letter) and key[len(letter) :].isdigit()
                    )
                    if numbers:
                        return numbers
        return []

    def _range_of(self, index: sympy.Symbol, body: Any, scope: dict) -> int:
        """How far a summation index runs: the size of a matrix it indexes, else that of an index
        a Kronecker delta pairs it with."""
        expression = body if isinstance(body, sympy.Basic) else sympy.S.Zero
        for element in expression.atoms(MatrixElement):
            for position, value in enumerate((element.i, element.j)):
                if value == index:
                    return int(element.parent.shape[position])
        for delta in expression.atoms(sympy.KroneckerDelta):
            if index in delta.args:
                other = delta.args[1] if delta.args[0] == index else delta.args[0]
                if isinstance(other, sympy.Symbol) and other.name in self.context.index_ranges:
                    return self.context.index_ranges[other.name]
        for sum_ in expression.atoms(sympy.Sum):  # a delta pairing it with an inner summation index
            for delta in sum_.function.atoms(sympy.KroneckerDelta):
                if index in delta.args:
                    other = delta.args[1] if delta.args[0] == index else delta.args[0]
                    for limit in sum_.limits:
                        if limit[0] == other:
                            return int(limit[2]) + 1
        raise ReadError(f"cannot tell the range of the summation index {index}")

    # -- atoms ----------------------------------------------------------------------------------
    def _number(self, children, scope):
        text = str(children[0])
        return sympy.Rational(text) if "." in text else sympy.Integer(text)

    def _letter_name(self, letter: lark.Tree) -> str:
        text = str(letter.children[0])
        return text.removeprefix("\\")

    def _subscript_names(self, subscript: lark.Tree, scope) -> list[str]:
        """The items of a subscript as names: ``{k,l}`` → [k, l]; ``{1}`` → [1]; bound by ``scope``."""
        names = []
        for item in subscript.children:
            if isinstance(item, lark.Token):
                names.append(str(scope.get(str(item), str(item))))
                continue
            tokens = [t for t in item.scan_values(lambda v: isinstance(v, lark.Token)) if t.type not in ("PLUS",)]
            if len(tokens) != 1:
                raise ReadError("a compound subscript")
            names.append(str(scope.get(str(tokens[0]), str(tokens[0]))))
        return names

    def _index_values(self, subscript: lark.Tree, scope) -> list[sympy.Expr]:
        values = []
        for item in subscript.children:
            if isinstance(item, lark.Token):
                text = str(item)
                values.append(sympy.Integer(text) if text.isdigit() else scope.get(text, _index(text)))
            else:
                values.append(self._index_expression(item, scope))
        return values

    def _index_expression(self, tree: lark.Tree, scope) -> sympy.Expr:
        tokens = [t for t in tree.scan_values(lambda v: isinstance(v, lark.Token))]
        if len(tokens) == 1 and tokens[0].type in ("LETTER", "GREEK"):
            text = str(tokens[0])
            value = scope.get(text, _index(text))
            return sympy.Integer(value) if isinstance(value, str) else value
        if len(tokens) == 1 and tokens[0].type == "NUMBER":
            return sympy.Integer(str(tokens[0]))
        raise ReadError("an index that is not a letter or a number")

    def _name(self, children, scope):
        letter, subscript = children
        base = self._letter_name(letter)
        if subscript is None:
            if base in scope and not isinstance(scope[base], str):
                return scope[base]
            if base in self.context.shapes:
                raise ReadError(f"{base} is a vector or matrix: write it bold or take an entry")
            return _symbol_or_euler(base)
        if base in self.context.shapes:
            return self._entry(sympy.MatrixSymbol(base, *self.context.shapes[base]), subscript, scope)
        name = base + "".join(self._subscript_names(subscript, scope))
        if name in self.context.shapes:  # W_{2}: the matrix W2, whose entry follows as (W_{2})_{i,j}
            return sympy.MatrixSymbol(name, *self.context.shapes[name])
        return sympy.Symbol(name)

    def _entry(self, matrix, subscript: lark.Tree, scope) -> sympy.Expr:
        indices = self._index_values(subscript, scope)
        rows, cols = matrix.shape
        if len(indices) == 2:
            return MatrixElement(matrix, *indices)
        if len(indices) == 1 and cols == 1:
            return MatrixElement(matrix, indices[0], 0)
        if len(indices) == 1 and rows == 1:
            return MatrixElement(matrix, 0, indices[0])
        raise ReadError(f"one index for a {rows}×{cols} matrix")

    def _bold(self, children, scope):
        text = str(children[0])
        numbered = re.fullmatch(r"\\mathbf\{([a-zA-Z]+)\}_\{(\d+)\}", text)  # W_{2} names W2
        name = "".join(numbered.groups()) if numbered else re.fullmatch(r"\\mathbf\{\\?(.+)\}", text).group(1)
        if name == "1":
            return _ones()
        if name == "I":
            if self.context.square is None:
                raise ReadError(r"\mathbf{I} of unknown size")
            return sympy.Identity(self.context.square)
        if name not in self.context.shapes:
            raise ReadError(f"undeclared vector or matrix {name}")
        return sympy.MatrixSymbol(name, *self.context.shapes[name])

    def _paren(self, children, scope):
        inner, subscript = children
        value = self.build(inner, scope)
        if subscript is None:
            return value
        if isinstance(value, sympy.Identity):
            i, j = self._index_values(subscript, scope)
            return sympy.KroneckerDelta(i, j)
        if not _is_matrix(value):
            raise ReadError("an index on a scalar")
        return self._entry(_known(value, "an entry"), subscript, scope)

    def _bars(self, children, scope):
        value = _known(self.build(children[0], scope), "a determinant")
        return sympy.Determinant(value) if _is_matrix(value) else sympy.Abs(value)

    def _group(self, children, scope):
        return self.build(children[0], scope)

    # -- powers and functions -------------------------------------------------------------------
    def _power(self, children, scope):
        base_tree, exponent_tree = children
        if exponent_tree is None:
            return self.build(base_tree, scope)
        if _is_token_letter(exponent_tree, "T"):
            base = self.build(base_tree, scope)
            if isinstance(base, _Unsized):
                return base.transposed()
            if not _is_matrix(base):
                raise ReadError("a transpose of a scalar")
            return sympy.Transpose(base)
        exponent = self.build(exponent_tree, scope)
        if _is_token_letter(base_tree, "e"):
            return _apply(sympy.exp, exponent)
        base = self.build(base_tree, scope)
        return _power(base, exponent)

    def _function(self, children, scope):
        name_token, exponent_tree, argument_tree = children
        function = _FUNCTIONS[str(name_token).removeprefix("\\")]
        value = _apply(function, self.build(argument_tree, scope))
        if exponent_tree is not None:
            value = _power(value, self.build(exponent_tree, scope))
        return value

    def _opname(self, children, scope):
        name = re.fullmatch(r"\\operatorname\{(.+)\}", str(children[0])).group(1)
        argument = self.build(children[1], scope)
        if name == "tr" and _is_matrix(argument):
            return sympy.Trace(argument)
        if name == "softmax" and _is_matrix(argument):
            exponentials = _apply(sympy.exp, argument)
            return _multiply(1 / _scalar(_multiply(_ones().transposed(), exponentials)), exponentials)
        if name == "diag" and _is_matrix(argument) and 1 in argument.shape:
            return sympy.DiagMatrix(argument)
        if name == "det" and _is_matrix(argument):
            return sympy.Determinant(argument)
        raise ReadError(f"unknown operator {name}")

    def _sigmoid(self, children, scope):
        return _apply(_sigmoid, self.build(children[0], scope))

    def _frac(self, children, scope):
        numerator = _scalar(self.build(children[0], scope))
        denominator = _scalar(self.build(children[1], scope))
        if _is_matrix(denominator):
            raise ReadError("a division by a matrix")
        return _multiply(numerator, 1 / denominator) if _is_matrix(numerator) else numerator / denominator

    def _sqrt(self, children, scope):
        degree, radicand = children
        value = self.build(radicand, scope)
        return sympy.root(value, int(str(degree))) if degree is not None else sympy.sqrt(value)

    def _delta(self, children, scope):
        return sympy.KroneckerDelta(self.build(children[0], scope), self.build(children[1], scope))

    # -- undefined functions and derivatives ------------------------------------------------------
    def _function_name(self, letter, subscript, scope) -> str:
        base = self._letter_name(letter)
        return base + ("".join(self._subscript_names(subscript, scope)) if subscript is not None else "")

    def _args(self, children, scope):
        return [self.build(child, scope) for child in children]

    def _applied(self, children, scope):
        letter, subscript, arguments = children
        name = self._function_name(letter, subscript, scope)
        return sympy.Function(name)(*self.build(arguments, scope))

    def _prime(self, children, scope):
        letter, subscript, arguments = children
        (point,) = self.build(arguments, scope)
        function = sympy.Function(self._function_name(letter, subscript, scope))
        dummy = sympy.Dummy("u")
        return sympy.Subs(sympy.Derivative(function(dummy), dummy), dummy, point)

    def _partial_k(self, children, scope):
        number, letter, arguments = children
        points = self.build(arguments, scope)
        position = int(str(number)) - 1
        dummies = [sympy.Dummy(f"u{i}") for i in range(len(points))]
        function = sympy.Function(self._letter_name(letter))
        inner = sympy.Derivative(function(*dummies), dummies[position])
        return sympy.Subs(inner, dummies, points)

    def _var(self, children, scope):
        letter, subscript = children
        base = self._letter_name(letter)
        if subscript is not None and base in self.context.shapes:
            return self._entry(sympy.MatrixSymbol(base, *self.context.shapes[base]), subscript, scope)
        name = self._function_name(letter, subscript, scope)
        if name in self.context.functions:  # ∂h/∂f_1: by the inner function as the expression applies it
            return self.context.functions[name]
        return _symbol_or_euler(name)

    def _var_entry(self, children, scope):
        letter, name, index = children
        matrix = self._function_name(letter, name, scope)
        if matrix not in self.context.shapes:
            raise ReadError(f"undeclared vector or matrix {matrix}")
        return self._entry(sympy.MatrixSymbol(matrix, *self.context.shapes[matrix]), index, scope)

    def _known_function(self, letter, subscript, scope) -> sympy.Expr:
        name = self._function_name(letter, subscript, scope)
        if name not in self.context.functions:
            raise ReadError(f"the arguments of {name} are not known")
        return self.context.functions[name]

    def _named_partial(self, children, scope):
        letter, subscript, variable = children
        return sympy.Derivative(self._known_function(letter, subscript, scope), self.build(variable, scope))

    _named_d = _named_partial

    def _d_op(self, children, scope):
        variable, operand = children
        value = _known(_scalar(self.build(operand, scope)), "a derivative")
        if _is_matrix(value):  # ∂A/∂λ of a matrix by a scalar: a matrix, entry by entry
            return _MatrixDerivative(value, self.build(variable, scope))
        return sympy.Derivative(value, self.build(variable, scope))

    _partial_op = _d_op

    def _limit(self, children, scope):
        variable, point, body = children
        return sympy.Limit(self.build(body, scope), self.build(variable, scope), self.build(point, scope))

    def _bmatrix(self, children, scope):
        rows = [[_scalar(self.build(cell, scope)) for cell in row.children] for row in children[0].children]
        if len({len(row) for row in rows}) != 1:
            raise ReadError("ragged bmatrix")
        return sympy.ImmutableMatrix(rows)


def _is_token_letter(tree: lark.Tree, letter: str) -> bool:
    """``tree`` is the bare letter ``letter`` (``^{T}``, ``e^{…}``)."""
    tokens = list(tree.scan_values(lambda v: isinstance(v, lark.Token)))
    return len(tokens) == 1 and tokens[0].type == "LETTER" and str(tokens[0]) == letter and "subscript" not in str(tree)


# -- combining scalars and matrices ---------------------------------------------------------------
def _apply(function: Callable[[sympy.Expr], sympy.Expr], argument: Any) -> Any:
    """A scalar function of a scalar, or entry by entry of a matrix (of a 1×1 product: of its entry)."""
    argument = _scalar(argument)
    argument = _known(argument, "a function")
    if _is_matrix(argument):
        t = sympy.Dummy("t")
        return ElementwiseApplyFunction(sympy.Lambda(t, function(t)), argument)
    return function(argument)


def _power(base: Any, exponent: sympy.Expr) -> Any:
    base = _known(_scalar(base), "a power")
    if isinstance(base, ElementwiseApplyFunction):
        t = sympy.Dummy("t")
        return ElementwiseApplyFunction(sympy.Lambda(t, base.function(t) ** exponent), base.expr)
    if _is_matrix(base):
        if exponent == -1:
            return sympy.Inverse(base)
        return sympy.MatPow(base, exponent)
    return base**exponent


def _multiply(left: Any, right: Any) -> Any:
    if isinstance(left, _Unsized) and isinstance(right, _Unsized):
        raise ReadError(r"a product of two \mathbf{1} of unknown length")
    if isinstance(left, _Unsized):
        if _is_matrix(right) and left.axis == 1:  # 1ᵀ M: as long as M is high
            return _multiply(left.sized(int(right.shape[0])), right)
        return left.then(lambda matrix: _multiply(matrix, right))
    if isinstance(right, _Unsized):
        if _is_matrix(left) and right.axis == 0:  # M 1: as long as M is wide
            return _multiply(left, right.sized(int(left.shape[1])))
        return right.then(lambda matrix: _multiply(left, matrix))
    if _is_matrix(left) and _is_matrix(right) and left.shape[1] != right.shape[0]:
        left, right = _scalar(left), _scalar(right)
        if _is_matrix(left) and _is_matrix(right):
            raise ReadError(f"a {left.shape} matrix times a {right.shape} matrix")
    if not _is_matrix(left) and not _is_matrix(right):
        return left * right
    return sympy.MatMul(left, right) if _is_matrix(left) and _is_matrix(right) else left * right


def _add(terms: list[Any], context: Context) -> Any:
    if len(terms) == 1:
        return terms[0]
    matrices = [term for term in terms if _is_matrix(term) and not isinstance(term, _Unsized)]
    if not matrices:
        if any(isinstance(term, _Unsized) for term in terms):
            raise ReadError(r"a \mathbf{1} of unknown length among scalars")
        return sympy.Add(*terms)
    shape = matrices[0].shape
    terms = [_sized_by_shape(term, shape) for term in terms]
    scalars = [term for term in terms if not _is_matrix(term)]
    if not scalars:
        return sympy.MatAdd(*terms)
    return _entrywise_sum(terms)


def _hadamard(factors: list[Any]) -> Any:
    r"""``A \circ B``: matrices of one shape (a ``\mathbf{1}`` takes it from the others)."""
    if not all(_is_matrix(factor) for factor in factors):
        raise ReadError(r"a scalar in a Hadamard product")
    known = [factor for factor in factors if not isinstance(factor, _Unsized)]
    if not known:
        raise ReadError(r"a Hadamard product of \mathbf{1} of unknown length")
    shape = known[0].shape
    return sympy.HadamardProduct(*[_sized_by_shape(factor, shape) for factor in factors])


def _entrywise_sum(terms: list[Any]) -> Any:
    """``1 - \tanh^{2}(A)``: scalars beside functions of one matrix ``A`` act entry by entry."""
    arguments = {node.expr for term in terms if _is_matrix(term) for node in _elementwise_nodes(term)}
    if len(arguments) != 1:
        raise ReadError("a scalar added to a matrix")
    (argument,) = arguments
    t = sympy.Dummy("t")
    body = sympy.Add(*[_lift(term, argument, t) for term in terms])
    return ElementwiseApplyFunction(sympy.Lambda(t, body), argument)


def _elementwise_nodes(term: sympy.Basic) -> list[ElementwiseApplyFunction]:
    return [node for node in sympy.preorder_traversal(term) if isinstance(node, ElementwiseApplyFunction)]


def _lift(term: Any, argument: sympy.MatrixExpr, t: sympy.Dummy) -> sympy.Expr:
    if not _is_matrix(term):
        return term
    if isinstance(term, ElementwiseApplyFunction) and term.expr == argument:
        return term.function(t)
    if isinstance(term, sympy.MatMul | sympy.MatAdd):
        parts = [_lift(arg, argument, t) for arg in term.args]
        return sympy.Mul(*parts) if isinstance(term, sympy.MatMul) else sympy.Add(*parts)
    raise ReadError("a scalar added to a matrix")


# -- numeric evaluation ---------------------------------------------------------------------------
_NUMPY = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "cot": lambda v: 1 / np.tan(v),
    "sec": lambda v: 1 / np.cos(v),
    "csc": lambda v: 1 / np.sin(v),
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "coth": lambda v: 1 / np.tanh(v),
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "exp": np.exp,
    "log": np.log,
    "Abs": np.abs,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
}
_ALIASES = {"lam": "lambda"}  # what a lecturer types for a name that is a Python keyword


def value_key(name: str) -> str:
    """The name under which a symbol gets its value: ``x_1`` and ``x1`` print alike."""
    name = name.replace("_", "")
    return _ALIASES.get(name, name)


@dataclass
class Env:
    """Values by name (scalars, arrays, sizes, free indices) and overrides by node (bound indices,
    a derivative's variable, a lambda's argument)."""

    values: dict[str, Any]
    overrides: dict[sympy.Basic, Any] = field(default_factory=dict)

    def bind(self, node: sympy.Basic, value: Any) -> Env:
        return Env(self.values, {**self.overrides, node: value})


def _concrete_function(arguments: list[Any]) -> Any:
    """The smooth stand-in for an undefined function (as in conftest._concrete)."""
    total = 1
    result = 0
    for i, value in enumerate(arguments):
        result = result + np.sin((i + 2) * value) + value**2 / (i + 3)
        total = total * value
    return result + total


def evaluate(expr: Any, env: Env) -> Any:
    """The value of a sympy object at ``env``: a complex number or a 2-d complex array."""
    if env.overrides and getattr(expr, "__hash__", None) is not None and expr in env.overrides:
        return env.overrides[expr]
    name = type(expr).__name__
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(expr, env)
    if isinstance(expr, AppliedUndef):
        return _concrete_function([evaluate(arg, env) for arg in expr.args])
    if isinstance(expr, sympy.Integer):
        return complex(int(expr))
    if isinstance(expr, sympy.Rational):
        return complex(int(expr.p) / int(expr.q))
    if isinstance(expr, sympy.Number | sympy.NumberSymbol) or expr in (sympy.I, sympy.E):
        return complex(expr)
    if isinstance(expr, sympy.Symbol):
        return env.values[value_key(expr.name)]
    if isinstance(expr, sympy.Function) and name in _NUMPY:
        (argument,) = expr.args
        return _NUMPY[name](evaluate(argument, env))
    raise ReadError(f"cannot evaluate {name}")


def _product(values: list[Any]) -> Any:
    result = values[0]
    for value in values[1:]:
        if isinstance(result, np.ndarray) and isinstance(value, np.ndarray) and result.shape[1] == value.shape[0]:
            result = result @ value
        elif isinstance(result, np.ndarray) and isinstance(value, np.ndarray):
            if result.shape == (1, 1):
                result = result[0, 0] * value
            elif value.shape == (1, 1):
                result = result * value[0, 0]
            else:
                raise ReadError(f"shapes {result.shape} and {value.shape} do not multiply")
        else:
            result = result * value
    return result


def _derivative(expr: sympy.Derivative, env: Env) -> Any:
    """Central differences of fourth order (step 1e-3) in each variable in turn."""
    function: Callable[[Env], Any] = lambda e: evaluate(expr.expr, e)  # noqa: E731
    for variable, count in expr.variable_count:
        for _ in range(int(count)):
            function = _differentiated(function, variable)
    return function(env)


def _differentiated(function: Callable[[Env], Any], variable: sympy.Basic) -> Callable[[Env], Any]:
    def derivative(env: Env) -> Any:
        step = 1e-3
        weights = ((-2, 1), (-1, -8), (1, 8), (2, -1))
        return sum(weight * function(_moved(env, variable, k * step)) for k, weight in weights) / (12 * step)

    return derivative


def _moved(env: Env, variable: sympy.Basic, delta: float) -> Env:
    if isinstance(variable, MatrixElement) and isinstance(variable.parent, sympy.MatrixSymbol):
        key = value_key(variable.parent.name)
        array = np.array(env.values[key], dtype=complex)
        array[_int(evaluate(variable.i, env)), _int(evaluate(variable.j, env))] += delta
        return Env({**env.values, key: array}, env.overrides)
    moved = evaluate(variable, env) + delta
    if isinstance(variable, sympy.Symbol) and not isinstance(variable, sympy.Dummy):
        # by name too: x and x (real) print alike, so both sides move together
        return Env({**env.values, value_key(variable.name): moved}, {**env.overrides, variable: moved})
    return env.bind(variable, moved)


def _int(value: Any) -> int:
    return round(complex(value).real)


def _sum(expr: sympy.Sum, env: Env) -> Any:
    return _sum_over(expr.function, list(expr.limits), env)


def _sum_over(body: sympy.Basic, limits: list[tuple], env: Env) -> Any:
    if not limits:
        return evaluate(body, env)
    (index, low, high), *rest = limits
    total: Any = 0
    for value in range(_int(evaluate(low, env)), _int(evaluate(high, env)) + 1):
        total = total + _sum_over(body, rest, env.bind(index, complex(value)))
    return total


def _matrix_derivative(expr: _MatrixDerivative, env: Env) -> Any:
    matrix, variable = expr.args
    return _differentiated(lambda e: evaluate(matrix, e), variable)(env)


def _subs(expr: sympy.Subs, env: Env) -> Any:
    inner = env
    for variable, point in zip(expr.variables, expr.point, strict=True):
        inner = inner.bind(variable, evaluate(point, env))
    return evaluate(expr.expr, inner)


def _elementwise(expr: ElementwiseApplyFunction, env: Env) -> Any:
    argument = np.asarray(evaluate(expr.expr, env), dtype=complex)
    (variable,) = expr.function.variables
    return np.asarray(evaluate(expr.function.expr, env.bind(variable, argument)), dtype=complex) * np.ones_like(
        argument
    )


def _explicit(expr: sympy.MatrixBase, env: Env) -> np.ndarray:
    def entry(value: Any) -> complex:
        value = evaluate(value, env)
        return complex(value[0, 0]) if isinstance(value, np.ndarray) else complex(value)

    return np.array([[entry(expr[i, j]) for j in range(expr.cols)] for i in range(expr.rows)], dtype=complex)


def _size(value: Any, env: Env) -> int:
    return _int(evaluate(value, env))


def _softmax(expr: Any, env: Env) -> np.ndarray:
    exponentials = np.exp(evaluate(expr.args[0], env))
    return exponentials / exponentials.sum()


_HANDLERS: dict[str, Callable[[Any, Env], Any]] = {
    "Add": lambda e, env: sum(evaluate(a, env) for a in e.args),
    "Mul": lambda e, env: _product([evaluate(a, env) for a in e.args]),
    "Pow": lambda e, env: np.power(evaluate(e.base, env), evaluate(e.exp, env)),
    "exp": lambda e, env: np.exp(evaluate(e.args[0], env)),
    "Derivative": _derivative,
    "_MatrixDerivative": _matrix_derivative,
    "Subs": _subs,
    "Limit": lambda e, env: evaluate(e.args[0], env),  # both sides are compared as functions of h
    "Sum": _sum,
    "KroneckerDelta": lambda e, env: complex(_int(evaluate(e.args[0], env)) == _int(evaluate(e.args[1], env))),
    "MatrixSymbol": lambda e, env: env.values[value_key(e.name)],
    "MatrixElement": lambda e, env: evaluate(e.parent, env)[_int(evaluate(e.i, env)), _int(evaluate(e.j, env))],
    "Transpose": lambda e, env: evaluate(e.arg, env).T,
    "Inverse": lambda e, env: np.linalg.inv(evaluate(e.arg, env)),
    "Determinant": lambda e, env: complex(np.linalg.det(evaluate(e.arg, env))),
    "Trace": lambda e, env: complex(np.trace(evaluate(e.arg, env))),
    "Identity": lambda e, env: np.eye(_size(e.rows, env), dtype=complex),
    "OneMatrix": lambda e, env: np.ones((_size(e.rows, env), _size(e.cols, env)), dtype=complex),
    "ZeroMatrix": lambda e, env: np.zeros((_size(e.rows, env), _size(e.cols, env)), dtype=complex),
    "MatAdd": lambda e, env: sum(evaluate(a, env) for a in e.args),
    "MatMul": lambda e, env: _product([evaluate(a, env) for a in e.args]),
    "HadamardProduct": lambda e, env: np.prod([evaluate(a, env) for a in e.args], axis=0),
    "HadamardPower": lambda e, env: np.power(evaluate(e.base, env), evaluate(e.exp, env)),
    "Diag": lambda e, env: np.diag(np.ravel(evaluate(e.arg, env))),
    "DiagMatrix": lambda e, env: np.diag(np.ravel(evaluate(e.args[0], env))),
    "MatPow": lambda e, env: np.linalg.matrix_power(evaluate(e.base, env), _int(evaluate(e.exp, env))),
    "ElementwiseApplyFunction": _elementwise,
    "ImmutableDenseMatrix": _explicit,
    "MutableDenseMatrix": _explicit,
    "AsScalar": lambda e, env: evaluate(e.args[0], env)[0, 0],
    "Softmax": _softmax,
}

RANGES = ((0.15, 0.85), (1.2, 2.6), (-0.85, -0.15), (-2.6, -1.2))


def _names(expr: Any) -> tuple[set[str], set[str]]:
    """Scalar names and matrix names an expression needs values for (bound indices included:
    cheaper than sympy's free_symbols, and harmless)."""
    if not isinstance(expr, sympy.Basic):
        return set(), set()
    scalars = {value_key(s.name) for s in expr.atoms(sympy.Symbol) if not isinstance(s, sympy.Dummy)}
    matrices = {value_key(m.name) for m in expr.atoms(sympy.MatrixSymbol)}
    return scalars - matrices, matrices


def random_env(scalars: set[str], context: Context, rng: random.Random, sizes: dict[str, int]) -> Env:
    """Random values: real scalars of both signs for the names ``scalars``, normal arrays of the
    declared shapes, free indices within their range, the given sizes."""
    values: dict[str, Any] = {}
    for name, size in sizes.items():
        values[value_key(name)] = complex(size)
    for name, (rows, cols) in context.shapes.items():
        values[value_key(name)] = (
            np.array([[rng.gauss(0, 1) for _ in range(cols)] for _ in range(rows)], dtype=complex)
            + np.eye(rows, cols) * 2
        )  # well away from singular for the square ones
    for name, size in context.index_ranges.items():
        values[value_key(name)] = complex(rng.randrange(size))
    for name in sorted(scalars - set(values)):
        values[name] = complex(rng.uniform(*rng.choice(RANGES)))
    return Env(values)


def _as_array(value: Any) -> np.ndarray:
    array = np.atleast_2d(np.asarray(value, dtype=complex))
    return array


def numerically_equal(
    claimed: Any,
    read: Any,
    context: Context | None = None,
    sizes: dict[str, int] | None = None,
    points: int = 3,
    seed: int = 0,
) -> bool:
    """``claimed`` and ``read`` take the same values at ``points`` random points (complex values
    compared, so log x ≠ log|x|); points where either is undefined are skipped, and a comparison
    with no defined point at all fails."""
    context = context or Context()
    rng = random.Random(seed)
    agreed = 0
    scalars = _names(claimed)[0] | _names(read)[0]
    for _ in range(points * 6):
        env = random_env(scalars, context, rng, sizes or {})
        with np.errstate(all="ignore"):
            try:
                a, b = _as_array(evaluate(claimed, env)), _as_array(evaluate(read, env))
            except (ZeroDivisionError, OverflowError, np.linalg.LinAlgError):
                continue
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or max(np.abs(a).max(), np.abs(b).max()) > 1e8:
            continue
        if a.shape != b.shape:
            return False
        scale = max(1.0, float(np.abs(a).max()), float(np.abs(b).max()))
        if float(np.abs(a - b).max()) > 1e-6 * scale:
            return False
        agreed += 1
        if agreed >= points:
            return True
    return False


def explain(claimed: Any, read: Any, text: str) -> str:
    """A message for a line that does not mean its expression."""
    return f"LaTeX {text!r}\n  reads as {sympy.sstr(read)}\n  but the line claims {sympy.sstr(claimed)}"


__all__ = [
    "Context",
    "Env",
    "ReadError",
    "evaluate",
    "explain",
    "numerically_equal",
    "random_env",
    "read_latex",
    "strip_alert",
    "value_key",
]
