"""Slides by measured size: the layout's decisions, and real handouts read back from the PDF."""

from __future__ import annotations

import itertools
import re

import pytest

from derivgen.documents.build import build_deck
from derivgen.presentation.layout import (
    ALERT_OPEN,
    BREAK_CLOSE,
    BREAK_OPEN,
    MIN_SCALE,
    Box,
    Page,
    RowLayout,
    RowSize,
    block_height,
    break_points,
    cut,
    fit_row,
    highlighted_cuts,
    joined,
    split_rows,
)
from derivgen.presentation.page_check import split_highlight, without_highlight

from .pdf_pages import outside_the_page, smallest_text
from .test_build import SEED, deck, pages

PAGE = Page(linewidth=300, label_column=100, baselineskip=13.6, lineskip=1, jot=3, quad=11, first=150, continuation=180)


def _size(width: float, terms: tuple[float, ...] = (), height: float = 10, depth: float = 4) -> RowSize:
    return RowSize(
        lhs=Box(0, 0, 0),
        rhs=Box(width, height, depth),
        label=Box(90, 6, 2),
        terms=tuple(Box(term, height, depth) for term in terms),
    )


@pytest.mark.parametrize(
    ("tex", "cuts_before"),
    [
        ("a + b - c", ["+", "-"]),
        (r"- a + \left(b + c\right)", ["+"]),  # a leading sign, and a sum inside \left…\right
        (r"2 \cdot -x", []),  # a sign after an operation is no break point
        (r"\alert<3| handout:0>{a + b} + c", ["+"]),  # never inside the highlight
        (r"\frac{a + b}{c} = d", ["="]),
        (r"\begin{bmatrix} a + b \end{bmatrix} + c", ["+"]),
    ],
)
def test_break_points_only_outside_every_group(tex, cuts_before):
    assert [tex[point] for point in break_points(tex)] == cuts_before


def test_cut_lines_join_to_the_checked_row():
    row = r"\sum_{k} a_{k} + \left(b + c\right)^{2} - d"
    lines = cut(row, break_points(row))
    assert " ".join(lines) == row and len(lines) == 3


def test_a_row_that_fits_is_left_alone_and_a_slightly_wide_one_scaled():
    assert fit_row("a + b", "a + b", _size(150), 190, 11) == RowLayout(heights=((10, 4),))
    scaled = fit_row("a + b", "a + b", _size(220, (110, 110)), 190, 11)
    assert scaled.cuts == () and MIN_SCALE <= scaled.scale < 1


def test_a_wide_row_is_broken_not_shrunk():
    row = "a + b + c + d"
    layout = fit_row(row, row, _size(400, (100, 100, 100, 100)), 190, 11)
    assert layout.scale == 1 and len(layout.cuts) >= 1
    assert all(row[offset] == "+" for offset in layout.cuts)


def test_the_highlighted_form_is_cut_at_the_same_places():
    plain = "a + b + c"
    highlighted = r"a + \alert<2| handout:0>{b} + c"
    offsets = break_points(plain)
    lines = cut(highlighted, highlighted_cuts(plain, highlighted, offsets))
    assert [line.replace(r"\alert<2| handout:0>{b}", "b") for line in lines] == list(cut(plain, offsets))


def test_a_row_without_break_points_is_scaled_and_reported():
    layout = fit_row(r"\left(a + b\right)", r"\left(a + b\right)", _size(400, (400,)), 190, 11)
    assert layout.cuts == () and layout.scale < MIN_SCALE


def test_block_height_is_amsmath_spacing():
    heights = [(10.0, 4.0), (20.0, 10.0)]
    assert block_height(heights, PAGE) == pytest.approx(10 + max(16.6, 4 + 20 + 1 + 3) + 10)


def test_rows_fill_slides_and_a_continuation_holds_three():
    layouts = [RowLayout(heights=((10, 4),))] * 14
    sizes = [_size(100)] * 14
    slides = split_rows(layouts, sizes, PAGE, Box(50, 12, 6))
    assert sum(len(slide.rows) for slide in slides) == 14
    assert [row for slide in slides for row in slide.rows] == list(range(14))
    assert all(len(slide.rows) >= 3 for slide in slides[1:])
    first = block_height([(10, 4)] * len(slides[0].rows), PAGE)
    assert first <= PAGE.first and block_height([(10, 4)] * (len(slides[0].rows) + 1), PAGE) > PAGE.first - 3
    assert len(split_rows(layouts, sizes, PAGE, Box(50, 12, 6), limit=2)[0].rows) == 2


# -- real handouts --------------------------------------------------------------------------------

