"""The terminal text of every displayed line reads back as the expression it claims to show.

Written after mutation testing: mutants of the text printer (limits, primes, derivatives of undefined
functions, brackets of products) survived because only the LaTeX was read back.  The reader here is
the test's own: sympy's parser on the printed text, after turning the lecturer's notations
(``d/dx(u)``, ``f'(u)``, ``lim_{h→0} (u)``) into sympy calls.
"""

from __future__ import annotations

import re

import pytest
import sympy
from sympy.parsing.sympy_parser import parse_expr

from derivgen import derive
from derivgen.presentation.lines import display_lines
from derivgen.presentation.printer import to_text

from .conftest import same_function
from .strategies import closing_bracket

X, H, K = (sympy.Symbol(name, real=True) for name in "xhk")
F, G = sympy.Function("f"), sympy.Function("g")


def _replace_calls(text: str, pattern: str, build) -> str:
    """Every ``pattern(`` … ``)`` (the pattern ends at its opening bracket) rewritten by ``build``."""
    while (found := re.search(pattern, text)) is not None:
        end = closing_bracket(text, found.end() - 1)
        text = text[: found.start()] + build(found, text[found.end() : end]) + text[end + 1 :]
    return text


def read_text(text: str) -> sympy.Expr:
    """A printed line as sympy (unevaluated limits and derivatives worked out)."""
    text = _replace_calls(text, r"lim_\{(\w+)→0\} \(", lambda m, body: f"Limit({body}, {m.group(1)}, 0)")
    text = _replace_calls(text, r"d/d(\w+)\(", lambda m, body: f"Derivative({body}, {m.group(1)})")
    text = _replace_calls(text, r"\b([fg])'\(", lambda m, body: f"Subs(Derivative({m.group(1)}(_t), _t), _t, {body})")
    names = {"x": X, "h": H, "k": K, "f": F, "g": G, "_t": sympy.Symbol("_t")}
    names |= {name: getattr(sympy, name) for name in ("Limit", "Derivative", "Subs")}
    return parse_expr(text, local_dict=names).doit()


CASES = [
    ("x**2", "limit"),
    ("sqrt(x)", "limit"),
    ("1/x", "limit"),
    ("sin(x)", "limit"),
    ("3*x**2 + 1", "limit"),
    ("f(x**2 + 1)", "rules"),
    ("f(x)*g(x)", "rules"),
    ("f(g(x))", "rules"),
    ("(x**2 + 2)**3", "rules"),
    ("exp(-x)*sin(3*x)/(1 + x**2)", "rules"),
    ("-(x - 1)*(x + 2)/x", "rules"),
]


@pytest.mark.parametrize(("expression", "method"), CASES)
@pytest.mark.parametrize("detail", ["full", "brief"])
def test_every_text_line_means_its_expression(expression: str, method: str, detail: str) -> None:
    derivation = derive(expression, "x", method=method)
    truth = derivation.result
    assert same_function(read_text(to_text(derivation.start, operator=True)), truth)
    for line in display_lines(derivation, detail):
        printed = to_text(line.expression)
        assert same_function(read_text(printed), line.expression.doit()), printed
        assert same_function(read_text(printed), truth), printed


def test_a_one_sided_limit_says_its_side() -> None:
    # the text printer writes lim_{h→0+}; a two-sided limit has no side
    one_sided = sympy.Limit(sympy.sin(H) / H, H, 0, dir="+")
    assert to_text(one_sided) == "lim_{h→0+} (sin(h)/h)"
    assert to_text(sympy.Limit(sympy.sin(H) / H, H, 0, dir="+-")) == "lim_{h→0} (sin(h)/h)"


# -- the left side of a collecting line (mutants of its notation survived: no test read it) --------

COLLECTED = [
    ("x*y**2", ["x", "y"], 1, r"\\nabla_\{\((?P<vars>[^)]*)\)\} (?P<function>.+)", "gradient"),
    ("x*y**2 + sin(x)", ["x", "y"], 2, r"H_\{\((?P<vars>[^)]*)\)\} (?P<function>.+)", "hessian"),
    ("[x*y, sin(x)]", ["x", "y"], 1, r"J_\{\((?P<vars>[^)]*)\)\}", "jacobian"),
]


@pytest.mark.parametrize(("expression", "variables", "order", "pattern", "notation"), COLLECTED)
def test_the_collecting_line_names_what_it_collects(expression, variables, order, pattern, notation) -> None:
    from derivgen.input.parser import parse_list
    from derivgen.presentation.matrices import left_side

    from .latex_reader import read_latex

    functions = parse_list(expression)
    result = derive(functions if len(functions) > 1 else functions[0], variables, order=order)
    (collecting,) = [part for part in result.parts if part.collected is not None]
    assert collecting.left.notation == notation
    written = re.fullmatch(pattern, left_side(collecting.left))
    assert written is not None, left_side(collecting.left)
    assert [name.strip() for name in written.group("vars").split(",")] == variables
    if "function" in written.groupdict():
        read = read_latex(written.group("function"))
        by_name = {symbol.name: symbol for symbol in functions[0].free_symbols}  # the reader's x is plain
        assert same_function(read.xreplace({s: by_name[s.name] for s in read.free_symbols}), functions[0])
