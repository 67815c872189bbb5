"""Vectors and matrices: declared shapes, assumptions, and the matrix expression language.

Symbols are declared with shapes — ``scalar``, ``vector(n)`` (a column), ``matrix(n, m)`` — whose
dimensions are symbols.  Expressions use ``*`` for the matrix product, ``.T`` or
``transpose(X)``, ``tr``, ``det``, ``inv`` / ``X**-1``, ``X**k`` (k from -10 to 10), ``hadamard``,
``ones(n)``, ``softmax``, and ``log exp tanh sigmoid sqrt sin cos tan sinh cosh atan`` applied
elementwise to vectors and matrices.  They are read by the same allow-list parser as scalar
expressions (never ``eval``) and built from sympy's matrix expression classes.  A 1×1 product
such as ``w.T*w`` counts as a scalar.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import sympy
from sympy import (
    Add,
    Determinant,
    HadamardProduct,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    MatrixExpr,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Pow,
    S,
    Symbol,
    Trace,
    Transpose,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..errors import DerivgenError, ParseError
from .functions import sigmoid
from .parser import DEFAULT_LIMITS, ParseLimits, Source, _Builder, check_substitution, read_tree

_SHAPE = re.compile(r"\s*(scalar|vector|matrix)\s*(?:\(\s*([^()]*)\s*\))?\s*")
_DIMENSION = re.compile(r"[A-Za-z][A-Za-z0-9_]*|[1-9][0-9]{0,3}")
ASSUMPTIONS = ("symmetric", "positive_definite", "invertible", "positive_determinant", "sums_to_one")
_ELEMENTWISE = {
    "log": sympy.log,
    "ln": sympy.log,
    "exp": sympy.exp,
    "tanh": sympy.tanh,
    "sigmoid": sigmoid,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "atan": sympy.atan,
    "arctan": sympy.atan,
}


# the functions of the matrix language (besides the elementwise ones), for \mathrm{tr}(A) in LaTeX
_MATRIX_FUNCTIONS = ("transpose", "tr", "trace", "det", "inv", "softmax", "hadamard", "ones", *_ELEMENTWISE)


class ShapeError(DerivgenError):
    """Shapes that do not fit together, or a declaration that cannot be read."""


class Softmax(MatrixExpr):
    """softmax(z)_k = exp(z_k) / Σ_l exp(z_l) of a column vector z."""

    def __new__(cls, argument: MatrixExpr):
        return super().__new__(cls, argument)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple[sympy.Expr, sympy.Expr]:
        return self.arg.shape

    def _latex(self, printer) -> str:
        return r"\operatorname{softmax}\left(%s\right)" % printer._print(self.arg)

    def _sympystr(self, printer) -> str:
        return f"softmax({printer._print(self.arg)})"


class Diag(MatrixExpr):
    """diag(v): the square matrix with the column vector v on its diagonal (softmax's Jacobian
    diag(p) − ppᵀ; Σ_k A_ki v_k B_jk = (Aᵀ diag(v) Bᵀ)_ij)."""

    def __new__(cls, vector: MatrixExpr):
        return super().__new__(cls, vector)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple[sympy.Expr, sympy.Expr]:
        return (self.arg.shape[0], self.arg.shape[0])

    def _eval_transpose(self) -> MatrixExpr:
        return self

    def _latex(self, printer) -> str:
        return r"\operatorname{diag}\left(%s\right)" % printer._print(self.arg)

    def _sympystr(self, printer) -> str:
        return f"diag({printer._print(self.arg)})"


class AsScalar(sympy.Expr):
    """A 1×1 matrix product used as the scalar it is (``wᵀx``); printed as the product itself.

    sympy's own ``(wᵀx)[0, 0]`` turns into an explicit sum as soon as anything calls ``doit``."""

    is_commutative = True

    def __new__(cls, matrix: MatrixExpr):
        return super().__new__(cls, matrix)

    @property
    def matrix(self) -> MatrixExpr:
        return self.args[0]

    def _eval_is_extended_real(self):
        return True

    def _latex(self, printer) -> str:
        return printer._print(self.matrix)

    def _sympystr(self, printer) -> str:
        return printer._print(self.matrix)