LONG = """\
title: Long derivations
detail: full
frames:
  - title: "A long chain"
    derive: sin(exp(x**2) + x**3)**3
  - title: "A long quotient"
    derive: (x**3 - 5*x + 7)/(x**2 + 4)
  - title: "A long product"
    derive: x**4*sin(x)*exp(2*x)
  - title: "The quadratic form"
    derive: x.T*M*x
    wrt: x
    symbols: {x: "vector(n)", M: "matrix(n, n)"}
"""


@pytest.mark.slow
@pytest.mark.parametrize("source", ["seed", "long"])
def test_handouts_are_readable_and_fit(tmp_path, source, capfd):
    path = SEED if source == "seed" else deck(tmp_path, LONG, "long")
    out = tmp_path / "out"
    build_deck(path, out, formats=("handout",), warn=print)
    handout = out / f"{path.stem}-handout.pdf"
    frames = len(re.findall(r"^  - ", path.read_text(), re.MULTILINE))
    assert smallest_text(handout) >= 0.7
    assert outside_the_page(handout) == []
    if source == "seed":  # the bound; long derivations at the normal size need their slides
        assert pages(handout) <= 1.25 * frames + 1
    assert "too wide" not in capfd.readouterr().out  # no row had to go below 80 %


def test_a_long_product_breaks_between_factors_only_when_the_terms_do_not_suffice():
    row = r"3 \sin{\left(x \right)} \cos{\left(x \right)} + \left(x + 1\right) \log{\left(x \right)}"
    assert [row[point] for point in break_points(row)] == ["+"]
    factors = break_points(row, factors=True)
    assert len(factors) > 1 and all(row[point] in "\\+" for point in factors)
    measured = break_points(row, factors=True, inside=True)  # where the measured terms begin
    assert set(factors) < set(measured)  # and inside the bracket, before the "+ 1"
    widths = [60.0] * (len(measured) + 1)
    split = measured.index(next(point for point in measured if point not in factors))
    widths[split] = widths[split + 1] = 25.0  # "(x" and "+ 1)": the two halves of the short bracket
    size = _size(sum(widths), widths)
    assert fit_row(row, row, size, 200, 11).cuts == (break_points(row)[0],)  # the + is enough
    narrow = fit_row(row, row, size, 130, 11)  # it is not: the products break too, at the normal size
    assert narrow.scale == 1 and len(narrow.cuts) > 1


def test_a_long_bracketed_sum_breaks_inside_its_brackets_which_each_line_closes():
    row = r"2 \left(a_{1} + \frac{b}{c} - \left(d + e\right)\right) + f"
    assert [row[point] for point in break_points(row)] == ["+"]  # outside the brackets: only before f
    inside = break_points(row, factors=True, inside=True)
    assert [row[point] for point in inside] == ["\\", "+", "-", "+", "+"]  # the factor \left(, then the sums
    widths = [20.0, 80, 80, 80, 40, 20]
    size = _size(sum(widths), widths)
    layout = fit_row(row, row, size, 170, 11)
    assert layout.scale == 1 and len(layout.cuts) >= 2
    lines = cut(row, layout.cuts)
    for line in lines:  # each line is well-formed TeX: its \left and \right pair up
        assert len(re.findall(r"\\left(?![a-z])", line)) + line.count(BREAK_OPEN) == len(
            re.findall(r"\\right(?![a-z])", line)
        ) + line.count(BREAK_CLOSE)
    assert any(BREAK_CLOSE in line for line in lines)
    assert joined(lines) == " ".join(row[a:b].strip() for a, b in itertools.pairwise([0, *layout.cuts, len(row)]))
    assert re.sub(r"\s+", "", joined(lines)) == re.sub(r"\s+", "", row)


