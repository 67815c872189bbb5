"""Each rule on its own: an expression that needs it, the step it makes, and sympy's answer."""

from __future__ import annotations

import pytest
import sympy

from derivgen import derive, parse
from derivgen.calculus.rules import REGISTRY
from derivgen.calculus.rules.base import Rewrite, Rule, RuleRegistry
from derivgen.input.functions import sigmoid
from derivgen.presentation.printer import rule_statement, to_text
from tests.conftest import same_function
from tests.strategies import X, read_text, top_level_factors
from tests.test_special_functions import SPECIAL_EXAMPLES

# rule id -> an expression whose derivation uses it
EXAMPLES = {
    "constant": "x + 7",
    "identity": "x + 7",
    "sum": "x**2 + sin(x)",
    "log_base": "log(x, 2)",
    "constant_multiple": "5*sin(x)",
    "quotient": "sin(x)/(x**2 + 1)",
    "product": "x**2*exp(x)*cos(x)",
    "power": "x**(-3/2)",
    "exponential": "3**x",
    "logarithmic_differentiation": "x**sin(x)",
    "piecewise": "Piecewise((x**2, x < 0), (sin(x), True))",
    "min_max": "max(x, x**2)",
    "exp": "exp(x)",
    "ln": "ln(x)",
    "sin": "sin(x)",
    "cos": "cos(x)",
    "tan": "tan(x)",
    "cot": "cot(x)",
    "sec": "sec(x)",
    "csc": "csc(x)",
    "asin": "asin(x)",
    "acos": "acos(x)",
    "atan": "atan(x)",
    "acot": "acot(x)",
    "asec": "asec(x)",
    "acsc": "acsc(x)",
    "sinh": "sinh(x)",
    "cosh": "cosh(x)",
    "tanh": "tanh(x)",
    "coth": "coth(x)",
    "sech": "sech(x)",
    "csch": "csch(x)",
    "asinh": "asinh(x)",
    "acosh": "acosh(x)",
    "atanh": "atanh(x)",
    "acoth": "acoth(x)",
    "asech": "asech(x)",
    "acsch": "acsch(x)",
    "abs": "abs(x)",
    "complex_abs": "abs(sqrt(x))",
    "real_part": "abs(log(x))",
    "sign": "sign(x)",
    "sigmoid": "sigmoid(x)",
    "chain": "sin(x**2)",
    "multivariate_chain": "h(f(x), g(x))",
    "special_function": sympy.elliptic_pi(X, sympy.Rational(1, 3)),  # not in derivgen's table: sympy's
    "evaluate": "(x**2 + 2)**3",
    # final forms (text, or text and the result: key)
    "together": "exp(x)**2*log(x)",
    "factor": "(x**2 - 1)/(x**2 + 1)",
    "common_factor": "a**3/x**2 - cos(x**2)/x**2",
    "cancel": ("(x**3 - 1)/(x - 1)", "cancel"),
    "expand": ("(x + 1)**2*(x - 1)", "expand"),
    "collect": "a**3/x**2 - cos(x**2)/x**2",
    "combine_powers": "exp(x)/(exp(x) + exp(y))",
    "trigonometric_identity": "sin(x)*cos(x)",
    "simplify_further": "log(sqrt(x)*exp(x))",
    "tanh_squared": "tanh(2*x + 1)",
    "absolute_value": "x*cos(y)/sqrt(x**2)",
    "root_to_numerator": "sin(sqrt(x**3))",
    "hyperbolic_identities": "sinh(x)*cosh(x)",
    "rewrite_as": ("x**2*exp(x)", "x*(x + 2)*exp(x)"),
}
EXAMPLES.update(SPECIAL_EXAMPLES)  # the special functions' table: each rule once
# Each rule's neutral 1 or 0 goes in the rule's own step; drop_neutral is a safety net after the
# last rule, tested on its own below.
SAFETY_NETS = {"drop_neutral"}
# special_refused never rewrites: it stops with a one-line message (test_special_functions.py)
SAFETY_NETS |= {"special_refused"}


