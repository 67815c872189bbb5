"""Tidy-up steps after the last derivative rule: short, named and bounded (never ``simplify()``).

``drop_neutral`` removes what the rules left behind (``+ 0``, ``· 1``, ``^1``) without reordering,
so the line still reads as the lecturer derived it: ``3(x^2+2)^2 · 2x``.  ``evaluate`` then lets
sympy do its ordinary arithmetic (``6x(x^2+2)^2``), the form ``sympy.diff`` returns.
"""

from __future__ import annotations

import sympy
from sympy import Add, Derivative, Mul, Pow, S, Subs
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.matrices.expressions.matexpr import MatrixElement

from .base import COSMETIC, TRIVIAL, Context, Rewrite, Rule, add, mul, power


def _rebuild(expr: sympy.Expr, rebuild_node) -> sympy.Expr:
    """Bottom-up rebuild; derivatives and substitutions are kept as they stand (f'(x), f'(g(x)))."""
    if expr.is_Atom or isinstance(expr, Derivative | Subs | MatrixElement):
        return expr
    return rebuild_node(expr, [_rebuild(arg, rebuild_node) for arg in expr.args])


def _without_neutral(node: sympy.Expr, args: list[sympy.Expr]) -> sympy.Expr:
    if isinstance(node, Add):
        terms = [term for term in args if term != 0]
        return S.Zero if not terms else terms[0] if len(terms) == 1 else add(*terms)
    if isinstance(node, Mul):
        if any(factor == 0 for factor in args):
            return S.Zero
        factors = [factor for factor in args if factor != 1]
        return S.One if not factors else factors[0] if len(factors) == 1 else mul(*factors)
    if isinstance(node, Pow):
        base, exponent = args
        if exponent == 1:
            return base
        if exponent == 0:
            return S.One
        return power(base, exponent)
    if isinstance(node, ExprWithLimits):  # Σ does no arithmetic, but wraps its body in 1·(…) unevaluated
        return node.func(*args)
    with sympy.evaluate(False):
        return node.func(*args)


def without_neutral_argument(node: sympy.Basic, index: int) -> sympy.Expr | None:
    """``node`` without its argument ``index`` where that argument is neutral there (a factor 1, a
    term 0, an exponent 1), ``0`` for a product with a factor 0, and a product's sign ``-1``
    cancelled against a negative argument (``-(-1/x^2)`` is ``1/x^2``); None when nothing goes."""
    argument = node.args[index]
    others = [arg for i, arg in enumerate(node.args) if i != index]
    if isinstance(node, Add) and argument == 0:
        return _sum_of(others)
    if isinstance(node, Pow):
        if index == 1 and argument == 1:
            return node.base
        if argument == 1 or (index == 1 and argument == 0):
            return S.One
        return None
    if not isinstance(node, Mul):
        return None
    if argument == 0:
        return S.Zero
    if argument == 1:
        return _product_of(others)
    coefficient, rest = argument.as_coeff_Mul()
    if coefficient.is_negative and S.NegativeOne in others:
        sign = next(i for i, arg in enumerate(node.args) if i != index and arg == S.NegativeOne)
        # what is left of the argument stays in its place: (-1)·a·(-b) reads a·b
        unsigned = rest if coefficient == -1 else (-coefficient if rest == 1 else mul(-coefficient, rest))
        return _product_of([unsigned if i == index else arg for i, arg in enumerate(node.args) if i != sign])
    return None


def _sum_of(terms: list[sympy.Expr]) -> sympy.Expr:
    return S.Zero if not terms else terms[0] if len(terms) == 1 else add(*terms)


def _product_of(factors: list[sympy.Expr]) -> sympy.Expr:
    return S.One if not factors else factors[0] if len(factors) == 1 else mul(*factors)


