r"""LaTeX as input: textbook expressions read into the sympy expression built here by hand, their
derivatives by derivgen against sympy.diff, the CLI and decks with LaTeX, and hostile LaTeX refused
with its column.

The textbook list follows two public sources (forms, not copied text): the GOOD_PAIRS of sympy's own
LaTeX parser tests (sympy/parsing/tests/test_latex.py: \frac, \sqrt[n], \sin x without brackets,
\log_{b}, |x|, e^{…}, \left( \right), implicit products, Greek letters) and the kinds of exercise in
Stewart, Calculus: Early Transcendentals, §3.1–3.6 (power, product, quotient and chain rules,
exponentials and logarithms, inverse trigonometric functions).
"""

from __future__ import annotations

import contextlib
import json
import random
import time

import pytest
import sympy
from sympy import (
    Abs,
    E,
    Function,
    Rational,
    Symbol,
    acos,
    asin,
    atan,
    cos,
    cosh,
    exp,
    log,
    pi,
    sec,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)

import derivgen
from derivgen import LimitExceeded, ParseError, parse
from derivgen.cli import main
from derivgen.errors import DerivgenError
from derivgen.input.functions import sigmoid
from derivgen.input.matrices import ShapeError, declare, parse_matrix
from tests.conftest import same_function

x, y, t, a, b, n = (Symbol(name, real=True) for name in "xytabn")
alpha, theta, lam = (Symbol(name, real=True) for name in ("alpha", "theta", "lambda"))
x1 = Symbol("x_1", real=True)
f, g = Function("f"), Function("g")

TEXTBOOK = [
    # power rule and polynomials (Stewart §3.1)
    (r"x^{2} + 3x - 1", x**2 + 3 * x - 1),
    (r"\frac{x^2+1}{x-1}", (x**2 + 1) / (x - 1)),
    (r"x^{-1/2}", x ** Rational(-1, 2)),
    (r"\sqrt[3]{x}", x ** Rational(1, 3)),
    (r"\sqrt{x} + \frac{1}{\sqrt{x}}", sqrt(x) + 1 / sqrt(x)),
    (r"\frac12 x^{2}", x**2 / 2),
    (r"3x^{4} - \frac{2}{x^{3}}", 3 * x**4 - 2 / x**3),
    (r"\left(x^{2}+2\right)^{3}", (x**2 + 2) ** 3),
    (r"(2x+1)(x^{2}-x)", (2 * x + 1) * (x**2 - x)),
    # exponentials and implicit products (§3.1, §3.2)
    (r"2x e^{3x}", 2 * x * exp(3 * x)),
    (r"e^{x} \cdot \cos(2x)", exp(x) * cos(2 * x)),
    (r"\exp(x^{2})", exp(x**2)),
    (r"\frac{e^{x}}{1+e^{x}}", exp(x) / (1 + exp(x))),
    (r"x^{2} e^{-x}", x**2 * exp(-x)),
    (r"2^{x}", 2**x),
    (r"\pi x^{2}", pi * x**2),
    (r"\mathrm{e}", E),
    # trigonometric functions (§3.3)
    (r"\sin x", sin(x)),
    (r"\sin x^2", sin(x**2)),
    (r"\sin 2x", sin(2 * x)),
    (r"\sin^2 x", sin(x) ** 2),
    (r"\sin(x)^2", sin(x) ** 2),
    (r"\sin x \cos x", sin(x) * cos(x)),
    (r"x \sin x", x * sin(x)),
    (r"\tan\left(\frac{\pi x}{2}\right)", tan(pi * x / 2)),
    (r"\frac{\sec x}{1 + \tan x}", sec(x) / (1 + tan(x))),
    (r"\sin \cos x", sin(cos(x))),
    (r"\cos^{3} \left(x^{2}\right)", cos(x**2) ** 3),
    # chain rule (§3.4)
    (r"\sqrt{1 + 2x}", sqrt(1 + 2 * x)),
    (r"\dfrac{1}{\sqrt{1-x^{2}}}", 1 / sqrt(1 - x**2)),
    (r"e^{\sin x}", exp(sin(x))),
    (r"\left(\frac{x^{2}+1}{x^{2}-1}\right)^{3}", ((x**2 + 1) / (x**2 - 1)) ** 3),
    (r"\tfrac{1}{2} \sin(3x) \cdot e^{-x}", sin(3 * x) * exp(-x) / 2),
    # logarithms (§3.6): \ln|x| is the logarithm of the absolute value
    (r"\ln x", log(x)),
    (r"\ln|x|", log(Abs(x))),
    (r"\ln\left|\sec x\right|", log(Abs(sec(x)))),
    (r"\log_{2} x", log(x) / log(2)),
    (r"\log_{10}(x^{2}+1)", log(x**2 + 1) / log(10)),
    (r"\log x", log(x)),
    (r"x \ln x - x", x * log(x) - x),
    # inverse trigonometric and hyperbolic functions (§3.5, §3.11)
    (r"\arctan x", atan(x)),
    (r"\sin^{-1} x", asin(x)),
    (r"\arccos(2x)", acos(2 * x)),
    (r"\sinh x + \cosh x", sinh(x) + cosh(x)),
    (r"\tanh\left(x\right)", tanh(x)),
    (r"\operatorname{arsinh}(x)", sympy.asinh(x)),
    (r"\operatorname{erf}(x)", sympy.erf(x)),
    # absolute values, Greek letters, indices, undefined functions, the sigmoid
    (r"|x|^{3}", Abs(x) ** 3),
    (r"\left| x - 1 \right| + \lvert y \rvert", Abs(x - 1) + Abs(y)),
    (r"\alpha x^{2} + \theta", alpha * x**2 + theta),
    (r"\lambda e^{-\lambda t}", lam * exp(-lam * t)),
    (r"x_{1}^{2} + x", x1**2 + x),
    (r"f(g(x))", f(g(x))),
    (r"\sigma(2x+1)", sigmoid(2 * x + 1)),
    (r"\,x(x+1)", x * (x + 1)),  # a letter before a bracket multiplies; only f, g, h name functions
    (r"xy^{2}", x * y**2),  # a run of letters is a product of one-letter variables
    (r"\mathrm{rate} \cdot t", Symbol("rate", real=True) * t),
    (r"a\,x^{n}", a * x**n),
    (r"\frac{a}{b}x", a * x / b),
    (r"2 \times 3 \div x", 6 / x),
    (r"-\frac{1}{x}", -1 / x),
]


