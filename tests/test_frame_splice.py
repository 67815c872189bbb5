"""Changed frames typeset alone and spliced into the last PDF (derivgen/documents/frame_splice.py): the
pages are those a whole run of the new .tex gives, pixel for pixel, or the whole document is compiled."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import derivgen.documents.compile as compile_module
from derivgen.documents.build import build_deck
from derivgen.documents.compile import compile_tex
from derivgen.documents.frame_splice import _plan

needs_tex = pytest.mark.skipif(bool(compile_module.tex_tools_missing()), reason="TeX Live is not installed")

DECK = """title: Splicing
frames:
  - title: Sum
    derive: x**3 + sin(x)
  - title: Rules
    kind: rules
    rules: [sum, product]
  - title: Edited
    derive: {edited}
  - title: Product
    derive: x**2 * exp(x)
  - title: Chain
    derive: cos(x**2)
"""


def pages_as_pixels(pdf: bytes, folder: Path) -> list[bytes]:
    """Every page rendered at 24 dpi (PPM: the raw pixels)."""
    (folder / "look.pdf").write_bytes(pdf)
    for old in folder.glob("page-*.ppm"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "24", str(folder / "look.pdf"), str(folder / "page")], check=True)
    return [path.read_bytes() for path in sorted(folder.glob("page-*.ppm"))]


def page_texts(pdf: bytes, folder: Path) -> list[str]:
    (folder / "read.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(folder / "read.pdf"), "-"], capture_output=True, text=True)
    return text.stdout.split("\f")


def assert_as_a_whole_run(out: Path, stem: str, folder: Path) -> None:
    """The PDF in ``out`` against its .tex compiled from scratch, without any kept file."""
    whole = compile_tex((out / f"{stem}.tex").read_text(), timeout=120).pdf
    built = (out / f"{stem}.pdf").read_bytes()
    assert page_texts(built, folder) == page_texts(whole, folder)
    assert pages_as_pixels(built, folder) == pages_as_pixels(whole, folder)


@needs_tex
def test_an_edited_frame_is_typeset_alone_and_the_pages_are_those_of_a_whole_run(tmp_path):
    deck, out = tmp_path / "deck.yaml", tmp_path / "out"
    deck.write_text(DECK.format(edited="x**2 * log(x)"))
    first = build_deck(deck, out, formats=("slides", "handout"))
    assert first.typeset_alone == {}
    pages = len(page_texts((out / "deck.pdf").read_bytes(), tmp_path))
    # the same steps with other numbers: the same lines, so the same pages
    deck.write_text(DECK.format(edited="x**5 * log(x)"))
    second = build_deck(deck, out, formats=("slides", "handout"))
    assert second.derived == (3,)
    assert second.typeset_alone == {"slides": (3,), "handout": (3,)}
    assert "x^{5}" in (out / "deck.tex").read_text()
    assert any("5x4" in text.replace(" ", "") for text in page_texts((out / "deck.pdf").read_bytes(), tmp_path))
    assert len(page_texts((out / "deck.pdf").read_bytes(), tmp_path)) == pages
    assert_as_a_whole_run(out, "deck", tmp_path)
    assert_as_a_whole_run(out, "deck-handout", tmp_path)
    # again after a splice: the kept folder holds the spliced PDF and the .tex it shows
    deck.write_text(DECK.format(edited="x**5 * log(x)").replace("cos(x**2)", "cos(x**3)"))
    third = build_deck(deck, out, formats=("slides",))
    assert third.typeset_alone == {"slides": (5,)}
    assert_as_a_whole_run(out, "deck", tmp_path)


@needs_tex
def test_a_frame_with_more_lines_moves_the_pages_and_the_whole_document_is_compiled(tmp_path):
    deck, out = tmp_path / "deck.yaml", tmp_path / "out"
    deck.write_text(DECK.format(edited="x**2"))
    build_deck(deck, out, formats=("slides",))
    deck.write_text(DECK.format(edited="x**2 * log(x) * exp(x)"))
    result = build_deck(deck, out, formats=("slides",))
    assert result.typeset_alone == {} and result.passes["slides"] >= 1
    assert_as_a_whole_run(out, "deck", tmp_path)


@needs_tex
def test_no_splice_for_two_frames_a_sheet_or_an_article(tmp_path):
    deck, out = tmp_path / "deck.yaml", tmp_path / "out"
    deck.write_text(DECK.format(edited="x**2 * log(x)"))
    build_deck(deck, out, formats=("handout", "handout-2up", "notes"))
    deck.write_text(DECK.format(edited="x**7 * log(x)"))
    result = build_deck(deck, out, formats=("handout", "handout-2up", "notes"))
    # handout-2up sets two frames on a sheet (pgfpages); the notes are an article without frames
    assert set(result.compiled) == {"handout", "handout-2up", "notes"}
    assert result.typeset_alone == {"handout": (3,)}
    assert_as_a_whole_run(out, "deck-handout-2up", tmp_path)
    assert_as_a_whole_run(out, "deck-notes", tmp_path)


def _kept(tmp_path: Path, old: str, navigation: str) -> Path:
    folder = tmp_path / "kept"
    folder.mkdir(parents=True)
    (folder / "document.tex").write_text("\\input{derivgen-guard.tex}" + old)
    (folder / "document.nav").write_text(navigation)
    (folder / "document.pdf").write_bytes(b"%PDF")
    (folder / "document.aux").write_text("")
    return folder


TEX = (
    "\\documentclass{beamer}\n{preamble}\\begin{document}\n\\begin{frame}\\titlepage\\end{frame}\n"
    "\n%% derivgen-frame 1\n\\begin{frame}{A}a\\end{frame}\n"
    "\n%% derivgen-frame 2\n\\begin{frame}{B}{b}\\end{frame}\n\\begin{frame}{B}b\\end{frame}\n"
    "\n%% derivgen-frame 3\n\\begin{frame}{C}c\\end{frame}\n"
    "\n%% derivgen-frame 4\n\\begin{frame}{D}d\\end{frame}\n\n\\end{document}\n"
)
SPANS = [(1, 1), (2, 3), (4, 4), (5, 7), (8, 8), (9, 9)]  # the title page, A, B (two frames), C, D
NAV = "".join(f"\\headcommand {{\\beamer@framepages {{{first}}}{{{last}}}}}\n" for first, last in SPANS)


def test_the_plan_finds_the_changed_frames_and_their_old_pages(tmp_path):
    folder = _kept(tmp_path, TEX.replace("{preamble}", ""), NAV)
    plan = _plan(TEX.replace("{preamble}", "").replace("{b}\\end", "{bb}\\end"), folder)
    assert plan is not None
    _, changed, spans = plan
    assert changed == [2] and spans == [(4, 7)]


@pytest.mark.parametrize(
    "edit",
    [
        lambda tex: tex.replace("{preamble}", "\\usetheme{Warsaw}\n"),  # the old one has no theme
        lambda tex: tex.replace("{C}c", "{C}\\section{S}c"),  # a section: state for later frames
        lambda tex: tex.replace("{C}c", "{C}\\label{here}c"),
        lambda tex: tex.replace("{C}c", "{C}\\begin{equation}c\\end{equation}"),
        lambda tex: tex.replace("{C}c\\end{frame}", "{C}c\\end{frame}\\begin{frame}{C2}\\end{frame}"),  # a frame more
        lambda tex: tex.replace("%% derivgen-frame 4", "%% derivgen-frame 5"),  # another frame
        lambda tex: tex.replace("{A}a", "{A}x").replace("{C}c", "{C}x").replace("{D}d", "{D}x"),  # most frames
        lambda tex: tex.replace("{preamble}", ""),  # nothing changed
    ],
)
def test_the_whole_document_is_compiled_where_a_splice_could_differ(tmp_path, edit):
    folder = _kept(tmp_path, TEX.replace("{preamble}", ""), NAV)
    assert _plan(edit(TEX), folder) is None


def test_no_splice_with_a_theme_pgfpages_or_a_navigation_file_of_another_run(tmp_path):
    for preamble in ("\\usetheme{Warsaw}\n", "\\usepackage{pgfpages}\n"):
        folder = _kept(tmp_path / preamble[5:10], TEX.replace("{preamble}", preamble), NAV)
        assert _plan(TEX.replace("{preamble}", preamble).replace("{A}a", "{A}x"), folder) is None
    another_run = NAV + "\\headcommand {\\beamer@framepages {10}{10}}\n"
    folder = _kept(tmp_path / "nav", TEX.replace("{preamble}", ""), another_run)
    assert _plan(TEX.replace("{preamble}", "").replace("{A}a", "{A}x"), folder) is None


@needs_tex
def test_a_deck_built_with_trusted_latex_is_always_compiled_whole(tmp_path):
    deck, out = tmp_path / "deck.yaml", tmp_path / "out"
    deck.write_text(DECK.format(edited="x**2 * log(x)"))
    build_deck(deck, out, formats=("slides",), trust_latex=True)
    deck.write_text(DECK.format(edited="x**4 * log(x)"))
    result = build_deck(deck, out, formats=("slides",), trust_latex=True)
    assert result.derived == (3,) and result.typeset_alone == {} and result.compiled == ("slides",)
