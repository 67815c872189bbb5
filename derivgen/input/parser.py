"""Text → sympy expression, without ``eval``.

The text is lexed with :mod:`tokenize` (to read ``^`` as a power and ``2x`` as ``2*x``), parsed
with :func:`ast.parse` and then walked against an allow-list of node types, names and functions;
every sympy object is built directly.  ``sympify``/``parse_expr`` never see user text because
they call ``eval``.  Each construct refused carries the column it starts at.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from collections.abc import Callable, Collection
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Union

import sympy
from sympy import (
    Abs,
    And,
    E,
    Eq,
    Function,
    Max,
    Min,
    Ne,
    Not,
    Or,
    Piecewise,
    Rational,
    S,
    Symbol,
    pi,
)
from sympy.core.parameters import global_parameters

from ..errors import LimitExceeded, ParseError
from .functions import sigmoid
from .latex import LatexSource, latex_tree


@dataclass(frozen=True)
class ParseLimits:
    """What one expression may cost; each limit is refused with a clear message.

    They refuse, before anything is computed, what can only explode: a number (also one the
    expression works out, such as ``2**5000`` or ``gamma(2000)``, or a sheet's parameter put in) of
    more than ``max_number_bits`` bits (12000 bits: about 3600 digits, under Python's 4300 it can
    print), exponents over ``max_exponent``, exponentials nested more than ``max_exp_nesting`` deep
    (``exp(exp(exp(exp(exp(x)))))``: its derivative's values overflow every numeric check), sums of
    more than ``max_terms`` terms (no slide holds them; printing alone takes seconds).
    """

    max_length: int = 5000
    max_depth: int = 100
    max_integer_digits: int = 100
    max_exponent: int = 1000
    max_number_bits: int = 12000
    max_exp_nesting: int = 4
    max_terms: int = 100


DEFAULT_LIMITS = ParseLimits()
# functions sympy evaluates eagerly at a number, with a result that grows like n! (gamma(10**99) never ends)
_FACTORIAL_LIKE = (sympy.gamma, sympy.loggamma, sympy.factorial, sympy.binomial)
# functions sympy works out exactly at whole numbers, at a cost that grows with the number (zeta(10**6)
# needs a Bernoulli number, harmonic(10**6) a sum of a million fractions)
_EAGER_AT_NUMBERS = (
    sympy.zeta,
    sympy.harmonic,
    sympy.polygamma,
    sympy.digamma,
    sympy.trigamma,
    sympy.polylog,
    sympy.expint,
    sympy.lowergamma,
    sympy.uppergamma,
    sympy.beta,
    sympy.dirichlet_eta,
    sympy.jn,
    sympy.yn,
    sympy.besselj,
    sympy.bessely,
    sympy.besseli,
    sympy.besselk,
    sympy.lerchphi,
)


class ExpressionSize:
    """The checks of :class:`ParseLimits` that look at a node of the expression tree: applied by the
    parser to each operation before sympy computes it, and by :func:`check_expression` to a whole tree
    (built unevaluated: a sheet's drawn numbers put in, before anything is worked out)."""

    def __init__(self, limits: ParseLimits = DEFAULT_LIMITS):
        self.limits = limits
        self._bits: dict[sympy.Basic, int] = {}
        self._nesting: dict[sympy.Basic, int] = {}

    def refusal(self, func: Any, args: tuple) -> str | None:
        """Why ``func(*args)`` must not be computed, or None."""
        limits = self.limits
        if func is sympy.Pow:
            base, exponent = args
            if exponent.is_Number and _magnitude(exponent) > limits.max_exponent:
                return f"the exponent {_short(exponent)} is larger than {limits.max_exponent}"
            constant = not exponent.free_symbols and exponent.is_Rational and not base.free_symbols and base != 0
            if constant and self.bits(base) * _magnitude(exponent) > limits.max_number_bits:
                return f"the number {_short(base)}**{_short(exponent)} is too large to compute"
        if func in _FACTORIAL_LIKE and all(not arg.free_symbols for arg in args):
            bits = self.bits(func(*args, evaluate=False))
            if bits > limits.max_number_bits:
                call = f"{func.__name__}({', '.join(_short(arg) for arg in args)})"
                limit = _digits(limits.max_number_bits)
                return f"{call} is too large to compute ({_digits(bits)}; the limit is {limit})"
        if func in _EAGER_AT_NUMBERS and any(arg.is_Number and _magnitude(arg) > limits.max_exponent for arg in args):
            call = f"{func.__name__}({', '.join(_short(arg) for arg in args)})"
            return f"{call}: an argument larger than {limits.max_exponent} is not computed"
        if func is sympy.Add and len(args) > limits.max_terms:
            return f"a sum of {len(args)} terms; the limit is {limits.max_terms} (no slide holds more)"
        if func in (sympy.Add, sympy.Mul):
            bits = sum(self.bits(arg) for arg in args if not arg.free_symbols)
            if bits > limits.max_number_bits:
                return f"the numbers in it are too large to compute ({_digits(bits)})"
        if _exponential(func, args):
            nesting = 1 + max(self.nesting(arg) for arg in args)
            if nesting > limits.max_exp_nesting:
                return f"exponentials are nested {nesting} deep; the limit is {limits.max_exp_nesting}"
        return None

    def bits(self, node: sympy.Basic) -> int:
        """About how many bits the number a constant ``node`` stands for takes (0 for a variable part)."""
        if node.free_symbols:
            return 0
        if node.is_Rational:
            return max(abs(node.p), abs(node.q)).bit_length()
        if node.is_Atom:
            return 64
        known = self._bits.get(node)
        if known is not None:
            return known
        args = node.args
        if isinstance(node, sympy.Pow) and args[1].is_Rational:
            bits = int(self.bits(args[0]) * _magnitude(args[1])) + 1
        elif isinstance(node, sympy.Mul | sympy.Add):
            bits = sum(self.bits(arg) for arg in args)
        elif isinstance(node, _FACTORIAL_LIKE):
            bits = _factorial_bits(node, self)
        else:
            bits = max((self.bits(arg) for arg in args), default=0)
        self._bits[node] = bits
        return bits

    def nesting(self, node: sympy.Basic) -> int:
        """How deep exponentials with a variable exponent are nested in ``node``."""
        if node.is_Atom:
            return 0
        known = self._nesting.get(node)
        if known is None:
            inner = max((self.nesting(arg) for arg in node.args), default=0)
            known = inner + 1 if _exponential(node.func, node.args) else inner
            self._nesting[node] = known
        return known

    def check(self, expression: sympy.Basic) -> None:
        """Raise :class:`LimitExceeded` for the innermost node of ``expression`` over the limits."""
        order: list[sympy.Basic] = []  # every node once, parents before children
        stack = [expression]
        seen: set[sympy.Basic] = set()
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                order.append(node)
                stack.extend(node.args)
        for node in reversed(order):  # children first: the culprit, not the product it stands in
            if node.is_Rational and self.bits(node) > self.limits.max_number_bits:
                raise LimitExceeded(f"the number {_short(node)} is too large ({_digits(self.bits(node))})")
            if not node.is_Atom:
                reason = self.refusal(node.func, node.args)
                if reason is not None:
                    raise LimitExceeded(reason)


def check_expression(expression: sympy.Basic, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """Hold ``expression`` — best built unevaluated, so nothing was computed yet — to the parser's
    limits (a sheet's drawn numbers put into a parsed expression); raises :class:`LimitExceeded`."""
    ExpressionSize(limits).check(expression)


def check_parameter(name: str, value: sympy.Basic, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """A drawn number is held to the limits of a number written in the text."""
    for part in (value.p, value.q) if value.is_Rational else ():
        if len(str(abs(part))) > limits.max_integer_digits:
            raise LimitExceeded(
                f"the parameter {name} = {_short(value)} has more than {limits.max_integer_digits} digits"
            )
    check_expression(value, limits)


def check_substitution(
    expression: sympy.Basic, values: dict[sympy.Symbol, sympy.Basic], limits: ParseLimits = DEFAULT_LIMITS
) -> None:
    """Numbers about to be put in for symbols (a sheet's drawn parameters) held to the limits the parser
    applies to text: each value as a number written in the text, and the expression with them put in —
    built unevaluated, so that nothing (gamma(10**8), 2**(10**9)) is computed before it is checked."""
    for symbol, value in values.items():
        check_parameter(symbol.name, sympy.sympify(value), limits)
    with sympy.evaluate(False):
        substituted = expression.xreplace(values)
    check_expression(substituted, limits)


def _exponential(func: object, args: tuple) -> bool:
    """exp(…) and a power with a variable exponent: what an exponential tower is made of."""
    if func is sympy.exp:
        return True
    return func is sympy.Pow and bool(args[1].free_symbols)


def _factorial_bits(node: sympy.Basic, size: ExpressionSize) -> int:
    """Bits of gamma(a), loggamma(a), a!, binomial(a, b) for a constant a, from log Γ in floats —
    refused (a huge number) when a itself is too large for a float."""
    try:
        values = [abs(float(arg)) for arg in node.args] if all(size.bits(arg) < 1000 for arg in node.args) else None
    except (TypeError, ValueError, OverflowError):
        values = None
    if values is None or not all(math.isfinite(value) for value in values):
        return size.limits.max_number_bits + 1
    a = values[0] + (1 if isinstance(node, sympy.factorial | sympy.binomial) else 0)
    return int(math.lgamma(a + 1) / math.log(2)) + 1


def _digits(bits: int) -> str:
    digits = int(bits * math.log10(2)) + 1
    return f"about {digits} digits" if digits < 10**6 else f"about {digits:.1e} digits"


def _log(argument: sympy.Expr, base: sympy.Expr | None = None) -> sympy.Expr:
    """log x, or log_b x as ln x / ln b — what sympy makes of it, built so also where nothing is
    evaluated (a written tree would otherwise keep a two-argument log no rule knows)."""
    if base is None:
        return sympy.log(argument)
    denominator = sympy.log(base)
    if denominator.has(sympy.zoo):  # log_0 x: 1/ln 0 = 1/zoo is 0 to sympy, which would make log_0 x = 0
        return sympy.zoo
    return sympy.Mul(sympy.log(argument), sympy.Pow(denominator, -1))


# name -> (builder, minimum and maximum number of arguments)
_ONE = (1, 1)
FUNCTIONS: dict[str, tuple[Callable[..., sympy.Expr], tuple[int, int]]] = {
    **{
        name: (getattr(sympy, name), _ONE)
        for name in (
            "sin cos tan cot sec csc asin acos atan acot asec acsc "
            "sinh cosh tanh coth sech csch asinh acosh atanh acoth asech acsch "
            "exp sqrt cbrt sign erf erfc erfi gamma loggamma"
        ).split()
    },
    # arcsin, …, arcsinh: the spellings of many textbooks (and numpy's arcsinh) for asin, …, asinh
    **{
        f"arc{name}": (getattr(sympy, f"a{name}"), _ONE)
        for name in "sin cos tan cot sec csc sinh cosh tanh coth sech csch".split()
    },
    # special functions, by sympy's names (README: "Special functions")
    **{
        name: (getattr(sympy, name), _ONE)
        for name in (
            "sinc erfinv erfcinv Ei Si Ci Shi Chi li Li fresnels fresnelc airyai airybi airyaiprime airybiprime "
            "digamma trigamma floor ceiling frac factorial harmonic elliptic_k dirichlet_eta"
        ).split()
    },
    **{
        name: (getattr(sympy, name), (2, 2))
        for name in (
            "atan2 besselj bessely besseli besselk hankel1 hankel2 jn yn erf2 erf2inv expint polygamma "
            "lowergamma uppergamma polylog beta binomial elliptic_f Mod"
        ).split()
    },
    **{name: (getattr(sympy, name), (1, 2)) for name in "LambertW Heaviside DiracDelta zeta elliptic_e".split()},
    "lerchphi": (sympy.lerchphi, (3, 3)),
    "ceil": (sympy.ceiling, _ONE),
    "mod": (sympy.Mod, (2, 2)),
    "ln": (sympy.log, _ONE),
    "log": (_log, (1, 2)),
    "abs": (Abs, _ONE),
    "Abs": (Abs, _ONE),
    "sigmoid": (sigmoid, _ONE),
    "min": (Min, (2, 64)),
    "Min": (Min, (2, 64)),
    "max": (Max, (2, 64)),
    "Max": (Max, (2, 64)),
}
CONSTANTS = {"pi": pi, "e": E, "E": E}
# sympy's names that the README's naming rule for undefined functions would also take (E1 is one
# letter and an index): ambiguous, so an error that says how to write either meaning.
CLASHES = {"E1": "expint(1, x) for the exponential integral E_1"}
# Greek letters that name a sympy function when called (beta(x, y), zeta(s)) stay variables otherwise.
_GREEK_FUNCTIONS = frozenset(("beta", "gamma", "zeta"))

GREEK = frozenset(
    (
        "alpha beta delta epsilon zeta eta theta iota kappa lam mu nu xi omicron rho sigma tau "
        "upsilon phi chi psi omega"
    ).split()
)
# An undefined function is named like a lecturer names one: a letter with an optional index
# (f, g1, h_2) or a Greek letter (phi).  Any other unknown name called is refused, so that
# `eval(x)` or `integrate(x)` is an error and not a silently undefined function.
_UNDEFINED_FUNCTION = re.compile(r"[A-Za-z](_?[0-9]+)?")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DECIMAL = re.compile(r"([0-9_]*\.?[0-9_]*)(?:[eE]([+-]?[0-9_]+))?")
_MAX_NAME_LENGTH = 40

# Characters a lecturer pastes from slides, mapped to what they mean.
_UNICODE = {"π": "pi", "−": "-", "·": "*", "×": "*", "÷": "/", "²": "**2", "³": "**3", "σ": "sigmoid"}


def parse(text: str, limits: ParseLimits = DEFAULT_LIMITS, written: bool = False) -> sympy.Expr:
    """Read an expression such as ``"(x^2 + 2)^3"`` into a sympy expression.

    Variables are real symbols.  Raises :class:`ParseError` (with the column) for anything
    outside the allowed language and :class:`LimitExceeded` for inputs over ``limits``.
    ``written=True`` keeps the expression as typed — the order and signs of terms and factors,
    ``2 · 3x`` unmultiplied — for a derivation that starts from the user's own line; its value is
    the same.
    """
    builder, tree = _prepare(text, limits)
    value = builder.build(tree.body)  # evaluated: the checks (1/0, huge numbers) see real values
    if not written:
        return value
    with sympy.evaluate(False):
        return _Builder(builder.source, limits).build(tree.body)


def _prepare(text: str, limits: ParseLimits) -> tuple[_Builder, ast.Expression]:
    if not isinstance(text, str):
        raise ParseError(f"an expression must be text, not {type(text).__name__}")
    source, tree = read_tree(text, limits)
    return _Builder(source, limits), tree


# what YAML's double quotes make of "\frac", "\beta", "\alpha", "\exp", "\vec": no backslash is left
_EATEN_BACKSLASH = {"\f": "\\f…", "\b": "\\b…", "\a": "\\a…", "\x1b": "\\e…", "\v": "\\v…"}
Source = Union["_Source", LatexSource]


def read_tree(
    text: str, limits: ParseLimits, declared: Collection[str] | None = None, functions: Collection[str] = ()
) -> tuple[Source, ast.Expression]:
    """The one place every expression is read: text with a backslash, ``^{`` or ``_{`` is LaTeX (the
    Python syntax we read never holds one: ``2x e^{3x}`` is LaTeX), anything else Python syntax.
    Either way the result is a Python syntax tree, with columns in the user's text, for the
    builders and their allow-list.  ``declared`` are the names of a matrix expression (None for a
    scalar one), ``functions`` more names ``\\mathrm{…}(…)`` may call."""
    if len(text) > limits.max_length:
        raise LimitExceeded(f"the expression is {len(text)} characters long; the limit is {limits.max_length}")
    eaten = next((char for char in text if char in _EATEN_BACKSLASH), None)
    if eaten is not None:
        raise ParseError(
            f"a control character where LaTeX's {_EATEN_BACKSLASH[eaten]} was meant? In YAML write LaTeX in single "
            "quotes or none: in double quotes YAML reads the backslash as an escape",
            text,
            text.index(eaten) + 1,
        )
    if "\\" in text or "^{" in text or "_{" in text:
        return latex_tree(text, limits.max_depth, {*FUNCTIONS, *functions}, declared)
    source = _Source(text)
    return source, source.to_ast(limits)


def parse_list(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> list[sympy.Expr]:
    """Read ``"[f1, f2, …]"`` (functions for a Jacobian) or a single expression into a list."""
    builder, tree = _prepare(text, limits)
    if isinstance(tree.body, ast.List):
        if not tree.body.elts:
            raise ParseError("the list of functions is empty", text, 1)
        return [builder.build(element) for element in tree.body.elts]
    return [builder.build(tree.body)]


class _Source:
    """The user's text rewritten into Python syntax, remembering where each character came from."""

    def __init__(self, text: str):
        self.original = text
        chars: list[str] = []
        origin: list[int] = []
        for column, char in enumerate(text, start=1):
            if char in "\n\r\t":
                char = " "
            if char in _UNICODE:
                replacement = _UNICODE[char]
            elif char == "\0" or not char.isprintable():
                raise ParseError("control characters are not allowed", text, column)
            elif not char.isascii():
                raise ParseError(f"the character {char!r} is not allowed", text, column)
            else:
                replacement = char
            chars.extend(replacement)
            origin.extend([column] * len(replacement))
        self.text, self.origin = self._rewrite_tokens("".join(chars), origin)

    def _rewrite_tokens(self, text: str, origin: list[int]) -> tuple[str, list[int]]:
        """``^`` → ``**`` and implicit products (``2x``, ``3(x+1)``, ``(a)(b)``) → ``*``."""
        out: list[str] = []
        out_origin: list[int] = []
        position = 0
        previous: tokenize.TokenInfo | None = None
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError) as error:
            raise ParseError("unbalanced brackets or unreadable text", self.original) from error
        for token in tokens:
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                continue
            start, end = token.start[1], token.end[1]
            if token.type == tokenize.NUMBER and "_" in token.string:
                # Python's digit separator: x^2_1 would silently be x^21
                message = "'_' inside a number is not read: write the digits alone"
                raise ParseError(message, self.original, origin[start])
            out.append(text[position:start])
            out_origin.extend(origin[position:start])
            if previous is not None and _implicit_product(previous, token):
                out.append("*")
                out_origin.append(origin[start])
            string = "**" if token.type == tokenize.OP and token.string == "^" else text[start:end]
            out.append(string)
            out_origin.extend([origin[start]] * len(string) if string != text[start:end] else origin[start:end])
            position, previous = end, token
        out.append(text[position:])
        out_origin.extend(origin[position:])
        return "".join(out), out_origin

    def column(self, offset: int | None) -> int | None:
        """Column in the user's text of character ``offset`` (0-based) of the rewritten text."""
        if offset is None:
            return None
        if not self.origin:
            return 1
        return self.origin[min(max(offset, 0), len(self.origin) - 1)]

    def error(self, message: str, node: ast.AST | None = None) -> ParseError:
        offset = getattr(node, "col_offset", None)
        return ParseError(message, self.original, self.column(offset))

    def to_ast(self, limits: ParseLimits) -> ast.Expression:
        if not self.text.strip():
            raise ParseError("the expression is empty", self.original, 1)
        depth = 0
        for offset, char in enumerate(self.text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth > limits.max_depth:
                raise LimitExceeded(f"column {self.column(offset)}: brackets nested more than {limits.max_depth} deep")
        try:
            return ast.parse(self.text, mode="eval")
        except SyntaxError as error:
            at = (error.offset - 1) if error.offset else None
            message = (error.msg or "invalid syntax").removeprefix("invalid syntax. ")
            raise ParseError(f"syntax error: {message}", self.original, self.column(at)) from None
        except (ValueError, MemoryError, RecursionError) as error:
            raise ParseError(f"cannot read the expression: {error}", self.original) from None


def _implicit_product(previous: tokenize.TokenInfo, token: tokenize.TokenInfo) -> bool:
    closes = previous.type == tokenize.NUMBER or (previous.type == tokenize.OP and previous.string == ")")
    opens = token.type in (tokenize.NAME, tokenize.NUMBER) or (token.type == tokenize.OP and token.string == "(")
    if previous.type == tokenize.NUMBER and token.type == tokenize.NUMBER:
        return False
    return closes and opens


class _Builder:
    """Walks an allowed Python AST and builds the sympy expression it stands for."""

    def __init__(self, source: Source, limits: ParseLimits):
        self.source = source
        self.limits = limits
        self.variables: dict[str, Symbol] = {}
        self.undefined: dict[str, type] = {}
        self.called: set[str] = set()  # the Greek-named functions called (beta, zeta): no variable too
        self.depth = 0
        self.size = ExpressionSize(limits)

    # -- dispatch -------------------------------------------------------------------------
    def build(self, node: ast.AST) -> sympy.Expr:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise LimitExceeded(
                f"column {self.source.column(getattr(node, 'col_offset', None))}: "
                f"the expression is nested more than {self.limits.max_depth} deep"
            )
        try:
            handler = getattr(self, f"_build_{type(node).__name__}", None)
            if handler is None:
                raise self.source.error(f"{_describe(node)} is not allowed in an expression", node)
            return handler(node)
        finally:
            self.depth -= 1

    # -- numbers and names ----------------------------------------------------------------
    def _build_Constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.source.error(f"{_describe(node)} is not allowed in an expression", node)
        literal = ast.get_source_segment(self.source.text, node) or str(value)
        match = _DECIMAL.fullmatch(literal)
        if match is None:
            raise self.source.error(f"only decimal numbers are allowed, not {literal!r}", node)
        mantissa, exponent = match.groups()
        digits = sum(ch.isdigit() for ch in mantissa)
        if digits > self.limits.max_integer_digits or (
            exponent and abs(int(exponent.replace("_", ""))) > self.limits.max_integer_digits
        ):
            raise LimitExceeded(
                f"column {self.source.column(node.col_offset)}: the number {literal[:20]}… has more "
                f"than {self.limits.max_integer_digits} digits"
            )
        # Decimals are read exactly (0.1 is 1/10): a lecturer's 0.5 means one half.
        fraction = Fraction(literal.replace("_", ""))
        return Rational(fraction.numerator, fraction.denominator)

    def _build_Name(self, node: ast.Name) -> sympy.Expr:
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if (name in FUNCTIONS and name not in _GREEK_FUNCTIONS) or name == "Piecewise":
            raise self.source.error(f"{name!r} is a function: write {name}(...)", node)
        self._check_name(name, node)
        if name in self.undefined or name in self.called:
            raise self.source.error(f"{name!r} is used both as a function and as a variable", node)
        return self.variables.setdefault(name, Symbol(name, real=True))

    def _check_name(self, name: str, node: ast.AST) -> None:
        if name.startswith("_"):
            raise self.source.error(f"names starting with an underscore are not allowed ({name!r})", node)
        if not _IDENTIFIER.fullmatch(name) or len(name) > _MAX_NAME_LENGTH:
            raise self.source.error(f"{name!r} is not a valid variable name", node)

    # -- operators ------------------------------------------------------------------------
    def _build_BinOp(self, node: ast.BinOp) -> sympy.Expr:
        if isinstance(node.op, ast.Add | ast.Sub):
            terms = self._chain(node, ast.Add, ast.Sub, _negative)
            self._refuse(sympy.Add, terms, node)
            return self._checked(sympy.Add(*terms), node)
        if isinstance(node.op, ast.Mult | ast.Div):
            factors = self._chain(node, ast.Mult, ast.Div, lambda factor: self._power(factor, S.NegativeOne, node))
            if len(factors) > 1 and factors[0] == 1 and isinstance(node.op, ast.Div) and node.left is not None:
                factors = factors[1:]  # 1/x is a reciprocal, not 1 · 1/x (which a written tree would keep)
            self._refuse(sympy.Mul, factors, node)
            return self._checked(sympy.Mul(*factors), node)
        if isinstance(node.op, ast.Pow):
            return self._power(self.build(node.left), self.build(node.right), node)
        if isinstance(node.op, ast.Mod):  # a % b, the remainder: sympy's Mod
            return self._checked(sympy.Mod(self.build(node.left), self.build(node.right)), node)
        raise self.source.error(f"the operator {_describe(node.op)} is not allowed", node)

    def _chain(self, node: ast.BinOp, same: type, inverse: type, invert: Callable) -> list[sympy.Expr]:
        """Operands of a left-associated chain ``a + b - c`` read iteratively, so a long sum is
        not a deep recursion."""
        operands: list[tuple[bool, ast.AST]] = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp) and isinstance(current.op, same | inverse):
            operands.append((isinstance(current.op, inverse), current.right))
            current = current.left
        operands.append((False, current))
        built = []
        for inverted, operand in reversed(operands):
            value = self.build(operand)
            built.append(invert(value) if inverted else value)
        return built

    def _power(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.AST) -> sympy.Expr:
        # sizes compared in Python numbers: a written (unevaluated) build would keep sympy's 2 · 3 as it stands
        self._refuse(sympy.Pow, (base, exponent), node)
        return self._checked(sympy.Pow(base, exponent), node)

    def _refuse(self, func: object, args: tuple | list, node: ast.AST) -> None:
        """Refuse, before sympy computes it, an operation over the limits (a huge number, gamma(10**99))."""
        reason = self.size.refusal(func, tuple(args))
        if reason is not None:
            raise LimitExceeded(f"column {self.source.column(getattr(node, 'col_offset', None))}: {reason}")

    def _checked(self, value: sympy.Expr, node: ast.AST) -> sympy.Expr:
        if value.has(S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity):
            raise self.source.error("the expression is undefined here (division by zero)", node)
        if isinstance(value, sympy.Add) and len(value.args) > self.limits.max_terms:  # sums inside sums, flattened
            self._refuse(sympy.Add, value.args, node)
        return value

    def _build_UnaryOp(self, node: ast.UnaryOp) -> sympy.Expr:
        if isinstance(node.op, ast.USub):
            return _negative(self.build(node.operand))
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand)
        raise self.source.error(f"the operator {_describe(node.op)} is not allowed here", node)

    # -- calls ----------------------------------------------------------------------------
    def _build_Call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.source.error("only named functions can be called, such as sin(x)", node)
        name = node.func.id
        if node.keywords:
            raise self.source.error(f"{name}(...) takes no keyword arguments", node.keywords[0])
        if name == "Piecewise":
            return self._piecewise(node)
        if name in CLASHES:
            raise self.source.error(
                f"{name!r} is ambiguous: sympy's function of that name, or an undefined function by the naming "
                f"rule; write {CLASHES[name]}, or another name (f1) for an undefined function",
                node,
            )
        if name in _GREEK_FUNCTIONS and name in self.variables:
            raise self.source.error(
                f"{name!r} is used both as a variable and as the function {name}(...); "
                f"for a product write {name}*(...)",
                node,
            )
        if name in FUNCTIONS:
            self.called.add(name)
            builder, (least, most) = FUNCTIONS[name]
            if not least <= len(node.args) <= most:
                count = str(least) if least == most else f"{least} to {most}"
                raise self.source.error(f"{name}() takes {count} argument(s), got {len(node.args)}", node)
            args = [self.build(arg) for arg in node.args]
            self._refuse(builder, args, node)
            return self._checked(builder(*args), node)
        if name in CONSTANTS:
            raise self.source.error(f"{name!r} is a constant, not a function; write {name}*(...)", node)
        if _UNDEFINED_FUNCTION.fullmatch(name) or name in GREEK:
            if name in self.variables:
                raise self.source.error(
                    f"{name!r} is used both as a variable and as a function; for a product write {name}*(...)",
                    node,
                )
            if not node.args:
                raise self.source.error(f"{name}() needs at least one argument", node)
            function = self.undefined.setdefault(name, Function(name))
            return function(*(self.build(arg) for arg in node.args))
        raise self.source.error(
            f"unknown function {name!r}: not one derivgen knows (the README lists them), and an undefined "
            "function is named by one letter with an optional index (f, g1, h_2)",
            node,
        )

    def _piecewise(self, node: ast.Call) -> sympy.Expr:
        if not node.args:
            raise self.source.error("Piecewise needs (expression, condition) pairs", node)
        pieces = []
        for arg in node.args:
            if not isinstance(arg, ast.Tuple) or len(arg.elts) != 2:
                raise self.source.error("each Piecewise argument is a pair (expression, condition)", arg)
            pieces.append((self.build(arg.elts[0]), self._condition(arg.elts[1])))
        try:
            return Piecewise(*pieces)
        except (TypeError, ValueError) as error:
            raise self.source.error(f"invalid Piecewise: {error}", node) from None

    # -- conditions (only inside Piecewise) ----------------------------------------------
    _COMPARISONS: ClassVar[dict[type, type]] = {
        ast.Lt: sympy.Lt,
        ast.LtE: sympy.Le,
        ast.Gt: sympy.Gt,
        ast.GtE: sympy.Ge,
        ast.Eq: Eq,
        ast.NotEq: Ne,
    }

    def _condition(self, node: ast.AST) -> sympy.Basic:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return S.true if node.value else S.false
        if isinstance(node, ast.Compare):
            parts = []
            left = self.build(node.left)
            for operator, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.build(comparator)
                relation = self._COMPARISONS.get(type(operator))
                if relation is None:
                    raise self.source.error(f"the comparison {_describe(operator)} is not allowed", node)
                try:
                    parts.append(relation(left, right))
                except TypeError as error:
                    raise self.source.error(f"invalid comparison: {error}", node) from None
                left = right
            return And(*parts)
        if isinstance(node, ast.BoolOp):
            combine = And if isinstance(node.op, ast.And) else Or
            return combine(*(self._condition(value) for value in node.values))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
            combine = And if isinstance(node.op, ast.BitAnd) else Or
            return combine(self._condition(node.left), self._condition(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
            return Not(self._condition(node.operand))
        raise self.source.error("a Piecewise condition must be a comparison such as x < 0, or True", node)

    def _build_Compare(self, node: ast.Compare) -> sympy.Expr:
        raise self.source.error("comparisons are only allowed in Piecewise conditions", node)


_DESCRIPTIONS = {
    "Attribute": "attribute access (.)",
    "Subscript": "subscripting ([...])",
    "Lambda": "a lambda",
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a generator expression",
    "JoinedStr": "an f-string",
    "NamedExpr": "an assignment (:=)",
    "Starred": "unpacking (*)",
    "IfExp": "a conditional expression (use Piecewise)",
    "BitXor": "^ inside brackets of this kind",
    "MatMult": "@",
    "FloorDiv": "//",
    "BitAnd": "&",
    "BitOr": "|",
    "LShift": "<<",
    "RShift": ">>",
    "Invert": "~",
    "Not": "not",
    "Is": "is",
    "IsNot": "is not",
    "In": "in",
    "NotIn": "not in",
}


def _negative(term: sympy.Expr) -> sympy.Expr:
    """-term: evaluated as usual, or — in a written tree — a visible minus, so that -(-x) and
    x - (-y) keep both signs (sympy's own negation would cancel them even unevaluated)."""
    if term.is_Number or global_parameters.evaluate:
        return -term
    if isinstance(term, sympy.Mul) and not term.args[0].could_extract_minus_sign():
        return sympy.Mul(S.NegativeOne, *term.args)  # -w x: one product, as sympy writes it
    return sympy.Mul(S.NegativeOne, term)


def _magnitude(number: sympy.Expr) -> Fraction | float:
    """|number| as a Python number: exact for rationals (a 5000-digit integer has no float)."""
    if number.is_Rational:
        return abs(Fraction(int(number.p), int(number.q)))
    return abs(float(number))


def _describe(node: ast.AST) -> str:
    name = type(node).__name__
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str | bytes):
            return "a string"
        if isinstance(node.value, complex):
            return "a complex number"
        return repr(node.value)
    return _DESCRIPTIONS.get(name, f"'{name}'")


def _short(number: sympy.Expr) -> str:
    text = str(number)
    if len(text) <= 24:
        return text
    return f"{text[:10]}…({len(text)} digits)" if number.is_Integer else f"{text[:20]}…"