@pytest.mark.parametrize(("text", "expected"), TEXTBOOK)
def test_textbook_expressions_read_as_built(text, expected):
    assert parse(text) == expected


def test_written_form_has_the_same_value():
    for text, expected in TEXTBOOK:
        assert same_function(parse(text, written=True), expected), text


DERIVED = [text for text, expected in TEXTBOOK if expected.free_symbols == {x}]


@pytest.mark.slow
@pytest.mark.parametrize("text", DERIVED)
def test_derivatives_equal_sympy(text):
    expected = dict(TEXTBOOK)[text]
    derivation = derivgen.derive(text, "x")
    assert derivation.verified
    assert same_function(derivation.result, sympy.diff(expected, x))


MATRIX = {"x": "vector(n)", "M": "matrix(n, n)", "W1": "matrix(m, n)", "y": "vector(m)", "xy": "vector(n)"}


@pytest.mark.parametrize(
    ("text", "python"),
    [
        (r"\mathbf{x}^\top \mathbf{M} \mathbf{x}", "x.T*M*x"),
        (r"\mathbf{x}^{\top}\mathbf{M}^{-1}\mathbf{x}", "x.T*inv(M)*x"),
        (r"\mathbf{x}^{T} \mathbf{x}", "x.T*x"),
        (r"\operatorname{tr}\left(\mathbf{M}\right)", "tr(M)"),
        (r"\log\det \mathbf{M}", "log(det(M))"),
        (r"xy^\top \mathbf{M}\, xy", "xy.T*M*xy"),  # a run of letters that is a declared name is that name
        (r"\mathbf{y}^\top \mathbf{W}_1 \mathbf{x}", "y.T*W1*x"),
        (r"\sigma\left(\mathbf{y}^\top \mathbf{W}_1 \mathbf{x}\right)", "sigmoid(y.T*W1*x)"),
    ],
)
def test_matrix_expressions_read_like_the_matrix_language(text, python):
    symbols = {name: declare(name, shape) for name, shape in MATRIX.items()}
    assert parse_matrix(text, symbols) == parse_matrix(python, symbols)


def test_matrix_derivative_from_latex():
    derivation = derivgen.derive(
        r"\mathbf{x}^\top \mathbf{M} \mathbf{x}", "x", symbols={"x": "vector(n)", "M": "matrix(n, n)"}
    )
    assert derivation.verified
    # at n = 3, entry by entry: the gradient of xᵀMx as a row (the README's layout), by sympy.diff
    n = Symbol("n", integer=True, positive=True)
    X, M = sympy.MatrixSymbol("x", 3, 1).as_explicit(), sympy.MatrixSymbol("M", 3, 3).as_explicit()
    form = (X.T * M * X)[0, 0]
    expected = sympy.Matrix([[sympy.diff(form, entry) for entry in X]])
    got = derivation.result.subs(n, 3).as_explicit()
    assert sympy.expand(got - expected) == sympy.zeros(1, 3)


