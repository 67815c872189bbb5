"""The front door of the calculus layer: :func:`derive` reads what it is given and picks the method.

The methods — the rule engine (one variable), the multivariate collection (gradients, Jacobians,
Hessians), index notation (matrix calculus) and the limit of the difference quotient — sit below
it and never import it back.
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy
from sympy import Symbol

from ..errors import DerivgenError
from ..input.matrices import ShapeError
from ..input.parser import _IDENTIFIER, parse
from .engine import DEFAULT_LIMITS, EngineLimits, RuleEngine
from .limits import derive_by_limit
from .matrix_engine import MatrixCalculus, derive_matrix
from .model import Derivation
from .multivariate import MatrixDerivation, derive_many
from .rules import REGISTRY, RuleRegistry
from .rules.base import written_sums
from .rules.final_form import SHORTEST, ResultForm, result_form

MAX_ORDER = 10
METHODS = ("rules", "limit")


def derive(
    expression: str | sympy.Expr | list[str | sympy.Expr] | tuple[str | sympy.Expr, ...],
    wrt: str | sympy.Symbol | list[str | sympy.Symbol] | tuple[str | sympy.Symbol, ...],
    *,
    order: int = 1,
    verify: bool = True,
    positive: Iterable[str] = (),
    symbols: dict[str, str] | None = None,
    assume: Iterable[str] = (),
    layout: str = "row",
    method: str = "rules",
    limits: EngineLimits = DEFAULT_LIMITS,
    registry: RuleRegistry = REGISTRY,
    as_written: bool | None = None,
    result: str | sympy.Expr | None = None,
) -> Derivation | MatrixDerivation | MatrixCalculus:
    """Derive ``expression`` with respect to ``wrt`` step by step.

    ``expression`` is text (read with :func:`derivgen.parse`, never ``eval``) or a sympy
    expression; a list of them gives the Jacobian.  ``wrt`` is a variable, or a list of them for
    the gradient (a 1×n row vector).  ``order=2`` with a list gives the Hessian, with one variable
    the second derivative.  Text is read with real symbols; those named in ``positive`` are
    positive (so that ``d/dx |ln x| = sign(ln x)/x``).  Variables are matched to the expression's
    symbols by name, so ``derive("sin(x)", Symbol("x"))`` derives by the real ``x`` of the text and
    the result is written in the expression's symbols; an expression holding two different symbols
    of one name is refused.  Every step is checked unless ``verify=False``.

    With ``symbols`` (``{"x": "vector(n)", "M": "matrix(n, n)"}``) the expression is a scalar
    function of vectors and matrices, derived in index notation (``assume=["symmetric(M)"]``,
    ``layout="row"`` or ``"shape"``); see :func:`derivgen.calculus.matrix_engine.derive_matrix`.
    ``method="limit"`` derives from the limit of the difference quotient instead of the rules.

    ``result`` says how a derivation by the rules ends: ``"shortest"`` (default: named steps towards
    the shortest form), ``"factor"``, ``"expand"``, ``"cancel"``, ``"as-derived"`` (the rules' own
    result, zeros and ones dropped), or an expression (text or sympy) that derivgen proves equal to
    the derivative and ends with, in a "rewrite as" step; an unequal target is an error.

    Text is shown as written: the first line, and every part no rule has touched yet, keep the
    order and signs of its terms (``y - w x``, ``1 + e^x``).  A sympy expression prints in sympy's
    order, unless ``as_written=True`` says it is a user's line built unevaluated
    (``derivgen.parse(text, written=True)``).
    """
    if method not in METHODS:
        raise DerivgenError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    form = result_form(result, lambda text: parse(text, written=True))
    if form != SHORTEST and (method == "limit" or symbols is not None):
        raise DerivgenError("result applies to derivations by the rules, not to the limit method or matrix calculus")
    if method == "limit":
        if symbols is not None or order != 1 or isinstance(expression, list | tuple) or isinstance(wrt, list | tuple):
            raise DerivgenError("the limit method derives one function of one variable, once")
        expr = _assume_positive(_as_expression(expression), positive)
        return derive_by_limit(expr, _as_variable(wrt, expr), verify=verify)
    if symbols is not None:
        if order != 1:
            raise DerivgenError("matrix derivatives are of order 1")
        if isinstance(expression, list | tuple) or isinstance(wrt, list | tuple):
            raise ShapeError("matrix calculus derives one scalar function by one vector or matrix, not lists")
        return derive_matrix(expression, wrt, symbols, assume, layout, verify, limits, written=as_written)
    several_functions = isinstance(expression, list | tuple)
    several_variables = isinstance(wrt, list | tuple)
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise DerivgenError(f"the order must be a whole number from 1 to {MAX_ORDER}, not {order!r}")
    if not (several_functions or several_variables or order > 1):
        expr = _assume_positive(_as_expression(expression), positive)
        variable = _as_variable(wrt, expr)
        written = _written(expression, expr, as_written)
        return derive_one(expr, variable, verify, registry, limits, written=written, form=form)

    expressions = [
        _assume_positive(_as_expression(item), positive) for item in (expression if several_functions else [expression])
    ]
    if not expressions:
        raise DerivgenError("a Jacobian needs at least one function")
    if form.target is not None:
        raise DerivgenError("a result expression is for one function of one variable; use factor, expand, cancel")
    names = list(wrt) if several_variables else [wrt]
    if not names:
        raise DerivgenError("give at least one variable to differentiate by")
    combined = sympy.Tuple(*expressions)
    written = _written(expression, combined, as_written)
    variables = [_as_variable(name, combined) for name in names]
    partial = several_variables or several_functions

    def component(expr: sympy.Expr, variable: sympy.Symbol) -> Derivation:
        # stand-in names (u, v, …) must avoid the names of every function of the Jacobian
        derivation = derive_one(expr, variable, verify, registry, limits, taken=combined, written=written, form=form)
        derivation.partial = partial
        return derivation

    return derive_many(expressions, variables, order, component, verify)


def only_variable(*expressions: sympy.Basic) -> str:
    """The name of the one variable of the expressions (``x`` when they are constant)."""
    names = sorted({symbol.name for expression in expressions for symbol in expression.free_symbols})
    if len(names) > 1:
        raise DerivgenError(f"the expression has several variables ({', '.join(names)}): say which one (wrt)")
    return names[0] if names else "x"


def _as_expression(expression: str | sympy.Expr) -> sympy.Expr:
    if isinstance(expression, str):
        return parse(expression, written=True)
    if isinstance(expression, int):
        return sympy.Integer(expression)
    if isinstance(expression, sympy.Expr) and not isinstance(expression, sympy.MatrixBase):
        if expression.has(sympy.zoo, sympy.nan):  # as the parser refuses 1/0 in text
            raise DerivgenError(f"the expression {sympy.sstr(expression)} is undefined (it holds zoo or nan)")
        return expression
    if isinstance(expression, list | tuple):
        raise DerivgenError("a list of functions must be flat: [f1, f2, …]")
    raise DerivgenError(f"cannot derive an object of type {type(expression).__name__}; give text or a sympy expression")


def _written(given: object, expr: sympy.Basic, as_written: bool | None) -> frozenset[sympy.Basic]:
    """The sums to keep in their written order: those of text (every item of a list being text)."""
    if as_written is None:
        items = given if isinstance(given, list | tuple) else [given]
        as_written = all(isinstance(item, str) for item in items)
    return written_sums(expr) if as_written else frozenset()


def _assume_positive(expr: sympy.Expr, names: Iterable[str]) -> sympy.Expr:
    names = set(names)
    for name in names:
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise DerivgenError(f"a positive variable must be a name such as x, not {name!r}")
    swap = {s: Symbol(s.name, positive=True) for s in expr.free_symbols if s.name in names}
    if not swap:
        return expr
    with sympy.evaluate(False):  # keeps the written order of terms and factors
        return expr.xreplace(swap)


def _as_variable(wrt: str | sympy.Symbol, expr: sympy.Basic) -> sympy.Symbol:
    """The symbol of ``expr`` that ``wrt`` names.

    Variables are matched by *name*: text is read with real symbols (positive ones for
    ``positive``), so a plain ``Symbol("x")`` given by the caller is another object than the
    ``x`` of ``"sin(x)"`` — matching by identity would silently give 0.  A name that stands for
    two different symbols in ``expr`` (say a real and a plain ``x``) cannot be resolved: error.
    """
    if isinstance(wrt, Symbol):
        name = wrt.name
    elif isinstance(wrt, str) and _IDENTIFIER.fullmatch(wrt):
        name = wrt
    else:
        raise DerivgenError(f"the variable to differentiate by must be a name such as x, not {wrt!r}")
    namesakes = sorted((s for s in expr.free_symbols if s.name == name), key=sympy.default_sort_key)
    if len(namesakes) > 1:
        kinds = ", ".join(_assumption_summary(s) for s in namesakes)
        raise DerivgenError(
            f"the expression holds {len(namesakes)} different symbols named {name} ({kinds}); "
            "build it with one symbol per name"
        )
    if namesakes:
        return namesakes[0]
    return wrt if isinstance(wrt, Symbol) else Symbol(name, real=True)


def _assumption_summary(symbol: sympy.Symbol) -> str:
    facts = [fact for fact in ("positive", "real", "integer") if symbol.assumptions0.get(fact)]
    return ", ".join(facts[:1]) if facts else "no assumptions"


def derive_one(
    expression: sympy.Expr,
    wrt: sympy.Symbol,
    verify: bool = True,
    registry: RuleRegistry = REGISTRY,
    limits: EngineLimits = DEFAULT_LIMITS,
    taken: sympy.Basic | None = None,
    written: frozenset[sympy.Basic] = frozenset(),
    form: ResultForm = SHORTEST,
) -> Derivation:
    """The derivative of one function by one of its variables, by the rules — the method behind
    :func:`derive` for one variable, typed for callers that need the trace itself (the substitution
    layout, plots).  Stand-in variables avoid the names in ``taken`` (default: the expression);
    ``written`` holds the sums to print in the order typed; ``form`` is how the derivation ends."""
    names = {s.name for s in (expression if taken is None else taken).free_symbols}
    return RuleEngine(registry, verify, limits, taken=names, written=written, form=form).run(expression, wrt)
