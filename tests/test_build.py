"""Building decks with the real latexmk, reading the PDFs back with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import derivgen.documents.build as build_module
from derivgen.cli import main
from derivgen.documents.build import BuildError, build_deck
from derivgen.documents.compile import compile_tex
from derivgen.input.spec import SpecError

from .pdf_pages import outside_the_page, smallest_text

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "dnn_supplementary.yaml"

SMALL = """\
title: Small deck
author: A. Lecturer
frames:
  - title: Chain rule
    derive: (x**2 + 2)**3
    wrt: x
  - kind: rules
    title: The rules
    rules: [product, quotient]
"""


def pdf_text(path: Path) -> str:
    """The PDF's text in reading order (labels that wrap stay in one piece)."""
    done = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True)
    # big brackets come out as control characters: drop them
    return "".join(char for char in done.stdout if char.isprintable() or char in "\n\f")


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def deck(tmp_path: Path, text: str, name: str = "deck") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.slow
def test_small_deck_all_formats(tmp_path):
    out = tmp_path / "out"
    result = build_deck(deck(tmp_path, SMALL), out)
    names = sorted(path.name for path in result.outputs)
    assert names == sorted(
        f"deck{suffix}{ext}" for suffix in ("", "-handout", "-handout-2up", "-notes") for ext in (".pdf", ".tex")
    )
    slides, handout, notes = out / "deck.pdf", out / "deck-handout.pdf", out / "deck-notes.pdf"
    assert pages(handout) == 3  # title, chain rule, rules: one page per frame
    assert pages(slides) > pages(handout)  # overlays
    assert pages(out / "deck-handout-2up.pdf") == 2
    for pdf in (slides, handout, notes):
        text = pdf_text(pdf)
        assert "chain rule" in text and "Quotient rule" in text
        assert "simplify" in text
    assert not list(out.glob("*.part"))