def dimension(name: str) -> sympy.Expr:
    """A dimension: a positive integer symbol (n, m) or a number."""
    return sympy.Integer(name) if name.isdigit() else Symbol(name, integer=True, positive=True)


def declare(name: str, spec: str) -> sympy.Basic:
    """``x``, ``"vector(n)"`` → MatrixSymbol x (n×1); ``"scalar"`` → a real Symbol."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name or ""):
        raise ShapeError(f"{name!r} is not a valid symbol name")
    match = _SHAPE.fullmatch(spec or "")
    if match is None:
        raise ShapeError(f"{name}: cannot read the shape {spec!r}; use scalar, vector(n) or matrix(n, m)")
    kind, inside = match.groups()
    dims = [part.strip() for part in inside.split(",")] if inside is not None else []
    wanted = {"scalar": 0, "vector": 1, "matrix": 2}[kind]
    if len(dims) != wanted or not all(_DIMENSION.fullmatch(part) for part in dims):
        example = {"scalar": "scalar", "vector": "vector(n)", "matrix": "matrix(n, m)"}[kind]
        raise ShapeError(f"{name}: cannot read the shape {spec!r}; write {example}")
    if kind == "scalar":
        return Symbol(name, real=True)
    if kind == "vector":
        return MatrixSymbol(name, dimension(dims[0]), 1)
    return MatrixSymbol(name, dimension(dims[0]), dimension(dims[1]))


@dataclass
class Assumptions:
    """Declared facts about symbols, used as their own labelled steps."""

    facts: dict[str, set[str]] = field(default_factory=dict)  # kind -> names

    def holds(self, kind: str, name: str) -> bool:
        return name in self.facts.get(kind, set())

    def symmetric(self, name: str) -> bool:
        return self.holds("symmetric", name) or self.holds("positive_definite", name)


def read_assumptions(texts: list[str], symbols: dict[str, sympy.Basic]) -> Assumptions:
    """``["symmetric(M)", "sums_to_one(y)"]`` → :class:`Assumptions`, checked against the shapes."""
    assumptions = Assumptions()
    for text in texts:
        match = re.fullmatch(r"\s*([a-z_]+)\s*\(\s*([A-Za-z][A-Za-z0-9_]*)\s*\)\s*", text or "")
        if match is None or match.group(1) not in ASSUMPTIONS:
            raise ShapeError(
                f"cannot read the assumption {text!r}; use one of {', '.join(a + '(X)' for a in ASSUMPTIONS)}"
            )
        kind, name = match.groups()
        if name not in symbols:
            raise ShapeError(f"the assumption {text!r} names {name!r}, which is not declared")
        symbol = symbols[name]
        if kind == "sums_to_one":
            if not (isinstance(symbol, MatrixSymbol) and symbol.shape[1] == 1):
                raise ShapeError(f"{text}: {name} must be a vector")
        elif not (isinstance(symbol, MatrixSymbol) and symbol.shape[0] == symbol.shape[1]):
            raise ShapeError(f"{text}: {name} must be a square matrix, but it is {describe_shape(symbol)}")
        assumptions.facts.setdefault(kind, set()).add(name)
    return assumptions


def describe_shape(expr: sympy.Basic) -> str:
    if not isinstance(expr, MatrixExpr):
        return "a scalar"
    rows, cols = expr.shape
    if cols == 1:
        return f"a vector of length {rows}"
    return f"{rows}×{cols}"


def is_matrix(expr: sympy.Basic) -> bool:
    return isinstance(expr, MatrixExpr) and expr.shape != (1, 1)


def scalar(expr: sympy.Basic) -> sympy.Expr:
    """A 1×1 matrix expression as the scalar it is (printed as the product itself)."""
    if isinstance(expr, MatrixExpr):
        if expr.shape != (1, 1):
            raise ShapeError(f"{sympy.sstr(expr)} is {describe_shape(expr)}, not a scalar")
        return AsScalar(expr)
    return expr


def _factors(expr: sympy.Basic) -> tuple:
    return expr.args if isinstance(expr, MatMul) else (expr,)


def parse_matrix(
    text: str, symbols: dict[str, sympy.Basic], limits: ParseLimits = DEFAULT_LIMITS, written: bool = False
) -> sympy.Expr:
    """Read a scalar-valued matrix expression such as ``"x.T*M*x"`` over declared symbols.

    ``written=True`` keeps the terms of every sum in the order typed, with their signs — scalar
    sums and sums of matrices built unevaluated, ``(1 - y)ᵀ`` not sympy's ``(-y + 1)ᵀ`` — for the
    left side of a slide and a sheet's question; everything else is built as without it, and the
    value is the same function.
    """
    if not isinstance(text, str):
        raise ParseError(f"an expression must be text, not {type(text).__name__}")
    source, expression = read_tree(text, limits, declared=symbols, functions=_MATRIX_FUNCTIONS)
    tree = expression.body
    value = _MatrixBuilder(source, limits, symbols).build(tree)  # evaluated: shapes and limits checked on it
    if is_matrix(value):
        raise ShapeError(
            f"the expression is {describe_shape(value)}; derivgen derives scalar functions of vectors and matrices"
        )
    if written:
        value = _MatrixBuilder(source, limits, symbols, written=True).build(tree)
    return scalar(value)


def evaluated_matrix(expression: sympy.Basic) -> sympy.Basic:
    """The tree :func:`parse_matrix` builds from text, from the one it builds with ``written=True``
    (the drawn numbers of a sheet may have been put in): its sums evaluated, in sympy's order."""
    if expression.is_Atom or not expression.args or isinstance(expression, sympy.Lambda):
        return expression
    args = [evaluated_matrix(arg) for arg in expression.args]
    if isinstance(expression, MatAdd):
        total = args[0]
        for term in args[1:]:
            total = total + term
        return total
    if isinstance(expression, MatMul) and len(args) > 1 and args[0] == S.NegativeOne:
        return -(args[1] if len(args) == 2 else MatMul(*args[1:]))  # a written −M, −(a + b)
    if isinstance(expression, Mul) and len(args) == 2 and args[0] == S.NegativeOne:
        return -args[1]  # a written −(a + b)
    return expression.func(*args)