def drop_neutral_factors(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` without ``+ 0``, ``· 1``, ``^1``, in the order it was built (pending derivatives
    kept as they stand)."""
    return _rebuild(expr, _without_neutral)


def drop_neutral(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """... + 0, ... · 1, u^1 -> dropped, keeping the order of everything else."""
    return Rewrite(drop_neutral_factors(expr))


def _evaluated(node: sympy.Expr, args: list[sympy.Expr]) -> sympy.Expr:
    return node.func(*args)


def evaluated(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` rebuilt with sympy's ordinary arithmetic (derivatives, substitutions and matrix
    entries kept as they stand: sympy would write (Mx)_i out as a sum).  A product of products is
    evaluated as one product: 2(y - wx)·(-x) is -2x(y - wx), where evaluating the inner 2(y - wx)
    first would multiply the 2 into the sum."""
    if expr.is_Atom or isinstance(expr, Derivative | Subs | MatrixElement):
        return expr
    if isinstance(expr, Mul):
        return _product_keeping_sums([evaluated(factor) for factor in _factors(expr)])
    return _evaluated(expr, [evaluated(arg) for arg in expr.args])


def _product_keeping_sums(factors: list[sympy.Expr]) -> sympy.Expr:
    """sympy's product of ``factors``, except that a number is not multiplied into a sum standing
    as a factor: -2·(x - y) stays -2(x - y), not -2x + 2y (the sum is the one the user wrote, or
    the one the chain rule brought down)."""
    product = Mul(*factors)
    if not isinstance(product, Add) or any(isinstance(factor, Add) and factor.is_number for factor in factors):
        return product
    numbers = [factor for factor in factors if factor.is_Number]
    others = [factor for factor in factors if not factor.is_Number]
    if len(others) != 1 or not isinstance(others[0], Add):
        return product
    coefficient = Mul(*numbers)
    return others[0] if coefficient == 1 else Mul(coefficient, others[0], evaluate=False)


def _factors(product: sympy.Expr) -> list[sympy.Expr]:
    return [factor for arg in product.args for factor in (_factors(arg) if isinstance(arg, Mul) else [arg])]


def evaluate(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """Multiply out constants and collect like terms (sympy's automatic evaluation); the user's
    own sums stay as written, and a number stays in front of a sum that stands as a factor
    (-2(x - y), not -2x + 2y)."""
    evaluated_expr = dress(evaluated(expr), written_forms(ctx))
    if same_up_to_order(evaluated_expr, expr) and not _trailing_number(expr):
        return Rewrite(evaluated_expr, level=COSMETIC)  # a reordering: folds into the line before
    return Rewrite(evaluated_expr)


def _trailing_number(expr: sympy.Basic) -> bool:
    """Whether a number stands after another factor (e^{-3x} · (-3)): bringing it to the front,
    -3e^{-3x}, is a reordering a reader sees, not one to hide."""
    return any(
        isinstance(node, Mul) and any(factor.is_Number for factor in node.args[1:])
        for node in sympy.preorder_traversal(expr)
    )


def minus_signs(expr: sympy.Basic) -> int:
    return sum(1 for node in sympy.preorder_traversal(expr) if node.is_Number and node.is_negative)


def written_forms(ctx: Context) -> dict[sympy.Basic, sympy.Basic]:
    """The user's own sums (as evaluated -> as written), for putting them back where they stand."""
    forms = {evaluated(node): node for node in ctx.written if not node.has(Derivative)}
    # every sum the user wrote, but not one written longer than it evaluates ((x^2)^2 + a,
    # 2 - 1 + x); written back where sympy would print it otherwise (y - wx, not -wx + y), and as
    # sympy holds it where it prints the same (x - y, 1 - σ: still the user's sum, which a turned
    # factor gives back and no final form trades for a minus sign)
    return {
        value: node if list(node.args) != list(value.as_ordered_terms()) else value
        for value, node in forms.items()
        if isinstance(value, Add) and sympy.count_ops(node) <= sympy.count_ops(value)
    }


def dress(expr: sympy.Expr, written: dict[sympy.Basic, sympy.Basic]) -> sympy.Expr:
    """``expr`` with each factor's sign chosen to save minus signs, and the user's sums as written."""
    if expr.is_Atom:
        return expr
    args = [dress(arg, written) for arg in expr.args]
    if isinstance(expr, Mul) and (args != list(expr.args) or any(isinstance(arg, Add) for arg in args)):
        return _signed_product(args, written)
    if isinstance(expr, Add):
        node = Add(*args) if args != list(expr.args) else expr  # in sympy's order, as the rest of the line
        return written.get(node, node)
    with sympy.evaluate(False):
        return expr.func(*args) if args != list(expr.args) else expr


def _signed_product(factors: list[sympy.Expr], written: dict[sympy.Basic, sympy.Basic]) -> sympy.Expr:
    """A product whose sums are turned (``(σ - 1)`` to ``-(1 - σ)``) where that saves minus signs
    or gives back a sum the user wrote; the signs collect in the numeric coefficient."""
    as_written = set(written.values())
    coefficient = S.One
    rest: list[sympy.Expr] = []
    turnable: list[tuple[int, sympy.Expr, int]] = []  # (place in rest, turned factor, minus signs saved)
    for factor in factors:
        if factor.is_Number:
            coefficient *= factor
            continue
        base, exponent = (factor.base, factor.exp) if isinstance(factor, Pow) else (factor, S.One)
        if isinstance(base, Add) and base not in as_written and exponent.is_integer and exponent.is_odd:
            turned = _negated_sum(base)
            # the user's own sum is worth more than every minus sign of the product: -2x(y - wx)
            # rather than 2x(wx - y), -2x₁(y - w₁x₁ - w₂x₂) rather than 2x₁(w₁x₁ + w₂x₂ - y)
            saved = minus_signs(base) - minus_signs(turned) + (WRITTEN_SUM_WORTH if turned in written else 0)
            turned = written.get(turned, turned)
            turned_factor = turned if exponent == 1 else Pow(turned, exponent, evaluate=False)
            turnable.append((len(rest), turned_factor, saved))
        rest.append(factor)
    turn = _best_turns([saved for _, _, saved in turnable], coefficient.is_negative)
    for (place, turned_factor, _), turned in zip(turnable, turn, strict=True):
        if turned:
            rest[place] = turned_factor
            coefficient = -coefficient
    if coefficient != 1:
        rest.insert(0, coefficient)
    if not rest:
        return S.One
    if len(rest) == 1:
        return rest[0]
    if len(rest) == 2 and rest[0].is_Number and isinstance(rest[1], Add):
        return Mul(*rest, evaluate=False)  # sympy would multiply a lone number into the sum
    return Mul(*rest)


# what keeping a sum as the user wrote it is worth, in minus signs: more than turning any sum saves
WRITTEN_SUM_WORTH = 1000


def _best_turns(savings: list[int], negative: bool) -> list[bool]:
    """Which factors to turn: most minus signs saved, counting the product's own sign (each turn
    flips it).  Few sums stand in one product; beyond a handful, each saving is taken alone."""
    if len(savings) > 6:
        return [saved > 0 for saved in savings]
    best: tuple[int, list[bool]] = (0, [False] * len(savings))
    for mask in range(1, 2 ** len(savings)):
        turns = [bool(mask >> i & 1) for i in range(len(savings))]
        saved = sum(s for s, t in zip(savings, turns, strict=True) if t)
        if sum(turns) % 2:
            saved += 1 if negative else -1  # the product's own sign flips too
        if saved > best[0]:
            best = (saved, turns)
    return best[1]


def _negated_sum(total: sympy.Expr) -> sympy.Expr:
    return Add(*(-term for term in Add.make_args(total)))


def same_up_to_order(first: sympy.Basic, second: sympy.Basic) -> bool:
    """True when the two differ at most in the order of terms and factors."""
    return _signature(first) == _signature(second)


def _signature(expr: sympy.Basic) -> tuple:
    """The expression with the order and grouping of sums and products forgotten: (2x)y³ is 2xy³."""
    if expr.is_Atom:
        return (type(expr).__name__, str(expr))
    if isinstance(expr, Add | Mul):
        parts = sorted(_signature(arg) for arg in _flattened(expr))
    else:
        parts = [_signature(arg) for arg in expr.args]
    return (type(expr).__name__, tuple(parts))


def _flattened(expr: sympy.Basic) -> list[sympy.Basic]:
    """The terms of a sum (factors of a product), those of nested sums (products) included."""
    found: list[sympy.Basic] = []
    for arg in expr.args:
        found.extend(_flattened(arg) if type(arg) is type(expr) else [arg])
    return found


RULES = [
    Rule(
        id="drop_neutral",
        label="drop zeros and ones",
        statement=r"a + 0 = a, \quad 1 \cdot a = a, \quad a^1 = a",
        apply=drop_neutral,
        family="tidy",
        level=TRIVIAL,
    ),
    Rule(
        id="evaluate",
        label="simplify",
        statement=r"3 \cdot 2x = 6x, \quad x \cdot x = x^2, \quad 2x + 3x = 5x",
        apply=evaluate,
        family="tidy",
    ),
]