@pytest.mark.slow
def test_seed_deck_builds_and_fits(tmp_path):
    out = tmp_path / "out"
    build_deck(SEED, out)
    slides = "".join(pdf_text(out / "dnn_supplementary.pdf").split()).lower()
    for words in (
        "DNNsupplementaryslides",
        "chainrule",
        "productrule",
        "quotientrule",
        "sumrule",
        "g′(u)=3u2",
        "multivariatechainrule",  # seed S6: h(f1(x1, x2), f2(x1, x2))
        "collectthepartialderivatives",  # the gradient as a row vector
        "=22x+y2·2y",  # seed S5: ∂h/∂y = 2(2x + y²)·2y (pdftotext drops the big brackets)
        "kroneckerdeltaproperty",  # seed S9 and S10, in index notation
        "requiresmtobesymmetric",
        "=2xtm",  # ∇_x xᵀMx = 2xᵀM (the last line of the quadratic-form slides)
        "backtomatrixform",
        "definitionofthederivative",  # S1: x² from the limit definition
        "cancelthecommonfactor",
        "tangentatx0",
    ):
        assert words.lower() in slides, words
    handout = out / "dnn_supplementary-handout.pdf"
    assert pages(out / "dnn_supplementary.pdf") > pages(handout)
    # no line sticks out of its frame by more than 5pt
    for tex in out.glob("*.tex"):
        log = compile_tex(tex.read_text(), tex.stem).log
        too_wide = [float(points) for points in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide", log)]
        assert all(points <= 5 for points in too_wide), (tex.name, too_wide)


def test_handout_has_no_highlight_but_slides_do(tmp_path):
    out = tmp_path / "out"
    build_deck(deck(tmp_path, SMALL), out, formats=("slides", "handout"), tex_only=True)
    assert r"\alert<" in (out / "deck.tex").read_text()
    assert "handout" in (out / "deck-handout.tex").read_text().splitlines()[0]


HOSTILE = r"\input{/etc/passwd} \write18{touch PWNED} ^^5c % & # _ $ ~ <> |"
HOSTILE_WRITTEN = HOSTILE.replace("$", r"\$")  # outside maths, a dollar is written \$


def test_hostile_title_is_typeset_literally(tmp_path):
    out = tmp_path / "out"
    text = f"title: '{HOSTILE_WRITTEN}'\nframes:\n  - title: '{HOSTILE_WRITTEN}'\n    text: '{HOSTILE_WRITTEN}'\n"
    build_deck(deck(tmp_path, text), out, formats=("slides",))
    pdf = " ".join(pdf_text(out / "deck.pdf").split())
    assert HOSTILE in pdf
    assert "root:" not in pdf
    assert not list(tmp_path.rglob("PWNED*")) and not Path("PWNED").exists()


def test_raw_latex_cannot_read_outside_the_build_folder(tmp_path):
    out = tmp_path / "out"
    text = "title: T\nframes:\n  - kind: text\n    title: Sneaky\n    latex: '\\input{/etc/passwd}'\n"
    with pytest.raises(BuildError) as caught:
        build_deck(deck(tmp_path, text), out, formats=("slides",), trust_latex=True)
    message = caught.value.one_line()
    assert "frame 1 ('Sneaky')" in message and "root:" not in message
    assert not (out / "deck.pdf").exists()


def test_raw_latex_cannot_run_commands(tmp_path):
    marker = tmp_path / "ran"
    text = f"title: T\nframes:\n  - kind: text\n    title: W\n    latex: '\\immediate\\write18{{touch {marker}}} ok'\n"
    build_deck(deck(tmp_path, text), tmp_path / "out", formats=("notes",), trust_latex=True)
    assert not marker.exists()


@pytest.mark.slow
def test_endless_macro_loop_is_stopped(tmp_path):
    text = "title: T\nframes:\n  - kind: text\n    title: Loop\n    latex: '\\def\\x{\\x}\\x'\n"
    with pytest.raises(BuildError, match="did not finish within 3 s"):
        build_deck(deck(tmp_path, text), tmp_path / "out", formats=("notes",), timeout=3, trust_latex=True)


def test_tex_error_names_frame(tmp_path):
    text = (
        "title: T\nframes:\n  - {title: Fine, derive: x**2}\n"
        "  - kind: text\n    title: Broken\n    latex: 'before \\undefinedmacro after'\n"
    )
    with pytest.raises(BuildError) as caught:
        build_deck(deck(tmp_path, text), tmp_path / "out", formats=("slides",), trust_latex=True)
    message = str(caught.value)
    assert "Undefined control sequence" in message and "frame 2 ('Broken')" in message
    assert message.count("\n") <= 1


def test_failed_build_keeps_the_previous_pdf(tmp_path):
    out = tmp_path / "out"
    path = deck(tmp_path, SMALL)
    build_deck(path, out, formats=("slides",))
    before = (out / "deck.pdf").read_bytes()
    path.write_text(SMALL + "  - kind: text\n    title: Bad\n    latex: '\\undefinedmacro'\n")
    with pytest.raises(BuildError):
        build_deck(path, out, formats=("slides",), trust_latex=True)
    assert (out / "deck.pdf").read_bytes() == before
    assert "Bad" not in (out / "deck.tex").read_text()  # the .tex still matches the PDF
    assert not list(out.glob(".*part"))


def test_unchanged_deck_is_not_rebuilt(tmp_path):
    out = tmp_path / "out"
    path = deck(tmp_path, SMALL)
    assert not build_deck(path, out, formats=("slides",)).skipped
    assert build_deck(path, out, formats=("slides",)).skipped
    path.write_text(SMALL.replace("Small deck", "Changed deck"))
    assert not build_deck(path, out, formats=("slides",)).skipped
    assert "Changed deck" in pdf_text(out / "deck.pdf")
    (out / "deck.pdf").unlink()
    assert not build_deck(path, out, formats=("slides",)).skipped  # a missing output is rebuilt


def _upgrade_sympy(monkeypatch, tmp_path):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "999.0" if name == "sympy" else real(name))


def _bump_derivgen_version(monkeypatch, tmp_path):
    monkeypatch.setattr(build_module, "__version__", "999.0")


