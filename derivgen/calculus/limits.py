"""Derivatives from first principles: the limit of the difference quotient, step by step.

f'(x) = lim_{h→0} (f(x+h) − f(x))/h, then — by what f is — expanding and cancelling h
(polynomials, rational functions), rationalising (square roots), the angle-addition formulas
with the standard limits sin h / h → 1 and (cos h − 1)/h → 0 (sin, cos), or factoring out e^x
with (e^h − 1)/h → 1 (exp); sums and constant multiples term by term.  Every step is checked
numerically like every other step (a limit is evaluated at a tiny h with extra precision).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Add, Derivative, Limit, Mul, Pow, S, Symbol, cos, exp, sin, sqrt

from ..errors import DerivgenError, LimitExceeded, UnsupportedExpression
from .engine import node_at, replace_at
from .model import Derivation, Step
from .rules import REGISTRY
from .rules.base import COSMETIC
from .rules.tidy import evaluated, same_up_to_order
from .verify import check_equal

COVERED = "polynomials, rational functions, square roots, sin, cos, exp, and sums and constant multiples of these"
# The limit method expands f(x + h) − f(x): a polynomial of degree d in x and h has ~d²/2 terms, and
# sympy's expand of (x² + x + 1)**50 runs for minutes (and **100 fills 4 GB).  No slide shows more than
# degree 12 expanded; beyond it the rules are the method to use.
MAX_LIMIT_DEGREE = 12


def derive_by_limit(expression: sympy.Expr, x: sympy.Symbol, verify: bool = True) -> Derivation:
    """The derivative of ``expression`` by ``x`` from the limit definition, every step named."""
    # a name the expression does not use: its own h (positive, say) is another symbol that would
    # print as the same letter on the slide
    taken = {symbol.name for symbol in expression.free_symbols} | {x.name}
    candidates = ("h", "k", "t", *(f"h_{i}" for i in range(len(taken) + 1)))
    name = next(candidate for candidate in candidates if candidate not in taken)
    h = Symbol(name, real=True)
    builder = _Trace(expression, x, h, verify)
    builder.run()
    return builder.derivation


def limit(expr: sympy.Expr, h: sympy.Symbol) -> Limit:
    """lim_{h→0} expr (two-sided: printed without a direction)."""
    return Limit(expr, h, 0, dir="+-")


def shifted(expression: sympy.Expr, x: sympy.Symbol, h: sympy.Symbol) -> sympy.Expr:
    """f(x + h), written x + h (not sympy's h + x)."""
    with sympy.evaluate(False):
        return expression.xreplace({x: Add(x, h, evaluate=False)})


def quotient(expression: sympy.Expr, x: sympy.Symbol, h: sympy.Symbol) -> sympy.Expr:
    """(f(x + h) − f(x)) / h, as written."""
    numerator = Add(shifted(expression, x, h), Mul(S.NegativeOne, expression, evaluate=False), evaluate=False)
    return Mul(numerator, Pow(h, S.NegativeOne, evaluate=False), evaluate=False)


class _Trace:
    def __init__(self, expression: sympy.Expr, x: sympy.Symbol, h: sympy.Symbol, verify: bool):
        self.expression, self.x, self.h, self.verify = expression, x, h, verify
        self.current: sympy.Basic = Derivative(expression, x, evaluate=False)
        self.derivation = Derivation(expression, x, [], verified=verify)

    def step(
        self,
        rule: str,
        after: sympy.Basic,
        path: tuple[int, ...] = (),
        note: str | None = None,
        level: int | None = None,
    ) -> None:
        """A step of the registry rule ``rule``, with its label and (unless ``level`` says) its level."""
        if after == self.current:
            return  # nothing to do here (h already cancelled, say): no empty line
        registered = REGISTRY[rule]
        label = registered.label
        focus = node_at(self.current, path)
        replacement = node_at(after, path) if path else after
        if self.verify:
            check_equal(focus, replacement, label)
        self.derivation.steps.append(
            Step(
                rule=rule,
                label=label,
                before=self.current,
                after=after,
                focus=focus,
                replacement=replacement,
                path=path,
                note=note,
                level=registered.level if level is None else level,
                is_tidy=rule in ("evaluate",),
            )
        )
        self.current = after

    def replace(self, rule: str, path: tuple[int, ...], new: sympy.Basic, note: str | None = None) -> None:
        self.step(rule, replace_at(self.current, path, new), path, note)

    def run(self) -> None:
        x, h = self.x, self.h
        # the labels are the registry's, in h; a step called otherwise is named on the first line
        renamed = None if h.name == "h" else rf"the step is ${sympy.latex(h)}$ here: $h$ is a name $f$ already uses"
        self.step("limit_definition", limit(quotient(self.expression, x, h), h), note=renamed)
        terms = self._terms(self.expression)
        if len(terms) > 1 or terms[0][0] != 1:
            parts = [_times(coefficient, limit(quotient(term, x, h), h)) for coefficient, term in terms]
            self.step(
                "limit_sum",
                parts[0] if len(parts) == 1 else Add(*parts, evaluate=False),
            )
        while (path := self._next_quotient()) is not None:
            focus = node_at(self.current, path)
            self._work(focus, path)
        result = evaluated(self.current)
        if result != self.current:
            cosmetic = same_up_to_order(result, self.current)  # a reordering never gets a line of its own
            self.step("evaluate", result, level=COSMETIC if cosmetic else None)
        if self.verify:
            check_equal(self.derivation.start, self.derivation.result, "whole derivation")

    def _terms(self, expression: sympy.Expr) -> list[tuple[sympy.Expr, sympy.Expr]]:
        """(constant, term) pairs: 3x² + sin x → [(3, x²), (1, sin x)]."""
        pairs = []
        for term in expression.as_ordered_terms():  # in the order a slide shows them
            if not term.has(self.x):
                continue  # a constant: its difference quotient is 0
            constant, rest = term.as_independent(self.x, as_Add=False)
            pairs.append((constant, rest))
        return pairs or [(S.One, expression)]

    def _next_quotient(self) -> tuple[int, ...] | None:
        """The leftmost limit still to be worked out."""
        stack: list[tuple[sympy.Basic, tuple[int, ...]]] = [(self.current, ())]
        while stack:
            node, path = stack.pop()
            if isinstance(node, Limit):
                return path
            if not node.is_Atom:
                stack.extend((arg, (*path, i)) for i, arg in reversed(list(enumerate(node.args))))
        return None

    def _work(self, focus: Limit, path: tuple[int, ...]) -> None:
        body = focus.args[0]
        for rule, handler in _STANDARD_LIMITS:
            value = handler(body, self.h)
            if value is not None:
                self.replace(rule, path, value)
                return
        term = self._term_of(body)
        if term is None:
            self.replace("limit_take", path, _at_zero(body, self.h))
            return
        family = _family(term, self.x)
        if family is None:
            raise UnsupportedExpression(
                f"the limit method covers {COVERED}; {sympy.sstr(term)} is not among them: "
                "use the rule-based method (--method rules)"
            )
        family(self, term, path)

    def _term_of(self, body: sympy.Expr) -> sympy.Expr | None:
        """f when ``body`` is still the untouched difference quotient (f(x+h) − f(x))/h."""
        for term in (self.expression, *(t for _, t in self._terms(self.expression))):
            if body == quotient(term, self.x, self.h):
                return term
        return None


def _times(coefficient: sympy.Expr, factor: sympy.Expr) -> sympy.Expr:
    return factor if coefficient == 1 else Mul(coefficient, factor, evaluate=False)


def _at_zero(body: sympy.Expr, h: sympy.Symbol) -> sympy.Expr:
    value = body.subs(h, 0)
    if value.has(sympy.zoo, sympy.nan):
        raise DerivgenError(f"the limit of {sympy.sstr(body)} cannot be taken by substituting h = 0")
    return value


# -- the families ------------------------------------------------------------------------------------------


def degree(expr: sympy.Expr, x: sympy.Symbol) -> int:
    """An upper bound of the degree in ``x`` of ``expr`` written out (numerator and denominator of a
    rational function together) — read from the tree, without expanding anything."""
    if not expr.has(x):
        return 0
    if expr == x:
        return 1
    if isinstance(expr, Pow) and expr.exp.is_Rational:
        return degree(expr.base, x) * int(abs(expr.exp) + 1 if not expr.exp.is_Integer else abs(expr.exp))
    if isinstance(expr, Add):
        return max(degree(arg, x) for arg in expr.args)
    return sum(degree(arg, x) for arg in expr.args)


def _refuse_high_degree(term: sympy.Expr, x: sympy.Symbol) -> None:
    found = degree(term, x)
    if found > MAX_LIMIT_DEGREE:
        raise LimitExceeded(
            f"the limit method would expand {sympy.sstr(term)[:40]} (degree {found} in {x}); the limit is degree "
            f"{MAX_LIMIT_DEGREE}: use the rule-based method (--method rules)"
        )


def _algebraic(trace: _Trace, term: sympy.Expr, path) -> None:
    """Polynomials and rational functions: expand (or combine the fractions), cancel h, h → 0."""
    x, h = trace.x, trace.h
    _refuse_high_degree(term, x)
    top, bottom = sympy.fraction(sympy.together(term.xreplace({x: x + h}) - term))
    top = sympy.expand(top)
    rule = "limit_expand" if bottom == 1 else "limit_combine_fractions"
    shown = Mul(top, Pow(Mul(bottom, h), -1, evaluate=False), evaluate=False)  # h still visible
    trace.replace(rule, path, limit(shown, h))
    cancelled = _tidy_rational(sympy.cancel(top / (bottom * h)), x)
    trace.replace("limit_cancel", path, limit(cancelled, h))
    trace.replace("limit_take", path, _tidy_rational(_at_zero(cancelled, h), x))


def _tidy_rational(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """A rational function with its denominator factored, -1/(x(x+h)) rather than -1/(hx + x²)."""
    return expr if sympy.fraction(expr)[1] == 1 else sympy.factor(expr)


def _square_root(trace: _Trace, term: sympy.Expr, path) -> None:
    """√p: multiply by the conjugate, (√p(x+h) − √p(x))(√p(x+h) + √p(x)) = p(x+h) − p(x)."""
    x, h = trace.x, trace.h
    inner = term.base
    _refuse_high_degree(inner, x)
    up, down = sqrt(shifted(inner, x, h)), sqrt(inner)
    conjugate = Add(up, down, evaluate=False)
    below = Pow(Mul(h, conjugate, evaluate=False), -1, evaluate=False)
    difference = Add(shifted(inner, x, h), Mul(-1, inner, evaluate=False), evaluate=False)
    trace.replace(
        "limit_rationalise",
        path,
        limit(Mul(difference, below, evaluate=False), h),
        note=r"multiply by $\frac{\sqrt{p(x+h)} + \sqrt{p(x)}}{\sqrt{p(x+h)} + \sqrt{p(x)}}$",
    )
    expanded = sympy.expand(inner.xreplace({x: x + h}) - inner)
    trace.replace("limit_expand", path, limit(Mul(expanded, below, evaluate=False), h))
    cancelled = Mul(sympy.cancel(expanded / h), Pow(conjugate, -1, evaluate=False), evaluate=False)
    trace.replace("limit_cancel", path, limit(cancelled, h))
    trace.replace("limit_take", path, _at_zero(evaluated(cancelled), h))


_ANGLE_ADDITION = {
    "sin": r"$\sin(a + b) = \sin a \cos b + \cos a \sin b$",
    "cos": r"$\cos(a + b) = \cos a \cos b - \sin a \sin b$",
}


def _trigonometric(trace: _Trace, term: sympy.Expr, path) -> None:
    """sin and cos: f(x + h) − f(x) = f(x)(cos h − 1) + c(x) sin h, with c = cos for sin and −sin for cos;
    then the two standard limits."""
    x, h = trace.x, trace.h
    beside_sin_h = cos(x) if term == sin(x) else Mul(-1, sin(x), evaluate=False)
    addition = Add(Mul(term, cos(h)), Mul(beside_sin_h, sin(h), evaluate=False), -term, evaluate=False)
    note = _ANGLE_ADDITION[type(term).__name__]
    trace.replace("limit_angle_addition", path, limit(Mul(addition, Pow(h, -1)), h), note=note)
    split = Add(
        Mul(term, limit((cos(h) - 1) / h, h), evaluate=False),
        Mul(beside_sin_h, limit(sin(h) / h, h), evaluate=False),
        evaluate=False,
    )
    trace.replace("limit_regroup", path, split)


def _exponential(trace: _Trace, term: sympy.Expr, path) -> None:
    x, h = trace.x, trace.h
    factored = Mul(exp(x), limit((exp(h) - 1) / h, h), evaluate=False)
    trace.replace("limit_factor_exp", path, factored, note=r"$e^{x+h} = e^x e^h$")


def _family(term: sympy.Expr, x: sympy.Symbol) -> Callable | None:
    if term.is_rational_function(x):
        return _algebraic
    if term.is_Pow and term.exp == S.Half and term.base.is_polynomial(x):
        return _square_root
    if term in (sin(x), cos(x)):
        return _trigonometric
    if term == exp(x):
        return _exponential
    return None


def _sin_over_h(body, h):
    return S.One if body == sin(h) / h else None


def _cos_minus_one(body, h):
    return S.Zero if body == (cos(h) - 1) / h else None


def _exp_minus_one(body, h):
    return S.One if body == (exp(h) - 1) / h else None


_STANDARD_LIMITS = [
    ("limit_sin", _sin_over_h),
    ("limit_cos", _cos_minus_one),
    ("limit_exp", _exp_minus_one),
]
