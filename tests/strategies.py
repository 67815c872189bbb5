"""Hypothesis strategies for whole expressions written in derivgen's input syntax.

Each example is a :class:`Written`: the text a lecturer could type (``^`` and ``**`` powers,
implicit products ``2x`` and ``(x + 1)(x - 1)``, unary minus, decimals, ``pi``/``e``, aliases such
as ``ln``/``arcsin``/``abs``, a few pasted Unicode signs) together with the same tree built
directly with sympy operations.  The text is produced by a precedence-aware writer, so brackets
appear only where Python's grammar (which derivgen reads after inserting ``*`` and turning ``^``
into ``**``) needs them, plus some redundant ones.  Tests compare ``parse(text)`` with ``expr`` and
``derive(text)`` with ``sympy.diff(expr)``.

Import from tests:  ``from tests.strategies import written_expressions, malformed_texts, X``.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from hypothesis import strategies as st

from derivgen.input.functions import sigmoid

# Precedence of the *text* (Python's grammar): a child printed below the level its slot needs
# is bracketed.
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5

X = sympy.Symbol("x", real=True)  # derivgen reads every variable as a real symbol
Y = sympy.Symbol("y", real=True)
A = sympy.Symbol("a", real=True)


@dataclass(frozen=True)
class Written:
    """An expression as text in derivgen's syntax and as the sympy tree it stands for."""

    text: str
    expr: sympy.Expr
    precedence: int
    nodes: int = 1  # size of the tree, so tests can tell a whole expression from an atom
    undefined: bool = False  # some subtree is zoo/nan (1/(x - x), log(0)): the parser must refuse it

    def at_least(self, level: int) -> str:
        """The text, bracketed if it binds weaker than ``level``."""
        return self.text if self.precedence >= level else f"({self.text})"


def _leaf(text: str, expr: sympy.Expr) -> Written:
    return Written(text, expr, ATOM)


# x dominates so that most expressions depend on the variable derived by (one_of picks a branch
# uniformly; duplicates inside sampled_from do not weigh as much as they seem to).
_VARIABLE = st.just(_leaf("x", X))
LEAVES = st.one_of(
    _VARIABLE,
    _VARIABLE,
    _VARIABLE,
    st.sampled_from(
        [
            _leaf("y", Y),
            _leaf("a", A),
            *(_leaf(str(n), sympy.Integer(n)) for n in (1, 2, 3, 5)),
            _leaf("0.5", sympy.Rational(1, 2)),
            _leaf("2.5", sympy.Rational(5, 2)),
            _leaf("pi", sympy.pi),
            _leaf("π", sympy.pi),
            _leaf("e", sympy.E),
        ]
    ),
)

# name as typed -> the sympy function it means
UNARY_FUNCTIONS: list[tuple[str, Callable[[sympy.Expr], sympy.Expr]]] = [
    ("sin", sympy.sin),
    ("cos", sympy.cos),
    ("tan", sympy.tan),
    ("exp", sympy.exp),
    ("log", sympy.log),
    ("ln", sympy.log),
    ("sqrt", sympy.sqrt),
    ("cbrt", sympy.cbrt),
    ("sigmoid", sigmoid),
    ("tanh", sympy.tanh),
    ("sinh", sympy.sinh),
    ("cosh", sympy.cosh),
    ("asin", sympy.asin),
    ("arcsin", sympy.asin),
    ("acos", sympy.acos),
    ("atan", sympy.atan),
    ("arctan", sympy.atan),
    ("abs", sympy.Abs),
    ("Abs", sympy.Abs),
    ("erf", sympy.erf),
]
UNDEFINED_FUNCTIONS = ["f", "g"]

# Fixed exponents keep numbers small (the parser refuses huge ones by design).
EXPONENTS = st.sampled_from(
    [
        _leaf("2", sympy.Integer(2)),
        _leaf("2", sympy.Integer(2)),
        _leaf("3", sympy.Integer(3)),
        _leaf("4", sympy.Integer(4)),
        Written("-1", sympy.Integer(-1), UNARY),
        Written("-2", sympy.Integer(-2), UNARY),
        Written("1/2", sympy.Rational(1, 2), PRODUCT),
        Written("-1/2", sympy.Rational(-1, 2), PRODUCT),
        Written("3/2", sympy.Rational(3, 2), PRODUCT),
        _leaf("0.5", sympy.Rational(1, 2)),
        _leaf("x", X),
        _leaf("a", A),
    ]
)


