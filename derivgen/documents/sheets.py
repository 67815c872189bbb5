"""Exercise sheets: variants with drawn parameters, tasks for the sheet, worked solutions.

A variant's numbers come from a random generator seeded by (seed, variant) — for a roster by
(seed, the student's name; a namesake's also by their ID or which namesake they are), so adding,
removing or reordering other students redraws nobody else's sheet — and the same seed gives the same
sheets.  A draw that makes a task degenerate — a question or answer with a division by zero, an
infinity or a NaN, or a derivative that is identically zero — is drawn again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy

from ..calculus.model import DerivationResult, Left
from ..calculus.worker import HardLimitExceeded, run_limited
from ..errors import DerivgenError
from ..input.matrices import ASSUMPTIONS, declare, read_assumptions
from ..input.parser import CONSTANTS, FUNCTIONS, parse
from ..input.spec import Exercise, ExerciseSheet, Parameter, SourceMap, SpecError, Task
from ..presentation.frames import (
    Row,
    TextBlock,
    derivation_rows,
    derive_task,
    draw_picture,
    error_location,
    text_blocks,
)
from ..presentation.matrices import question
from ..presentation.plots import Picture
from ..presentation.printer import to_latex, to_text
from ..presentation.text import Latex, Plain
from .sheet_layout import Line, lay_out_answer, lay_out_rows, measuring_texts, pieces, read_widths, warn_scaled

MAX_DRAWS = 100


@dataclass(frozen=True)
class PresentedTask:
    """What the sheet asks (``question``) and what the solutions show."""

    question: Latex
    where: Latex | None  # "where $x, y ∈ ℝⁿ$; $M$ is symmetric": the declared symbols, in words and maths
    rows: tuple[Row, ...]
    answer: Latex
    answer_text: str
    points: int
    prompt: tuple[TextBlock, ...]
    space: str
    key: str = ""  # names the task in the measuring run's log: "3", "6b"
    lines: tuple[Line, ...] = ()  # the rows as set on the solution sheet, broken where too wide
    answer_shown: Latex | None = None  # the boxed answer as set: broken like a row where too wide
    # what was derived (sympy, not for the TeX templates): a quiz evaluates the result at a drawn point
    left: Left | None = None
    result: Any = None

    @property
    def measures(self) -> list[list[Latex]]:
        """Per row, the pieces between its break points, as the measuring run boxes them."""
        return [measuring_texts(row.rhs) for row in self.rows]

    @property
    def answer_measures(self) -> list[Latex]:
        return [Latex(text) for text in pieces(self.answer)]


@dataclass
class PresentedExercise:
    number: int
    title: str
    prompt: tuple[TextBlock, ...]
    points: int
    task: PresentedTask | None = None
    parts: list[PresentedTask] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    picture: Picture | None = None
    where: str = ""  # file:line of the exercise, for warnings

    @property
    def tasks(self) -> list[PresentedTask]:
        return [self.task] if self.task is not None else self.parts


@dataclass
class Variant:
    """One version of the sheet."""

    number: int | None  # None: the sheet without variants
    name: str  # printed on the sheet: "Variant 3" or a student's name
    slug: str  # its file stem: "sheet-v3" or "sheet--ada-lovelace"
    exercises: list[PresentedExercise]
    tag: str = ""  # printed after the name: "ID 4711", "roster line 7" (namesakes must not look alike)

    def answers(self) -> dict:
        def one(task: PresentedTask) -> dict:
            return {"answer": task.answer_text, "latex": str(task.answer), "points": task.points}

        return {
            "variant": self.name,
            "exercises": [
                {
                    "number": exercise.number,
                    "parameters": exercise.parameters,
                    **(one(exercise.task) if exercise.task else {}),
                    "parts": [one(part) for part in exercise.parts],
                }
                for exercise in self.exercises
            ],
        }


def variant_random(seed: int, identity: int | str | None, exercise: int) -> random.Random:
    """A generator for one exercise of one variant, independent of every other draw.

    ``identity`` is the variant's number, or a student's name (a :class:`Student`'s ``identity``):
    never a roster position, which shifts when a student is added.
    """
    key = f"{seed}:{identity}:{exercise}".encode()  # numbers keep the keys of earlier versions
    if isinstance(identity, str):  # no name can produce a number's key: ints never start with "student:"
        key = f"{seed}:student:{identity}:{exercise}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def draw(parameter: Parameter, rng: random.Random) -> sympy.Expr:
    """One value for a parameter (before exclusions are applied)."""
    if parameter.integer is not None:
        return sympy.Integer(rng.randint(*parameter.integer))
    if parameter.rational is not None:
        low, high, denominator = parameter.rational
        q = rng.randint(1, denominator)
        p = rng.randint(low * q, high * q)
        return sympy.Rational(p, q)
    if not parameter.choice:  # the spec's validation makes one of the three kinds present
        raise DerivgenError("a parameter needs integer, rational or choice")
    return _number(rng.choice(parameter.choice))


def _number(value) -> sympy.Expr:
    if isinstance(value, str):
        return parse(value)
    if isinstance(value, float):
        fraction = Fraction(str(value))
        return sympy.Rational(fraction.numerator, fraction.denominator)
    return sympy.Integer(value)


def present_variant(
    sheet: ExerciseSheet,
    source: SourceMap,
    seed: int,
    number: int | None,
    name: str,
    slug: str,
    identity: int | str | None = None,
    tag: str = "",
) -> Variant:
    """Draw the parameters of every exercise, derive every task, lay out sheet and solutions.

    ``identity`` seeds the draws (a student's name); by default the variant ``number``.
    """
    check_parameter_names(sheet, source)
    exercises = []
    for index, exercise in enumerate(sheet.exercises):
        rng = variant_random(seed, number if identity is None else identity, index)
        location = ("exercises", index)
        try:  # each exercise in a worker under the hard limits (--time-limit, --max-memory)
            exercises.append(run_limited(_exercise, sheet, exercise, index + 1, rng, source, location))
        except HardLimitExceeded as error:
            raise SpecError(f"{source.where(location)}: exercise {index + 1}: {error.one_line()}") from None
    # a roster's name and ID are data: a $ in them is a dollar
    return Variant(number, Plain(name), slug, exercises, Plain(tag))


# names a parameter may not take: the parser reads them as a function or a constant, so the drawn number
# would be silently ignored (sin) or a constant replaced (e); I, oo, nan, zoo are sympy's own
_RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"I", "oo", "nan", "zoo"}


def check_parameter_names(sheet: ExerciseSheet, source: SourceMap) -> None:
    """Refuse a parameter named like a function (``sin``), a constant (``e``, ``pi``, ``E``, ``I``), the
    variable of differentiation (``wrt``, ``x`` when no ``wrt`` is given) or a declared vector or matrix:
    its drawn number would be ignored, or put in for the variable the task differentiates by."""
    for index, exercise in enumerate(sheet.exercises):
        tasks: list[Task] = list(exercise.parts) if exercise.parts else [exercise]
        variables: set[str] = set()
        declared: set[str] = set()
        for task in tasks:
            wrt = task.wrt if task.wrt is not None else "x"
            variables.update([wrt] if isinstance(wrt, str) else wrt)
            declared.update(task.symbols or {})
        for name in exercise.parameters:
            if name in _RESERVED:
                what = "a function" if name in FUNCTIONS else "a constant"
                reason = f"'{name}' is {what} in expressions"
            elif name in variables:
                reason = f"'{name}' is the variable the exercise differentiates by"
            elif name in declared:
                reason = f"'{name}' is a declared vector or matrix"
            else:
                continue
            here = source.where(("exercises", index, "parameters", name))
            raise SpecError(
                f"{here}: exercise {index + 1}: parameter {name}: {reason}; give the parameter another name"
            )


def _exercise(
    sheet: ExerciseSheet, exercise: Exercise, number: int, rng: random.Random, source: SourceMap, location: tuple
):
    where = source.where(location)
    tasks: list[Task] = list(exercise.parts) if exercise.parts else [exercise]
    last_error: DerivgenError | None = None
    for _ in range(MAX_DRAWS):
        values = {}
        try:
            values = _draw_all(exercise, rng)
            derivations = [derive_task(task, values) for task in tasks]
        except DerivgenError as error:  # e.g. a division by zero for this draw
            last_error = error
            if not exercise.parameters:
                failed = next((t for t in tasks if getattr(error, "text", None) in _texts(t)), tasks[0])
                part = (*location, "parts", tasks.index(failed)) if exercise.parts else location
                here = error_location(failed, error, source, (*part, "derive"))
                raise SpecError(f"{here}: exercise {number}: {error.one_line()}") from None
            continue
        if exercise.parameters and any(_degenerate(d) for d in derivations):
            continue
        break
    else:
        reason = f": {last_error.one_line()}" if last_error else " (every derivative came out zero)"
        raise SpecError(f"{where}: exercise {number}: no usable parameters in {MAX_DRAWS} draws{reason}")
    presented = [
        _task(task, derivation, sheet, exercise if task is exercise else task, f"{number}{_letter(k, exercise)}")
        for k, (task, derivation) in enumerate(zip(tasks, derivations, strict=True))
    ]
    drawn = None
    if exercise.picture is not None:
        try:
            drawn = draw_picture(exercise.picture, values)
        except (DerivgenError, ValueError) as error:
            message = error.one_line() if isinstance(error, DerivgenError) else str(error)
            raise SpecError(f"{where}: exercise {number}: picture: {message}") from None
    return PresentedExercise(
        number=number,
        title=exercise.title or "",
        prompt=text_blocks(exercise.prompt) if exercise.parts else (),
        points=sum(task.points for task in presented) if exercise.parts else exercise.points,
        task=None if exercise.parts else presented[0],
        parts=presented if exercise.parts else [],
        parameters={name: str(value) for name, value in values.items()},
        picture=drawn,
        where=where,
    )


def _letter(index: int, exercise: Exercise) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[index % 26] if exercise.parts else ""


def _texts(task: Task) -> list[str]:
    return task.derive if isinstance(task.derive, list) else [task.derive]


def _draw_all(exercise: Exercise, rng: random.Random) -> dict[str, sympy.Expr]:
    values = {}
    for name, parameter in sorted(exercise.parameters.items()):
        excluded = {_number(value) for value in parameter.exclude}
        for _ in range(MAX_DRAWS):
            value = draw(parameter, rng)
            if value not in excluded:
                break
        else:
            raise DerivgenError(f"parameter {name}: every value drawn is excluded")
        values[name] = value
    return values


_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _degenerate(derivation) -> bool:
    """A derivative that is identically zero, or undefined, makes a poor exercise; so does a question
    with a division by zero, an infinity or a NaN in it (d/dx(∞̃ + 1/(x − 1)))."""
    if any(_undefined(function) for function in derivation.left.functions):
        return True
    result = derivation.result
    if isinstance(result, sympy.MatrixBase):
        return all(entry == 0 for entry in result) or _undefined(result)
    if isinstance(result, sympy.MatrixExpr):
        return isinstance(result, sympy.ZeroMatrix)
    return result == 0 or _undefined(result)


def _undefined(expression) -> bool:
    if isinstance(expression, sympy.MatrixBase):
        return any(_undefined(entry) for entry in expression)
    return isinstance(expression, sympy.Basic) and expression.has(*_UNDEFINED)


def _task(task: Task, derivation, sheet: ExerciseSheet, holder, key: str) -> PresentedTask:
    rows, answer = derivation_rows(derivation, task.detail or sheet.detail)
    question, _ = _question(derivation)
    return PresentedTask(
        question=Latex(question),
        where=symbols_sentence(task),
        rows=rows,
        answer=Latex(answer),
        answer_text=to_text(derivation.result)
        if not isinstance(derivation.result, sympy.MatrixBase)
        else str(derivation.result.tolist()),
        points=holder.points,
        prompt=text_blocks(holder.prompt),
        space=holder.space or sheet.space,
        key=key,
        answer_shown=Latex(answer),
        lines=tuple(lay_out_rows([(row.lhs, row.rhs, row.label) for row in rows], None, lambda scale: None)),
        left=derivation.left,
        result=derivation.result,
    )


def _question(derivation: DerivationResult) -> tuple[str, list[str]]:
    """The quantity to compute, in LaTeX, and the givens (shapes, assumptions)."""
    return question(derivation.left)


# an assumption in words, for one symbol and for several
ASSUMPTION_WORDS: dict[str, tuple[str, str]] = {
    "symmetric": ("is symmetric", "are symmetric"),
    "positive_definite": ("is positive definite", "are positive definite"),
    "invertible": ("is invertible", "are invertible"),
    "positive_determinant": ("has a positive determinant", "have positive determinants"),
    "sums_to_one": ("has entries that sum to one", "have entries that sum to one"),
}


def symbols_sentence(task: Task) -> Latex | None:
    r"""Every declared symbol and assumption, in words and maths: "where $\mathbf{w}, \mathbf{x} \in
    \mathbb{R}^{n}$ and $y \in \mathbb{R}$; $\mathbf{M}$ is symmetric".

    Symbols of one space are grouped (in the order declared); names print as the derivation prints
    them, so the sheet and its solution spell them alike."""
    declared = {name: declare(name, spec) for name, spec in (task.symbols or {}).items()}
    spaces: dict[str, list[str]] = {}
    for symbol in declared.values():
        spaces.setdefault(_space(symbol), []).append(to_latex(symbol))
    clauses = ["$%s \\in %s$" % (", ".join(names), space) for space, names in spaces.items()]
    if task.positive:
        clauses.append("$%s > 0$" % ", ".join(to_latex(sympy.Symbol(name)) for name in task.positive))
    facts = read_assumptions(list(task.assume), declared).facts if declared else {}
    statements = []
    for kind in ASSUMPTIONS:  # a fixed order: the same sentence whatever order they were listed in
        names = sorted(facts.get(kind, ()))
        if names:
            one, several = ASSUMPTION_WORDS[kind]
            symbols = _and(["$%s$" % to_latex(declared[name]) for name in names])
            statements.append(f"{symbols} {several if len(names) > 1 else one}")
    if not clauses and not statements:
        return None
    return Latex("where " + "; ".join(filter(None, [_and(clauses), *statements])))


def _space(symbol: sympy.Basic) -> str:
    if not isinstance(symbol, sympy.MatrixSymbol):
        return r"\mathbb{R}"
    rows, cols = symbol.shape
    if cols == 1:
        return r"\mathbb{R}^{%s}" % to_latex(rows)
    return r"\mathbb{R}^{%s \times %s}" % (to_latex(rows), to_latex(cols))


def _and(items: list[str]) -> str:
    """One item, "a and b", or "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def lay_out_solutions(variant: Variant, measure: Callable[[Variant], str] | None) -> None:
    """Break every too-wide solution row at a top-level operator, by the widths one measuring TeX
    run reports (``measure`` renders and compiles the measuring sheet, returning its log).  Without
    ``measure`` (no TeX installed) the rows stay whole."""
    widths = read_widths(measure(variant)) if measure is not None else {}
    for exercise in variant.exercises:
        laid = []
        for task in exercise.tasks:

            def warn(scale: float, where: str = exercise.where, key: str = task.key) -> None:
                warn_scaled(where, key, scale)

            rows = [(row.lhs, row.rhs, row.label) for row in task.rows]
            measured = widths.get(task.key)
            lines = tuple(lay_out_rows(rows, measured, warn))
            laid.append(
                dataclasses.replace(task, lines=lines, answer_shown=lay_out_answer(task.answer, measured, warn))
            )
        if exercise.task is not None:
            exercise.task = laid[0]
        else:
            exercise.parts = laid


@dataclass(frozen=True)
class Student:
    """One roster entry: the name printed on the sheet, its line in the file, its file-name slug, its ID
    (the roster's ``id`` column, "" without one), what seeds its draws, its key in the answers file and
    what the sheet's header prints after the name to tell it apart ("ID 4711", "roster line 7", "")."""

    name: str
    line: int
    slug: str
    id: str = ""
    identity: str = ""
    key: str = ""
    tag: str = ""


# Student files are "<sheet>--<slug>" and "<sheet>--<slug>--solutions": a slug never contains "--",
# so no student's file can be another student's, a variant's ("<sheet>-v3") or a class-wide one
# ("<sheet>-solutions", "<sheet>-roster-<roster>-answers.json").
STUDENT_SEPARATOR = "--"
ID_COLUMNS = ("id", "student id", "student_id", "student number", "student_number")


def student_stems(sheet_stem: str, slug: str) -> tuple[str, str]:
    """File stems of a student's sheet and solutions."""
    stem = f"{sheet_stem}{STUDENT_SEPARATOR}{slug}"
    return stem, f"{stem}{STUDENT_SEPARATOR}solutions"


def read_roster(path: Path) -> list[Student]:
    """Students from a CSV file: the column 'name' if there is one, else the first column; an optional
    column 'id' (or 'student id') with each student's ID.  A byte-order mark (spreadsheets write one)
    is not part of the header.

    Every row is a student with a sheet and an answer-key entry of its own, even two students of one
    name: their slugs differ ('ada-lovelace', 'ada-lovelace-2', or with the ID: 'ada-lovelace-4711')
    and the header tells them apart by ID or roster line.  Two rows with one ID are refused.
    """
    import csv
    import io

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise DerivgenError(f"{path}: cannot read the roster ({error})") from None
    reader = csv.reader(io.StringIO(text))
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    except csv.Error as error:
        raise DerivgenError(f"{path}:{reader.line_num}: cannot read the roster ({error})") from None
    if not rows:
        raise DerivgenError(f"{path}: the roster is empty")
    header = [" ".join(cell.replace("\ufeff", "").split()).lower() for cell in rows[0][1]]
    id_column = next((header.index(name) for name in ID_COLUMNS if name in header), None)
    if "name" not in header and id_column is not None:
        raise DerivgenError(f"{path}:{rows[0][0]}: the roster has an ID column but no 'name' column")
    column = header.index("name") if "name" in header else 0
    body = rows[1:] if "name" in header else rows
    entries: list[tuple[int, str, str]] = []  # line, name, ID
    by_id: dict[str, int] = {}
    for line, row in body:
        name = " ".join(_cell(row, column).split())
        student_id = _cell(row, id_column).strip() if id_column is not None else ""
        if not name:
            if student_id:
                raise DerivgenError(f"{path}:{line}: the student with ID {student_id!r} has no name")
            continue
        if student_id in by_id:
            raise DerivgenError(
                f"{path}:{line}: the ID {student_id!r} is already on line {by_id[student_id]}; "
                "every student needs an ID of their own"
            )
        if student_id:
            by_id[student_id] = line
        entries.append((line, name, student_id))
    if not entries:
        raise DerivgenError(f"{path}: no names in the roster")
    return _students(path, entries)


def _cell(row: list[str], column: int | None) -> str:
    return row[column] if column is not None and len(row) > column else ""


def _students(path: Path, entries: list[tuple[int, str, str]]) -> list[Student]:
    """Slugs, seeds, answer keys and header tags, unique across the roster."""
    from ..presentation.text import typesets

    namesakes: dict[str, int] = {}
    for _, name, _ in entries:
        namesakes[name] = namesakes.get(name, 0) + 1
    seen: dict[str, int] = {}
    slugs: set[str] = set()
    keys: dict[str, int] = {}
    students = []
    for line, name, student_id in entries:
        seen[name] = seen.get(name, 0) + 1
        shared = namesakes[name] > 1
        # the name alone seeds the draws (a student keeps their numbers when others join, leave or move);
        # a namesake's draws also take their ID, or which of the namesakes they are
        identity = name
        if shared and student_id:
            identity = f"{name} #{student_id}"
        elif shared and seen[name] > 1:
            identity = f"{name} #{seen[name]}"
        base = "-".join(part for part in (slug_of(name), slug_of(student_id)) if part)
        if not base:
            raise DerivgenError(
                f"{path}:{line}: the name {name!r} has no letter or digit to name its files after; "
                "add an 'id' column, or write the name in letters"
            )
        slug = _unique(base, slugs)
        slugs.add(slug)
        tag = f"ID {student_id}" if student_id else ""
        if not tag and (shared or not typesets(name) or slug != base):
            tag = f"roster line {line}"  # two sheets must never look alike
        key = student_id or (f"{name} (roster line {line})" if shared else name)
        if key in keys:
            raise DerivgenError(
                f"{path}:{line}: {key!r} names the student of line {keys[key]} in the answer key; "
                "give every student an ID of their own"
            )
        keys[key] = line
        students.append(Student(name, line, slug, student_id, identity, key, tag))
    return students


def _unique(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``, … if it is taken (never '--': the slug's last character is a
    letter or digit)."""
    if slug not in taken:
        return slug
    number = 2
    while f"{slug}-{number}" in taken:
        number += 1
    return f"{slug}-{number}"


def slug_of(name: str) -> str:
    """The file-name form of a name: 'Émile  Borel' → 'emile-borel', '李明' → '李明'.

    Letters and digits (accents dropped, lower case) joined by single hyphens: never '--', never a
    hyphen at either end, '' for a name without letters or digits.
    """
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    slug = "-".join(words)[:60]
    return slug.strip("-")
