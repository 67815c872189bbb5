"""Exercise sheets and solutions, variants, rosters — built with the real latexmk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

import derivgen.build as build_module
from derivgen.build import BuildError, build_sheet
from derivgen.cli import main
from derivgen.parser import parse
from derivgen.spec import SpecError, load_sheet
from tests.conftest import same_function
from tests.test_build import pdf_text

ROOT = Path(__file__).resolve().parent.parent

SMALL = """\
title: Practice
course: Calculus
number: 2
exercises:
  - title: First
    points: 3
    derive: (x**2 + a)**3
    wrt: x
    parameters:
      a: {integer: [1, 50]}
  - title: Two parts
    parts:
      - derive: x*sin(x)
        points: 1
      - derive: x.T*x
        wrt: x
        symbols:
          x: vector(n)
        points: 2
"""


def sheet(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "sheet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def squash(text: str) -> str:
    return "".join(text.split()).lower()


def test_sheet_has_no_solutions_and_solutions_have_the_steps(tmp_path):
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path), out)
    students = squash(pdf_text(out / "sheet.pdf"))
    solutions = squash(pdf_text(out / "sheet-solutions.pdf"))
    for words in ("chainrule", "productrule", "answer", "solution", "kroneckerdeltaproperty"):
        assert words not in students, words
        assert words in solutions, words
    assert "practice" in students and "3points" in students
    answers = json.loads((out / "sheet-answers.json").read_text())
    first = answers["sheet"]["exercises"][0]
    a = sympy.Integer(first["parameters"]["a"])
    x = sympy.Symbol("x", real=True)
    assert same_function(parse(first["answer"]), sympy.diff((x**2 + a) ** 3, x))


def test_variants_are_reproducible_and_distinct(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    build_sheet(sheet(tmp_path), first, variants=3, seed=5, tex_only=True)
    build_sheet(sheet(tmp_path), second, variants=3, seed=5, tex_only=True)
    for n in (1, 2, 3):
        for suffix in ("", "-solutions"):
            name = f"sheet-v{n}{suffix}.tex"
            assert (first / name).read_bytes() == (second / name).read_bytes()
    texts = {(first / f"sheet-v{n}.tex").read_text() for n in (1, 2, 3)}
    assert len(texts) == 3  # a ∈ [1, 50] drawn three times: distinct sheets
    assert "Variant 2" in (first / "sheet-v2.tex").read_text()
    other = tmp_path / "other"
    build_sheet(sheet(tmp_path), other, variants=1, seed=6, tex_only=True)
    assert (other / "sheet-v1.tex").read_bytes() != (first / "sheet-v1.tex").read_bytes()


@pytest.mark.slow
def test_parallel_variants_compile_and_unchanged_ones_are_skipped(tmp_path):
    out = tmp_path / "out"
    messages = []
    build_sheet(sheet(tmp_path), out, variants=4, seed=1, report=messages.append)
    assert all((out / f"sheet-v{n}{s}.pdf").exists() for n in range(1, 5) for s in ("", "-solutions"))
    assert "4 compiled" in messages[-1]
    build_sheet(sheet(tmp_path), out, variants=4, seed=1, report=messages.append)
    assert "0 compiled" in messages[-1]


def test_roster_names_the_variants(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n1,Ada Lovelace\n2,Émile Borel\n3,Ada Lovelace\n", encoding="utf-8")
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path), out, roster=roster, tex_only=True)
    names = sorted(path.name for path in out.glob("*.tex"))
    assert "sheet-ada-lovelace.tex" in names and "sheet-emile-borel.tex" in names
    assert "sheet-ada-lovelace-2.tex" in names  # two students of the same name get two files
    assert "Émile Borel" in (out / "sheet-emile-borel.tex").read_text()


def test_degenerate_draws_are_redrawn(tmp_path):
    text = "title: T\nexercises:\n  - derive: a*x\n    parameters:\n      a: {integer: [0, 1]}\n"
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, text), out, variants=6, tex_only=True)
    answers = json.loads((out / "sheet-answers.json").read_text())
    assert {variant["exercises"][0]["parameters"]["a"] for variant in answers.values()} == {"1"}


def test_division_by_zero_is_redrawn(tmp_path):
    text = "title: T\nexercises:\n  - derive: 1/(x - b) + x/b\n    parameters:\n      b: {integer: [0, 1]}\n"
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, text), out, variants=4, tex_only=True)
    answers = json.loads((out / "sheet-answers.json").read_text())
    assert {variant["exercises"][0]["parameters"]["b"] for variant in answers.values()} == {"1"}


def test_impossible_parameters_are_a_clear_error(tmp_path):
    text = "title: T\nexercises:\n  - derive: a*x\n    parameters:\n      a: {integer: [0, 0]}\n"
    with pytest.raises(SpecError, match=r"sheet.yaml:3: exercise 1: no usable parameters"):
        build_sheet(sheet(tmp_path, text), tmp_path / "out", tex_only=True)


def test_a_failing_variant_does_not_lose_the_others(tmp_path, monkeypatch):
    real = build_module._build_variant

    def flaky(job):
        if job.number == 2:
            raise BuildError("simulated TeX failure")
        return real(job)

    monkeypatch.setattr(build_module, "_build_variant", flaky)
    out = tmp_path / "out"
    with pytest.raises(BuildError, match=r"1 of 3 variant\(s\) failed: v2: simulated TeX failure"):
        build_sheet(sheet(tmp_path), out, variants=3, tex_only=True, jobs=1)
    assert (out / "sheet-v1.tex").exists() and (out / "sheet-v3.tex").exists()
    assert not (out / "sheet-v2.tex").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("title: T\nexercises:\n  - derive: x\n    parts: [{derive: x}]\n", "either derive"),
        ("title: T\nexercises:\n  - points: 2\n", "either derive"),
        ("title: T\nexercises:\n  - derive: x\n    space: '\\\\input{x}'\n", "length"),
        ("title: T\nexercises:\n  - derive: a*x\n    parameters:\n      a: {integer: [3, 1]}\n", "low end"),
        (
            "title: T\nexercises:\n  - derive: a*x\n    parameters:\n      a: {integer: [1, 3], choice: [1]}\n",
            "exactly one",
        ),
        ("title: T\nexercises:\n  - derive: x\n    pionts: 3\n", "did you mean 'points'"),
        ("title: T\nexercises: []\n", "at least 1"),
    ],
)
def test_exercise_file_errors(tmp_path, text, words):
    with pytest.raises(SpecError) as caught:
        load_sheet(sheet(tmp_path, text))
    assert words in caught.value.one_line()


def test_example_exercise_sheet_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["build", str(ROOT / "examples" / "exercise_sheet.yaml"), "-o", str(out), "--variants", "2", "--tex-only"]
    )
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "exercise_sheet-answers.json").read_text())
    assert len(data) == 2 and len(data["Variant 1"]["exercises"]) >= 6


def test_the_readme_exercise_example_builds(tmp_path):
    import re

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Exercise sheets and solutions") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, example), out, variants=2, tex_only=True)
    assert (out / "sheet-v2-solutions.tex").exists()


@pytest.mark.slow
def test_exercise_with_a_picture_of_the_drawn_function(tmp_path):
    text = (
        "title: T\nexercises:\n  - derive: x**2/a + 1\n    points: 1\n    parameters:\n      a: {integer: [2, 5]}\n"
        "    picture: {plot: x**2/a + 1, x: [-1, 4], x0: 1, dx: 1.5}\n"
    )
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, text), out, variants=1)
    words = squash(pdf_text(out / "sheet-v1.pdf"))
    assert "secant" in words and "tangentatx0" in words
    assert "pgfplots" in (out / "sheet-v1.tex").read_text()
