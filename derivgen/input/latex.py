r"""LaTeX mathematics → the syntax tree the Python-syntax reader builds from, without ``eval``.

An expression holding a backslash is LaTeX (Python syntax never holds one).  It is cut into tokens by
a regular expression, checked against an allow-list of commands (``\input``, ``\def``, ``\csname``,
``\catcode``, ``\write`` and every command not listed are refused with their column), parsed by a lark
LALR grammar, and turned into Python :mod:`ast` nodes whose offsets point into the LaTeX text.  Those
nodes go through the very builder the Python syntax goes through (:class:`derivgen.input.parser._Builder`,
or the matrix builder): the same allow-list of functions and names, the same limits, the same written
and evaluated forms.  Nothing here builds a sympy object or evaluates anything.

Readings a lecturer expects (README, "LaTeX as input"):

- juxtaposition multiplies: ``2x e^{3x}``; a run of letters is a product of one-letter variables
  (``xy`` = x·y), except a run that is a declared vector or matrix name; a run spelling a function
  (``sin x``) is refused: write ``\sin x``;
- ``\sin x^2`` = sin(x²), ``\sin 2x`` = sin(2x), ``\sin x \cos x`` = sin(x)·cos(x): a function without
  brackets takes the factors that follow it up to the next function, ``+``, ``-``, ``\cdot`` or ``/``;
  ``\sin(x)^2`` and ``\sin^2 x`` = (sin x)²; ``\sin^{-1} x`` = arcsin x;
- ``\log_{b} x`` is the logarithm to base b, ``\ln|x|`` the logarithm of the absolute value;
- ``e`` is Euler's number, ``\pi`` is π; ``f(x)``, ``g(x)``, ``h(x)`` are undefined functions,
  ``\sigma(z)`` is the sigmoid (as derivgen prints it), any other letter before a bracket multiplies;
- ``\frac{d}{dx}`` and ``\partial`` are refused: derivgen is given the function and the variable.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from ..errors import LimitExceeded, ParseError

# -- the allow-list of commands ----------------------------------------------------------------------

_SAME = "sin cos tan cot sec csc sinh cosh tanh coth sech csch exp ln log det tr erf"
FUNCTION_COMMANDS: dict[str, str] = {
    **{name: name for name in _SAME.split()},
    **{f"arc{name}": f"a{name}" for name in "sin cos tan cot sec csc".split()},
    **{f"ar{name}": f"a{name}" for name in "sinh cosh tanh coth sech csch".split()},
    **{f"arc{name}": f"a{name}" for name in "sinh cosh tanh coth sech csch".split()},
    "max": "Max",
    "min": "Min",
    "sgn": "sign",
}
r"""``\command`` → the reader's function name.  ``\operatorname{name}`` reaches every other function."""

# \sin^{-1} x is arcsin x (as in Stewart's Calculus), for the trigonometric and hyperbolic functions
_INVERSES = {name: f"a{name}" for name in "sin cos tan cot sec csc sinh cosh tanh coth sech csch".split()}
_GREEK = frozenset(
    (
        "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi "
        "rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
        "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
    ).split()
)
# a Greek letter before a bracket that names the function derivgen prints with it
_GREEK_FUNCTIONS = {"sigma": "sigmoid", "Gamma": "gamma"}
_FONTS = frozenset("mathbf boldsymbol bm mathrm mathit mathsf operatorname".split())
_SPACING = frozenset("quad qquad displaystyle textstyle limits nolimits".split())
_SIZES = frozenset("big Big bigg Bigg bigl Bigl biggl Biggl bigr Bigr biggr Biggr".split())
_TOKEN_COMMANDS = {
    **dict.fromkeys(("frac", "dfrac", "tfrac"), "FRAC"),
    "sqrt": "SQRT",
    **dict.fromkeys(("cdot", "times"), "MUL"),
    "div": "DIV",
    **dict.fromkeys(("top", "intercal"), "TOP"),
    **dict.fromkeys(_FONTS, "FONT"),
    **dict.fromkeys(_GREEK, "GREEK"),
    **dict.fromkeys(FUNCTION_COMMANDS, "FUNC"),
    "{": "LPAR",  # \{ \}: brackets
    "}": "RPAR",
    "lvert": "BAR_OPEN",
    "rvert": "BAR_CLOSE",
    "vert": "BAR",  # opening or closing as a plain |
}
_HINTS = {
    "partial": "derivatives are not read: give the function, and the variable with --wrt (or wrt: in a file)",
    "text": "text is not read in an expression",
    "infty": "infinity is not a value derivgen differentiates",
}
# a function spelt in letters (sin x), which TeX would typeset as a product s·i·n·x
_SPELLED = re.compile("arc|sin|cos|tan|cot|sec|csc|exp|log|ln|sqrt")
# a letter that names an undefined function when a bracket follows it at once (f(x), g_1(x))
_FUNCTION_LETTERS = frozenset("fgh")

