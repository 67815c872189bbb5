"""One notation per deck: det X or |X|, log or ln, (Xᵀ)⁻¹ or X⁻ᵀ — the deck key ``notation:`` and the
printer that follows it; and index notation's own forms: 1ᵀ, (eᶻ)ᵀ, ∇ applied to a bracketed function.

These tests assert which notation the LaTeX holds (that is what they are about); the mathematics of
the same lines is read back and checked elsewhere (tests/latex_reader.py, tests/test_matrix.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from derivgen import derive
from derivgen.input.spec import Notation, SpecError, load_deck
from derivgen.presentation.matrices import gradient_symbol
from derivgen.presentation.printer import notation, to_latex
from tests.latex_reader import Context, numerically_equal, read_latex

n = sympy.Symbol("n", integer=True, positive=True)
X = sympy.MatrixSymbol("X", n, n)
z = sympy.MatrixSymbol("z", n, 1)

# Matrix derivations whose lines hold determinants, logarithms and inverse transposes
DRIFTING = [
    ("det(X)", "X", {"X": "matrix(n, n)"}, ["invertible(X)"]),
    ("log(det(X))", "X", {"X": "matrix(n, n)"}, ["positive_determinant(X)"]),
    ("a.T*inv(X)*b", "X", {"a": "vector(n)", "X": "matrix(n, n)", "b": "vector(n)"}, ["invertible(X)"]),
]


def all_lines(notation_chosen: Notation) -> str:
    with notation(notation_chosen):
        return "\n".join(
            derive(expression, wrt, symbols=symbols, assume=assume).latex("full")
            for expression, wrt, symbols, assume in DRIFTING
        )


def test_defaults_are_one_notation() -> None:
    tex = all_lines(Notation())
    assert r"\operatorname{det}" in tex and r"\left|" not in tex
    assert r"\log" in tex and r"\ln" not in tex
    # the inverse of the transpose and the transpose of the inverse both as (Xᵀ)⁻¹
    assert r"\left(\mathbf{X}^{T}\right)^{-1}" in tex
    assert r"\left(\mathbf{X}^{-1}\right)^{T}" not in tex and "^{-T}" not in tex


def test_the_other_notation() -> None:
    tex = all_lines(Notation(det="bars", log="ln", inverse_transpose="X^-T"))
    assert r"\left|{\mathbf{X}}\right|" in tex and "det" not in tex
    assert r"\ln" in tex and r"\log" not in tex
    assert r"\mathbf{X}^{-T}" in tex and r"^{T}\right)^{-1}" not in tex and r"\right)^{T}" not in tex


def test_notation_holds_only_inside_its_block() -> None:
    with notation(Notation(det="bars")):
        assert to_latex(sympy.Determinant(X)) == r"\left|{\mathbf{X}}\right|"
    assert to_latex(sympy.Determinant(X)) == r"\operatorname{det}\left(\mathbf{X}\right)"


def test_ones_and_exponentials_transposed() -> None:
    t = sympy.Dummy("t")
    exp_of = sympy.matrices.expressions.applyfunc.ElementwiseApplyFunction
    row_of_exponentials = exp_of(sympy.Lambda(t, sympy.exp(t)), z.T)
    assert to_latex(row_of_exponentials) == r"\left(e^{\mathbf{z}}\right)^{T}"
    assert to_latex(sympy.OneMatrix(n, 1).T * z) == r"\mathbf{1}^{T} \mathbf{z}"
    tex = derive("log(ones(n).T*exp(z))", "z", symbols={"z": "vector(n)"}).latex("full")
    assert r"\left(\mathbf{1}\right)^{T}" not in tex and r"\mathbf{1}^{T}" in tex
    # the gradient of log-sum-exp is softmax(z)ᵀ, recognised as such; no exponent transposed on the way
    assert r"e^{\mathbf{z}^{T}}" not in tex
    last = tex.splitlines()[-1].split("&")  # "= <result> && \text{<why>}"
    assert r"\operatorname{softmax}" in last[1]
    # and it means softmax(z)ᵀ: read back independently, compared with eᶻᵀ / (1ᵀeᶻ) at random z
    context = Context(shapes={"z": (3, 1)})
    z3 = sympy.MatrixSymbol("z", 3, 1)
    exponentials = sympy.Matrix([sympy.exp(z3[k, 0]) for k in range(3)])
    softmax_row = (exponentials / sum(exponentials)).T
    read = read_latex(last[1].strip().removeprefix("=").strip(), context)
    assert numerically_equal(softmax_row, read, context, points=4)


def test_the_gradient_operator_applies_to_the_whole_function() -> None:
    calculus = derive("-y.T*log(softmax(z))", "z", symbols={"y": "vector(n)", "z": "vector(n)"})
    assert gradient_symbol(calculus.left).startswith(r"\nabla_{\mathbf{z}} \left(- ")
    quadratic = derive("x.T*M*x", "x", symbols={"x": "vector(n)", "M": "matrix(n, n)"})
    assert gradient_symbol(quadratic.left) == r"\nabla_{\mathbf{x}} \mathbf{x}^{T} \mathbf{M} \mathbf{x}"


# -- the deck key ---------------------------------------------------------------------------------------


def write_deck(tmp_path: Path, notation_yaml: str) -> Path:
    path = tmp_path / "deck.yaml"
    path.write_text(f"title: T\n{notation_yaml}\nframes:\n  - title: a\n    derive: x**2\n", encoding="utf-8")
    return path


def test_the_deck_key(tmp_path: Path) -> None:
    deck, _ = load_deck(write_deck(tmp_path, "notation: {det: bars, log: ln, inverse_transpose: X^-T}"))
    assert deck.notation == Notation(det="bars", log="ln", inverse_transpose="X^-T")
    deck, _ = load_deck(write_deck(tmp_path, ""))
    assert deck.notation == Notation()


@pytest.mark.parametrize(
    ("notation_yaml", "words"),
    [
        ("notation: {det: bar}", "deck.yaml:2: notation.det: Input should be 'det' or 'bars'"),
        ("notation: {log: lg}", "deck.yaml:2: notation.log: Input should be 'log' or 'ln'"),
        ("notation: {inverse: X^-T}", "unknown key 'inverse' (allowed: det, inverse_transpose, log)"),
    ],
)
def test_unknown_values_are_one_line_errors(tmp_path: Path, notation_yaml: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_deck(write_deck(tmp_path, notation_yaml))
    message = caught.value.one_line()
    assert words in message and "\n" not in message


def test_a_deck_is_built_in_its_notation(tmp_path: Path) -> None:
    from derivgen.documents.build import build_deck

    frame = "  - title: d\n    derive: log(det(X))\n    wrt: X\n    symbols: {X: 'matrix(n, n)'}\n"
    for chosen, present, absent in (("det: bars, log: ln", r"\ln", r"\log"), ("det: det", r"\log", r"\ln")):
        deck = tmp_path / "deck.yaml"
        deck.write_text(f"title: T\nnotation: {{{chosen}}}\nframes:\n{frame}", encoding="utf-8")
        build_deck(deck, tmp_path / "out", formats=("notes",), tex_only=True, force=True)
        tex = (tmp_path / "out" / "deck-notes.tex").read_text(encoding="utf-8")
        assert present in tex and absent not in tex


def test_a_fraction_of_a_sum_in_index_notation_is_written_as_a_coefficient() -> None:
    # ½ Σ_k …, as a lecturer writes it: a \frac over a whole sum could not be broken across lines
    k = sympy.Symbol("k", integer=True)
    X = sympy.MatrixSymbol("X", n, n)
    total = sympy.Sum(X[k, k] ** 2 + X[k, 0], (k, 0, n - 1))
    assert to_latex(total / 2) == r"\frac{1}{2} " + to_latex(total)
    product = total * X[0, 1]
    assert to_latex(-sympy.Rational(3, 4) * product) == r"- \frac{3}{4} \left(" + to_latex(product) + r"\right)"
    assert to_latex(X[0, 0] * X[1, 1] / 2) == r"\frac{X_{0,0} X_{1,1}}{2}"  # without a sum: a fraction as before
