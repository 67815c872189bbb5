"""Final forms: after "simplify", named steps towards the shortest form a lecturer writes.

Each rule is one well-known rewrite of the whole expression (combine into one fraction, cancel,
factor out the common factor, factor, expand, collect, …).  By default (the ``shortest`` form) a
rule applies only when its result is strictly shorter by :func:`weight` — sympy's ``count_ops``,
then fewer minus signs, then fewer terms (a factored form) — so every line on the page earns its
place and the search ends.  ``result: factor`` (``expand``, ``cancel``) applies that one rule
instead; ``result: <expression>`` ends with a "rewrite as" step to the lecturer's own form, proved
equal.  Every rewrite is bounded by the size of the expression: no unbounded ``simplify()``.

Candidates are "dressed" before they are weighed: a factor the user wrote (``y - w x``) is put back
as written, and a factor's sign is turned where that saves a minus (``-σ(σ - 1)`` reads
``σ(1 - σ)``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sympy
from sympy import Add, Derivative, Indexed, KroneckerDelta, Piecewise, Pow, Subs, Sum
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from ...errors import DerivgenError
from .base import Context, Rewrite, Rule
from .tidy import dress, minus_signs, same_up_to_order, written_forms

# Sizes (sympy count_ops) above which a rewrite is not tried: factor and cancel are polynomial
# algorithms whose cost grows fast with the degree; expand can multiply out (x + y)^1000.
MAX_OPS = 250
MAX_EXPAND_POWER = 12
# simplify() and trigsimp() try many rewrites and can take seconds on a middling expression: only
# on short ones (every derivative of the benchmark that needs them is far below this).
MAX_SIMPLIFY_OPS = 40
SIMPLIFY_SECONDS = 1.0
# Index notation and pieces are tidied by their own steps (matrix engine) or left as derived.
_NOT_HERE = (Sum, KroneckerDelta, MatrixElement, Indexed, Piecewise)

RESULT_FORMS = ("shortest", "factor", "expand", "cancel", "as-derived")


class ResultError(DerivgenError):
    """A ``result:`` that cannot be reached: an unknown form, or a target not equal to the derivative."""


@dataclass(frozen=True)
class ResultForm:
    """How a derivation ends (the ``result:`` key): ``shortest`` (default), ``factor``, ``expand``,
    ``cancel``, ``as-derived`` (the rules' result with only zeros and ones dropped), or ``target``
    with the lecturer's own expression, reached by a checked "rewrite as" step."""

    name: str = "shortest"
    target: sympy.Expr | None = None

    def __post_init__(self) -> None:
        if self.name not in (*RESULT_FORMS, "target"):
            raise ResultError(f"result must be one of {', '.join(RESULT_FORMS)} or an expression, not {self.name!r}")
        if (self.name == "target") != (self.target is not None):
            raise ResultError("a result target needs its expression (and only a target has one)")

    @property
    def tidy_only(self) -> bool:
        """Stop after the trivial tidy-up: no "simplify", no final-form step."""
        return self.name == "as-derived"


SHORTEST = ResultForm()


def result_form(form: str | sympy.Expr | ResultForm | None, read: Callable[[str], sympy.Expr]) -> ResultForm:
    """A ``result:`` value as a :class:`ResultForm`: a form's name, or an expression (text read
    with ``read`` — derivgen's parser, never ``eval`` — or a sympy expression) to rewrite into."""
    if form is None:
        return SHORTEST
    if isinstance(form, ResultForm):
        return form
    if isinstance(form, str):
        name = form.strip()
        if name in RESULT_FORMS:
            return ResultForm(name)
        return ResultForm("target", read(name))
    if isinstance(form, sympy.Expr):
        return ResultForm("target", form)
    raise ResultError(f"result must be a form's name or an expression, not {type(form).__name__}")


def weight(expr: sympy.Basic) -> tuple[int, int, int]:
    """How long a lecturer finds ``expr``: sympy's ``count_ops``, then the minus signs, then the
    number of terms (so that at a tie the factored form wins: 4(2x + y²) over 8x + 4y²)."""
    return (int(sympy.count_ops(expr)), minus_signs(expr), len(Add.make_args(expr)))


def _eligible(expr: sympy.Expr) -> bool:
    return not expr.has(*_NOT_HERE) and sympy.count_ops(expr) <= MAX_OPS


def _opaque(expr: sympy.Expr) -> tuple[sympy.Expr, dict[sympy.Symbol, sympy.Basic]]:
    """Derivatives of undefined functions (f'(x), f'(g(x))) as plain symbols: the polynomial
    algorithms treat them as generators, and never look inside.  So is 1 - tanh²(u), the form
    lecturers write (simplify would turn it into 1/cosh²(u))."""
    stand_ins = {node: sympy.Dummy("d") for node in expr.atoms(Derivative, Subs)}
    stand_ins |= {1 - t**2: sympy.Dummy("t") for t in expr.atoms(sympy.tanh)}
    if not stand_ins:
        return expr, {}
    return expr.xreplace(stand_ins), {dummy: node for node, dummy in stand_ins.items()}


def _transformed(expr: sympy.Expr, transform: Transform, wrt: sympy.Symbol) -> sympy.Expr | None:
    plain, back = _opaque(expr)
    try:
        result = transform(plain, wrt)
    except (sympy.PolynomialError, sympy.CoercionFailed, ValueError, TypeError, NotImplementedError, RecursionError):
        return None  # sympy declines odd input in many ways: no candidate
    if not isinstance(result, sympy.Expr) or result.has(sympy.zoo, sympy.nan):
        return None
    return result.xreplace(back) if back else result


Transform = Callable[[sympy.Expr, sympy.Symbol], sympy.Expr]


# -- the rules ----------------------------------------------------------------------------------------


def _has_fraction(expr: sympy.Expr) -> bool:
    return any(sympy.fraction(term)[1] != 1 for term in Add.make_args(expr))


def _together(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    """Only a sum with a fraction in it (together() also factors plain sums: not what it says)."""
    if not (expr.is_Add and _has_fraction(expr)):
        raise ValueError("no fractions to combine")
    return sympy.together(expr)


def _cancel(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    if not _has_fraction(expr):
        raise ValueError("no fraction to cancel")
    return sympy.cancel(expr)


def _final_rule(rule_id: str, transform: Transform) -> Callable:
    """A rule function: ``transform`` applied when it shortens the expression (or, for the result
    form named like the rule, whenever it changes it)."""

    def apply(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
        form = ctx.form
        if form.name not in ("shortest", rule_id) or not _eligible(expr):
            return None
        candidate = _transformed(expr, transform, ctx.wrt)
        if candidate is None:
            return None
        candidate = dress(candidate, written_forms(ctx))
        if candidate == expr or same_up_to_order(candidate, expr):
            return None
        if form.name == "shortest" and weight(candidate) >= weight(expr):
            return None
        return Rewrite(candidate)

    apply.__name__ = rule_id
    apply.__doc__ = f"the whole expression -> {rule_id} of it, when that is shorter"
    return apply


def _expand(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    for power_ in expr.atoms(Pow):
        if isinstance(power_.base, Add) and power_.exp.is_Integer and abs(power_.exp) > MAX_EXPAND_POWER:
            raise ValueError("too large to multiply out")
    return sympy.expand(expr)


def _collect(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    """Terms with the same power of the variable brought together: a x + b x = (a + b) x."""
    return sympy.collect(_expand(expr, wrt), wrt)


class _OutOfTime(Exception):
    pass


@contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Stop a sympy call after ``seconds`` where a timer can interrupt it (the main thread); the
    size bounds hold everywhere else."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _bounded(transform: Callable[[sympy.Expr], sympy.Expr]) -> Transform:
    """simplify() and trigsimp(): only on short expressions without hyperbolic functions (whose
    rewriting through exponentials can run for minutes, and which lecturers keep as 1 - tanh²),
    and for at most SIMPLIFY_SECONDS."""

    def apply(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
        if sympy.count_ops(expr) > MAX_SIMPLIFY_OPS or expr.has(HyperbolicFunction):
            raise ValueError("too long, or hyperbolic")
        try:
            with _time_budget(SIMPLIFY_SECONDS):
                return transform(expr)
        except _OutOfTime:
            raise ValueError("out of time") from None

    return apply


def _trigonometric(expr: sympy.Expr) -> sympy.Expr:
    if not expr.has(TrigonometricFunction):
        raise ValueError("no trigonometric function")
    return sympy.trigsimp(expr)


def rewrite_as(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """f'(x) -> the lecturer's target g(x), once g(x) - f'(x) is proved 0."""
    target = ctx.form.target
    if target is None or target == expr:
        return None
    if not proved_equal(expr, target):
        raise ResultError(
            f"the result {sympy.sstr(target)} is not equal to the derivative {sympy.sstr(expr)} "
            "(or derivgen cannot prove it): check the expression"
        )
    return Rewrite(target)


def proved_equal(derived: sympy.Expr, target: sympy.Expr) -> bool:
    """Whether sympy proves ``target - derived`` zero (bounded: simplify only on small differences)."""
    from ..verify import numerically_equal  # numbers first: an unequal target is refused at once

    if numerically_equal(derived, target) is False:
        return False
    difference = sympy.expand(derived.doit() - target.doit()) if sympy.count_ops(target) < MAX_OPS else None
    if difference is None:
        return False
    if difference == 0:
        return True
    for prove in (sympy.cancel, sympy.together, sympy.simplify):
        if sympy.count_ops(difference) > MAX_OPS:
            return False
        try:
            if prove(difference) == 0:
                return True
        except (sympy.PolynomialError, ValueError, TypeError, NotImplementedError):
            continue
    return bool(difference.equals(0))


def _rule(rule_id: str, label: str, statement: str, transform: Transform) -> Rule:
    return Rule(id=rule_id, label=label, statement=statement, apply=_final_rule(rule_id, transform), family="final")


# Search order (declared data): the cheap, local rewrites first; the engine takes the first rule
# that shortens the expression, then searches again from the top.
RULES = [
    _rule(
        "together",
        "combine into one fraction",
        r"\frac{a}{b} + \frac{c}{d} = \frac{ad + bc}{bd}",
        _together,
    ),
    _rule("factor", "factor", r"x^2 - 1 = (x - 1)(x + 1)", lambda e, wrt: sympy.factor(e)),
    _rule(
        "common_factor",
        "factor out the common factor",
        r"a\,b + a\,c = a\,(b + c)",
        lambda e, wrt: sympy.factor_terms(e, sign=False),
    ),
    _rule("cancel", "cancel", r"\frac{a\,c}{b\,c} = \frac{a}{b}", _cancel),
    _rule("expand", "expand", r"a\,(b + c) = a\,b + a\,c", _expand),
    _rule("collect", "collect terms", r"a\,x + b\,x = (a + b)\,x", _collect),
    _rule(
        "combine_powers",
        "combine powers",
        r"e^a\,e^b = e^{a + b}, \quad x^a\,x^b = x^{a + b}",
        lambda e, wrt: sympy.powsimp(e),
    ),
    _rule(
        "trigonometric_identity",
        "trigonometric identity",
        r"\sin^2 x + \cos^2 x = 1, \quad 2 \sin x \cos x = \sin 2x",
        _bounded(_trigonometric),
    ),
    _rule(
        "simplify_further",
        "simplify",
        r"\text{the shortest form sympy's simplify finds, e.g. } \frac{x}{|x|} = \operatorname{sign} x",
        _bounded(sympy.simplify),
    ),
    Rule(
        id="rewrite_as",
        label="rewrite as",
        statement=r"f'(x) = g(x) \quad \text{where } f'(x) - g(x) = 0",
        apply=rewrite_as,
        family="final",
    ),
]
