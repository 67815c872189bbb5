"""Solution rows broken by measured width, the symbols sentence, and the laid-out sheets read back."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from derivgen.documents.sheet_layout import Widths, lay_out_answer, lay_out_rows, pieces, warn_scaled
from derivgen.documents.sheets import ASSUMPTION_WORDS, symbols_sentence
from derivgen.input.matrices import ASSUMPTIONS
from derivgen.input.spec import Part
from tests.pdf_pages import outside_the_page, smallest_text
from tests.test_build import pages, pdf_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("rhs", "expected"),
    [
        (r"3 \left(x^{2} + 5\right)^{2} \cdot 2 x + 4", [r"3 \left(x^{2} + 5\right)^{2} \cdot 2 x ", "+ 4"]),
        (r"- x + \frac{a - b}{c} - \sum_{k=1}^{n} x_k", ["- x ", r"+ \frac{a - b}{c} ", r"- \sum_{k=1}^{n} x_k"]),
        (r"\alert<3->{a + b} - c", [r"\alert<3->{a + b} ", "- c"]),  # not inside the alert, nor at its "3-"
        (r"2 \cdot -x + y", [r"2 \cdot -x ", "+ y"]),  # a sign after an operator is no break
        (r"\begin{bmatrix} a + b & c \end{bmatrix} + 1", [r"\begin{bmatrix} a + b & c \end{bmatrix} ", "+ 1"]),
        (r"2 (x + 1) = 2 x + 2", ["2 (x + 1) ", "= 2 x ", "+ 2"]),
        (r"\left(a + b\right", [r"\left(a + b\right"]),  # unbalanced: no break at all
    ],
)
def test_rows_break_only_at_top_level_operators(rhs, expected):
    assert pieces(rhs) == expected
    assert "".join(pieces(rhs)) == rhs


def widths(sizes: list[list[float]], lhs: float = 40.0, line: float = 400.0) -> Widths:
    return Widths(line, 90.0, 10.0, 11.0, [lhs] * len(sizes), sizes)


def test_a_wide_row_is_broken_at_the_normal_size_and_keeps_its_text():
    rhs = r"a x + \frac{b}{c} + \sin{\left(x + y\right)} - d"  # four pieces
    scaled = []
    lines = lay_out_rows([("f", rhs, "sum rule")], widths([[120.0, 80.0, 90.0, 60.0]]), scaled.append)
    # room 400 - 90 - 10 - 2 - 40 = 258 pt: "a x + b/c" (200) fits, "+ sin" would make 290
    assert [line.continued for line in lines] == [False, True]
    assert [line.label for line in lines] == ["sum rule", ""]
    bodies = [line.body.removeprefix(r"\quad ") for line in lines]
    assert "".join(bodies) == "= " + rhs and "scalebox" not in "".join(bodies)
    assert scaled == []


def test_a_row_without_a_break_point_is_scaled_and_warned_about_below_80_percent(capsys):
    rhs = r"\frac{x^{2} + 1}{x - 3}"
    scaled: list[float] = []
    (line,) = lay_out_rows([("f", rhs, "")], widths([[400.0]]), scaled.append)
    room = 400.0 - 90.0 - 10.0 - 2.0 - 40.0  # 258 pt
    assert line.body == r"\scalebox{%.2f}{$\displaystyle{}= %s$}" % (room / 400.0, rhs)
    assert scaled == [pytest.approx(room / 400.0)] and scaled[0] < 0.8
    (line,) = lay_out_rows([("f", rhs, "")], widths([[270.0]]), scaled.append)  # 96 %: no warning
    assert "scalebox{0.96}" in line.body and len(scaled) == 1
    warn_scaled("sheet.yaml:7", "2b", 0.5)
    assert "sheet.yaml:7: exercise 2b" in capsys.readouterr().err


def test_a_long_left_side_stands_on_its_own_line():
    lines = lay_out_rows([("L", "a + b", "r"), ("", "c", "s")], widths([[20.0, 20.0], [20.0]], lhs=200.0), print)
    assert [(line.lhs, line.body, line.continued) for line in lines] == [
        ("", "L", False),
        ("", "= a + b", True),
        ("", "= c", False),
    ]


def test_a_wide_answer_is_broken_like_a_row():
    measured = Widths(300.0, 90.0, 10.0, 11.0, [], [], answer=[150.0, 150.0])
    assert lay_out_answer("a + b", measured, print) == r"\begin{aligned}&a  \\ &\quad + b\end{aligned}"
    assert lay_out_answer("a + b", Widths(500.0, 90.0, 10.0, 11.0, [], [], answer=[150.0, 150.0]), print) == "a + b"


def test_every_assumption_has_words():
    assert set(ASSUMPTION_WORDS) == set(ASSUMPTIONS)


def test_declared_symbols_in_words_and_maths():
    task = Part(
        derive="w.T*M*x + y*x.T*x",
        wrt="x",
        symbols={"w": "vector(n)", "x": "vector(n)", "y": "scalar", "M": "matrix(n, n)"},
        assume=["symmetric(M)"],
    )
    assert symbols_sentence(task) == (
        r"where $\mathbf{w}, \mathbf{x} \in \mathbb{R}^{n}$, $y \in \mathbb{R}$ and "
        r"$\mathbf{M} \in \mathbb{R}^{n \times n}$; $\mathbf{M}$ is symmetric"
    )
    assert symbols_sentence(Part(derive="x**2")) is None


LONG = """\
title: Long derivations
course: Calculus
number: 3
exercises:
  - title: A long sum
    points: 3
    derive: x**3*sin(x) + exp(2*x)*cos(x) + x**2*log(x**2 + 1) + sqrt(x)*tan(x) + x*exp(-x)
  - title: Another sum
    points: 4
    derive: (x**2 + 1)**3*sin(x) + cos(x)**2*exp(x) + x**4*atan(x) - x*cosh(x)
  - title: Matrix
    points: 5
    derive: w.T*M*x + y*x.T*x
    wrt: x
    symbols:
      w: vector(n)
      x: vector(n)
      y: scalar
      M: matrix(n, n)
    assume: [symmetric(M)]
"""


@pytest.mark.slow
def test_long_solutions_break_across_pages_at_the_normal_size(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(LONG, encoding="utf-8")
    out = tmp_path / "out"
    # in a fresh process, as a lecturer runs it: inside the long test process the forked exercise worker
    # has hung (see the closing note of issues 13/14); the hang is still to be found
    done = subprocess.run(
        [sys.executable, "-m", "derivgen", "build", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr  # every row found a break point
    solutions, sheet = out / "long-solutions.pdf", out / "long.pdf"
    assert pages(solutions) >= 3  # the solutions did run on over pages
    assert outside_the_page(solutions) == []
    assert smallest_text(solutions) >= 0.7
    text = pdf_text(sheet)
    assert re.search(r"Name:.*Student ID:", text) and "Question" in text and "Total" in text
    assert "Student ID" not in pdf_text(solutions) and "Points" in pdf_text(solutions)
    squashed = "".join(text.split())
    assert "wherew,x∈Rn,y∈RandM∈Rn×n;Missymmetric" in squashed, squashed
