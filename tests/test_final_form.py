"""Final forms, the result: key, and no neutral 1 or 0 carried from line to line.

Results are compared with sympy (its diff, its factor, its count_ops), never with strings copied
from derivgen's own output.
"""

from __future__ import annotations

import itertools

import pytest
import sympy
from sympy import Symbol
from sympy.functions.elementary.hyperbolic import HyperbolicFunction

from derivgen import DerivgenError, derive, parse
from derivgen.calculus.engine import find_pending, node_at, replace_at
from derivgen.calculus.rules import REGISTRY
from derivgen.calculus.rules.base import COSMETIC
from derivgen.calculus.rules.final_form import ResultError, weight
from derivgen.input.spec import SpecError
from derivgen.presentation.frames import derive_task
from tests.conftest import same_function

x, y, w = (Symbol(name, real=True) for name in "xyw")


def _steps_hold_together(derivation) -> None:
    for previous, step in itertools.pairwise(derivation.steps):
        assert previous.after == step.before
    for step in derivation.steps:
        assert node_at(step.before, step.path) == step.focus
        assert replace_at(step.before, step.path, step.replacement) == step.after
        assert step.rule in {rule.id for rule in REGISTRY}
        if step.level != COSMETIC:  # a reorder-only step is never shown
            assert step.label in {rule.label for rule in REGISTRY}


# (expression, variable, the lecturer's final form) — the issue's examples, compared by structure
# with sympy's own building of that form, and by value with sympy.diff
LECTURER_FORMS = [
    ("(x**2 - 1)/(x**2 + 1)", "x", 4 * x / (x**2 + 1) ** 2),
    ("(x**2 + 1)/(x - 1)", "x", (x**2 - 2 * x - 1) / (x - 1) ** 2),
    ("(2*x + y**2)**2", "y", 4 * y * (2 * x + y**2)),
]


@pytest.mark.parametrize(("text", "wrt", "expected"), LECTURER_FORMS)
def test_the_issues_examples_end_in_the_lecturers_form(text, wrt, expected):
    derivation = derive(text, wrt)
    assert sympy.srepr(derivation.result) == sympy.srepr(expected)
    assert same_function(derivation.result, sympy.diff(parse(text), Symbol(wrt, real=True)))
    _steps_hold_together(derivation)


def test_squared_error_keeps_the_written_factor():
    """d/dw (y - wx)² = -2x(y - wx): the factor as written, the sign in front."""
    derivation = derive("(y - w*x)**2", "w")
    written = next(node for node in sympy.preorder_traversal(derivation.expression) if isinstance(node, sympy.Add))
    coefficient, factors = derivation.result.as_coeff_mul()
    assert coefficient == -2 and set(factors) == {x, written}
    assert written.args == (y, -w * x)  # y first, as typed
    assert same_function(derivation.result, sympy.diff((y - w * x) ** 2, w))


def test_squared_error_with_two_weights_keeps_the_written_factor():
    """d/dw₁ (y - w₁x₁ - w₂x₂)² = -2x₁(y - w₁x₁ - w₂x₂): the user's sum wins over a turned sign
    (2x₁(w₁x₁ + w₂x₂ - y), one operation shorter by count_ops, is not taken)."""
    w1, w2, x1, x2 = (Symbol(name, real=True) for name in ("w1", "w2", "x1", "x2"))
    derivation = derive("(y - w1*x1 - w2*x2)**2", "w1")
    coefficient, factors = derivation.result.as_coeff_mul()
    assert coefficient == -2 and set(factors) == {x1, y - w1 * x1 - w2 * x2}
    assert "factor" not in {step.rule for step in derivation.steps}
    assert same_function(derivation.result, sympy.diff((y - w1 * x1 - w2 * x2) ** 2, w1))


def _sums_as_factors(expr: sympy.Basic) -> list[sympy.Expr]:
    """The sums standing as factors of the result (or of a power that is a factor)."""
    found = []
    for factor in sympy.Mul.make_args(expr):
        base = factor.base if isinstance(factor, sympy.Pow) else factor
        if isinstance(base, sympy.Add):
            found.append(base)
    return found


def _leading_term(total: sympy.Expr, derivation) -> sympy.Expr:
    """The term a slide shows first: as typed for the user's sum, else in sympy's order."""
    return total.args[0] if total in derivation.written else total.as_ordered_terms()[0]


def _mostly_negative(total: sympy.Expr) -> bool:
    terms = sympy.Add.make_args(total)
    return sum(1 for term in terms if term.could_extract_minus_sign()) * 2 > len(terms)