_LEXEMES = re.compile(
    r"(?P<WS>\s+)|(?P<NUMBER>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)|(?P<LETTER>[A-Za-z])|(?P<CMD>\\[A-Za-z]+)"
    r"|(?P<CSYM>\\[^A-Za-z])|(?P<PUNCT>[-+*/^_()\[\]{}|,])"
)
_PUNCTUATION = {
    "+": "PLUS", "-": "MINUS", "*": "MUL", "/": "DIV", "^": "CARET", "_": "UNDER", "(": "LPAR", ")": "RPAR",
    "[": "LBRACK", "]": "RBRACK", "{": "LBRACE", "}": "RBRACE", "|": "BAR", ",": "COMMA",
}  # fmt: skip
_OPENERS = {"LPAR": "RPAR", "LBRACK": "RBRACK", "LBRACE": "RBRACE", "BAR_OPEN": "BAR_CLOSE"}
_SHOWN = {"LPAR": "(", "RPAR": ")", "LBRACK": "[", "RBRACK": "]", "LBRACE": "{", "RBRACE": "}"}
_ENDS_OPERAND = frozenset(("NUMBER", "LETTER", "GREEK", "TOP", "RPAR", "RBRACK", "RBRACE", "BAR_CLOSE"))
_CHARACTER_HINTS = {
    "=": "write the expression alone, without 'f(x) ='",
    "'": "primes are not read: give the function, and the variable to differentiate by",
    "%": "TeX comments are not allowed",
    "#": "TeX parameters are not allowed",
    "&": "alignment is not allowed in an expression",
    "~": "write a space instead of ~",
    "$": "write the mathematics without $ signs",
}

_GRAMMAR = r"""
?start: sum
?sum: product
    | sum PLUS product -> add
    | sum MINUS product -> sub
?product: unary
    | product MUL unary -> mul
    | product DIV unary -> div
?unary: MINUS unary -> neg
    | PLUS unary -> pos
    | juxt
juxt: item+
item: atom script*
script: CARET arg -> sup
    | UNDER arg -> sub
?arg: brace | LETTER | NUMBER | GREEK | TOP | font | frac | sqrt
?atom: NUMBER | LETTER | GREEK | FUNC | TOP | brace | paren | abs | frac | sqrt | font
brace: LBRACE sum RBRACE
paren: LPAR sum (COMMA sum)* RPAR
    | LBRACK sum (COMMA sum)* RBRACK
abs: BAR_OPEN sum BAR_CLOSE
frac: FRAC arg arg
sqrt: SQRT (LBRACK sum RBRACK)? arg
font: FONT (LBRACE (LETTER | GREEK | NUMBER)+ RBRACE | LETTER | GREEK)

%declare NUMBER LETTER GREEK FUNC TOP FRAC SQRT FONT PLUS MINUS MUL DIV CARET UNDER COMMA
%declare LPAR RPAR LBRACK RBRACK LBRACE RBRACE BAR_OPEN BAR_CLOSE
"""