def test_labels_take_the_room_the_lines_leave():
    """Short lines leave room: the label column widens to the widest measured width that fits, and
    the rows are then as tall as their labels are in that column."""
    from derivgen.presentation.frames import PresentedFrame, Row
    from derivgen.presentation.layout import LABEL_GROWTHS, FrameSizes, lay_out
    from derivgen.presentation.text import Latex

    page = Page(300, 110, 13.6, 1, 3, 11, 150, 180, label_width=100)
    wrapped = Box(100, 6, 30)  # three lines at the normal width
    wider = tuple(Box(100 * growth, 6, 18 if growth < 1.5 else 2) for growth in LABEL_GROWTHS)
    size = RowSize(Box(20, 10, 4), Box(60, 10, 4), wrapped, (Box(60, 10, 4),), wider_labels=wider)
    rows = tuple(Row(Latex("f" if n == 0 else ""), Latex("a"), Latex("a"), "a long label", n + 1) for n in range(3))
    frame = PresentedFrame(1, "derivation", "T", rows=rows)
    lay_out(frame, FrameSizes(page, Box(20, 10, 4), (size,) * 3))
    # room for lines: 300 - 20 - 110 = 170, lines 60 wide: 110 spare, so the column may grow by 100 %
    assert frame.label_width == pytest.approx(200)
    narrow = RowSize(Box(20, 10, 4), Box(165, 10, 4), wrapped, (Box(165, 10, 4),), wider_labels=wider)
    frame = PresentedFrame(1, "derivation", "T", rows=rows)
    lay_out(frame, FrameSizes(page, Box(20, 10, 4), (narrow,) * 3))
    assert frame.label_width is None  # 5 points spare: the normal column


@pytest.mark.parametrize(
    ("row", "lines"),
    [
        (
            r"- \frac{\partial}{\partial w_{i}} \sum_{p} \left(\log{\left(x \right)}\right) y_{p}",
            [r"- \frac{\partial}{\partial w_{i}} \sum_{p} \left(\log{\left(x \right)}\right) y_{p}"],
        ),
        (
            r"x \sum_{k} \sum_{l} \left(a\right) \sin{\left(b \right)}",
            [r"x", r"\sum_{k} \sum_{l} \left(a\right)", r"\sin{\left(b \right)}"],
        ),
        (r"2 \frac{d}{d x} \left(x^{2} + 1\right)", [r"2", r"\frac{d}{d x} \left(x^{2} + 1\right)"]),
    ],
)
def test_no_line_ends_between_an_operator_and_what_it_acts_on(row, lines):
    """A sum and a d/dx stand before their operand: a product never breaks right after them."""
    assert list(cut(row, break_points(row, factors=True))) == lines


def test_a_highlighted_bracketed_sum_breaks_inside_the_highlight_at_the_same_places():
    plain = r"\sum_{k} \left(a_{k} + \frac{b}{c} - \left(d + e\right) + f\right) - g"
    highlighted = r"\sum_{k} \left(\alert<3| handout:0>{a_{k} + \frac{b}{c} - \left(d + e\right)} + f\right) - g"
    assert without_highlight(highlighted) == plain
    offsets = break_points(plain, factors=True, inside=True)
    widths = [40.0] * (len(offsets) + 1)
    layout = fit_row(plain, highlighted, _size(sum(widths), widths), 100, 11)
    assert layout.scale == 1 and len(layout.cuts) >= 2
    lines = cut(highlighted, highlighted_cuts(plain, highlighted, layout.cuts))
    assert any(line.startswith(BREAK_OPEN + " " + ALERT_OPEN) for line in lines)  # cut inside the highlight
    assert joined(lines) == " ".join(
        highlighted[a:b].strip()
        for a, b in itertools.pairwise([0, *highlighted_cuts(plain, highlighted, layout.cuts), len(highlighted)])
    )
    for line in lines:  # one highlight a line at most, each closed in its line, brackets paired
        assert line.count(r"\alert<") <= 1
        assert split_highlight(line) is None or line.count("{") == line.count("}")
        lefts = len(re.findall(r"\\left(?![a-z])", line)) + line.count(BREAK_OPEN)
        assert lefts == len(re.findall(r"\\right(?![a-z])", line)) + line.count(BREAK_CLOSE)
    plain_lines = cut(plain, layout.cuts)
    assert without_highlight(joined(lines)) == joined(plain_lines)


def test_a_sign_after_an_opening_bracket_or_highlight_is_no_break():
    assert break_points(r"\left(- a + b\right)", inside=True) == [r"\left(- a + b\right)".index("+")]
    text = r"\left(\alert<2| handout:0>{- a} + b\right)"
    assert [text[point] for point in break_points(text, inside=True)] == ["+"]


@pytest.mark.parametrize(
    "row",
    [
        r"2 x \sigma\left(\left(\mathbf{X} \mathbf{w}\right)_{k}\right) y",
        r"a \operatorname{softmax}\left(\mathbf{z}\right)_{k} b",
        r"x \tanh^{2}\left(u\right) v",
        r"c \log \left(1 - y\right) d",
    ],
)
def test_a_function_is_never_cut_from_its_bracketed_argument(row):
    for point in break_points(row, factors=True, inside=True):
        before = row[:point].rstrip()
        assert not re.search(r"(\\sigma|\\tanh\^\{2\}|\\log|\\operatorname\{softmax\})$", before), (row, point)