# Found by a hostile review: needless minus signs inside brackets, the user's sum multiplied out.
# (expression, variable, the user's written sum that must stand as a factor, its coefficient's sign)
SIGN_TURNS = [
    ("-(x - y)**2", "x", x - y, -1),  # -2(x - y): neither -2x + 2y nor 2(-x + y)
    ("sigmoid(x)*(1 - sigmoid(x))", "x", parse("1 - sigmoid(x)"), 1),  # σ(1 - σ)(1 - 2σ)
    ("(1 - x)**3", "x", 1 - x, -1),  # -3(1 - x)², not 3(x - 1)²·... or -3x² + 6x - 3
    ("(y - w*x)**2", "w", y - w * x, -1),
]


@pytest.mark.parametrize(("text", "wrt", "written", "sign"), SIGN_TURNS)
def test_signs_stay_outside_the_users_sum(text, wrt, written, sign):
    derivation = derive(text, wrt)
    variable = Symbol(wrt, real=True)
    assert same_function(derivation.result, sympy.diff(parse(text), variable))
    factors = _sums_as_factors(derivation.result)
    assert any(sympy.expand(factor - written) == 0 for factor in factors), derivation.result
    assert not any(_mostly_negative(factor) for factor in factors), derivation.result
    assert not any(_leading_term(factor, derivation).could_extract_minus_sign() for factor in factors)
    assert sympy.sign(derivation.result.as_coeff_Mul()[0]) == sign
    _steps_hold_together(derivation)


def test_sigmoid_times_one_minus_sigmoid_turns_both_brackets():
    """σ(1 - σ)(1 - 2σ), not (σ - 1)(2σ - 1)σ: two turns, each saving a minus, and the user's 1 - σ back."""
    sigma = parse("sigmoid(x)")
    derivation = derive("sigmoid(x)*(1 - sigmoid(x))", "x")
    factors = _sums_as_factors(derivation.result)
    assert len(factors) == 2
    assert all(minus == 1 for minus in (sum(1 for t in f.args if t.could_extract_minus_sign()) for f in factors))
    assert {sympy.expand(factor) for factor in factors} == {1 - sigma, 1 - 2 * sigma}  # not σ - 1, 2σ - 1
    assert derivation.result.as_coeff_Mul()[0] == 1


def test_one_minus_tanh_squared_ends_at_minus_two_tanh_sech_squared():
    """d/dx (1 - tanh²x) = -2 tanh x (1 - tanh²x) = -2 tanh x sech²x: the sign out in front, then
    the named identity; no 2(tanh²x - 1) tanh x."""
    derivation = derive("1 - tanh(x)**2", "x")
    assert same_function(derivation.result, sympy.diff(1 - sympy.tanh(x) ** 2, x))
    assert sympy.srepr(derivation.result) == sympy.srepr(-2 * sympy.tanh(x) * sympy.sech(x) ** 2)
    assert derivation.steps[-1].rule == "tanh_squared"
    before = derivation.steps[-2].after  # the "simplify" line: -2(1 - tanh²x) tanh x
    assert before.as_coeff_Mul()[0] == -2
    assert any(sympy.expand(f - (1 - sympy.tanh(x) ** 2)) == 0 for f in _sums_as_factors(before))
    _steps_hold_together(derivation)


def test_simplify_does_not_multiply_a_number_into_a_factor():
    """2(x + 1) from the chain rule stays 2(x + 1): no 2x + 2 line, then factor back."""
    derivation = derive("(x + 1)**2", "x")
    assert [step.rule for step in derivation.steps if step.rule in {"expand", "factor", "common_factor"}] == []
    assert all(not isinstance(step.after, sympy.Add) for step in derivation.steps)
    assert same_function(derivation.result, sympy.diff((x + 1) ** 2, x))


def test_tanh_ends_at_sech_squared_after_the_table_form():
    """1 - tanh²u from the table, then the named identity 1 - tanh² = sech²."""
    b = Symbol("b", real=True)
    derivation = derive("tanh(w*x + b)", "x")
    assert derivation.result.has(sympy.sech) and not derivation.result.has(sympy.tanh)
    assert derivation.steps[-1].rule == "tanh_squared"
    assert derivation.steps[-2].after.has(sympy.tanh)  # the table's 1 - tanh²u, kept as derived
    assert same_function(derivation.result, sympy.diff(sympy.tanh(w * x + b), x))
    _steps_hold_together(derivation)