class _Replay(Lexer):
    """Hands lark the tokens :func:`_tokens` made (lark's own example of a custom lexer)."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: Any, *args: Any) -> Iterator[Token]:
        return iter(data)


_PARSER: Lark | None = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:  # built on first use: the grammar's tables take some 50 ms
        _PARSER = Lark(_GRAMMAR, parser="lalr", lexer=_Replay, propagate_positions=True, maybe_placeholders=False)
    return _PARSER


class LatexSource:
    """The LaTeX text as :class:`~derivgen.input.parser._Builder` sees a source: offsets of the nodes
    are offsets in the text, so every message names the LaTeX column."""

    def __init__(self, text: str):
        self.original = text
        # one line of the same length: ast.get_source_segment reads numbers by offset on line 1
        self.text = re.sub(r"\s", " ", text)

    def column(self, offset: int | None) -> int | None:
        if offset is None:
            return None
        return min(max(offset, 0), max(len(self.original) - 1, 0)) + 1

    def error(self, message: str, node: ast.AST | None = None) -> ParseError:
        return ParseError(message, self.original, self.column(getattr(node, "col_offset", None)))


def latex_tree(
    text: str, max_depth: int, functions: Collection[str] = (), declared: Collection[str] | None = None
) -> tuple[LatexSource, ast.Expression]:
    """Read LaTeX ``text`` into (its source, a Python expression tree) for the reader's builder.

    ``functions`` are the names a ``\\mathrm{name}(…)`` may call; ``declared`` are the declared vector,
    matrix and scalar names of a matrix expression (None for a scalar expression: ``^T`` is then a power).
    """
    source = LatexSource(text)
    tokens = _tokens(text, max_depth)
    if not tokens:
        raise ParseError("the expression is empty", text, 1)
    try:
        tree = _parser().parse(tokens)  # type: ignore[arg-type, unused-ignore]
    except UnexpectedToken as error:
        raise _syntax_error(text, error.token) from None
    except UnexpectedInput:  # the end reached too early
        raise ParseError("the expression ends too early: an argument is missing", text, len(text)) from None
    except LarkError as error:
        raise ParseError(f"cannot read the LaTeX: {str(error).splitlines()[0]}", text) from None
    reader = _Reader(source, set(functions), declared, max_depth)
    try:
        body = reader.expression(tree)
    except RecursionError:
        raise LimitExceeded(f"the expression is nested more than {max_depth} deep") from None
    return source, ast.Expression(body=body)


def _syntax_error(text: str, token: Token) -> ParseError:
    if token.type == "$END":
        return ParseError("the expression ends too early: an argument or operand is missing", text, len(text))
    shown = text[token.start_pos : token.end_pos] if token.start_pos is not None else str(token)
    return ParseError(f"unexpected {shown!r} here", text, (token.start_pos or 0) + 1)


# -- tokens -----------------------------------------------------------------------------------------


def _tokens(text: str, max_depth: int) -> list[Token]:
    """The tokens of the grammar: commands checked against the allow-list and classified, ``\\left``
    and ``\\right`` resolved, bars told apart (opening or closing), brackets balanced."""
    raw: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _LEXEMES.match(text, position)
        if match is None:
            char = text[position]
            hint = _CHARACTER_HINTS.get(char, "")
            what = "control characters are" if not char.isprintable() else f"the character {char!r} is"
            raise ParseError(f"{what} not allowed in LaTeX input" + (f": {hint}" if hint else ""), text, position + 1)
        kind = match.lastgroup or ""
        if kind in ("CMD", "CSYM"):  # refused where it stands, before anything after it is looked at
            _allowed_command(match.group(), text, position)
        if kind != "WS":
            raw.append((kind, match.group(), position))
        position = match.end()

    tokens: list[Token] = []
    openers: list[Token] = []
    index = 0
    while index < len(raw):
        kind, value, start = raw[index]
        index += 1
        if kind == "CMD" or kind == "CSYM":
            name = value[1:]
            if name in ("left", "right") or name in _SIZES:
                if index >= len(raw):
                    raise ParseError(f"\\{name} needs a delimiter after it", text, start + 1)
                kind, value, at = raw[index]
                index += 1
                token_type = _delimiter(kind, value, name, text, start)
                value = text[start : at + len(value)]
            elif name in _SPACING or name in ",;:! ":
                continue  # \quad, \, and other spaces
            else:
                token_type = _TOKEN_COMMANDS[name]
        elif kind == "PUNCT":
            token_type = _PUNCTUATION[value]
        else:
            token_type = kind
        if token_type == "BAR":
            closes = bool(openers) and openers[-1].type == "BAR_OPEN" and tokens and tokens[-1].type in _ENDS_OPERAND
            token_type = "BAR_CLOSE" if closes else "BAR_OPEN"
        token = Token(token_type, value, start, 1, start + 1, 1, start + len(value) + 1, start + len(value))
        if token_type == "NUMBER" and tokens and tokens[-1].type == "FRAC" and re.fullmatch(r"[0-9]{2}", value):
            # \frac12 is 1/2, as TeX reads it: one digit an argument
            tokens.append(Token("NUMBER", value[0], start, 1, start + 1, 1, start + 2, start + 1))
            token = Token("NUMBER", value[1], start + 1, 1, start + 2, 1, start + 3, start + 2)
        _balance(token, openers, text, max_depth)
        tokens.append(token)
    if openers:
        opener = openers[-1]
        shown = _SHOWN.get(opener.type, "|")
        raise ParseError(f"{shown!r} is never closed", text, _at(opener) + 1)
    return tokens


_COMMANDS = frozenset((*_TOKEN_COMMANDS, *_SPACING, *_SIZES, "left", "right", *",;:! "))


def _allowed_command(command: str, text: str, start: int) -> None:
    r"""Refuse a command not on the allow-list (``\input``, ``\def``, ``\csname``, …) at its column."""
    if command[1:] not in _COMMANDS:
        hint = _HINTS.get(command[1:], "derivgen reads the mathematics the README lists, nothing else")
        raise ParseError(f"the command {command} is not allowed in an expression: {hint}", text, start + 1)


def _at(token: Token) -> int:
    return token.start_pos or 0


def _delimiter(kind: str, value: str, command: str, text: str, start: int) -> str:
    """The bracket after ``\\left``, ``\\right``, ``\\bigl``, …: its own kind (a bar after
    ``\\left``/``\\right`` opens/closes; after ``\\big`` it is told apart like a plain one)."""
    if kind == "PUNCT" and value in "()[]":
        return _PUNCTUATION[value]
    if (kind == "PUNCT" and value == "|") or value in ("\\vert", "\\lvert", "\\rvert"):
        if command in ("left", "right"):
            return "BAR_OPEN" if command == "left" else "BAR_CLOSE"
        return "BAR"
    if value in ("\\{", "\\}"):
        return "LPAR" if value == "\\{" else "RPAR"
    raise ParseError(f"\\{command} takes a bracket ( [ \\{{ or |, not {value!r}", text, start + 1)


def _balance(token: Token, openers: list[Token], text: str, max_depth: int) -> None:
    if token.type in _OPENERS:
        openers.append(token)
        if len(openers) > max_depth:
            raise LimitExceeded(f"column {_at(token) + 1}: brackets nested more than {max_depth} deep")
    elif token.type in _OPENERS.values():
        shown = _SHOWN.get(token.type, "|")
        if not openers:
            raise ParseError(f"{shown!r} closes nothing that was opened", text, _at(token) + 1)
        opener = openers.pop()
        if _OPENERS[opener.type] != token.type:
            raise ParseError(
                f"{shown!r} does not close {_SHOWN.get(opener.type, '|')!r} of column {_at(opener) + 1}",
                text,
                _at(token) + 1,
            )


# -- the tree → Python syntax tree ------------------------------------------------------------------


@dataclass
class _Part:
    """One factor of a juxtaposition: its atom and the scripts after it."""

    atom: Tree | Token
    scripts: list[Tree]
    start: int
    end: int

    @property
    def kind(self) -> str:
        return self.atom.type if isinstance(self.atom, Token) else str(self.atom.data)

    def bare(self, kind: str) -> bool:
        return self.kind == kind and not self.scripts


def _place(node: ast.expr, start: int, end: int) -> ast.expr:
    node.lineno = node.end_lineno = 1
    node.col_offset, node.end_col_offset = start, end
    return node


def _span(tree: Tree | Token) -> tuple[int, int]:
    if isinstance(tree, Token):
        return tree.start_pos or 0, tree.end_pos or 0
    return tree.meta.start_pos, tree.meta.end_pos


class _Reader:
    def __init__(self, source: LatexSource, functions: set[str], declared: Collection[str] | None, max_depth: int):
        self.source = source
        self.max_depth = max_depth
        self.depth = 0
        self.functions = functions
        self.declared = declared
        self.matrix = declared is not None

    def error(self, message: str, at: Tree | Token | int) -> ParseError:
        start = at if isinstance(at, int) else _span(at)[0]
        return ParseError(message, self.source.original, start + 1)

    def expression(self, tree: Tree | Token) -> ast.expr:
        if isinstance(tree, Tree) and tree.data == "juxt" and len(tree.children) == 1:
            part = tree.children[0]
            atom = part.children[0] if isinstance(part, Tree) else None
            if isinstance(atom, Tree) and atom.data == "paren" and len(part.children) == 1:
                values = self._group(atom)
                if len(values) > 1:  # [f1, f2]: the functions of a Jacobian
                    start, end = _span(atom)
                    return _place(ast.List(elts=values, ctx=ast.Load()), start, end)
        return self.value(tree)

    def value(self, tree: Tree | Token) -> ast.expr:
        self.depth += 1
        try:
            if self.depth > self.max_depth:  # before Python's own recursion limit: a column, not a crash
                raise LimitExceeded(
                    f"column {_span(tree)[0] + 1}: the expression is nested more than {self.max_depth} deep"
                )
            return self._value(tree)
        finally:
            self.depth -= 1

    def _value(self, tree: Tree | Token) -> ast.expr:
        start, end = _span(tree)
        if isinstance(tree, Token):
            return self._token(tree)
        kind = str(tree.data)
        children = [child for child in tree.children if not isinstance(child, Token) or kind in ("juxt", "item")]
        if kind in ("add", "sub", "mul", "div"):
            operator = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "div": ast.Div}[kind]()
            left, right = (self.value(child) for child in children)
            return _place(ast.BinOp(left=left, op=operator, right=right), start, end)
        if kind in ("neg", "pos"):
            sign = ast.USub() if kind == "neg" else ast.UAdd()
            return _place(ast.UnaryOp(op=sign, operand=self.value(children[0])), start, end)
        if kind == "juxt":
            return self._juxtaposition([self._part(child) for child in tree.children])
        if kind == "item":
            return self._item(self._part(tree))
        return self._atom(tree)

    # -- atoms ----------------------------------------------------------------------------------
    def _token(self, token: Token) -> ast.expr:
        start, end = _span(token)
        if token.type == "NUMBER":
            literal = str(token)
            value: int | float = int(literal) if literal.isdigit() and len(literal) < 4000 else float(literal)
            return _place(ast.Constant(value=value), start, end)
        if token.type in ("LETTER", "GREEK"):
            return self._name(str(token).lstrip("\\"), start, end)
        if token.type == "FUNC":
            raise self.error(f"{token} needs an argument", token)
        if token.type == "TOP":
            raise self.error("a transpose belongs in a superscript: x^\\top", token)
        raise self.error(f"unexpected {token!s} here", token)

    def _name(self, name: str, start: int, end: int) -> ast.expr:
        return _place(ast.Name(id=name, ctx=ast.Load()), start, end)

    def _atom(self, tree: Tree) -> ast.expr:
        start, end = _span(tree)
        kind = str(tree.data)
        inner = [child for child in tree.children if isinstance(child, Tree) or child.type not in _PUNCT_TYPES]
        if kind == "brace":
            return self.value(inner[0])
        if kind == "paren":
            values = self._group(tree)
            if len(values) > 1:
                raise self.error("a list (a, b) is only allowed as the arguments of a function", tree)
            return values[0]
        if kind == "abs":
            return self._call("Abs", [self.value(inner[0])], start, end)
        if kind == "frac":
            numerator, denominator = (self._argument(child) for child in inner)
            if (_is_d(inner[0]) or _starts_with_d(inner[0])) and _starts_with_d(inner[1]):  # dy/dx, d^2/dx^2
                raise self.error(
                    "\\frac{d}{dx} is not read: give the function, and the variable with --wrt (or wrt: in a file)",
                    tree,
                )
            return _place(ast.BinOp(left=numerator, op=ast.Div(), right=denominator), start, end)
        if kind == "sqrt":
            radicand = self._argument(inner[-1])
            if len(inner) == 1:
                return self._call("sqrt", [radicand], start, end)
            index = self.value(inner[0])
            one = _place(ast.Constant(value=1), start, start)
            exponent = _place(ast.BinOp(left=one, op=ast.Div(), right=index), start, end)
            return _place(ast.BinOp(left=radicand, op=ast.Pow(), right=exponent), start, end)
        if kind == "font":
            return self._name(self._font_name(tree), start, end)
        raise self.error(f"unexpected {kind} here", tree)  # pragma: no cover - the grammar has no other atom

    def _group(self, tree: Tree) -> list[ast.expr]:
        children = tree.children
        return [self.value(child) for child in children if isinstance(child, Tree) or child.type not in _PUNCT_TYPES]

    def _argument(self, tree: Tree | Token) -> ast.expr:
        """An argument of \\frac, \\sqrt or a script: a group, or one token as TeX takes it."""
        if isinstance(tree, Token) and tree.type == "NUMBER" and len(tree) > 1:
            raise self.error(f"TeX takes one character here, not {tree!s}: write {{{tree!s}}}", tree)
        return self.value(tree)

    def _font_name(self, tree: Tree) -> str:
        letters = [str(child).lstrip("\\") for child in tree.children[1:] if isinstance(child, Token)]
        letters = [letter for letter in letters if letter not in "{}"]
        return "".join(letters)

    def _call(self, name: str, args: list[ast.expr], start: int, end: int) -> ast.expr:
        function = self._name(name, start, end)
        return _place(ast.Call(func=function, args=args, keywords=[]), start, end)

    # -- factors ---------------------------------------------------------------------------------
    def _part(self, tree: Tree | Token) -> _Part:
        if isinstance(tree, Token):
            start, end = _span(tree)
            return _Part(tree, [], start, end)
        start, end = _span(tree)
        atom, *scripts = tree.children
        return _Part(atom, [script for script in scripts if isinstance(script, Tree)], start, end)

    def _juxtaposition(self, parts: list[_Part]) -> ast.expr:
        parts = self._letter_runs(parts)
        factors: list[ast.expr] = []
        index = 0
        while index < len(parts):
            factor, index = self._factor(parts, index)
            factors.append(factor)
        product = factors[0]
        for factor in factors[1:]:
            product = _place(
                ast.BinOp(left=product, op=ast.Mult(), right=factor), product.col_offset, factor.end_col_offset or 0
            )
        return product

    def _letter_runs(self, parts: list[_Part]) -> list[_Part]:
        """Adjacent letters: a declared name as one (``xy`` declared), a spelled function refused."""
        merged: list[_Part] = []
        index = 0
        while index < len(parts):
            end = index  # the run of letters written together: parts[index : end + 1]
            while (
                end + 1 < len(parts)
                and parts[end].bare("LETTER")
                and parts[end + 1].kind == "LETTER"
                and parts[end + 1].start == parts[end].end
            ):
                end += 1
            if parts[index].kind != "LETTER":
                merged.append(parts[index])
                index += 1
                continue
            word = "".join(str(part.atom) for part in parts[index : end + 1])
            spelled = _SPELLED.search(word) if end > index else None
            if spelled is not None and not (self.declared and self._declared_at(word, spelled.start())):
                raise self.error(
                    f"{word!r} reads as a product of letters: write \\{spelled.group()} for the function, or "
                    f"\\mathrm{{{word}}} for one variable",
                    parts[index + spelled.start()].start,
                )
            position = 0
            while position < len(word):  # a declared name of several letters is one factor
                length = self._declared_at(word, position)
                first, last = parts[index + position], parts[index + position + max(length, 1) - 1]
                if length > 1:
                    token = Token("NAME", word[position : position + length], first.start, end_pos=last.end)
                    merged.append(_Part(token, last.scripts, first.start, last.end))
                else:
                    merged.append(first)
                position += max(length, 1)
            index = end + 1
        return merged

    def _declared_at(self, word: str, position: int) -> int:
        """The length of the longest declared name of several letters at ``word[position:]`` (0: none)."""
        names = [name for name in self.declared or () if len(name) > 1 and word.startswith(name, position)]
        return max(map(len, names), default=0)

    def _function_of(self, parts: list[_Part], index: int) -> str | None:
        """The function ``parts[index]`` names, if it is applied: ``\\sin``, ``\\operatorname{erf}``,
        ``f`` before a bracket."""
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        bracket = following is not None and following.kind in ("paren", "brace") and following.start == part.end
        if part.kind == "FUNC":
            return FUNCTION_COMMANDS[str(part.atom)[1:]]
        if part.kind == "font" and isinstance(part.atom, Tree):
            command = str(part.atom.children[0])[1:]
            name = self._font_name(part.atom)
            if command == "operatorname" or (command == "mathrm" and bracket and name in self.functions):
                return FUNCTION_COMMANDS.get(name, name)
            return None
        if not bracket or (self.declared is not None and str(part.atom).lstrip("\\") in self.declared):
            return None
        if part.bare("GREEK") and str(part.atom)[1:] in _GREEK_FUNCTIONS:
            return _GREEK_FUNCTIONS[str(part.atom)[1:]]
        if part.kind == "LETTER" and str(part.atom) in _FUNCTION_LETTERS:
            subscripts = [script for script in part.scripts if script.data == "sub"]
            if len(subscripts) == len(part.scripts) <= 1:
                return str(part.atom) + "".join(f"_{self._index(script)}" for script in subscripts)
        return None

    def _factor(self, parts: list[_Part], index: int) -> tuple[ast.expr, int]:
        """The factor starting at ``parts[index]`` and the index after it: a function takes its
        bracket, or (without one) the factors up to the next function."""
        name = self._function_of(parts, index)
        if name is None:
            return self._item(parts[index]), index + 1
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        scripts = part.scripts if part.kind in ("FUNC", "font") else []
        if following is not None and following.kind in ("paren", "brace") and isinstance(following.atom, Tree):
            args = self._group(following.atom)
            end, after = following.end, index + 2
            outer = following.scripts  # \sin(x)^2: the power of the value
        else:
            args, end, after = self._bare_argument(parts, index + 1, part)
            outer = []
        call, name = self._function_scripts(name, scripts, args, part)
        value = self._call(name, call, part.start, end)
        for script in outer:
            value = self._script(value, script)
        for script in scripts:
            if script.data == "sup" and not self._is_inverse(script):
                value = self._power(value, script)
        return value, after

    def _bare_argument(self, parts: list[_Part], index: int, function: _Part) -> tuple[list[ast.expr], int, int]:
        if index >= len(parts):
            shown = self._shown(function)
            raise self.error(f"{shown} needs an argument (a negative one in brackets: {shown}(-x))", function.start)
        if self._function_of(parts, index) is not None:  # \sin \cos x, \log \det X
            value, after = self._factor(parts, index)
            return [value], parts[after - 1].end, after
        factors = []
        while index < len(parts) and self._function_of(parts, index) is None:
            factors.append(parts[index])
            index += 1
        return [self._juxtaposition(factors)], factors[-1].end, index

    def _function_scripts(
        self, name: str, scripts: list[Tree], args: list[ast.expr], part: _Part
    ) -> tuple[list[ast.expr], str]:
        """``\\log_{b}`` → log(x, b); ``\\sin^{-1}`` → asin; other subscripts refused."""
        for script in scripts:
            if script.data == "sub":
                if name != "log" or len(args) != 1:
                    raise self.error(f"only \\log takes a subscript (its base), not {self._shown(part)}", script)
                args = [*args, self._argument(script.children[1])]
            elif self._is_inverse(script):
                if name not in _INVERSES:
                    raise self.error(f"{self._shown(part)}^{{-1}} is not read: write the inverse function", script)
                name = _INVERSES[name]
        return args, name

    def _is_inverse(self, script: Tree) -> bool:
        inner = _single(script.children[1])
        if not (isinstance(inner, Tree) and inner.data == "neg"):
            return False
        operand = _single(inner.children[1])
        return isinstance(operand, Token) and str(operand) == "1"

    def _shown(self, part: _Part) -> str:
        return self.source.original[part.start : part.end].split("^")[0].split("_")[0]

    # -- items with scripts ----------------------------------------------------------------------
    def _item(self, part: _Part) -> ast.expr:
        subscripts = [script for script in part.scripts if script.data == "sub"]
        superscripts = [script for script in part.scripts if script.data == "sup"]
        for extra in (subscripts[1:], superscripts[1:]):
            if extra:
                raise self.error("a double subscript or superscript: put braces around one of them", extra[0])
        if subscripts:
            value = self._indexed(part, subscripts[0])
        elif part.kind == "NAME":
            value = self._name(str(part.atom), part.start, part.end)
        else:
            value = self.value(part.atom)
        for script in superscripts:
            value = self._script(value, script)
        return value

    def _indexed(self, part: _Part, script: Tree) -> ast.expr:
        if part.kind not in ("LETTER", "GREEK", "font", "NAME"):
            raise self.error("a subscript belongs to a letter: x_{1}", script)
        base = self._font_name(part.atom) if isinstance(part.atom, Tree) else str(part.atom).lstrip("\\")
        index = self._index(script)
        name = f"{base}_{index}"
        if self.declared is not None and name not in self.declared and f"{base}{index}" in self.declared:
            name = f"{base}{index}"  # \mathbf{W}_1 for a declared W1
        return self._name(name, part.start, _span(script)[1])

    def _index(self, script: Tree) -> str:
        argument = script.children[1]
        tokens = [argument] if isinstance(argument, Token) else list(argument.scan_values(lambda _: True))
        words = [str(token).lstrip("\\") for token in tokens if token.type in ("LETTER", "NUMBER", "GREEK")]
        if not words or any(token.type not in ("LETTER", "NUMBER", "GREEK", "LBRACE", "RBRACE") for token in tokens):
            raise self.error("a subscript must be an index of letters and digits, such as x_{1}", script)
        return "".join(words)

    def _script(self, value: ast.expr, script: Tree) -> ast.expr:
        if script.data == "sub":
            raise self.error("a subscript belongs to a letter: x_{1}", script)
        return self._power(value, script)

    def _power(self, value: ast.expr, script: Tree) -> ast.expr:
        exponent = script.children[1]
        start, end = value.col_offset, _span(script)[1]
        if self._is_transpose(exponent):
            if not self.matrix:
                raise self.error(
                    "a transpose is for declared vectors and matrices (--symbol x=vector(n))", script.children[0]
                )
            return _place(ast.Attribute(value=value, attr="T", ctx=ast.Load()), start, end)
        power = self._argument(exponent)
        return _place(ast.BinOp(left=value, op=ast.Pow(), right=power), start, end)

    def _is_transpose(self, exponent: Tree | Token) -> bool:
        inner = _single(exponent)
        if isinstance(inner, Tree) and inner.data == "font":
            return self._font_name(inner) == "T" and self.matrix
        return isinstance(inner, Token) and (inner.type == "TOP" or (self.matrix and str(inner) == "T"))


# the tokens that only shape the tree: brackets, operators, command names
_PUNCT_TYPES = frozenset(
    "LPAR RPAR LBRACK RBRACK LBRACE RBRACE COMMA BAR_OPEN BAR_CLOSE CARET UNDER FRAC SQRT FONT "
    "PLUS MINUS MUL DIV".split()
)


def _single(tree: Tree | Token) -> Tree | Token:
    """A brace's, a one-item juxtaposition's content."""
    while isinstance(tree, Tree) and (
        tree.data in ("brace", "item") or (tree.data == "juxt" and len(tree.children) == 1)
    ):
        children = [child for child in tree.children if isinstance(child, Tree) or child.type not in _PUNCT_TYPES]
        if len(children) != 1:
            break
        tree = children[0]
    return tree


_BRACES = ("LBRACE", "RBRACE")


def _is_d(tree: Tree | Token) -> bool:
    """``d``, ``\\mathrm{d}`` or ``d^2``: the d of Leibniz's notation."""
    inner = _single(tree)
    if isinstance(inner, Tree) and inner.data == "item":  # d^2
        inner = _single(inner.children[0])
    if isinstance(inner, Tree) and inner.data == "font":  # \mathrm{d}
        names = [child for child in inner.children[1:] if isinstance(child, Token) and child.type not in _BRACES]
        inner = names[0] if len(names) == 1 else inner
    return isinstance(inner, Token) and str(inner) == "d"


def _starts_with_d(tree: Tree | Token) -> bool:
    inner = _single(tree)
    if isinstance(inner, Tree) and inner.data == "juxt" and len(inner.children) > 1:
        return _is_d(inner.children[0])
    return False
