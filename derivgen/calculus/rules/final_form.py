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

import difflib
import re
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sympy
from sympy import Abs, Add, Derivative, Indexed, KroneckerDelta, Mul, Piecewise, Pow, Rational, Subs, Sum
from sympy.functions.elementary.hyperbolic import HyperbolicFunction, InverseHyperbolicFunction
from sympy.functions.elementary.trigonometric import InverseTrigonometricFunction, TrigonometricFunction
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


def refuse_misspelt_form(text: str) -> None:
    """A ``result:`` that reads like a form's name but is none (``factr``, ``AS-DERIVED``,
    ``simplify``) is an error saying so — not an expression f·a·c·t·r that is "not equal"."""
    word = text.strip()
    if not re.fullmatch(r"[A-Za-z]+(-[A-Za-z]+)+|[A-Za-z]{3,}", word):
        return
    close = difflib.get_close_matches(word.lower(), RESULT_FORMS, n=1, cutoff=0.6)
    if close or "-" in word or word.lower() == "simplify":
        hint = f"did you mean {close[0]}? " if close else ""
        forms = ", ".join(RESULT_FORMS)
        raise ResultError(f"unknown result form {word!r}: {hint}use one of {forms}, or an expression to rewrite into")


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
        refuse_misspelt_form(name)
        return ResultForm("target", read(name))
    if isinstance(form, sympy.Expr):
        return ResultForm("target", form)
    raise ResultError(f"result must be a form's name or an expression, not {type(form).__name__}")


def weight(expr: sympy.Basic, written: Collection[sympy.Basic] = ()) -> tuple[int, int, int, int]:
    """How long a lecturer finds ``expr``: sympy's ``count_ops``; at a tie, fewer of the user's
    ``written`` sums lost (-2(x - y), not -2x + 2y), then fewer minus signs, then fewer terms (so
    that the factored form wins: 4(2x + y²) over 8x + 4y²)."""
    kept = sum(1 for node in sympy.preorder_traversal(expr) if isinstance(node, Add) and node in written)
    return (int(sympy.count_ops(expr)), -kept, minus_signs(expr), len(Add.make_args(expr)))


def families(expr: sympy.Basic) -> frozenset[str]:
    """The function families in ``expr``: trigonometric, hyperbolic, their inverses, exponential,
    logarithm, absolute value (|x| and sign x), and each other function by its own name.  A final
    form stays among the families the derivative has: sympy's simplify writes eˣ + e⁻ˣ as 2 cosh x,
    which a lecturer of an exponentials exercise does not want."""
    found = set()
    for function in expr.atoms(sympy.Function):
        if isinstance(function, TrigonometricFunction):
            found.add("trigonometric")
        elif isinstance(function, InverseTrigonometricFunction):
            found.add("inverse trigonometric")
        elif isinstance(function, HyperbolicFunction):
            found.add("hyperbolic")
        elif isinstance(function, InverseHyperbolicFunction):
            found.add("inverse hyperbolic")
        elif isinstance(function, Abs | sympy.sign):
            found.add("absolute value")
        else:
            found.add(type(function).__name__)
    if any(isinstance(node, Pow) and node.base is sympy.E for node in sympy.preorder_traversal(expr)):
        found.add("exp")  # e^x, however sympy holds it
    return frozenset(found)


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


def _transformed(expr: sympy.Expr, transform: Transform, wrt: sympy.Symbol, opaque: bool = True) -> sympy.Expr | None:
    plain, back = _opaque(expr) if opaque else (expr, {})
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