def _edit_derivgen_code(monkeypatch, tmp_path):
    rules = tmp_path / "package" / "calculus" / "rules" / "scalar.py"
    rules.write_text(rules.read_text() + "\n# changed\n")


def _edit_a_template(monkeypatch, tmp_path):
    template = tmp_path / "templates" / "beamer" / "rules.tex.j2"
    template.write_text(template.read_text().replace("rules", "rules, changed", 1))


@pytest.mark.parametrize("change", [_upgrade_sympy, _bump_derivgen_version, _edit_derivgen_code, _edit_a_template])
def test_cached_deck_is_rebuilt_when_what_shapes_it_changes(tmp_path, monkeypatch, change):
    templates = tmp_path / "templates" / "beamer"
    templates.mkdir(parents=True)
    (templates / "rules.tex.j2").write_text("\\begin{frame}{\\VAR{frame.title}} rules \\end{frame}\n")
    # a copy of the package that the build takes for derivgen's own code, to edit it safely
    package = tmp_path / "package"
    shutil.copytree(Path(build_module.__file__).parent.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(build_module, "__file__", str(package / "documents" / "build.py"))
    path, out = deck(tmp_path, SMALL), tmp_path / "out"

    def build():
        return build_deck(path, out, formats=("slides",), templates=tmp_path / "templates", tex_only=True)

    assert not build().skipped
    assert build().skipped  # nothing changed: the cache is used
    change(monkeypatch, tmp_path)
    assert not build().skipped
    assert build().skipped


def test_user_templates_override_builtin_ones(tmp_path):
    templates = tmp_path / "templates" / "beamer"
    templates.mkdir(parents=True)
    (templates / "rules.tex.j2").write_text(
        "\\begin{frame}{\\VAR{frame.title}}\nOVERRIDDEN \\VAR{frame.rules|length} rules\n\\end{frame}\n"
    )
    out = tmp_path / "out"
    build_deck(deck(tmp_path, SMALL), out, formats=("slides",), templates=tmp_path / "templates")
    assert "OVERRIDDEN 2 rules" in pdf_text(out / "deck.pdf")


def test_tex_only_writes_no_pdf(tmp_path):
    out = tmp_path / "out"
    build_deck(deck(tmp_path, SMALL), out, tex_only=True)
    assert sorted(path.suffix for path in out.iterdir() if not path.name.startswith(".")) == [".tex"] * 4


def test_derivation_error_names_the_frame(tmp_path):
    text = "title: T\nframes:\n  - title: Good\n    derive: x**2\n  - title: Evil\n    derive: eval(x)\n"
    with pytest.raises(SpecError) as caught:
        build_deck(deck(tmp_path, text), tmp_path / "out", tex_only=True)
    # file:line:column of the culprit inside the deck, then the frame
    assert caught.value.one_line().startswith(f"{tmp_path / 'deck.yaml'}:6:13: frame 2 ('Evil'): column 1")


def test_unknown_rule_names_the_line(tmp_path):
    text = "title: T\nframes:\n  - kind: rules\n    title: R\n    rules:\n      - sum\n      - quotent\n"
    with pytest.raises(SpecError, match=r"deck.yaml:7: unknown rule 'quotent'; did you mean 'quotient'"):
        build_deck(deck(tmp_path, text), tmp_path / "out", tex_only=True)


def test_substitution_style_needs_an_outer_chain(tmp_path):
    text = "title: T\nframes:\n  - {title: S, derive: x*sin(x), style: substitution}\n"
    with pytest.raises(SpecError, match="substitution style"):
        build_deck(deck(tmp_path, text), tmp_path / "out", tex_only=True)


def test_cli_build_and_errors(tmp_path, capsys):
    out = tmp_path / "out"
    path = deck(tmp_path, SMALL)
    assert main(["build", str(path), "-o", str(out), "--format", "notes"]) == 0
    assert (out / "deck-notes.pdf").exists() and not (out / "deck.pdf").exists()
    assert "wrote" in capsys.readouterr().out
    path.write_text("title: T\nframes:\n  - title: X\n    derive: x\n    wrtt: x\n")
    assert main(["build", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "deck.yaml:5: unknown key 'wrtt'" in err and "Traceback" not in err


def test_long_derivation_is_split_over_frames(tmp_path):
    text = "title: T\nrows_per_frame: 2\nframes:\n  - {title: Long, derive: (x**2 + 2)**3, detail: full}\n"
    out = tmp_path / "out"
    build_deck(deck(tmp_path, text), out, formats=("handout",))
    text_pdf = pdf_text(out / "deck-handout.pdf")
    frames = int(re.search(r"Long \(1/(\d+)\)", text_pdf).group(1))
    assert frames >= 2 and f"Long ({frames}/{frames})" in text_pdf


def test_the_readme_deck_example_builds(tmp_path):
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"### The deck file\n\n```yaml\n(.*?)```", readme, re.DOTALL).group(1)
    out = tmp_path / "out"
    build_deck(deck(tmp_path, example), out, formats=("notes",))
    text = " ".join(pdf_text(out / "deck-notes.pdf").split())
    assert "A paragraph of text." in text and "Product rule" in text


@pytest.mark.slow
def test_matrix_cookbook_example_builds(tmp_path):
    out = tmp_path / "out"
    build_deck(ROOT / "examples" / "matrix_cookbook.yaml", out, formats=("handout",))
    handout = out / "matrix_cookbook-handout.pdf"
    # readable from the back of the room, nothing off the page (the rows no break fits are warned about)
    assert smallest_text(handout) >= 0.7 and outside_the_page(handout) == []
    text = "".join(pdf_text(handout).split()).lower()
    for words in (
        "logdeterminant",
        "jacobi’sformula",
        "softmaxcross-entropy",
        "definitionofsoftmax",
        "requirestheentriesofytosumtoone",
        "logisticregression",
    ):
        assert words in text, words


def test_matrix_frame_errors_name_the_frame(tmp_path):
    text = (
        "title: T\nframes:\n  - title: Bad shapes\n    derive: A*x\n    wrt: x\n    symbols:\n"
        "      A: matrix(n, m)\n      x: vector(n)\n"
    )
    with pytest.raises(SpecError) as caught:
        build_deck(deck(tmp_path, text), tmp_path / "out", tex_only=True)
    assert "frame 1 ('Bad shapes')" in caught.value.one_line() and "cannot multiply" in caught.value.one_line()


@pytest.mark.slow
def test_plot_frames_draw_even_where_f_is_undefined(tmp_path):
    text = (
        "title: Plots\nframes:\n"
        "  - {title: Slope, plot: x**2/4 + 1, x: [-1, 4], x0: 1, dx: 1.5}\n"
        "  - {title: Log, plot: log(x), x: [-2, 5], x0: 1, dx: 2, show: [secant, tangent, derivative]}\n"
        "  - {title: Pole, plot: 1/x, x: [-3, 3], show: [derivative]}\n"
    )
    out = tmp_path / "out"
    build_deck(deck(tmp_path, text), out, formats=("handout",))
    words = "".join(pdf_text(out / "deck-handout.pdf").split()).lower()
    for expected in ("secant", "tangentatx0", "∆x", "∆y", "f(x)=", "f′(x)="):
        assert expected in words, expected
    assert pages(out / "deck-handout.pdf") == 4


def test_plot_frame_errors_name_the_frame(tmp_path):
    text = "title: T\nframes:\n  - {title: Bad point, plot: log(x), x: [-2, 5], x0: -1, dx: 1}\n"
    with pytest.raises(SpecError, match=r"frame 1 \('Bad point'\): log\(x\) is not defined at x0 = -1"):
        build_deck(deck(tmp_path, text), tmp_path / "out", tex_only=True)
    text = "title: T\nframes:\n  - {title: Range, plot: x, x: [3, 1]}\n"
    with pytest.raises(SpecError, match="low to high"):
        build_deck(deck(tmp_path, text), tmp_path / "out", tex_only=True)
