"""Display: LaTeX in the lecturer's order (the seed's strings), detail levels, the align body."""

from __future__ import annotations

import re

import pytest
import sympy

from derivgen import derive
from derivgen.presentation.body import result_body
from derivgen.presentation.lines import display_lines
from derivgen.presentation.printer import to_latex, to_text
from tests.strategies import X, read_text, top_level_factors


def squash(tex: str) -> str:
    return "".join(tex.split())


def lecture_form(tex: str) -> str:
    """LaTeX without the spellings that do not change what a reader sees: spaces, \\left/\\right,
    and braces around one token or a bracketed group (x^{2} = x^2, \\sin{(x)} = \\sin(x)).  Expected
    strings are then written the way the lecturer writes them (the seed deck), not pasted from
    derivgen's output, and still pin the order of every term and factor."""
    tex = re.sub(r"\\left|\\right|\s+", "", tex)
    while True:
        for start in (at for at, char in enumerate(tex) if char == "{"):
            end = _matching(tex, start, "{", "}")
            inner = tex[start + 1 : end]
            one_token = len(inner) == 1 or re.fullmatch(r"\\[A-Za-z]+", inner)
            if one_token or (inner.startswith("(") and _matching(inner, 0, "(", ")") == len(inner) - 1):
                tex = tex[:start] + inner + tex[end + 1 :]
                break
        else:
            return tex


def _matching(text: str, start: int, opening: str, closing: str) -> int:
    depth = 0
    for at in range(start, len(text)):
        depth += (text[at] == opening) - (text[at] == closing)
        if depth == 0:
            return at
    raise ValueError(f"unbalanced {opening}{closing} in {text!r}")


def test_lecture_form_ignores_spelling_only():
    assert lecture_form(r"x^{2} \sin{\left(x \right)}") == lecture_form(r"x^2\sin(x)")
    assert lecture_form(r"\frac{d}{d x} x^{2}") == lecture_form(r"\frac{d}{dx}x^2")
    assert lecture_form(r"x^{2y}") != lecture_form(r"x^2y")
    assert lecture_form(r"\left(a + b\right) c") != lecture_form(r"a + b c")


def test_seed_chain_rule_lines_read_as_the_lecturer_writes_them():
    """Seed: h'(x) = 3(f(x))^2 f'(x) = 3(x^2 + 2)^2 · 2x, not sympy's 3 · 2x (x^2+2)^2."""
    derivation = derive("(x**2 + 2)**3", "x")
    chain_line = to_latex(derivation.steps[0].after)  # 3(f(x))^2 f'(x) with f'(x) still to derive
    assert lecture_form(chain_line) == lecture_form(r"3(x^2 + 2)^2 \frac{d}{dx}(x^2 + 2)")
    assert lecture_form(to_latex(derivation.lecturer_result)) == lecture_form(r"3(x^2 + 2)^2 \cdot 2x")
    assert lecture_form(to_latex(derivation.result)) == lecture_form(r"6x(x^2 + 2)^2")


def test_sympy_itself_falls_into_the_display_trap():
    """The reason for our printer: sympy reorders an unevaluated product."""
    x = sympy.Symbol("x")
    product = sympy.Mul(3 * (x**2 + 2) ** 2, 2 * x, evaluate=False)
    assert squash(sympy.latex(product)) != squash(r"3\left(x^{2}+2\right)^{2} \cdot 2x")
    assert squash(to_latex(product)) == squash(r"3\left(x^{2}+2\right)^{2} \cdot 2x")


def test_ordinary_derivative_uses_d_not_partial():
    tex = to_latex(derive("a*x**2", "x").steps[0].before, operator=True)
    assert r"\frac{d}{d x}" in tex and r"\partial" not in tex


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the seed's rules, in the seed's order: (fg)' = f'g + fg', (f - g)' = f' - g',
        # (g(f(x)))' = g'(f(x)) f'(x); and sigma' = sigma (1 - sigma) as DNN lectures write it
        ("x**2*sin(x)", r"\left(\frac{d}{dx} x^2\right) \sin(x) + x^2 \frac{d}{dx} \sin(x)"),
        ("sigmoid(x)", r"\sigma(x) (1 - \sigma(x))"),
        ("x - cos(x)", r"\frac{d}{dx} x - \frac{d}{dx} \cos(x)"),
        ("f(g(x))", r"f'(g(x)) g'(x)"),
        # the seed lost the quotient rule's minus in extraction: (f'g - fg')/g^2
        ("sin(x)/x", r"\frac{\left(\frac{d}{dx} \sin(x)\right) x - \sin(x) \frac{d}{dx} x}{x^2}"),
    ],
)
def test_first_step_latex(text, expected):
    assert lecture_form(to_latex(derive(text, "x").steps[0].after)) == lecture_form(expected)


