"""Exercise sheets and solutions, variants, rosters — built with the real latexmk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

import derivgen.documents.build as build_module
from derivgen.cli import main
from derivgen.documents.build import BuildError, build_sheet
from derivgen.errors import DerivgenError
from derivgen.input.parser import parse
from derivgen.input.spec import SpecError, load_sheet
from tests.conftest import same_function
from tests.test_build import pages, pdf_text

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


def roster(tmp_path: Path, *names: str, file: str = "roster.csv", ids: list[str] | None = None) -> Path:
    """A roster CSV: a name column, and an id column when ``ids`` are given."""
    path = tmp_path / file
    if ids is None:
        path.write_text("name\n" + "".join(f"{name}\n" for name in names), encoding="utf-8")
    else:
        path.write_text(
            "id,name\n" + "".join(f"{i},{name}\n" for i, name in zip(ids, names, strict=True)), encoding="utf-8"
        )
    return path


def header_name(tex: Path) -> str:
    """The variant or student name a generated sheet prints in its first-page header (its third argument)."""
    line = next(line for line in tex.read_text(encoding="utf-8").splitlines() if line.startswith("\\firstpageheader"))
    groups, depth, current = [], 0, ""
    for char in line[len("\\firstpageheader") :]:
        if char == "{" and depth == 0:
            depth, current = 1, ""
        elif char == "}" and depth == 1:
            depth = 0
            groups.append(current)
        else:
            depth += {"{": 1, "}": -1}.get(char, 0)
            current += char
    return groups[2].replace("{-}", "-")


ONE_PARAMETER = "title: T\nexercises:\n  - derive: x**a\n    parameters:\n      a: {integer: [2, 99]}\n"


def test_roster_names_the_variants(tmp_path):
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path), out, roster=roster(tmp_path, "Ada Lovelace", "Émile Borel"), tex_only=True)
    names = sorted(path.name for path in out.glob("*.tex"))
    assert "sheet--ada-lovelace.tex" in names and "sheet--emile-borel--solutions.tex" in names
    assert header_name(out / "sheet--emile-borel.tex") == "Émile Borel"


def test_roster_files_never_overwrite_each_other_nor_the_class_files(tmp_path):
    # "Ann Solutions" once wrote Ann's solutions file; "Solutions", "Answers" and "V1" aim at the
    # class-wide files and at a variant's; every file must keep its own sheet
    out = tmp_path / "out"
    students = ["Ann", "Ann Solutions", "Solutions", "Answers", "V1", "V1 Solutions"]
    build_sheet(sheet(tmp_path), out, tex_only=True)
    build_sheet(sheet(tmp_path), out, variants=1, tex_only=True)
    build_sheet(sheet(tmp_path), out, roster=roster(tmp_path, *students), tex_only=True)
    written = {path.name: header_name(path) for path in out.glob("*.tex")}
    assert len(written) == 2 * (1 + 1 + len(students))  # no file was written twice
    owners = sorted(written.values())
    assert owners == sorted(["", "", "Variant 1", "Variant 1", *students, *students])
    for owner in set(owners):  # each one's pair: a sheet and a solution sheet
        tex = [path.read_text() for path in out.glob("*.tex") if header_name(path) == owner]
        assert sorted("answers]{exam}" in text for text in tex) == [False, True], owner
    # one answer key per build: the roster's does not replace the sheet's nor the variants'
    assert sorted(json.loads((out / "sheet-answers.json").read_text())) == ["sheet"]
    assert sorted(json.loads((out / "sheet-variants-answers.json").read_text())) == ["Variant 1"]
    answers = json.loads((out / "sheet-roster-roster-answers.json").read_text())
    assert sorted(answers) == sorted(students)


def roster_build(tmp_path: Path, students: Path, **options) -> tuple[dict[str, str], dict]:
    """Build the roster's sheets (.tex only): the header of each student's sheet by file name, and the answer key."""
    tmp_path.mkdir(exist_ok=True)
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, ONE_PARAMETER), out, roster=students, tex_only=True, **options)
    headers = {path.name: header_name(path) for path in out.glob("sheet--*.tex")}
    (key,) = out.glob("*-answers.json")
    return headers, json.loads(key.read_text())


def test_namesakes_get_a_sheet_and_an_answer_key_entry_each(tmp_path):
    # one name twice once gave two sheets but one answer-key entry: one student graded by the other's answers
    headers, answers = roster_build(tmp_path, roster(tmp_path, "Ada Lovelace", "Bob", "Ada  Lovelace", "Ada Lovelace"))
    assert headers == {
        "sheet--ada-lovelace.tex": "Ada Lovelace (roster line 2)",
        "sheet--ada-lovelace--solutions.tex": "Ada Lovelace (roster line 2)",
        "sheet--ada-lovelace-2.tex": "Ada Lovelace (roster line 4)",
        "sheet--ada-lovelace-2--solutions.tex": "Ada Lovelace (roster line 4)",
        "sheet--ada-lovelace-3.tex": "Ada Lovelace (roster line 5)",
        "sheet--ada-lovelace-3--solutions.tex": "Ada Lovelace (roster line 5)",
        "sheet--bob.tex": "Bob",
        "sheet--bob--solutions.tex": "Bob",
    }
    assert sorted(answers) == [
        "Ada Lovelace (roster line 2)",
        "Ada Lovelace (roster line 4)",
        "Ada Lovelace (roster line 5)",
        "Bob",
    ]
    assert [answers[key]["sheet"] for key in sorted(answers)] == [
        "sheet--ada-lovelace",
        "sheet--ada-lovelace-2",
        "sheet--ada-lovelace-3",
        "sheet--bob",
    ]
    drawn = [answers[key]["exercises"][0]["parameters"]["a"] for key in sorted(answers)[:3]]
    assert len(set(drawn)) == 3  # the namesakes' numbers are drawn apart too


def test_names_that_share_a_slug_get_distinct_files(tmp_path):
    headers, answers = roster_build(tmp_path, roster(tmp_path, "Ann Marie", "Émile", "Ann-Marie", "Emile"))
    assert {name: header for name, header in headers.items() if "solutions" not in name} == {
        "sheet--ann-marie.tex": "Ann Marie",
        "sheet--emile.tex": "Émile",
        "sheet--ann-marie-2.tex": "Ann-Marie (roster line 4)",
        "sheet--emile-2.tex": "Emile (roster line 5)",
    }
    assert sorted(answers) == ["Ann Marie", "Ann-Marie", "Emile", "Émile"]


def test_the_id_column_names_files_headers_and_answer_keys(tmp_path):
    students = roster(tmp_path, "Ada", "Ada", "Bob", ids=["4711", "4712", "s-0815"])
    headers, answers = roster_build(tmp_path, students)
    assert {name: header for name, header in headers.items() if "solutions" not in name} == {
        "sheet--ada-4711.tex": "Ada (ID 4711)",
        "sheet--ada-4712.tex": "Ada (ID 4712)",
        "sheet--bob-s-0815.tex": "Bob (ID s-0815)",
    }
    assert sorted(answers) == ["4711", "4712", "s-0815"]
    assert answers["4712"]["name"] == "Ada" and answers["4712"]["id"] == "4712" and answers["4712"]["roster_line"] == 3
    assert answers["4711"]["exercises"] != answers["4712"]["exercises"]
    # a unique name keeps the numbers it had without the id column: an ID added later redraws nobody
    _, before = roster_build(tmp_path / "before", roster(tmp_path, "Ada", "Bob", file="names.csv"))
    assert before["Bob"]["exercises"] == answers["s-0815"]["exercises"]


def test_a_roster_saved_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Name,ID\r\nAda Lovelace,1\r\nBob,2\r\n".encode("utf-8-sig"))
    headers, answers = roster_build(tmp_path, path)
    assert sorted(headers) == [
        "sheet--ada-lovelace-1--solutions.tex",
        "sheet--ada-lovelace-1.tex",
        "sheet--bob-2--solutions.tex",
        "sheet--bob-2.tex",
    ]
    assert sorted(answers) == ["1", "2"]
    path.write_bytes("Ada Lovelace\nBob\n".encode("utf-8-sig"))  # no header: names in the first column
    headers, answers = roster_build(tmp_path / "no-header", path)
    assert sorted(answers) == ["Ada Lovelace", "Bob"]


def test_names_the_fonts_lack_get_distinct_readable_headers(tmp_path):
    headers, answers = roster_build(tmp_path, roster(tmp_path, "李明", "王芳", "Nguyễn Thị Ánh"))
    sheets = {name: header for name, header in headers.items() if "solutions" not in name}
    assert sheets == {
        "sheet--李明.tex": "?? (roster line 2)",
        "sheet--王芳.tex": "?? (roster line 3)",
        "sheet--nguyen-thi-anh.tex": "Nguyen Thi Ánh (roster line 4)",
    }
    assert sorted(answers) == ["Nguyễn Thị Ánh", "李明", "王芳"]  # the key keeps the name as written


@pytest.mark.slow
def test_names_the_fonts_lack_compile(tmp_path):
    """ư, ǚ, a control character and CJK names never stop TeX (they once did)."""
    out = tmp_path / "out"
    students = roster(tmp_path, "李明", "Lư ǚ\x01", ids=["1", "2"])
    build_sheet(sheet(tmp_path, ONE_PARAMETER), out, roster=students, jobs=2)
    for stem in ("sheet--李明-1", "sheet--lu-u-2"):
        assert pages(out / f"{stem}.pdf") == 1 and pages(out / f"{stem}--solutions.pdf") == 1
    assert "?? (ID 1)" in pdf_text(out / "sheet--李明-1.pdf")
    assert "Lu u? (ID 2)" in pdf_text(out / "sheet--lu-u-2.pdf")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name\nBob\n???\n", ["roster.csv:3", "'???'", "no letter or digit"]),
        ("id,name\n7,Ada\n8,Bob\n7,Cy\n", ["roster.csv:4", "'7'", "line 2"]),
        ("id,name\n7,Ada\n8,\n", ["roster.csv:3", "'8'", "no name"]),
        ("id,student\n7,Ada\n", ["roster.csv:1", "no 'name' column"]),
        ("id,name\nBob,Ada\n,Bob\n", ["roster.csv:3", "'Bob'", "line 2"]),  # an ID that is another's name
    ],
)
def test_roster_errors_name_the_line(tmp_path, text, words):
    out = tmp_path / "out"
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DerivgenError) as caught:
        build_sheet(sheet(tmp_path), out, roster=path, tex_only=True)
    message = caught.value.one_line()
    assert "\n" not in message and all(word in message for word in words), message
    assert not out.exists()


def test_a_student_keeps_their_sheet_when_others_join_or_move(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    build_sheet(sheet(tmp_path), before, seed=3, roster=roster(tmp_path, "Ada", "Bob", "Cy"), tex_only=True)
    others = roster(tmp_path, "Cy", "Ada", "Newcomer", "Bob", file="new.csv")
    build_sheet(sheet(tmp_path), after, seed=3, roster=others, tex_only=True)
    old, new = (
        {entry["name"]: entry["exercises"] for entry in json.loads(path.read_text()).values()}
        for path in (before / "sheet-roster-roster-answers.json", after / "sheet-roster-new-answers.json")
    )
    for name in ("Ada", "Bob", "Cy"):
        assert new[name] == old[name], name
    for path in before.glob("sheet--*.tex"):
        assert (after / path.name).read_bytes() == path.read_bytes(), path.name
    drawn = {new[name][0]["parameters"]["a"] for name in new}
    assert len(drawn) > 1  # the students do get different numbers


def test_degenerate_draws_are_redrawn(tmp_path):
    text = "title: T\nexercises:\n  - derive: a*x\n    parameters:\n      a: {integer: [0, 1]}\n"
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, text), out, variants=6, tex_only=True)
    answers = json.loads((out / "sheet-variants-answers.json").read_text())
    assert {variant["exercises"][0]["parameters"]["a"] for variant in answers.values()} == {"1"}


def test_division_by_zero_is_redrawn(tmp_path):
    text = "title: T\nexercises:\n  - derive: 1/(x - b) + x/b\n    parameters:\n      b: {integer: [0, 1]}\n"
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, text), out, variants=4, tex_only=True)
    answers = json.loads((out / "sheet-variants-answers.json").read_text())
    assert {variant["exercises"][0]["parameters"]["b"] for variant in answers.values()} == {"1"}


def test_a_question_with_an_infinity_is_redrawn(tmp_path):
    # the question itself, not only its answer: d/dx(x + |log 0|) asks about x + ∞
    text = "title: T\nexercises:\n  - derive: x**2 + abs(log(b))\n    parameters:\n      b: {integer: [0, 1]}\n"
    out = tmp_path / "out"
    build_sheet(sheet(tmp_path, text), out, variants=4, tex_only=True)
    answers = json.loads((out / "sheet-variants-answers.json").read_text())
    assert {variant["exercises"][0]["parameters"]["b"] for variant in answers.values()} == {"1"}
    assert not any("infty" in path.read_text() for path in out.glob("*.tex"))


@pytest.mark.parametrize("undefined", [sympy.zoo, sympy.oo, -sympy.oo, sympy.nan])
def test_a_question_holding_an_undefined_value_is_degenerate(undefined):
    from types import SimpleNamespace

    from derivgen.documents.sheets import _degenerate

    x = sympy.Symbol("x")
    fine = SimpleNamespace(left=SimpleNamespace(functions=(x**2,)), result=2 * x)
    assert not _degenerate(fine)
    question = SimpleNamespace(
        left=SimpleNamespace(functions=(sympy.Add(x**2, undefined, evaluate=False),)), result=2 * x
    )
    assert _degenerate(question)
    matrix = SimpleNamespace(
        left=SimpleNamespace(functions=(sympy.Matrix([x, undefined]),)), result=sympy.Matrix([1, 0])
    )
    assert _degenerate(matrix)


@pytest.mark.parametrize(
    ("derive", "name", "words"),
    [
        ("sin(x)*a", "sin", "'sin' is a function"),
        ("e*x", "e", "'e' is a constant"),
        ("pi*x", "pi", "'pi' is a constant"),
        ("E*x", "E", "'E' is a constant"),
        ("I*x", "I", "'I' is a constant"),
        ("a*x", "x", "'x' is the variable the exercise differentiates by"),
        ("a*t\n    wrt: t", "t", "'t' is the variable"),
    ],
)
def test_a_parameter_may_not_shadow_a_function_a_constant_or_the_variable(tmp_path, derive, name, words):
    parameters = f"    parameters:\n      a: {{integer: [1, 3]}}\n      {name}: {{integer: [2, 3]}}\n"
    text = f"title: T\nexercises:\n  - derive: {derive}\n{parameters}"
    with pytest.raises(SpecError) as caught:
        build_sheet(sheet(tmp_path, text), tmp_path / "out", variants=2, tex_only=True)
    message = caught.value.one_line()
    line = text.splitlines().index(f"      {name}: {{integer: [2, 3]}}") + 1
    assert message.startswith(f"{tmp_path / 'sheet.yaml'}:{line}: exercise 1: parameter {name}: "), message
    assert words in message and "\n" not in message
    assert not (tmp_path / "out").exists()


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
    with pytest.raises(BuildError, match=r"1 of 3 variant\(s\) failed: Variant 2: simulated TeX failure"):
        build_sheet(sheet(tmp_path), out, variants=3, tex_only=True, jobs=1)
    assert (out / "sheet-v1.tex").exists() and (out / "sheet-v3.tex").exists()
    assert not (out / "sheet-v2.tex").exists()


@pytest.mark.slow
def test_an_unexpected_exception_in_a_parallel_batch_loses_only_its_variant(tmp_path, monkeypatch):
    # Bob's sheet compiles, then his solutions crash with a bug (not a DerivgenError): the worker
    # processes (forked, so they see the patch) must still deliver Ada's and Cy's sheets
    real = build_module.compile_tex

    def crashing(tex, name, timeout):
        if "bob" in name and name.endswith("solutions"):  # whatever the naming scheme
            raise ZeroDivisionError("simulated bug")
        return real(tex, name, timeout)

    monkeypatch.setattr(build_module, "compile_tex", crashing)
    out = tmp_path / "out"
    text = "title: T\nexercises:\n  - derive: x**a\n    parameters:\n      a: {integer: [2, 9]}\n"
    with pytest.raises(BuildError) as caught:
        build_sheet(sheet(tmp_path, text), out, roster=roster(tmp_path, "Ada", "Bob", "Cy"), jobs=2)
    message = caught.value.one_line()
    assert message.startswith("1 of 3 variant(s) failed: Bob (") and "ZeroDivisionError: simulated bug" in message
    for name in ("ada", "cy"):
        for suffix in ("", "--solutions"):
            assert pages(out / f"sheet--{name}{suffix}.pdf") == 1
    assert not [path.name for path in out.iterdir() if "bob" in path.name]  # not even his finished sheet
    answers = json.loads((out / "sheet-roster-roster-answers.json").read_text())
    assert sorted(entry["name"] for entry in answers.values()) == ["Ada", "Cy"]


def test_cli_reports_a_crashed_variant_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    import derivgen.documents.sheets as sheets_module

    real = sheets_module.present_variant

    def crashing(sheet, source, seed, number, name, *rest):
        if name == "Bob":
            raise KeyError("simulated bug")
        return real(sheet, source, seed, number, name, *rest)

    monkeypatch.setattr(sheets_module, "present_variant", crashing)
    out = tmp_path / "out"
    path, students = sheet(tmp_path), roster(tmp_path, "Ada", "Bob", "Cy")
    code = main(["build", str(path), "-o", str(out), "--roster", str(students), "--jobs", "2", "--tex-only"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    failure = [line for line in err.splitlines() if "failed" in line]
    assert len(failure) == 1 and f"Bob ({students}:3)" in failure[0] and "KeyError" in failure[0]
    assert sorted(path.name for path in out.glob("*.tex")) == [
        "sheet--ada--solutions.tex",
        "sheet--ada.tex",
        "sheet--cy--solutions.tex",
        "sheet--cy.tex",
    ]


@pytest.mark.slow
def test_a_full_build_after_tex_only_compiles_the_new_source(tmp_path):
    out = tmp_path / "out"
    path = sheet(tmp_path, "title: Alpha sheet\nexercises:\n  - derive: x**2\n")
    build_sheet(path, out / "fresh", tex_only=True)
    build_sheet(path, out / "fresh")  # .tex already there, no PDF yet
    assert "Alpha sheet" in pdf_text(out / "fresh" / "sheet.pdf")
    build_sheet(path, out)
    path.write_text("title: Omega sheet\nexercises:\n  - derive: x**2\n")
    build_sheet(path, out, tex_only=True)  # the .tex is new, the PDFs are stale now
    messages = []
    build_sheet(path, out, report=messages.append)
    assert "1 compiled" in messages[-1]
    for name in ("sheet.pdf", "sheet-solutions.pdf"):
        text = pdf_text(out / name)
        assert "Omega sheet" in text and "Alpha sheet" not in text, name


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
    data = json.loads((out / "exercise_sheet-variants-answers.json").read_text())
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