HOSTILE = [
    # (text, column of the culprit, words the message must contain)
    (r"\input{/etc/passwd}", 1, r"\input is not allowed"),
    (r"x + \def\x{y}", 5, r"\def is not allowed"),
    (r"\csname foo\endcsname", 1, r"\csname is not allowed"),
    (r"x\catcode`\^=7", 2, r"\catcode is not allowed"),
    (r"\immediate\write18{rm -rf /}", 1, r"\immediate is not allowed"),
    (r"\sin x + \write18{ls}", 10, r"\write is not allowed"),
    (r"\openin5=/etc/passwd", 1, r"\openin is not allowed"),
    (r"\pdfobj stream file {/etc/passwd}", 1, r"\pdfobj is not allowed"),
    (r"\^^5cinput", 1, "not allowed"),
    (r"\frac{x}{y", 9, "never closed"),
    (r"x}+\sin x", 2, "closes nothing"),
    (r"\left( x \right]", 10, "does not close"),
    (r"\sin x % comment", 8, "comments"),
    (r"\sin x = 1", 8, "without 'f(x) ='"),
    (r"x^{100000}\cdot\sin x", 1, "exponent 100000"),
    (r"2^{2^{2^{20}}} \cdot \pi", 4, "exponent 1048576"),
    (r"\exp(\exp(\exp(\exp(\exp(x)))))", 1, "nested 5 deep"),
    ("\\sin " + "{" * 150 + "x" + "}" * 150, 106, "nested more than 100"),
    ("\\pi" + "-" * 3000 + "x", 104, "nested more than 100"),
    (r"\frac{d}{dx} x^{2}", 1, r"\frac{d}{dx} is not read"),
    (r"\frac{\partial f}{\partial x}", 7, "derivatives are not read"),
    (r"sinx + \pi", 1, r"write \sin"),
    (r"x^23 \cdot \pi", 3, "write {23}"),
    (r"\operatorname{eval}(x)", 1, "unknown function 'eval'"),
    (r"\sin", 1, "needs an argument"),
    (r"x_{a+b} \cdot \pi", 2, "a subscript must be an index"),
    (r"x^{2}^{3}", 6, "double subscript or superscript"),
    (r"\cos_{2} x", 5, "only \\log takes a subscript"),
    (r"\frac{1}{0}", 1, "division by zero"),
    (r"\mathbf{x}^\top \mathbf{x}", 11, "declared vectors and matrices"),
    ("\\sin x\u03c0", 7, "not allowed in LaTeX input"),
    ("\\sin x" + "+x" * 3000, None, "characters long"),
]


@pytest.mark.parametrize(("text", "column", "words"), HOSTILE)
def test_hostile_latex_is_refused_with_its_column(text, column, words):
    with pytest.raises((ParseError, LimitExceeded)) as caught:
        parse(text)
    message = caught.value.one_line()
    assert words in message and "\n" not in message
    if column is not None:
        assert caught.value.column == column if isinstance(caught.value, ParseError) else f"column {column}:" in message


def test_undeclared_matrix_name_is_refused():
    symbols = {"x": declare("x", "vector(n)")}
    with pytest.raises(ShapeError, match="'z' is not declared"):
        parse_matrix(r"\mathbf{z}^\top \mathbf{x}", symbols)


# -- the command line and files -----------------------------------------------------------------------


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_derives_latex(capsys):
    code, out, _ = run(capsys, "derive", r"\frac{x^2+1}{x-1}", "--json")
    assert code == 0
    data = json.loads(out)
    result = parse(data["result"]) if "result" in data else None
    assert result is not None and same_function(result, sympy.diff((x**2 + 1) / (x - 1), x))


def test_cli_refuses_hostile_latex_in_one_line(capsys):
    code, out, err = run(capsys, "derive", r"x + \input{/etc/passwd}")
    assert code == 2 and out == ""
    assert "column 5" in err and r"\input is not allowed" in err and "Traceback" not in err


def test_cli_matrix_latex(capsys):
    code, out, _ = run(
        capsys, "derive", r"\mathbf{x}^\top \mathbf{M} \mathbf{x}", "--wrt", "x", "--symbol", "x=vector(n)",
        "--symbol", "M=matrix(n, n)", "--json",
    )  # fmt: skip
    assert code == 0 and "M" in out