def _final_rule(rule_id: str, transform: Transform, opaque: bool = True) -> Callable:
    """A rule function: ``transform`` applied when it shortens the expression (or, for the result
    form named like the rule, whenever it changes it); ``opaque=False`` for a rule that looks
    inside 1 - tanh²u (the others see it as one symbol)."""

    def apply(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
        form = ctx.form
        if form.name not in ("shortest", rule_id) or not _eligible(expr):
            return None
        candidate = _transformed(expr, transform, ctx.wrt, opaque)
        if candidate is None:
            return None
        written = written_forms(ctx)
        candidate = dress(candidate, written)
        if candidate == expr or same_up_to_order(candidate, expr):
            return None
        if form.name == "shortest" and not families(candidate) <= families(expr):
            return None  # no function family the derivative does not have (eˣ + e⁻ˣ stays, not 2 cosh x)
        sums = {*written, *written.values()}
        if form.name == "shortest" and weight(candidate, sums) >= weight(expr, sums):
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
    busy = hasattr(signal, "getitimer") and signal.getitimer(signal.ITIMER_REAL)[0] > 0
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer") or busy:
        yield  # a timer of the caller's own (a notebook, a test runner) is left alone
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


def _bounded(transform: Callable[[sympy.Expr], sympy.Expr], hyperbolic: bool = False) -> Transform:
    """simplify() and trigsimp(): only on short expressions without hyperbolic functions (whose
    rewriting through exponentials can run for minutes, and which lecturers keep as 1 - tanh²),
    and for at most SIMPLIFY_SECONDS; ``hyperbolic`` lets the hyperbolic identities through."""

    def apply(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
        if sympy.count_ops(expr) > MAX_SIMPLIFY_OPS or (expr.has(HyperbolicFunction) and not hyperbolic):
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


def _rebuilt(expr: sympy.Expr, node_rule: Callable[[sympy.Expr], sympy.Expr]) -> sympy.Expr:
    """``expr`` rebuilt bottom-up (sympy's arithmetic), ``node_rule`` applied to every node."""
    if expr.is_Atom:
        return expr
    args = [_rebuilt(arg, node_rule) for arg in expr.args]
    node = expr.func(*args) if args != list(expr.args) else expr
    return node_rule(node)


def _sech_squared(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    """1 - tanh²u = sech²u in every sum where that makes the sum shorter (tanh²u - 1 = -sech²u,
    x tanh²u - x + y = y - x sech²u)."""
    if not expr.has(sympy.tanh):
        raise ValueError("no tanh")

    def in_sum(node: sympy.Expr) -> sympy.Expr:
        squares = {
            power_: 1 - sympy.sech(power_.base.args[0]) ** 2
            for power_ in node.atoms(Pow)
            if isinstance(power_.base, sympy.tanh) and power_.exp == 2
        }
        if not isinstance(node, Add) or not squares:
            return node
        rewritten = Add(*(sympy.expand_mul(term, deep=False) for term in Add.make_args(node.xreplace(squares))))
        # a tie (tanh²u - 1 = -sech²u) is taken: its sign joins the product's, and the whole
        # expression must still come out strictly shorter for the step to be shown
        return rewritten if weight(rewritten)[:2] <= weight(node)[:2] else node

    return _rebuilt(expr, in_sum)


def _sign(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    """u/|u| = sign u and u·sign u = |u| in every product (u real, u ≠ 0 where the derivative exists)."""
    if not expr.has(Abs, sympy.sign):
        raise ValueError("no absolute value")

    def in_product(node: sympy.Expr) -> sympy.Expr:
        if not isinstance(node, Mul):
            return node
        factors = list(node.args)
        for factor in list(factors):
            if factor not in factors:
                continue
            if isinstance(factor, Pow) and isinstance(factor.base, Abs) and factor.exp == -1:
                inner = factor.base.args[0]
                if inner in factors and inner.is_real:
                    factors.remove(factor)
                    factors.remove(inner)
                    factors.append(sympy.sign(inner))
            elif isinstance(factor, sympy.sign):
                inner = factor.args[0]
                if inner in factors and inner.is_real:
                    factors.remove(factor)
                    factors.remove(inner)
                    factors.append(Abs(inner))
        return Mul(*factors) if len(factors) != len(node.args) else node

    return _rebuilt(expr, in_product)


def _root_to_numerator(expr: sympy.Expr, wrt: sympy.Symbol) -> sympy.Expr:
    """a/√b = a√b/b: the root moved to the numerator, where b then cancels against a's factors
    (x²/√(x³) = √(x³)/x)."""
    roots = {
        power_: Pow(power_.base, Rational(1, 2)) / power_.base
        for power_ in expr.atoms(Pow)
        if power_.exp == Rational(-1, 2)
    }
    if not roots:
        raise ValueError("no root in a denominator")
    return expr.xreplace(roots)


def _hyperbolic(expr: sympy.Expr) -> sympy.Expr:
    """sinh and cosh identities (cosh² - sinh² = 1, 2 sinh cosh = sinh 2x), by trigsimp."""
    if not expr.has(sympy.sinh, sympy.cosh):
        raise ValueError("no sinh or cosh")
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


def _rule(rule_id: str, label: str, statement: str, transform: Transform, opaque: bool = True) -> Rule:
    return Rule(
        id=rule_id, label=label, statement=statement, apply=_final_rule(rule_id, transform, opaque), family="final"
    )


# Search order (declared data): the cheap, local rewrites first; the engine takes the first rule
# that shortens the expression, then searches again from the top.
RULES = [
    _rule(
        "tanh_squared",
        "hyperbolic identity",
        r"1 - \tanh^2 u = \operatorname{sech}^2 u",
        _sech_squared,
        opaque=False,
    ),
    _rule(
        "absolute_value",
        "absolute value and sign",
        r"\frac{x}{|x|} = \operatorname{sign} x, \quad x \operatorname{sign} x = |x|",
        _sign,
    ),
    _rule(
        "root_to_numerator",
        "move the root to the numerator",
        r"\frac{a}{\sqrt{b}} = \frac{a \sqrt{b}}{b}",
        _root_to_numerator,
    ),
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
        "hyperbolic_identities",
        "sinh and cosh identity",
        r"\cosh^2 x - \sinh^2 x = 1, \quad 2 \sinh x \cosh x = \sinh 2x",
        _bounded(_hyperbolic, hyperbolic=True),
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