def substitute_written(expression: sympy.Basic, values: dict[str, object]) -> sympy.Basic:
    """Numbers put in for the scalars named in ``values`` (a sheet's drawn parameters) in a tree
    :func:`parse_matrix` built with ``written=True``: its sums stay in the order typed."""
    by_symbol = {
        symbol: sympy.sympify(values[symbol.name]) for symbol in expression.free_symbols if symbol.name in values
    }
    if by_symbol:
        check_substitution(expression, by_symbol)
    return _substituted(expression, by_symbol) if by_symbol else expression


def _substituted(expression: sympy.Basic, by_symbol: dict) -> sympy.Basic:
    if expression in by_symbol:
        return by_symbol[expression]
    if expression.is_Atom or not expression.args or not expression.free_symbols & set(by_symbol):
        return expression
    args = [_substituted(arg, by_symbol) for arg in expression.args]
    if isinstance(expression, MatAdd):
        return MatAdd(*args)
    if isinstance(expression, Add):
        return Add(*args, evaluate=False)
    if isinstance(expression, Mul) and len(args) == 2 and args[0] == S.NegativeOne and isinstance(args[1], Add):
        return Mul(*args, evaluate=False)  # −(a + b)
    return expression.func(*args)


class _MatrixBuilder(_Builder):
    """The scalar builder, with declared vectors and matrices and shape-aware operators."""

    def __init__(self, source: Source, limits: ParseLimits, symbols: dict[str, sympy.Basic], written: bool = False):
        super().__init__(source, limits)
        self.symbols = symbols
        self.written = written  # sums in the order typed (see parse_matrix)

    def _shape_error(self, message: str, node: ast.AST) -> ShapeError:
        column = self.source.column(getattr(node, "col_offset", None))
        return ShapeError(f"column {column}: {message}" if column else message)

    def _build_Name(self, node: ast.Name) -> sympy.Basic:
        if node.id in self.symbols:
            return self.symbols[node.id]
        if node.id in ("pi", "e", "E"):
            return super()._build_Name(node)
        raise self._shape_error(
            f"{node.id!r} is not declared; declare it, e.g. --symbol {node.id}=vector(n) or {node.id}=scalar", node
        )

    def _build_Attribute(self, node: ast.Attribute) -> sympy.Basic:
        if node.attr != "T":
            raise self.source.error(f"only .T (transpose) may follow a name, not .{node.attr}", node)
        value = self.build(node.value)
        if not isinstance(value, MatrixExpr):
            raise self._shape_error("a scalar has no transpose", node)
        return Transpose(value)

    def _build_BinOp(self, node: ast.BinOp) -> sympy.Basic:
        left, right = self.build(node.left), self.build(node.right)
        if isinstance(node.op, ast.Add | ast.Sub):
            if isinstance(node.op, ast.Sub):
                right = self._negated(right)
            if is_matrix(left) or is_matrix(right):
                if not (is_matrix(left) and is_matrix(right) and left.shape == right.shape):
                    raise self._shape_error(f"cannot add {describe_shape(left)} and {describe_shape(right)}", node)
                if self.written:  # a written sum of sums stays nested: its brackets are the user's
                    return MatAdd(left, right)  # unevaluated: sympy would sort the terms
                return left + right
            if self.written:
                return Add(scalar(left), scalar(right), evaluate=False)
            return scalar(left) + scalar(right)
        if isinstance(node.op, ast.Mult):
            return self._product(left, right, node)
        if isinstance(node.op, ast.Div):
            if is_matrix(right):
                raise self._shape_error("division by a matrix; use inv(X)", node)
            if self.written and not is_matrix(left):  # ‖r‖²/2 as typed: sympy's (1/2)·rᵀr would also
                # distribute the transpose, (1/2)(−yᵀ + hᵀW₂ᵀ)(…)
                return Mul(scalar(left), Pow(scalar(right), -1, evaluate=False), evaluate=False)
            return self._product(left, 1 / scalar(right), node)
        if isinstance(node.op, ast.Pow):
            return self._matrix_power(left, right, node)
        raise self.source.error("this operator is not allowed", node)

    def _build_UnaryOp(self, node: ast.UnaryOp) -> sympy.Basic:
        if self.written and isinstance(node.op, ast.USub):
            return self._negated(self.build(node.operand))
        return super()._build_UnaryOp(node)

    def _negated(self, value: sympy.Basic) -> sympy.Basic:
        """-value; written, a sum stays one: −(a + b), not sympy's −a − b in its own order."""
        if self.written and isinstance(value, MatrixExpr):  # sympy's −M would also distribute (1 − y)ᵀ
            factors = _factors(value)
            if factors[0] == S.NegativeOne:
                return factors[1] if len(factors) == 2 else MatMul(*factors[1:])
            return MatMul(S.NegativeOne, *factors)
        if self.written and isinstance(value, Add):
            return Mul(S.NegativeOne, value, evaluate=False)
        return -value

    def _product(self, left: sympy.Basic, right: sympy.Basic, node: ast.AST) -> sympy.Basic:
        if isinstance(left, MatrixExpr) and isinstance(right, MatrixExpr):
            if left.shape[1] == right.shape[0]:
                # kept as written: sympy's own * would also distribute transposes, (Wx - y)ᵀ → xᵀWᵀ - yᵀ
                factors = [*_factors(left), *_factors(right)]
                return MatMul(*factors)
            if left.shape == (1, 1) or right.shape == (1, 1):  # a 1×1 product acts as a scalar
                return scalar(left) * right if left.shape == (1, 1) else left * scalar(right)
            raise self._shape_error(
                f"cannot multiply {describe_shape(left)} by {describe_shape(right)}: "
                f"{left.shape[1]} columns against {right.shape[0]} rows",
                node,
            )
        return left * right

    def _matrix_power(self, base: sympy.Basic, exponent: sympy.Basic, node: ast.AST) -> sympy.Basic:
        if not isinstance(base, MatrixExpr) or base.shape == (1, 1):
            return self._power(scalar(base), scalar(exponent), node)
        if base.shape[0] != base.shape[1]:
            raise self._shape_error(f"only a square matrix has powers, and {describe_shape(base)} is not square", node)
        if exponent == -1:
            return Inverse(base)
        if exponent.is_Integer and 1 <= abs(exponent) <= 10:  # X⁻² = (X²)⁻¹, differentiated as an inverse
            return MatPow(base, exponent) if exponent > 0 else Inverse(MatPow(base, -exponent))
        raise self._shape_error("a matrix power must be a whole number from -10 to 10, not 0", node)

    def _build_Call(self, node: ast.Call) -> sympy.Basic:
        if not isinstance(node.func, ast.Name):
            raise self.source.error("only named functions can be called, such as tr(A)", node)
        name = node.func.id
        args = node.args
        if name == "ones":
            if len(args) != 1 or not isinstance(args[0], ast.Name | ast.Constant):
                raise self.source.error("ones(n) takes one dimension, such as ones(n)", node)
            size = args[0].id if isinstance(args[0], ast.Name) else str(args[0].value)
            return OneMatrix(dimension(size), 1)
        handlers = {
            "transpose": (1, lambda a: Transpose(self._matrix(a, node, "transpose"))),
            "tr": (1, lambda a: Trace(self._square(a, node, "tr"))),
            "trace": (1, lambda a: Trace(self._square(a, node, "tr"))),
            "det": (1, lambda a: Determinant(self._square(a, node, "det"))),
            "inv": (1, lambda a: Inverse(self._square(a, node, "inv"))),
            "softmax": (1, lambda a: Softmax(self._vector(a, node))),
        }
        if name in handlers:
            count, handler = handlers[name]
            if len(args) != count:
                raise self.source.error(f"{name}() takes {count} argument", node)
            return handler(self.build(args[0]))
        if name == "hadamard":
            if len(args) != 2:
                raise self.source.error("hadamard(A, B) takes two arguments", node)
            a, b = (self._matrix(self.build(arg), node, "hadamard") for arg in args)
            if a.shape != b.shape:
                raise self._shape_error(f"hadamard of {describe_shape(a)} and {describe_shape(b)}", node)
            return HadamardProduct(a, b)
        if name in _ELEMENTWISE and len(args) == 1:
            value = self.build(args[0])
            if is_matrix(value):
                t = sympy.Dummy("t")
                return ElementwiseApplyFunction(sympy.Lambda(t, _ELEMENTWISE[name](t)), value)
            return _ELEMENTWISE[name](scalar(value))
        try:
            value = super()._build_Call(node)
        except (TypeError, AttributeError, ValueError):
            value = None
        if value is not None and not any(is_matrix(arg) for arg in value.args):
            if not any(isinstance(arg, MatrixExpr) for arg in value.args):
                return value  # also a number worked out, gamma(10) = 362880, which has no args to rebuild
            # a 1×1 product as an argument is a scalar: sin(xᵀx)
            return value.func(*(scalar(arg) if isinstance(arg, MatrixExpr) else arg for arg in value.args))
        raise self._shape_error(
            f"{name}() applies to scalars; elementwise on vectors and matrices are {', '.join(_ELEMENTWISE)}", node
        )

    def _matrix(self, value: sympy.Basic, node: ast.AST, name: str) -> MatrixExpr:
        if not isinstance(value, MatrixExpr):
            raise self._shape_error(f"{name}() needs a vector or matrix, not a scalar", node)
        return value

    def _square(self, value: sympy.Basic, node: ast.AST, name: str) -> MatrixExpr:
        value = self._matrix(value, node, name)
        if value.shape[0] != value.shape[1]:
            raise self._shape_error(f"{name}() needs a square matrix, and this one is {describe_shape(value)}", node)
        return value

    def _vector(self, value: sympy.Basic, node: ast.AST) -> MatrixExpr:
        if not (isinstance(value, MatrixExpr) and value.shape[1] == 1):
            raise self._shape_error(f"softmax() needs a column vector, not {describe_shape(value)}", node)
        return value