def test_tan_keeps_the_tables_sec_squared():
    derivation = derive("tan(2*x)", "x")
    assert sympy.expand(derivation.result - 2 * sympy.sec(2 * x) ** 2) == 0


@pytest.mark.parametrize("text", ["exp(x) - exp(-x)", "exp(x) + exp(-x)", "(exp(x) - exp(-x))/(exp(x) + exp(-x))"])
def test_no_new_function_family_in_the_final_form(text):
    """eˣ + e⁻ˣ stays: no 2 cosh x in an exponentials exercise."""
    derivation = derive(text, "x")
    assert not derivation.result.has(HyperbolicFunction)
    assert same_function(derivation.result, sympy.diff(parse(text), x))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sqrt(x**2) + x", sympy.sign(x) + 1),  # x/|x| = sign x
        ("x*cos(y)/sqrt(x**2)", sympy.S.Zero),  # x sign x = |x|
        ("sinh(x)*cosh(x)", sympy.cosh(2 * x)),  # sinh² + cosh² = cosh 2x
        ("sin(sqrt(x**3))", 3 * sympy.sqrt(x**3) * sympy.cos(sympy.sqrt(x**3)) / (2 * x)),  # root to numerator
    ],
)
def test_identities_reach_the_short_form(text, expected):
    derivation = derive(text, "x")
    assert sympy.srepr(derivation.result) == sympy.srepr(expected)
    _steps_hold_together(derivation)


@pytest.mark.parametrize(
    "text",
    [
        "(exp(x) - exp(-x))/(exp(x) + exp(-x))",
        "x*exp(x*y)",
        "sin(x)*cos(x)",
        "-(y*log(sigmoid(x)) + (1 - y)*log(1 - sigmoid(x)))",
        "exp(x)/(exp(x) + exp(y))",
        "tanh(w*x + b)",
        "x/(x + y + tanh(x))",
        "sinh(x)*cosh(x)",
        "sqrt(x**2) + x",
        "sin(sqrt(x**3))",
    ],
)
def test_no_longer_than_sympys_best(text):
    variable = x if "x1" not in text else Symbol("w1", real=True)
    derivation = derive(text, variable.name)
    truth = sympy.diff(parse(text), variable)
    best = min(sympy.count_ops(f(truth)) for f in (sympy.simplify, sympy.factor, sympy.cancel, sympy.together))
    assert sympy.count_ops(derivation.result) <= best
    assert same_function(derivation.result, truth)


def test_every_final_step_shortens_the_expression():
    derivation = derive("(x**2 - 1)/(x**2 + 1) + x*exp(x)", "x")
    final = [step for step in derivation.steps if step.rule in {rule.id for rule in REGISTRY.family("final")}]
    assert final
    for step in final:
        assert weight(step.after) < weight(step.before), step.label


def test_nested_derivations_end_as_derived():
    """The chain rule's outer derivative is shown as derived: σ(u)(1 - σ(u)), no final-form steps."""
    derivation = derive("sigmoid(x**2)", "x")
    outer = derivation.steps[0].chain.outer_derivation
    assert not any(step.rule in {rule.id for rule in REGISTRY.family("final")} for step in outer.steps)


# -- no neutral 1 or 0 from line to line ----------------------------------------------------------------


def _clutter(expr: sympy.Basic) -> list[sympy.Basic]:
    """Factors 1, terms 0 and products of two minus signs in a built (unevaluated) tree."""
    found = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Mul) and (sympy.S.One in node.args or sympy.S.Zero in node.args):
            found.append(node)
        if isinstance(node, sympy.Add) and sympy.S.Zero in node.args:
            found.append(node)
        others = [arg for arg in node.args if arg != sympy.S.NegativeOne]
        if (
            isinstance(node, sympy.Mul)
            and len(others) < len(node.args)
            and any(arg.as_coeff_Mul()[0].is_negative for arg in others)
        ):
            found.append(node)
    return found


@pytest.mark.parametrize(
    "text", ["x*exp(x)*sin(x)", "x*log(x)", "x*exp(x*y)", "(x**2 - 1)/(x**2 + 1)", "-1/x", "x - cos(x)", "(y - w*x)**2"]
)
def test_no_line_carries_a_neutral_one_or_zero(text):
    derivation = derive(text, "w" if "w" in text else "x")
    for step in derivation.steps:
        assert not _clutter(step.after), (step.label, step.after)
        if not step.is_tidy:
            assert find_pending(step.focus) is not None  # the derivative it rewrote, or the node around it
    _steps_hold_together(derivation)


