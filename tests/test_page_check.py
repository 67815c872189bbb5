"""The page is checked too: on every derivation line of every format, (a) the highlighted line
without its highlight is the notes' line and (b) the text outside the highlight stands unchanged,
in order, in the line before it (brackets around the change aside)."""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivgen import derive
from derivgen.cli import main
from derivgen.errors import DerivgenError
from derivgen.presentation import lines
from derivgen.presentation.frames import derivation_rows
from derivgen.presentation.layout import joined
from derivgen.presentation.page_check import (
    PageCheckError,
    check_rows,
    outside_stands_in,
    split_highlight,
    without_highlight,
)

from .strategies import X, functions_of_x

ROOT = Path(__file__).resolve().parents[1]
ALERT = r"\alert<3| handout:0>{%s}"


@dataclass(frozen=True)
class FakeRow:
    rhs: str
    rhs_highlighted: str


# -- the checks themselves -------------------------------------------------------------------
def test_split_highlight_finds_the_whole_group():
    text = r"a + " + ALERT % r"\frac{1}{x} \{b\}" + r" + c"
    assert split_highlight(text) == ("a + ", r"\frac{1}{x} \{b\}", " + c")
    assert without_highlight(text) == r"a + \frac{1}{x} \{b\} + c"
    assert split_highlight("a + b") is None


@pytest.mark.parametrize(
    "before, after, previous, holds",
    [
        ("2 x ", "", r"2 x \frac{d}{dx} x", True),
        (r"3 \left(", r"\right) + 1", r"3 \left(a + b\right) + 1", True),  # brackets the change opened
        (r"3 \left(x + 1\right) ", "", r"3 \left(x - 1\right) u", False),  # changed text left unmarked
        ("x + ", " + y", "x + y", False),  # overlapping: part of the line is counted twice
        ("", " + 1", r"\frac{d}{dx} x^{2} + 1", True),
    ],
)
def test_outside_stands_in(before, after, previous, holds):
    assert outside_stands_in(before, after, previous) is holds


def test_check_rows_names_the_line_that_breaks_a():
    rows = [FakeRow("x + 1", "x + 1"), FakeRow("2 x", ALERT % "2" + " y")]
    with pytest.raises(PageCheckError, match=r"line 2 .*differs from the notes"):
        check_rows(rows, "x")


def test_check_rows_names_the_line_that_breaks_b():
    # the red part covers 2 but the 3 before it also changed (it was a 5)
    rows = [FakeRow("5 y", "5 y"), FakeRow("3 \\cdot 2", "3 \\cdot " + ALERT % "2")]
    with pytest.raises(PageCheckError, match=r"line 2 .*highlight misses"):
        check_rows(rows, "start")


def test_a_highlight_that_would_break_b_is_widened(monkeypatch):
    """Where the smallest changed node's surroundings print differently from the line before (a
    product shown as a fraction once its factor became a sum), a bigger node is marked: the rows
    pass the check, and with the widening switched off the same derivation fails it."""
    derivation = derive("log(1 + exp(x))", "x")
    rows, _ = derivation_rows(derivation, "full")
    check_rows(rows)
    monkeypatch.setattr(lines, "outside_stands_in", lambda before, after, previous: True)
    with pytest.raises(PageCheckError, match="highlight misses"):
        derivation_rows(derivation, "full")


def test_the_changed_factor_is_highlighted_not_an_equal_one_elsewhere():
    """σ(2x + 1)'s constant multiple step: the 2 that changed is the factor · 2, not the 2 inside σ."""
    derivation = derive("sigmoid(2*x + 1)", "x")
    rows, _ = derivation_rows(derivation, "full")
    for row in rows:
        pieces = split_highlight(row.rhs_highlighted)
        if pieces is not None:
            assert not re.search(r"\\sigma\\left\($", pieces[0].rstrip()), row.rhs_highlighted


# -- every row of every example, every format -------------------------------------------------
_ROW_START = re.compile(r"\{\}( = |\\quad )(.*)$")  # a row's first line "{} = …", a continuation "{}\quad …"
_SLIDE_END = re.compile(r"(?:\$\})?\}(?: && \\uncover<\d+->\{\\rulelabel\{.*\}\})?(?: \\\\)?\s*$")
_NOTES_END = re.compile(r"(?:\$\})?(?: && \\rulelabel\{.*\})?(?: \\\\)?\s*$")


def typeset_rows(tex: str, slides: bool) -> list[str]:
    """The derivation rows as the .tex sets them, a row broken over lines joined again."""
    return [row for row, _ in _rows_and_overlays(tex, slides)]


