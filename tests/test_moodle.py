"""The Moodle XML quiz (derivgen.documents.moodle, moodle_answers).

The structure is checked against Moodle's documented format, https://docs.moodle.org/en/Moodle_XML_format
(a <quiz> of <question> elements; a category "question" with <category><text>$course$/…; every question a
<name><text>, a <questiontext format="html"><text>; a numerical question <answer fraction="100"> with
<text> and <tolerance>; a cloze question's fields {weight:NUMERICAL:=value:tolerance} in its text, as in
https://docs.moodle.org/en/Embedded_Answers_(Cloze)_question_type).  Every graded number is compared with
sympy.diff of the exercise's function at the drawn point, never with our own output.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import sympy

from derivgen.cli import main
from derivgen.documents.moodle import build_moodle, cdata, make_question
from derivgen.documents.moodle_answers import evaluate_matrix
from derivgen.documents.sheets import present_variant
from derivgen.input.matrices import AsScalar
from derivgen.input.spec import load_sheet
from tests.test_cli import one_line_error

EXAMPLE = Path(__file__).parent.parent / "examples" / "exercise_sheet.yaml"
CLOZE_FIELD = re.compile(r"\{(\d+):NUMERICAL:=([-0-9.]+):([0-9.]+)\}")


@pytest.fixture(scope="module")
def quiz(tmp_path_factory) -> tuple[Path, ElementTree.Element]:
    out = tmp_path_factory.mktemp("moodle")
    (path,) = build_moodle(EXAMPLE, out, variants=3, seed=7)
    return path, ElementTree.parse(path).getroot()


def _categories(root: ElementTree.Element) -> list[tuple[str, list[ElementTree.Element]]]:
    """(category path, its questions) in file order."""
    assert root.tag == "quiz"
    groups: list[tuple[str, list[ElementTree.Element]]] = []
    for question in root:
        assert question.tag == "question"
        if question.get("type") == "category":
            groups.append((question.findtext("category/text") or "", []))
        else:
            assert groups, "a question before the first category"
            groups[-1][1].append(question)
    return groups


def check_question(question: ElementTree.Element) -> list[tuple[float, float]]:
    """Moodle's required pieces of a numerical or cloze question; its graded (value, tolerance) pairs."""
    kind = question.get("type")
    assert kind in ("numerical", "cloze")
    assert (question.findtext("name/text") or "").strip()
    text = question.find("questiontext")
    assert text is not None and text.get("format") == "html" and (text.findtext("text") or "").strip()
    feedback = question.find("generalfeedback")
    assert feedback is not None and feedback.get("format") == "html"
    assert float(question.findtext("defaultgrade") or "nan") > 0
    assert 0 <= float(question.findtext("penalty") or "nan") <= 1
    assert question.findtext("hidden") == "0"
    if kind == "numerical":
        answers = question.findall("answer")
        assert len(answers) == 1 and answers[0].get("fraction") == "100"
        assert question.findtext("showunits") == "3"  # no units
        return [(float(answers[0].findtext("text") or ""), float(answers[0].findtext("tolerance") or ""))]
    fields = CLOZE_FIELD.findall(text.findtext("text") or "")
    assert fields and all(weight == "1" for weight, _, _ in fields)
    assert not question.findall("answer")
    return [(float(value), float(tolerance)) for _, value, tolerance in fields]


def test_a_category_per_exercise_with_a_question_per_variant(quiz):
    _, root = quiz
    sheet, _ = load_sheet(EXAMPLE)
    groups = _categories(root)
    assert len(groups) == len(sheet.exercises)
    for (path, questions), exercise in zip(groups, sheet.exercises, strict=True):
        assert path.startswith("$course$/top/") and exercise.title in path
        assert len(questions) == 3
        for question in questions:
            for value, tolerance in check_question(question):
                assert 0 < tolerance <= max(0.005 * abs(value), 0.0005) * 1.001


def _expected(task, point) -> list[sympy.Expr]:
    """sympy.diff of the function at the point: entry by entry of explicit matrices for matrix calculus."""
    function = task.left.functions[0]
    if not point.sizes and not any(isinstance(g, sympy.MatrixSymbol) for g in task.left.given):
        return [sympy.diff(function, v).subs(point.values) for v in task.left.variables]
    symbolic = {}
    for key in point.values:  # each declared symbol at its drawn size, entries as symbols
        rows, cols = key.shape
        symbolic[key] = sympy.ImmutableMatrix(rows, cols, lambda i, j, k=key: sympy.Symbol(f"{k.name}_{i}_{j}"))
    scalar = evaluate_matrix(function, point.sizes, symbolic)
    scalar = scalar.args[0] if isinstance(scalar, AsScalar) else scalar
    scalar = scalar[0, 0] if isinstance(scalar, sympy.MatrixBase) else scalar
    (variable,) = task.left.variables
    entries = symbolic[variable.subs(point.sizes)]
    numbers = {
        entries_symbol: value
        for key, matrix in point.values.items()
        for entries_symbol, value in zip(symbolic[key], matrix, strict=True)
    }
    # a vector's gradient is a row, a matrix's has its shape: either way its entries in row-major order
    return [sympy.diff(scalar, entry).subs(numbers) for entry in entries]


