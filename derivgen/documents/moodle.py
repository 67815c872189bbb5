"""Exercise file → Moodle XML quiz (``<sheet>-moodle.xml``) that stock Moodle imports and grades.

Per exercise a question category (``$course$/top/<sheet>/<exercise>``) holding one question per variant,
so a quiz can draw a random one.  A question asks for the derivative at a drawn point
(:mod:`.moodle_answers`): one number — a *numerical* question with a tolerance; several numbers (a
gradient, a matrix derivative, an exercise in parts) — a *cloze* (embedded answers) question with one
NUMERICAL field per number, which stock Moodle grades field by field.  The general feedback is the
worked solution: every displayed line with its rule label, the maths being the very (plain, unhighlighted)
lines the PDF solution shows, in ``\\( … \\)`` for Moodle's MathJax filter.

Rendering: Jinja with autoescape (XML and HTML); text is HTML-escaped inside CDATA sections, and a
``]]>`` in any text is split across two sections, so no text can end one.  Braces of text and maths are
written as character references: in a cloze question's text only derivgen's own fields can form a ``{1:NUMERICAL:…}``.
Format: https://docs.moodle.org/en/Moodle_XML_format (numerical and cloze questions, categories).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..errors import DerivgenError
from ..input.mathtext import math_latex, segments
from ..presentation.frames import TextBlock
from .moodle_answers import Point, QuizError, graded_point, point_random
from .render import TemplateError, template_loader

PENALTY = "0.3333333"  # Moodle's default: a third of the mark off per retry in interactive mode
# characters XML 1.0 forbids anywhere, CDATA included: a control character in a title must not break the file
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class MoodleError(DerivgenError):
    """An exercise file cannot become a Moodle quiz."""


@dataclass(frozen=True)
class QuizRow:
    lhs: str  # LaTeX, "" on a continuing row
    rhs: str  # LaTeX: the plain line (no highlighting)
    label: str  # the rules, plain text


@dataclass(frozen=True)
class QuizTask:
    letter: str  # "a", "b" in an exercise with parts, else ""
    prompt: tuple[TextBlock, ...]
    question: str  # LaTeX
    where: str  # text with $…$ maths ("" when nothing is declared)
    rows: tuple[QuizRow, ...]
    notes: tuple[str, ...]
    answer: str  # LaTeX
    point: Point


@dataclass(frozen=True)
class Question:
    kind: str  # "numerical" or "cloze"
    name: str
    prompt: tuple[TextBlock, ...]
    tasks: tuple[QuizTask, ...]
    grade: int
    penalty: str = PENALTY
    text: str = ""  # HTML, filled in by rendering
    feedback: str = ""

    @property
    def blanks(self) -> list:
        return [blank for task in self.tasks for blank in task.point.blanks]


@dataclass(frozen=True)
class Category:
    path: str
    questions: tuple[Question, ...]


def quiz_name(stem: str) -> str:
    return f"{stem}-moodle.xml"


def build_moodle(
    sheet_path: str | Path,
    out_dir: str | Path = "output",
    variants: int = 0,
    seed: int = 0,
    templates: str | Path | None = None,
    report: Callable[[str], None] = lambda message: None,
) -> list[Path]:
    """Write ``<sheet>-moodle.xml``: per exercise a category with a question per variant (one question,
    the sheet's own numbers, without ``variants``).  Same file and seed → byte-identical XML."""
    from ..input.spec import load_sheet
    from ..presentation.printer import notation
    from .build import _write_all
    from .sheets import check_parameter_names, present_variant

    sheet_path, out_dir = Path(sheet_path), Path(out_dir)
    sheet, source = load_sheet(sheet_path)
    check_parameter_names(sheet, source)
    env = moodle_environment(Path(templates) if templates is not None else None)
    per_exercise: list[list[Question]] = [[] for _ in sheet.exercises]
    for number in range(1, variants + 1) if variants > 0 else [None]:
        with notation(sheet.notation):
            variant = present_variant(sheet, source, seed, number, "", sheet_path.stem)
            for index, exercise in enumerate(variant.exercises):
                try:
                    question = make_question(exercise, index, seed, number)
                except QuizError as error:
                    raise MoodleError(f"{exercise.where}: exercise {exercise.number}: {error.one_line()}") from None
                per_exercise[index].append(_rendered(env, question))
    categories = [
        Category(_category_path(sheet.title or sheet_path.stem, exercise), tuple(questions))
        for exercise, questions in zip(variant.exercises, per_exercise, strict=True)
    ]
    xml = render_quiz(env, categories)
    path = out_dir / quiz_name(sheet_path.stem)
    _write_all(out_dir, {path: xml.encode("utf-8")})
    count = sum(len(category.questions) for category in categories)
    report(f"{sheet_path}: Moodle quiz {path} ({len(categories)} categories, {count} questions)")
    return [path]


def make_question(exercise: Any, index: int, seed: int, variant: int | None) -> Question:
    """One variant of one exercise (a :class:`~.sheets.PresentedExercise`) as a graded question."""
    tasks = []
    for k, task in enumerate(exercise.tasks):
        point = graded_point(task.left, task.result, point_random(seed, variant, index, k))
        tasks.append(
            QuizTask(
                letter="abcdefghijklmnopqrstuvwxyz"[k % 26] if exercise.parts else "",
                prompt=task.prompt,
                question=str(task.question),
                where=str(task.where or ""),
                rows=tuple(QuizRow(str(row.lhs), str(row.rhs), row.label) for row in task.rows),
                notes=tuple(str(note) for row in task.rows for note in row.notes),
                answer=str(task.answer),
                point=point,
            )
        )
    blanks = sum(len(task.point.blanks) for task in tasks)
    title = f" ({exercise.title})" if exercise.title else ""
    name = f"Exercise {exercise.number}{title}" + (f", variant {variant}" if variant is not None else "")
    kind = "numerical" if blanks == 1 else "cloze"
    # a cloze question's mark is the sum of its fields' weights (one each): Moodle computes it so on import
    return Question(kind, name, exercise.prompt, tuple(tasks), exercise.points if kind == "numerical" else blanks)


def _category_path(sheet_title: str, exercise: Any) -> str:
    """``$course$/top/<sheet>/<exercise>``; a "/" in a name is written "//" (Moodle's escape in paths)."""
    title = f": {exercise.title}" if exercise.title else ""
    names = [sheet_title, f"Exercise {exercise.number}{title}"]
    return "$course$/top/" + "/".join(" ".join(name.split()).replace("/", "//") for name in names)


# -- rendering ---------------------------------------------------------------------------------------


def moodle_environment(user_templates: Path | None = None) -> jinja2.Environment:
    """Jinja for XML and HTML: autoescape, the standard delimiters; ``--templates DIR`` overrides
    ``DIR/moodle/*.j2``."""
    env = jinja2.Environment(
        loader=template_loader(user_templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(cdata=cdata, math=math_html, text=text_html, cloze=cloze_field)
    return env


def _finalize(value: Any) -> Any:
    """Every printed value: our own markup as it is, anything else escaped, without XML's forbidden
    characters."""
    if isinstance(value, Markup):
        return value
    return _escaped("" if value is None else str(value))


def _escaped(text: str) -> Markup:
    return escape(_NOT_XML.sub("", text))


def cdata(html: str) -> Markup:
    """HTML in a CDATA section; a ``]]>`` inside is split between two sections (the only way to write it)."""
    return Markup("<![CDATA[" + _NOT_XML.sub("", str(html)).replace("]]>", "]]]]><![CDATA[>") + "]]>")


def math_html(latex: str) -> Markup:
    """Maths for MathJax: ``\\( … \\)`` around the escaped LaTeX (one line: a newline means nothing to TeX)."""
    return Markup(r"\(") + _escaped(" ".join(str(latex).split())) + Markup(r"\)")


def text_html(text: str) -> Markup:
    """A text field: words escaped, each ``$…$`` as checked maths for MathJax."""
    return Markup("").join(
        math_html(math_latex(part.text)) if part.math else _escaped(part.text) for part in segments(str(text))
    )


def cloze_field(blank: Any) -> Markup:
    """A placeholder for an embedded NUMERICAL answer (NUL cannot come from text: XML forbids it, and
    every printed value loses it); :func:`_cloze_text` makes it the field."""
    return Markup("\x00%s:%s\x00") % (blank.answer, blank.tolerance)


_PLACEHOLDER = re.compile("\x00([-0-9.]+:[-0-9.]+)\x00")


def _cloze_text(html: str) -> str:
    """A cloze question's text: every brace of text and maths a character reference (Moodle parses
    ``{…:NUMERICAL:…}`` anywhere in it; MathJax reads the decoded braces), then the fields, weight 1 each."""
    safe = html.replace("{", "&#123;").replace("}", "&#125;")
    return _PLACEHOLDER.sub(lambda match: "{1:NUMERICAL:=%s}" % match.group(1), safe)


def _rendered(env: jinja2.Environment, question: Question) -> Question:
    from dataclasses import replace

    text = _render(env, "moodle/question.html.j2", question=question)
    if question.kind == "cloze":
        text = _cloze_text(text)
    feedback = _render(env, "moodle/feedback.html.j2", question=question)
    return replace(question, text=Markup(text), feedback=Markup(feedback))


def render_quiz(env: jinja2.Environment, categories: list[Category]) -> str:
    """The quiz's XML, checked to be well-formed (a broken file must not reach Moodle's importer)."""
    xml = _render(env, "moodle/quiz.xml.j2", categories=categories)
    try:
        ElementTree.fromstring(xml.encode("utf-8"))
    except ElementTree.ParseError as error:
        raise TemplateError(f"moodle/quiz.xml.j2: the quiz is not well-formed XML ({error})") from None
    return xml


def _render(env: jinja2.Environment, name: str, **context: Any) -> str:
    from .render import render_template

    return render_template(env, name, **context)