def _has_infinity(expr: sympy.Expr) -> bool:
    return bool(expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo))


def _sized(text: str, expr: sympy.Expr, precedence: int, *children: Written) -> Written:
    undefined = any(child.undefined for child in children) or _has_infinity(expr)
    return Written(text, expr, precedence, 1 + sum(child.nodes for child in children), undefined)


def _sum(left: Written, right: Written, minus: bool, sign: str, compact: bool) -> Written:
    operator = (sign if minus else "+") if compact else f" {sign if minus else '+'} "
    expr = left.expr - right.expr if minus else left.expr + right.expr
    return _sized(left.at_least(SUM) + operator + right.at_least(PRODUCT), expr, SUM, left, right)


def _implicit_product_allowed(left: str, right: str) -> bool:
    """derivgen inserts ``*`` after a number or ``)`` followed by a name, number or ``(``."""
    if not (left[-1].isdigit() or left[-1] == ")"):
        return False
    if not (right[0].isascii() and (right[0].isalnum() or right[0] == "(")):
        return False
    return not (left[-1].isdigit() and right[0].isdigit())  # 2 3 is two numbers, not a product


def _product(left: Written, right: Written, divide: bool, style: str) -> Written:
    left_text, right_text = left.at_least(PRODUCT), right.at_least(UNARY)
    if divide:
        operator = "÷" if style == "unicode" else "/"
        expr = left.expr / right.expr
    elif style == "implicit" and _implicit_product_allowed(left_text, right_text):
        # "2 exp(x)": a space keeps a digit and a following e or j from reading as one number
        operator = " " if right_text[0] in "eEjJ" else ""
        expr = left.expr * right.expr
    else:
        operator = "·" if style == "unicode" else "*"
        expr = left.expr * right.expr
    return _sized(left_text + operator + right_text, expr, PRODUCT, left, right)


def _power(base: Written, exponent: Written, style: str) -> Written:
    expr = sympy.Pow(base.expr, exponent.expr)
    if style == "superscript" and exponent.text == "2" and base.precedence == ATOM:
        return _sized(base.text + "²", expr, POWER, base, exponent)
    operator = "^" if style == "caret" else "**"
    # Python's ** takes a primary on the left and a unary expression on the right (x**-2, x**2**3).
    return _sized(base.at_least(ATOM) + operator + exponent.at_least(UNARY), expr, POWER, base, exponent)


def _negation(operand: Written, sign: str) -> Written:
    # "-2x" reads (-2)*x: the same value as -(2x), and it is still a product for the slot around it
    if operand.precedence >= PRODUCT:
        precedence = PRODUCT if operand.precedence == PRODUCT else UNARY
        return _sized(sign + operand.text, -operand.expr, precedence, operand)
    return _sized(f"{sign}({operand.text})", -operand.expr, UNARY, operand)


def _call(function: tuple[str, Callable[[sympy.Expr], sympy.Expr]], argument: Written) -> Written:
    name, build = function
    return _sized(f"{name}({argument.text})", build(argument.expr), ATOM, argument)


def _log_base(argument: Written, base: Written) -> Written:
    text = f"log({argument.text}, {base.text})"
    return _sized(text, sympy.log(argument.expr) / sympy.log(base.expr), ATOM, argument, base)


def _undefined(name: str, argument: Written) -> Written:
    return _sized(f"{name}({argument.text})", sympy.Function(name)(argument.expr), ATOM, argument)


def _bracketed(inner: Written) -> Written:
    return Written(f"({inner.text})", inner.expr, ATOM, inner.nodes, inner.undefined)


