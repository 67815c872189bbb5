"""Display: LaTeX in the lecturer's order (the seed's strings), detail levels, the align body."""

from __future__ import annotations

import pytest
import sympy

from derivgen import derive
from derivgen.present import align_body, display_lines, to_latex, to_text


def squash(tex: str) -> str:
    return "".join(tex.split())


def test_seed_chain_rule_lines_read_as_the_lecturer_writes_them():
    """Seed: h'(x) = 3(f(x))^2 f'(x) = 3(x^2 + 2)^2 · 2x, not sympy's 3 · 2x (x^2+2)^2."""
    derivation = derive("(x**2 + 2)**3", "x")
    chain_line = squash(to_latex(derivation.steps[0].after))
    assert chain_line.startswith(squash(r"3\left(x^{2}+2\right)^{2}"))
    assert chain_line.endswith(squash(r"\frac{d}{dx}\left(x^{2}+2\right)"))
    lecturer_form = next(s.after for s in derivation.steps if s.rule == "drop_neutral")
    assert squash(to_latex(lecturer_form)) == squash(r"3\left(x^{2}+2\right)^{2} \cdot 2x")
    assert squash(to_latex(derivation.result)) == squash(r"6x\left(x^{2}+2\right)^{2}")


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
        (
            "x**2*sin(x)",
            r"\left(\frac{d}{dx} x^{2}\right) \sin{\left(x \right)} + x^{2} \frac{d}{dx} \sin{\left(x \right)}",
        ),
        ("sigmoid(x)", r"\sigma\left(x\right) \left(1 - \sigma\left(x\right)\right)"),
        ("x - cos(x)", r"\frac{d}{dx} x - \frac{d}{dx} \cos{\left(x \right)}"),
        ("f(g(x))", r"f'\left(g{\left(x \right)}\right) g'\left(x\right)"),
    ],
)
def test_first_step_latex(text, expected):
    assert squash(to_latex(derive(text, "x").steps[0].after)) == squash(expected)


def test_quotient_rule_prints_as_a_fraction_with_its_minus():
    tex = squash(to_latex(derive("sin(x)/x", "x").steps[0].after))
    assert tex.startswith(r"\frac{") and "-" in tex and tex.endswith("{x^{2}}")


def test_double_negative_gets_brackets():
    derivation = derive("x - cos(x)", "x")
    after_cos = next(s.after for s in derivation.steps if s.rule == "cos")
    assert r"- \left(- \sin" in to_latex(after_cos)
    assert "- -" not in to_latex(after_cos)


def test_greek_names_print_as_letters():
    assert to_latex(sympy.Symbol("lam") * sympy.Symbol("mu")) == r"\lambda \mu"


def test_text_form_keeps_the_order_too():
    derivation = derive("(x**2 + 2)**3", "x")
    assert to_text(derivation.steps[0].after) == "3*(x**2 + 2)**2*d/dx(x**2 + 2)"


def test_detail_levels_merge_steps_but_keep_the_trace():
    derivation = derive("(x**2 + 2)**3", "x")
    full = display_lines(derivation, "full")
    normal = display_lines(derivation, "normal")
    brief = display_lines(derivation, "brief")
    assert len(full) == len(derivation.steps) > len(normal) > len(brief) >= 2
    for lines in (full, normal, brief):
        assert lines[-1].expression == derivation.result
        assert sum(len(line.steps) for line in lines) == len(derivation.steps)
    assert brief[0].labels == ["chain rule"]
    assert squash(to_latex(brief[0].expression)) == squash(r"3\left(x^{2}+2\right)^{2} \cdot 2x")
    with pytest.raises(ValueError):
        display_lines(derivation, "verbose")


def test_align_body_has_a_label_column():
    body = derive("(x**2 + 2)**3", "x").latex("normal")
    rows = body.split(r"\\")
    assert rows[0].strip().startswith(r"\frac{d}{d x}")
    assert all("&=" in row and r"&& \text{" in row for row in rows)
    assert r"\text{chain rule}" in rows[0]


def test_align_body_of_a_final_derivative():
    assert align_body(derive("f(x)", "x")).startswith(r"\frac{d}{d x} f")


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