DECK = r"""title: LaTeX deck
frames:
  - title: Quotient
    derive: '\frac{x^2+1}{x-1}'
  - title: Chain
    derive: \sin x^2
  - title: Logarithm
    derive: |-
      \ln\left|\sec x\right|
  - title: Quadratic form
    derive: '\mathbf{x}^\top \mathbf{M} \mathbf{x}'
    wrt: x
    symbols:
      x: vector(n)
      M: matrix(n, n)
"""


def test_deck_with_latex_expressions(tmp_path, capsys):
    deck = tmp_path / "deck.yaml"
    deck.write_text(DECK, encoding="utf-8")
    code, _, err = run(capsys, "build", str(deck), "-o", str(tmp_path / "out"), "--format", "notes", "--tex-only")
    assert code == 0, err
    tex = (tmp_path / "out" / "deck-notes.tex").read_text(encoding="utf-8")
    assert r"\sec" in tex and r"\sin" in tex


def test_deck_with_hostile_latex_names_file_line_and_column(tmp_path, capsys):
    deck = tmp_path / "deck.yaml"
    deck.write_text("title: Bad\nframes:\n  - title: One\n    derive: 'x + \\input{/etc/passwd}'\n", encoding="utf-8")
    code, _, err = run(capsys, "build", str(deck), "-o", str(tmp_path / "out"), "--tex-only")
    assert code == 2 and "deck.yaml:4" in err and r"\input is not allowed" in err and "Traceback" not in err


SHEET = r"""title: LaTeX sheet
exercises:
  - title: Product rule
    derive: 'x^{k} \sin(c x)'
    wrt: x
    parameters:
      k: {integer: [2, 5]}
      c: {integer: [2, 5]}
"""


def test_exercise_sheet_with_latex(tmp_path, capsys):
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(SHEET, encoding="utf-8")
    code, _, err = run(capsys, "build", str(sheet), "-o", str(tmp_path / "out"), "--tex-only")
    assert code == 0, err
    assert list((tmp_path / "out").glob("*.tex"))


@pytest.mark.slow
def test_deck_with_latex_compiles_to_pdf(tmp_path, capsys):
    deck = tmp_path / "deck.yaml"
    deck.write_text(DECK, encoding="utf-8")
    code, _, err = run(capsys, "build", str(deck), "-o", str(tmp_path / "out"), "--format", "notes")
    assert code == 0, err
    assert (tmp_path / "out" / "deck-notes.pdf").stat().st_size > 0


def test_every_error_is_a_derivgen_error():
    """Fragments of LaTeX put together at random: a DerivgenError or an expression, never anything else."""
    pieces = [
        r"\frac", r"\sqrt", "{", "}", "(", ")", "[", "]", "|", "^", "_", "x", "f", "2", "10", r"\sin", r"\log",
        r"\left(", r"\right)", r"\left|", r"\cdot", "-", "+", "/", ",", r"\pi", r"\sigma", r"\top", r"\mathbf{x}",
        r"\operatorname{tr}", r"\mathrm", r"\,", "e", r"\Gamma", "d", r"\bigl(", r"\big|", r"\{", r"\sqrt[",
    ]  # fmt: skip
    symbols = {"x": declare("x", "vector(n)"), "M": declare("M", "matrix(n, n)")}
    rng = random.Random(7)
    for _ in range(3000):
        text = r"\," + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for read in (parse, lambda text: parse_matrix(text, symbols)):
            with contextlib.suppress(DerivgenError):
                read(text)


def test_a_long_run_of_letters_is_read_in_linear_time():
    started = time.perf_counter()
    assert parse("\\," + "x" * 4990) == x**4990
    assert time.perf_counter() - started < 15  # 37 s when every letter rescanned the run; about 1 s now


def test_latex_in_yaml_double_quotes_gets_a_hint(tmp_path, capsys):
    """YAML's "\\frac" is a form feed and "rac": said where it stands (a leading one the deck model strips
    as white space, and the Python reader then reports a syntax error)."""
    deck = tmp_path / "deck.yaml"
    deck.write_text('title: Quotes\nframes:\n  - title: One\n    derive: "x + \\frac{1}{x}"\n', encoding="utf-8")
    code, _, err = run(capsys, "build", str(deck), "-o", str(tmp_path / "out"), "--tex-only")
    assert code == 2 and "deck.yaml:4" in err and "single quotes" in err and "Traceback" not in err