def test_every_graded_number_is_sympys_derivative_at_the_drawn_point(quiz):
    _, root = quiz
    sheet, source = load_sheet(EXAMPLE)
    groups = _categories(root)
    for variant in (1, 2, 3):
        presented = present_variant(sheet, source, 7, variant, "", "sheet")
        for index, exercise in enumerate(presented.exercises):
            question = make_question(exercise, index, 7, variant)
            expected = [
                value
                for task, asked in zip(exercise.tasks, question.tasks, strict=True)
                for value in _expected(task, asked.point)
            ]
            graded = check_question(groups[index][1][variant - 1])
            assert len(graded) == len(expected) == len(question.blanks)
            for (value, _), exact, blank in zip(graded, expected, question.blanks, strict=True):
                assert sympy.simplify(blank.value - exact) == 0
                assert value == pytest.approx(float(exact), rel=1e-10, abs=1e-12)


def test_feedback_is_the_worked_solution_with_every_rule(quiz):
    _, root = quiz
    sheet, source = load_sheet(EXAMPLE)
    presented = present_variant(sheet, source, 7, 1, "", "sheet")
    for (_, questions), exercise in zip(_categories(root), presented.exercises, strict=True):
        feedback = html.unescape(questions[0].findtext("generalfeedback/text") or "")
        for task in exercise.tasks:
            for row in task.rows:
                assert row.label in feedback
                assert rf"\(= {' '.join(row.rhs.split())}\)" in feedback  # the plain line the PDF shows
        assert r"\alert" not in feedback and r"\break" not in feedback


def test_same_seed_same_bytes_and_another_seed_other_numbers(quiz, tmp_path):
    path, _ = quiz
    (again,) = build_moodle(EXAMPLE, tmp_path / "a", variants=3, seed=7)
    (other,) = build_moodle(EXAMPLE, tmp_path / "b", variants=3, seed=8)
    assert again.read_bytes() == path.read_bytes()
    assert other.read_bytes() != path.read_bytes()


HOSTILE = """\
title: "Quiz ]]> <b>bold</b> a/b"
exercises:
  - title: "End ]]><script>alert(1)</script> \x01"
    prompt: 'Mind {1:SHORTANSWER:=x} and ]]> and <i>tags</i>, $x$.'
    derive: (a*x + y**2)**2
    wrt: [x, y]
    parameters:
      a: {integer: [2, 5]}
  - derive: x**3
"""


def test_hostile_text_stays_text(tmp_path):
    sheet = tmp_path / "hostile.yaml"
    sheet.write_text(HOSTILE.replace("\x01", "\\x01"), encoding="utf-8")
    (path,) = build_moodle(sheet, tmp_path, variants=1)
    root = ElementTree.parse(path).getroot()
    groups = _categories(root)
    assert [len(questions) for _, questions in groups] == [1, 1]  # without variants too: one question each
    assert "a//b" in groups[0][0]  # a slash in a name is not a subcategory
    question = groups[0][1][0]
    assert "]]><script>" in (question.findtext("name/text") or "")
    text = question.findtext("questiontext/text") or ""
    assert "<script>" not in text and "<i>" not in text and "&lt;i&gt;" in text and "]]&gt;" in text
    fields = check_question(question)
    assert len(fields) == 2  # the gradient's two entries; the prompt's {1:SHORTANSWER:…} is not a field
    assert "SHORTANSWER" not in re.sub(r"&#123;.*?&#125;", "", text).replace("SHORTANSWER:=x", "")


def test_cdata_cannot_be_closed_by_its_content():
    wrapped = str(cdata("a ]]> b ]]]]> c"))
    element = ElementTree.fromstring(f"<t>{wrapped}</t>")
    assert element.text == "a ]]> b ]]]]> c"


def test_cli_builds_the_quiz_and_refuses_what_does_not_fit(capsys, tmp_path):
    sheet = tmp_path / "one.yaml"
    sheet.write_text("title: One\nexercises:\n  - derive: x**2*sin(x)\n", encoding="utf-8")
    code = main(["build", str(sheet), "--format", "moodle", "--variants", "2", "-o", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0 and err == "" and "one-moodle.xml" in out
    groups = _categories(ElementTree.parse(tmp_path / "one-moodle.xml").getroot())
    assert [len(questions) for _, questions in groups] == [2]
    deck = Path(__file__).parent.parent / "examples" / "dnn_supplementary.yaml"
    roster = tmp_path / "roster.csv"
    roster.write_text("name\nAda\n", encoding="utf-8")
    for args, words in [
        ([str(deck), "--format", "moodle"], "--format moodle takes one exercise file"),
        ([str(sheet), str(sheet), "--format", "moodle"], "--format moodle takes one exercise file"),
        ([str(sheet), "--format", "moodle", "--roster", str(roster)], "--roster does not apply"),
    ]:
        code = main(["build", *args, "-o", str(tmp_path)])
        out, err = capsys.readouterr()
        assert code == 2 and words in one_line_error(err)