def test_every_rule_has_an_example():
    """Index-notation rules have theirs in test_matrix.py."""
    assert set(EXAMPLES) | SAFETY_NETS == {
        rule.id for rule in REGISTRY if rule.apply is not None and rule.family != "index"
    }


def test_rules_are_declared_data():
    for rule in REGISTRY:
        assert rule.id and rule.label and rule_statement(rule), rule.id
        assert rule.apply is None or rule.apply.__doc__, f"{rule.id}: the docstring states the rewrite"


def test_statement_only_rules_are_never_searched():
    statements = [rule for rule in REGISTRY if rule.apply is None]
    assert {rule.id for rule in statements} >= {"multivariate_sum", "multivariate_product", "vector_chain"}
    for expression in (sympy.Symbol("x") + 1, sympy.Symbol("x") * 2, sympy.sin(sympy.Symbol("x"))):
        assert not set(REGISTRY.candidates(expression)) & set(statements)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_on_its_own(rule_id):
    text, result = EXAMPLES[rule_id] if isinstance(EXAMPLES[rule_id], tuple) else (EXAMPLES[rule_id], None)
    if rule_id in SPECIAL_EXAMPLES:
        return  # tested in test_special_functions.py, some (floor, 0**g) against what sympy leaves underived
    expression = parse(text) if isinstance(text, str) else text
    x = sympy.Symbol("x", real=True)
    derivation = derive(expression, "x", result=result)
    used = [step.rule for step in derivation.steps]
    assert rule_id in used, used
    assert same_function(derivation.result, sympy.diff(expression, x))


def test_quotient_rule_keeps_the_minus_sign(x):
    derivation = derive("sin(x)/x", "x")
    step = next(s for s in derivation.steps if s.rule == "quotient")
    numerator = step.replacement.args[0]
    assert isinstance(numerator, sympy.Add) and numerator.args[1].args[0] == -1
    assert "-" in rule_statement(REGISTRY["quotient"])


def test_drop_neutral_keeps_the_order_of_everything_else(x):
    built = sympy.Add(
        sympy.Mul(3, sympy.S.One, x, evaluate=False), sympy.S.Zero, sympy.Pow(x, 1, evaluate=False), evaluate=False
    )
    dropped = REGISTRY["drop_neutral"].apply(built, None).replacement
    assert dropped.args == (sympy.Mul(3, x, evaluate=False), x)


def test_special_function_note_names_the_function():
    # sympy's own table, for a function (built in Python) that derivgen's table leaves out; the label is
    # the registry rule's (a rules slide can show it), the note says which table
    derivation = derive(sympy.elliptic_pi(sympy.Symbol("x", real=True), sympy.Rational(1, 3)), "x")
    assert derivation.steps[0].label == "derivative of a special function"
    assert derivation.steps[0].note == "from the table of elliptic_pi"


def test_sigmoid_is_written_sigma_one_minus_sigma():
    derivation = derive("sigmoid(x)", "x")
    assert derivation.steps[0].label == "derivative of the sigmoid"
    factors = [read_text(factor, doit=False) for factor in top_level_factors(to_text(derivation.steps[0].after))]
    assert factors == [sigmoid(X), 1 - sigmoid(X)]  # σ(x)(1 − σ(x)), in that order


def test_abs_of_real_variable_gives_sign(x):
    assert derive("abs(x)", "x").result == sympy.sign(x) == sympy.diff(sympy.Abs(x), x)


def test_registry_refuses_duplicate_ids():
    rule = REGISTRY["sum"]
    with pytest.raises(ValueError, match="unique"):
        RuleRegistry([rule, rule])


def test_first_rule_that_applies_wins():
    """Search order is data: a registry with a rule in front changes what is used."""

    def always_zero(expr, ctx):
        """d/dx anything -> 0 (deliberately wrong)."""
        return Rewrite(sympy.S.Zero)

    wrong = Rule("wrong", "wrong rule", "", always_zero)
    registry = RuleRegistry([wrong, *REGISTRY])
    derivation = derive("x**2", "x", registry=registry, verify=False)
    assert derivation.steps[0].rule == "wrong"