def _extend(children: st.SearchStrategy[Written], undefined: bool) -> st.SearchStrategy[Written]:
    minus_sign = st.sampled_from(["-", "-", "-", "−"])
    strategies = [
        st.builds(_sum, children, children, st.booleans(), minus_sign, st.booleans()),
        st.builds(
            _product,
            children,
            children,
            st.booleans(),
            st.sampled_from(["star", "star", "implicit", "implicit", "unicode"]),
        ),
        st.builds(_power, children, EXPONENTS, st.sampled_from(["caret", "caret", "stars", "superscript"])),
        st.builds(
            _power, st.sampled_from([_leaf("2", sympy.Integer(2)), _leaf("e", sympy.E)]), children, st.just("caret")
        ),
        st.builds(_negation, children, minus_sign),
        st.builds(_call, st.sampled_from(UNARY_FUNCTIONS), children),
        st.builds(_call, st.sampled_from(UNARY_FUNCTIONS), children),
        st.builds(_log_base, children, st.sampled_from([_leaf("2", sympy.Integer(2)), _leaf("10", sympy.Integer(10))])),
        st.builds(_bracketed, children),
    ]
    if undefined:
        strategies.append(st.builds(_undefined, st.sampled_from(UNDEFINED_FUNCTIONS), children))
    return st.one_of(strategies)


def written_expressions(max_leaves: int = 8, undefined: bool = False) -> st.SearchStrategy[Written]:
    """Whole expression trees (sums, quotients, powers, nested functions …) as text and sympy.

    ``undefined=True`` also writes undefined functions ``f(u)``, ``g(u)``."""
    return st.recursive(LEAVES, lambda children: _extend(children, undefined), max_leaves=max_leaves)


def functions_of_x(max_leaves: int = 8, undefined: bool = False) -> st.SearchStrategy[Written]:
    """Written expressions that depend on x (sympy cancels some trees, such as x/x, to constants)."""
    return written_expressions(max_leaves, undefined).filter(lambda written: written.expr.has(X))


# -- malformed text: near misses of valid expressions reach deeper than random characters ---------

NOISE = string.ascii_letters[:12] + string.digits + "+-*/^().,<>=_ \t'\"[]{}!@#$%&|~`\\:;?é\0²·−" + "xyz"


@st.composite
def malformed_texts(draw: st.DrawFn) -> str:
    """Valid text with a few characters deleted, inserted, replaced or repeated; or noise."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(alphabet=NOISE, max_size=60))
    text = draw(written_expressions(max_leaves=6)).text
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "repeat", "truncate"]))
        at = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:at] + text[at + 1 :]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(NOISE)) + text[at:]
        elif kind == "replace":
            text = text[:at] + draw(st.sampled_from(NOISE)) + text[at + 1 :]
        elif kind == "repeat":
            end = draw(st.integers(at, len(text)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at]
    return text


# -- reading derivgen's text output back (the tests' own reader, not derivgen's parser) ------------


def read_text(text: str, doit: bool = True) -> sympy.Expr:
    """A line of ``derivgen derive`` text output as sympy: ``d/dx(u)`` → ``Derivative(u, x)``.

    Read with sympy's parser: the text is derivgen's output, so the test trusts it as code.
    ``doit=False`` keeps the derivatives unevaluated."""
    from sympy.parsing.sympy_parser import parse_expr

    while (start := text.find("d/dx(")) >= 0:
        end = closing_bracket(text, start + 4)
        text = f"{text[:start]}Derivative({text[start + 5 : end]}, x){text[end + 1 :]}"
    names = {"x": X, "y": Y, "a": A, "sigmoid": sigmoid, "Derivative": sympy.Derivative}
    expr = parse_expr(text, local_dict=names)
    return expr.doit() if doit else expr


def top_level_factors(text: str) -> list[str]:
    """``3*(x**2 + 2)**2*d/dx(x)`` → ``["3", "(x**2 + 2)**2", "d/dx(x)"]``: the written order."""
    factors, depth, start, at = [], 0, 0, 0
    while at < len(text):
        char = text[at]
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char == "*" and text[at : at + 2] != "**" and text[at - 1] != "*":
            factors.append(text[start:at].strip())
            start = at + 1
        at += 1
    return [*factors, text[start:].strip()]


def closing_bracket(text: str, opening: int) -> int:
    """The index of the bracket that closes the one at ``opening``."""
    depth = 0
    for at in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[at], 0)
        if depth == 0:
            return at
    raise ValueError(f"unbalanced brackets in {text!r}")