def _rows_and_overlays(tex: str, slides: bool) -> list[tuple[str, int]]:
    """Each row with the overlay that reveals it (0 in the notes)."""
    rows: list[tuple[str, int]] = []
    for line in tex.splitlines():
        start = _ROW_START.search(line)
        if start is None:
            continue
        end = (_SLIDE_END if slides else _NOTES_END).search(start.group(2))
        body = start.group(2)[: end.start()] if end else start.group(2)
        if start.group(1) == " = ":
            overlays = re.findall(r"\\uncover<(\d+)->", line[: start.start()])
            rows.append((body, int(overlays[-1]) if overlays else 0))
        else:
            rows[-1] = (joined([rows[-1][0], body]), rows[-1][1])
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("deck", ["dnn_supplementary.yaml", "matrix_cookbook.yaml"])
def test_every_slide_line_is_the_notes_line_and_keeps_its_context(deck, tmp_path):
    """Built from the command line (the build checks the rows itself; this reads the .tex files the
    templates wrote): slides' lines without highlight are the notes' and handout's lines, in order;
    every highlighted slide line obeys (b) against the line before it."""
    out = tmp_path / "out"
    assert main(["build", str(ROOT / "examples" / deck), "-o", str(out), "--tex-only", "--force"]) == 0
    stem = Path(deck).stem
    slides = (out / f"{stem}.tex").read_text()
    notes = (out / f"{stem}-notes.tex").read_text()
    handout = (out / f"{stem}-handout.tex").read_text()
    shown = typeset_rows(slides, slides=True)
    plain = [without_highlight(line) for line in shown]
    assert plain == typeset_rows(notes, slides=False)
    assert shown == typeset_rows(handout, slides=True)  # the same lines; beamer's handout mode drops the red
    highlighted = 0
    overlays = [overlay for _, overlay in _rows_and_overlays(slides, slides=True)]
    for previous, line, overlay in zip(plain, shown[1:], overlays[1:], strict=False):
        pieces = split_highlight(line)
        if pieces is not None and overlay > 1:  # the first line of a slide follows its left side
            highlighted += 1
            assert outside_stands_in(pieces[0], pieces[2], previous), line
    assert highlighted >= 5


@pytest.mark.slow
def test_every_solution_line_of_the_exercise_sheet_obeys_the_invariants(tmp_path):
    out = tmp_path / "out"
    sheet = str(ROOT / "examples" / "exercise_sheet.yaml")
    code = main(["build", sheet, "-o", str(out), "--variants", "2", "--tex-only"])
    assert code == 0
    solutions = sorted(out.glob("*solutions*.tex"))
    assert solutions
    for path in solutions:
        rows = re.findall(r"&= (.*?) && \\rulelabel", path.read_text())  # the first line of each row
        assert rows and all(split_highlight(row) is None for row in rows), path.name


# -- generated derivations and decks ---------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(functions_of_x(max_leaves=6), st.sampled_from(["full", "normal", "brief"]))
def test_generated_derivations_obey_both_invariants(written, detail):
    """``derivation_rows`` checks the rows and raises PageCheckError on a violation."""
    if not written.expr.has(X) or written.undefined:
        return
    try:
        derivation = derive(written.text, "x")
    except PageCheckError:
        raise
    except DerivgenError:  # outside what the engine supports, or over a limit
        return
    rows, result = derivation_rows(derivation, detail)
    check_rows(rows)
    shown = [row.rhs for row in rows]
    # no line repeats the one before, and the last line is the boxed answer (e^{-3x}(-3) is not -3e^{-3x})
    assert all(before != after for before, after in itertools.pairwise(shown)), shown
    assert shown[-1].split(" = ")[-1] == result, (shown[-1], result)


@pytest.mark.slow
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(functions_of_x(max_leaves=5), min_size=2, max_size=4))
def test_generated_decks_build_with_checked_lines(tmp_path_factory, functions):
    """A random deck through the real build: the CLI exits 0 (no PageCheckError) and every
    slide line without its highlight is a notes line."""
    usable = [f for f in functions if f.expr.has(X) and not f.undefined]
    if not usable:
        return
    tmp = tmp_path_factory.mktemp("deck")
    frames = [{"title": f"Frame {i}", "derive": f.text, "detail": "full"} for i, f in enumerate(usable, 1)]
    deck = tmp / "generated.yaml"
    deck.write_text(yaml.safe_dump({"title": "Generated", "frames": frames}))
    out = tmp / "out"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = main(["build", str(deck), "-o", str(out), "--tex-only", "--force"])
    assert "bug in derivgen" not in errors.getvalue()
    if code != 0:  # an expression the engine refuses is a one-line error, not a page-check failure
        return
    slides = [without_highlight(line) for line in typeset_rows((out / "generated.tex").read_text(), slides=True)]
    notes = typeset_rows((out / "generated-notes.tex").read_text(), slides=False)
    assert set(slides) <= set(notes)