def test_double_negative_gets_brackets():
    x = sympy.Symbol("x", real=True)
    double_negative = sympy.Add(1, sympy.Mul(-1, -sympy.sin(x), evaluate=False), evaluate=False)
    assert lecture_form(to_latex(double_negative)) == lecture_form(r"1 - (-\sin(x))")


def test_the_engine_cancels_two_signs_in_the_step_that_makes_them():
    """d/dx(x - cos x): the cos rule's -sin x meets the sum's minus: + sin x, in that same step."""
    derivation = derive("x - cos(x)", "x")
    step = next(s for s in derivation.steps if s.rule == "cos")
    assert not step.after.has(sympy.Mul(-1, -sympy.sin(sympy.Symbol("x", real=True)), evaluate=False))
    assert lecture_form(to_latex(step.after)) in (lecture_form(r"1 + \sin(x)"), lecture_form(r"\sin(x) + 1"))


def test_greek_names_print_as_letters():
    assert to_latex(sympy.Symbol("lam") * sympy.Symbol("mu")) == r"\lambda \mu"


def test_text_form_keeps_the_order_too():
    """The seed's 3(f(x))^2 f'(x): three factors in that order, each read back by sympy."""
    derivation = derive("(x**2 + 2)**3", "x")
    factors = [read_text(factor, doit=False) for factor in top_level_factors(to_text(derivation.steps[0].after))]
    assert factors == [3, (X**2 + 2) ** 2, sympy.Derivative(X**2 + 2, X)]


def test_detail_levels_merge_steps_but_keep_the_trace():
    derivation = derive("(x**2 + 2)**3", "x")
    full = display_lines(derivation, "full")
    normal = display_lines(derivation, "normal")
    brief = display_lines(derivation, "brief")
    assert len(full) == len(derivation.steps) > len(normal) > len(brief) >= 2
    for lines in (full, normal, brief):
        assert lines[-1].expression == derivation.result
        assert sum(len(line.steps) for line in lines) == len(derivation.steps)
    # a merged line names every rule it applied, the structural one first
    assert brief[0].labels[0] == "chain rule"
    assert brief[0].labels == list(dict.fromkeys(step.label for step in brief[0].steps))
    assert lecture_form(to_latex(brief[0].expression)) == lecture_form(r"3(x^2 + 2)^2 \cdot 2x")
    with pytest.raises(ValueError):
        display_lines(derivation, "verbose")


def test_result_body_has_a_label_column():
    body = derive("(x**2 + 2)**3", "x").latex("normal")
    rows = body.split(r"\\")
    assert rows[0].strip().startswith(r"\frac{d}{d x}")
    assert all("&=" in row and r"&& \text{" in row for row in rows)
    assert r"\text{chain rule}" in rows[0]


def test_result_body_of_a_final_derivative():
    assert result_body(derive("f(x)", "x")).startswith(r"\frac{d}{d x} f")


def test_printing_keeps_no_state_between_derivations():
    # the printer kept a process-wide set of sums to print "as written" that grew with every limit
    # derivation and changed how later, unrelated output printed
    x, h = sympy.Symbol("x", real=True), sympy.Symbol("h", real=True)
    probe = sympy.Add(sympy.Pow(sympy.Add(x, h, evaluate=False), 2), -(x**2))
    before = (to_latex(probe), to_text(probe))
    derive("x**2", "x", method="limit")
    assert (to_latex(probe), to_text(probe)) == before


@pytest.mark.parametrize("expression", ["x**2", "sqrt(x)", "1/x", "3*x**2 + 1", "sin(x)"])
def test_limit_definition_writes_f_of_x_plus_h_first(expression):
    # f(x + h) − f(x): the shifted function first, in the LaTeX and in the terminal text
    definition = derive(expression, "x", method="limit").steps[0].after
    for printed in (to_latex(definition), to_text(definition)):
        shifted, unshifted = printed.find("x + h"), printed.find("- ")
        assert 0 <= shifted < unshifted, printed
