"""The step checker's own numbers against sympy's evaluation: a checker that evaluates wrongly would
accept wrong steps (or refuse right ones) without anyone noticing.

Written after mutation testing: mutants of the evaluator's conditions (``truth``), limits,
comparisons of complex values and DiracDelta survived, as did stand-ins for undefined functions that
ignore an argument.
"""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy

from derivgen.calculus.verify import NumericEvaluator, Unevaluable, _random_smooth_function

x, y, h = (sympy.Symbol(name, real=True) for name in "xyh")

EXPRESSIONS = [
    sympy.Piecewise((x**2, x < 0), (sympy.sin(x), True)),
    sympy.Piecewise((1, sympy.And(x > -1, x < 1)), (2, True)),
    sympy.Piecewise((1, sympy.Or(x < -1, x > 1)), (3, True)),
    sympy.Piecewise((x, sympy.Not(sympy.And(x > 0, y > 0))), (-x, True)),  # Not of a relational would simplify
    sympy.Piecewise((x, sympy.Eq(x, 0)), (x * y, sympy.Ne(y, 2)), (0, True)),
    sympy.Abs(x * y) + sympy.sign(x - y),
    sympy.re(sympy.sqrt(x)) + sympy.im(sympy.sqrt(x)),
    sympy.Max(x, y) - sympy.Min(x, 2 * y),
    sympy.DiracDelta(x - 7) + x,
    sympy.Limit((sympy.sin(x + h) - sympy.sin(x)) / h, h, 0),
    sympy.Limit(((x + h) ** 3 - x**3) / h, h, 0),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_the_evaluator_agrees_with_sympy(expr: sympy.Expr) -> None:
    evaluator = NumericEvaluator({})
    rng = random.Random(4)
    for _ in range(12):
        point = {x: rng.choice((-1, 1)) * rng.uniform(0.1, 2.5), y: rng.choice((-1, 1)) * rng.uniform(0.1, 2.5)}
        with mpmath.workdps(30):
            got = complex(evaluator.value(expr, {s: mpmath.mpf(v) for s, v in point.items()}))
        expected = complex(sympy.N(expr.doit().subs(point), 30))
        assert abs(got - expected) < 1e-8 * max(1, abs(expected)), (point, got, expected)


def test_delta_at_its_point_and_complex_comparisons_are_refused() -> None:
    evaluator = NumericEvaluator({})
    with pytest.raises(Unevaluable):
        evaluator.value(sympy.DiracDelta(x), {x: mpmath.mpf(0)})
    with pytest.raises(Unevaluable):  # √x < 1 at x = −4: a comparison of a complex value
        evaluator.value(sympy.Piecewise((1, sympy.sqrt(x) < 1), (0, True)), {x: mpmath.mpf(-4)})


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_stand_ins_for_undefined_functions_depend_on_every_argument(arity: int) -> None:
    # a stand-in that ignored an argument (or was the same for every draw) would let a step that
    # drops ∂h/∂f₂ pass the check
    one, other = _random_smooth_function(random.Random(1), arity), _random_smooth_function(random.Random(2), arity)
    base = [mpmath.mpf(0.3) * (i + 1) for i in range(arity)]
    assert abs(one(*base) - other(*base)) > 1e-6
    for position in range(arity):
        moved = list(base)
        moved[position] += mpmath.mpf("0.01")
        assert abs(one(*moved) - one(*base)) > 1e-6, position