def test_minus_one_over_x_has_one_sign():
    derivation = derive("-1/x", "x")
    assert derivation.steps[-1].after == 1 / x**2  # -(-1/x²) worked out in the power rule's step
    assert [step.rule for step in derivation.steps] == ["constant_multiple", "power"]


# -- the result: key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("form", "sympy_form"), [("factor", sympy.factor), ("expand", sympy.expand)])
def test_result_factor_and_expand_give_sympys_form(form, sympy_form):
    derivation = derive("(x**2 - 1)/(x**2 + 1)", "x", result=form)
    truth = sympy.diff((x**2 - 1) / (x**2 + 1), x)
    assert sympy.simplify(derivation.result - truth) == 0
    assert derivation.steps[-1].rule == form
    assert sympy_form(derivation.result) == derivation.result


def test_result_as_derived_stops_after_the_rules():
    derivation = derive("(x**2 - 1)/(x**2 + 1)", "x", result="as-derived")
    assert derivation.result == derivation.lecturer_result
    assert all(step.level == 0 for step in derivation.steps if step.is_tidy)


def test_result_target_is_a_checked_rewrite():
    derivation = derive("x**2*exp(x)", "x", result="x*(x + 2)*e^x")
    assert derivation.steps[-1].rule == "rewrite_as" and derivation.steps[-1].label == "rewrite as"
    assert sympy.simplify(derivation.result - x * (x + 2) * sympy.exp(x)) == 0
    assert same_function(derivation.result, sympy.diff(x**2 * sympy.exp(x), x))


@pytest.mark.parametrize("target", ["x*(x + 1)*exp(x)", "2*x*exp(x)"])
def test_an_unequal_target_is_refused(target):
    with pytest.raises(ResultError, match="not equal"):
        derive("x**2*exp(x)", "x", result=target)


def test_an_unknown_form_is_read_as_an_expression_and_refused():
    with pytest.raises(DerivgenError):
        derive("x**2", "x", result="factorise")  # not a form; as an expression, not the derivative


def test_result_is_for_the_rules_only():
    with pytest.raises(DerivgenError, match="result"):
        derive("x**2", "x", method="limit", result="factor")


def test_a_deck_frame_with_an_unequal_target_names_the_frame(tmp_path):
    from derivgen.documents.build import build_deck

    deck = tmp_path / "deck.yaml"
    deck.write_text("title: T\nframes:\n  - title: Wrong\n    derive: x**2*exp(x)\n    result: 2*x*exp(x)\n")
    with pytest.raises(SpecError, match=r"deck\.yaml:\d+: frame 1 \('Wrong'\): the result .* is not equal"):
        build_deck(deck, tmp_path / "out", formats=("notes",), tex_only=True)


def test_a_task_passes_its_result_on():
    from derivgen.input.spec import Task

    derivation = derive_task(Task(derive="(x**2 - 1)/(x**2 + 1)", result="expand"))
    assert derivation.steps[-1].rule == "expand"


@pytest.mark.parametrize(("typed", "hint"), [("factr", "factor"), ("AS-DERIVED", "as-derived"), ("simplify", None)])
def test_a_misspelt_form_is_named_not_read_as_an_expression(typed, hint):
    """Found by a hostile review: `factr` was read as f·a·c·t·r and reported "not equal"."""
    with pytest.raises(ResultError, match="unknown result form") as raised:
        derive("x**2", "x", result=typed)
    if hint is not None:
        assert f"did you mean {hint}" in str(raised.value)


def test_a_one_letter_target_is_still_an_expression():
    a = Symbol("a", real=True)
    assert derive("a*x", "x", result="a").result == a


def test_a_result_error_points_at_the_result_line(tmp_path):
    from derivgen.input.spec import load_deck
    from derivgen.presentation.frames import present_deck

    deck = tmp_path / "deck.yaml"
    deck.write_text("title: T\nframes:\n  - title: Q\n    derive: x**2\n    result: 3*x\n")
    with pytest.raises(SpecError, match=r"deck\.yaml:5: frame 1"):
        present_deck(*load_deck(deck))


def test_a_callers_own_timer_is_left_alone():
    """The bounded simplify's one-second timer must not cancel a timer the caller set (a notebook's,
    a test runner's): before, it reset ITIMER_REAL to 0 on the way out."""
    import signal
    import time

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        derive("(x**2 - 1)/(x**2 + 1)", "x")
        deadline = time.monotonic() + 3
        while not fired and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired
