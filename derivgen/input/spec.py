"""Deck files: YAML read safely, validated, every error naming ``file:line`` and the key.

The YAML is composed into nodes by PyYAML's safe loader (no Python tags, no code), converted to
plain data while remembering the line of every key, and validated by pydantic models that forbid
unknown keys.  Validation errors are mapped back to the line of the offending key.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from ..errors import DerivgenError
from .mathtext import MathTextError, check_math_text, check_raw_latex

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 50_000  # YAML aliases can make a small file expand enormously ("billion laughs")

Detail = Literal["full", "normal", "brief"]


class SpecError(DerivgenError):
    """A deck or exercise file is malformed; the message starts with ``file:line:``."""


# -- the deck model -------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Task(_Model):
    """What to differentiate: shared by deck frames and exercises."""

    derive: str | list[str] = Field(description="the expression, or a list of them for a Jacobian")
    wrt: str | list[str] | None = Field(
        None, description="variable, or a list of them for a gradient (default: the only variable)"
    )
    order: int = Field(
        1, ge=1, le=4, description="2: the second derivative, or with several variables the Hessian (3, 4: a tensor)"
    )
    detail: Detail | None = Field(None, description="full, normal or brief (default: the file's)")
    positive: list[str] = Field(default_factory=list, description="variables assumed positive")
    symbols: dict[str, str] | None = Field(
        None, description="declared vectors and matrices, e.g. {x: vector(n), M: matrix(n, n)}: matrix calculus"
    )
    assume: list[str] = Field(default_factory=list, description="e.g. symmetric(M), for matrix calculus")
    layout: Literal["row", "shape"] = Field("row", description="gradient by a column vector: row or its shape")
    method: Literal["rules", "limit"] = Field("rules", description="limit: from the limit of the difference quotient")
    result: str | None = Field(
        None,
        description="how the result ends: shortest (default), factor, expand, cancel, as-derived, or an "
        "expression it is rewritten as, proved equal",
    )

    @field_validator("derive", "result", mode="before")
    @classmethod
    def _number_is_text(cls, value: Any) -> Any:
        def text(item: Any) -> Any:
            return str(item) if isinstance(item, int | float) and not isinstance(item, bool) else item

        return [text(item) for item in value] if isinstance(value, list) else text(value)


class DerivationFrame(Task):
    """A function derived step by step, one line revealed per overlay."""

    kind: Literal["derivation"] = "derivation"
    title: str
    style: Literal["inline", "substitution"] = Field(
        "inline", description="inline lines, or the seed's g(u), f(x) substitution style for the chain rule"
    )
    intro: str | None = Field(None, description="text above the derivation")
    notes: str | None = Field(None, description="speaker notes / remarks in the notes version")
    rows_per_frame: int | None = Field(
        None, ge=2, le=50, description="at most this many lines on one slide (default: the deck's, else as many as fit)"
    )


class TextFrame(_Model):
    """Free text (escaped; lines starting with "- " become bullets) and/or raw LaTeX."""

    kind: Literal["text"] = "text"
    title: str
    text: str | None = None
    latex: str | None = Field(None, description="raw LaTeX, typeset as written")
    notes: str | None = None


class DefinitionFrame(_Model):
    """A named definition or statement: text and displayed formulas (raw LaTeX math)."""

    kind: Literal["definition"] = "definition"
    title: str
    term: str | None = Field(None, description="what is defined, shown as the block title")
    text: str | None = None
    formulas: list[str] = Field(default_factory=list, description="raw LaTeX math, each displayed")
    after: str | None = Field(None, description="text below the formulas")
    notes: str | None = None


class RulesFrame(_Model):
    """The general statements of rules from the registry."""

    kind: Literal["rules"] = "rules"
    title: str = "Rules"
    rules: list[str] = Field(description="rule ids, e.g. product, quotient, sum, chain")
    intro: str | None = None
    notes: str | None = None


Shown = Literal["secant", "tangent", "derivative"]
_SHOWN_BY_DEFAULT: list[Shown] = ["secant", "tangent"]


class PictureSpec(_Model):
    """A picture drawn by TeX (pgfplots): f, the secant and tangent at x0 (the seed's "slope in a
    point"), and optionally f′."""

    plot: str = Field(description="the function of x to draw")
    x: tuple[float, float] = Field((-3.0, 3.0), description="[low, high] of the x axis")
    y: tuple[float, float] | None = Field(None, description="[low, high] of the y axis (default: from f)")
    x0: float | None = Field(None, description="the point of the secant and tangent")
    dx: float = Field(1.0, description="Δx of the secant")
    show: list[Shown] = Field(default_factory=_SHOWN_BY_DEFAULT.copy, description="what to draw besides f")

    @model_validator(mode="after")
    def _ranges(self) -> PictureSpec:
        for name, bounds in (("x", self.x), ("y", self.y)):
            if bounds is not None and not bounds[0] < bounds[1]:
                raise ValueError(f"the {name} range must go from low to high")
        if self.dx == 0:
            raise ValueError("dx must not be 0")
        return self


class PlotFrame(PictureSpec):
    """A frame with a picture."""

    kind: Literal["plot"] = "plot"
    title: str
    intro: str | None = None
    notes: str | None = None


def _frame_kind(value: Any) -> str | None:
    """The kind of a frame: given explicitly, or implied by its one telling key."""
    if not isinstance(value, dict):
        return None
    if "kind" in value:
        return value["kind"]
    implied = (
        ("derive", "derivation"),
        ("rules", "rules"),
        ("plot", "plot"),
        ("formulas", "definition"),
        ("term", "definition"),
    )
    for key, kind in implied:
        if key in value:
            return kind
    return "text"


Frame = Annotated[
    Annotated[DerivationFrame, Tag("derivation")]
    | Annotated[TextFrame, Tag("text")]
    | Annotated[DefinitionFrame, Tag("definition")]
    | Annotated[RulesFrame, Tag("rules")]
    | Annotated[PlotFrame, Tag("plot")],
    Discriminator(
        _frame_kind,
        custom_error_type="frame_kind",
        custom_error_message=("unknown frame kind; use derivation, text, definition, rules or plot"),
    ),
]
_FRAME_MODELS: dict[str, type[BaseModel]] = {
    "derivation": DerivationFrame,
    "text": TextFrame,
    "definition": DefinitionFrame,
    "rules": RulesFrame,
    "plot": PlotFrame,
}
_TAGS = set(_FRAME_MODELS)


class Notation(_Model):
    """How a deck writes what lecturers write in several ways, the same on every page of it."""

    det: Literal["det", "bars"] = Field("det", description=r"det: \det X; bars: |X|")
    log: Literal["log", "ln"] = Field("log", description=r"the natural logarithm as \log x or \ln x")
    inverse_transpose: Literal["(X^T)^-1", "X^-T"] = Field("(X^T)^-1", description="the inverse of a transpose")


_THEME_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf")


class Deck(_Model):
    """A lecture deck: title page data and a list of frames."""

    title: str
    subtitle: str | None = None
    author: str | None = None
    institute: str | None = None
    course: str | None = None
    date: str | None = None
    detail: Detail = "normal"
    aspect: Literal["4:3", "16:9"] = "16:9"
    rows_per_frame: int | None = Field(
        None, ge=2, le=50, description="at most this many derivation lines on one slide (default: as many as fit)"
    )
    notation: Notation = Field(default_factory=Notation, description="det, log, inverse transpose: one way each")
    theme: str | None = Field(None, description="an installed beamer theme for slides and handouts, e.g. Madrid")
    colortheme: str | None = Field(None, description="an installed beamer colour theme, e.g. beaver")
    fonttheme: str | None = Field(None, description="an installed beamer font theme, e.g. serif")
    logo: str | None = Field(None, description="an image next to the deck (png, jpg or pdf) shown on every slide")
    notes: Literal["speaker", "students"] = Field(
        "speaker", description="frame notes: speaker (beamer notes only) or students (also in the notes)"
    )
    frames: list[Frame] = Field(min_length=1)

    # the names go into \usetheme{…}: plain names only, so nothing else can reach the preamble
    @field_validator("theme", "colortheme", "fonttheme")
    @classmethod
    def _theme_name(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) <= 40 and _THEME_NAME.fullmatch(value)):
            raise ValueError("a theme name is letters and digits (inner hyphens allowed), e.g. Madrid")
        return value

    @field_validator("logo")
    @classmethod
    def _logo_path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "~")) or ".." in parts or ":" in value:
            raise ValueError("the logo is a file next to the deck: a relative path without ..")
        if not value.lower().endswith(LOGO_SUFFIXES):
            raise ValueError(f"the logo is an image: {', '.join(LOGO_SUFFIXES)}")
        return value


# -- exercise sheets ----------------------------------------------------------------------------------


class Parameter(_Model):
    """A number drawn per variant: an integer or a rational from a range, or one of a list."""

    integer: tuple[int, int] | None = Field(None, description="[low, high], both included")
    rational: tuple[int, int, int] | None = Field(None, description="[low, high, largest denominator]")
    choice: list[int | float | str] | None = Field(None, description="values to choose from (numbers or expressions)")
    exclude: list[int | float | str] = Field(default_factory=list, description="values never drawn, e.g. [0]")

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        kinds = [self.integer, self.rational, self.choice]
        if sum(kind is not None for kind in kinds) != 1:
            raise ValueError("give exactly one of integer, rational, choice")
        for bounds in (self.integer, self.rational):
            if bounds is not None and bounds[0] > bounds[1]:
                raise ValueError("the range's low end is above its high end")
        if self.rational is not None and self.rational[2] < 1:
            raise ValueError("the largest denominator must be at least 1")
        if self.choice is not None and not self.choice:
            raise ValueError("choice needs at least one value")
        return self


_LENGTH = re.compile(r"\d{1,3}(\.\d{1,2})?\s*(cm|mm|in|pt|em|ex)")


def _length(value: str | None) -> str | None:
    if value is not None and not _LENGTH.fullmatch(value):
        raise ValueError("a length such as 4cm, 30mm or 2in")
    return value


class Part(Task):
    """Part (a), (b), … of an exercise."""

    prompt: str | None = None
    points: int = Field(0, ge=0, le=1000)
    space: str | None = Field(None, description="answer space on the sheet, e.g. 4cm")
    _space_is_a_length = field_validator("space")(_length)


class Exercise(Task):
    """One exercise: a prompt, points and a task — or parts, each with its own task."""

    # absent when the exercise has parts; an exercise is used as a Task only without parts, when
    # _task_or_parts has made sure it is set (a narrower field type would need a second model)
    derive: str | list[str] | None = None  # type: ignore[assignment]
    title: str | None = None
    prompt: str | None = None
    points: int = Field(0, ge=0, le=1000)
    space: str | None = Field(None, description="answer space on the sheet, e.g. 4cm")
    parameters: dict[str, Parameter] = Field(default_factory=dict, description="numbers drawn per variant")
    parts: list[Part] | None = None
    picture: PictureSpec | None = Field(None, description="a picture beside the prompt (plot, x, x0, dx, show)")
    _space_is_a_length = field_validator("space")(_length)

    @model_validator(mode="after")
    def _task_or_parts(self) -> Exercise:
        if (self.derive is None) == (self.parts is None):
            raise ValueError("give either derive (one task) or parts (several)")
        return self


class ExerciseSheet(_Model):
    """An exercise sheet: the students' sheet and the solutions come from it."""

    title: str
    course: str | None = None
    number: int | str | None = None
    date: str | None = None
    due: str | None = None
    instructions: str | None = None
    detail: Detail = "normal"
    space: str = Field("5cm", description="default answer space")
    _space_is_a_length = field_validator("space")(_length)
    notation: Notation = Field(default_factory=Notation, description="det, log, inverse transpose: one way each")
    exercises: list[Exercise] = Field(min_length=1)


# -- loading ----------------------------------------------------------------------------------------


class SourceMap:
    """Line numbers of the keys and items of a loaded YAML document."""

    def __init__(self, path: Path, text: str = ""):
        self.path = path
        self.text = text  # the file, to find a character of a multi-line or quoted value
        self.lines: dict[tuple, int] = {}
        self.columns: dict[tuple, int] = {}  # where a one-line text value starts (1-based)
        self.scalars: dict[tuple, tuple[int, int, str | None]] = {}  # start and end index in text, YAML style
        self.values: dict[tuple, str] = {}  # the text values as read, before pydantic strips them

    def line(self, location: tuple) -> int:
        """Line of the longest prefix of ``location`` that is known (1 for the document)."""
        while location and location not in self.lines:
            location = location[:-1]
        return self.lines.get(location, 1)

    def where(self, location: tuple) -> str:
        return f"{self.path}:{self.line(location)}"

    def where_in(self, location: tuple, column: int | None) -> str:
        """``file:line:column`` of character ``column`` (1-based) of a one-line text value."""
        start = self.columns.get(location)
        if column is None or start is None:
            return self.where(location)
        return f"{self.path}:{self.line(location)}:{start + column - 1}"

    def where_at(self, location: tuple, offset: int) -> str:
        """``file:line:column`` of character ``offset`` (0-based) of a text value, in whatever style the
        YAML writes it (plain, quoted with escapes, or a ``|``/``>`` block over several lines)."""
        found = self.scalars.get(location)
        if found is None:
            return self.where(location)
        value = self.values.get(location)
        if value is None:
            return self.where(location)
        start, end, style = found
        index = _source_index(self.text, start, end, style, value, offset)
        line = self.text.count("\n", 0, index) + 1
        return f"{self.path}:{line}:{index - self.text.rfind(chr(10), 0, index)}"


# YAML escapes in double quotes: the character each stands for (\x, \u, \U take hex digits)
_YAML_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _source_index(text: str, start: int, end: int, style: str | None, value: str, offset: int) -> int:
    """Index in ``text`` of character ``offset`` of ``value``, the scalar written at ``text[start:end]``.

    YAML changes only white space when it folds lines and strips indentation, so the k-th character
    of the value that is not white space is the k-th one written (a quoted value's escape or doubled
    quote counting as the one character it stands for)."""
    wanted = sum(1 for char in value[:offset] if not char.isspace())
    i = start
    if style in ("|", ">"):  # skip the block header line (| or >, with its indicators)
        i = text.find("\n", start, end) + 1 or end
    elif style in ("'", '"'):
        i += 1
    seen = 0
    while i < end:
        width, char = 1, text[i]
        if style == '"' and char == "\\" and i + 1 < end:
            code = text[i + 1]
            if code == "\n":  # an escaped line break stands for nothing
                i += 2
                continue
            digits = _HEX_DIGITS.get(code, 0)
            width = 2 + digits
            try:
                char = chr(int(text[i + 2 : i + 2 + digits], 16)) if digits else _YAML_ESCAPES.get(code, code)
            except ValueError:
                char = code
        elif style == "'" and text.startswith("''", i):
            width = 2
        if not char.isspace():
            if seen == wanted:
                return i
            seen += 1
        i += width
    return max(start, min(i, end) - 1)


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Plain data from a YAML file (safe subset only) and the lines of its keys."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SpecError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"{path}: the file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"{path}: not UTF-8 text (byte {error.start})") from None
    if "\0" in text:
        raise SpecError(f"{path}: the file contains NUL bytes; it is not a text file")
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters already here
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not a YAML text file ({error})".replace("\n", " ")) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise SpecError(f"{path}:{line}: invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: invalid YAML: {error}") from None
    except RecursionError:
        raise SpecError(f"{path}: the YAML is nested too deeply") from None
    finally:
        loader.dispose()
    source = SourceMap(path, text)
    if node is None:
        raise SpecError(f"{path}:1: the file is empty")
    try:
        return _Converter(loader, source).convert(node, ()), source
    except RecursionError:
        raise SpecError(f"{path}: the YAML is nested too deeply") from None


class _Converter:
    """YAML nodes → plain data, with the standard scalar types only."""

    _SCALAR_TAGS = frozenset(
        f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
    )

    def __init__(self, loader: yaml.SafeLoader, source: SourceMap):
        self.loader = loader
        self.source = source
        self.count = 0

    def convert(self, node: yaml.Node, location: tuple) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError(
                f"{self.source.path}:{node.start_mark.line + 1}: more than {MAX_NODES} values "
                "(are YAML aliases expanding?)"
            )
        self.source.lines.setdefault(location, node.start_mark.line + 1)
        where = f"{self.source.path}:{node.start_mark.line + 1}"
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise SpecError(f"{where}: the YAML tag {node.tag} is not allowed")
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise SpecError(f"{where}: YAML merge keys (<<) are not supported")
                key = self.convert(key_node, (*location, "<key>"))
                if not isinstance(key, str):
                    raise SpecError(f"{self.source.path}:{key_node.start_mark.line + 1}: keys must be text")
                if key in result:
                    raise SpecError(f"{self.source.path}:{key_node.start_mark.line + 1}: the key {key!r} appears twice")
                self.source.lines[(*location, key)] = key_node.start_mark.line + 1
                result[key] = self.convert(value_node, (*location, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise SpecError(f"{where}: the YAML tag {node.tag} is not allowed")
            return [self.convert(item, (*location, i)) for i, item in enumerate(node.value)]
        if node.tag not in self._SCALAR_TAGS:
            raise SpecError(f"{where}: the YAML tag {node.tag} is not allowed")
        if node.start_mark.line == node.end_mark.line:  # one line: columns inside the text are exact
            quoted = 1 if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"') else 0
            self.source.columns[location] = node.start_mark.column + 1 + quoted
        value = self.loader.construct_object(node, deep=True)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(value)
        if isinstance(value, str):  # where each character stands: for errors inside a text (maths)
            style = node.style if isinstance(node, yaml.ScalarNode) else None
            self.source.scalars[location] = (node.start_mark.index, node.end_mark.index, style)
            self.source.values[location] = value
        return value


def load_deck(path: str | Path, trust_latex: bool = False) -> tuple[Deck, SourceMap]:
    """Read and validate a deck file.  Its raw LaTeX (``latex:``, ``formulas:``) is checked against an
    allow-list unless ``trust_latex`` (the lecturer's own file: ``derivgen build --trust-latex``)."""
    return _load(Path(path), Deck, "a deck is a mapping with title and frames", trust_latex)


def load_sheet(path: str | Path) -> tuple[ExerciseSheet, SourceMap]:
    """Read and validate an exercise file."""
    return _load(Path(path), ExerciseSheet, "an exercise file is a mapping with title and exercises")


def _load(path: Path, model: type[BaseModel], what: str, trust_latex: bool = False) -> tuple[Any, SourceMap]:
    data, source = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: {what}, not a {_kind_of(data)}")
    loaded = validate(model, data, source)
    check_text_fields(loaded, source, raw_latex=not trust_latex)
    return loaded, source


TEXT_FIELDS = frozenset(
    "title subtitle author institute course intro text notes after term prompt instructions".split()
)
"""The free-text keys where ``$…$`` is maths (checked against the allow-list of :mod:`.mathtext`); every
other text is printed literally or, in ``latex:`` and ``formulas:``, is raw LaTeX."""


RAW_LATEX_FIELDS = {"latex": False, "formulas": True}
"""The raw LaTeX keys, and whether each is maths (``formulas:``) or text with maths (``latex:``)."""


def check_text_fields(model: BaseModel, source: SourceMap, location: tuple = (), raw_latex: bool = True) -> None:
    """Check the maths of every text field before anything is derived, and (``raw_latex``) the raw
    LaTeX fields against their allow-list: the first bad one is a :class:`SpecError` naming
    ``file:line:column`` of its culprit."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = (*location, name)
        if raw_latex and name in RAW_LATEX_FIELDS and value:
            items = [(value, here)] if isinstance(value, str) else [(v, (*here, i)) for i, v in enumerate(value)]
            for item, at in items:
                try:
                    check_raw_latex(source.values.get(at, item), RAW_LATEX_FIELDS[name])
                except MathTextError as error:
                    raise SpecError(f"{source.where_at(at, error.offset)}: {_dotted(at)}: {error.one_line()}") from None
        elif name in TEXT_FIELDS and isinstance(value, str):
            written = source.values.get(here, value)  # as in the file: pydantic stripped the spaces
            try:
                check_math_text(written)
            except MathTextError as error:
                raise SpecError(f"{source.where_at(here, error.offset)}: {_dotted(here)}: {error.one_line()}") from None
        elif isinstance(value, BaseModel):
            check_text_fields(value, source, here, raw_latex)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    check_text_fields(item, source, (*here, index), raw_latex)


def is_exercise_file(path: str | Path) -> bool:
    """An exercise file has ``exercises:``, a deck ``frames:`` (a cheap look, before full loading)."""
    data, _ = read_yaml(Path(path))
    return isinstance(data, dict) and "exercises" in data


def validate(model: type[BaseModel], data: Any, source: SourceMap) -> Any:
    """``model`` built from ``data``; the first error becomes a :class:`SpecError` at its line."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise SpecError(_describe_error(first, model, source)) from None


def _without_tags(location: tuple) -> tuple:
    """pydantic puts the frame kind (the union's tag) after a frame's index: drop it."""
    return tuple(
        part for i, part in enumerate(location) if not (part in _TAGS and i > 0 and isinstance(location[i - 1], int))
    )


def _describe_error(error: ErrorDetails, model: type[BaseModel], source: SourceMap) -> str:
    kind_location = tuple(error["loc"])
    location = _without_tags(kind_location)
    shown = _dotted(location)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = location[-1]
        allowed = _allowed_keys(model, kind_location[:-1])
        hint = difflib.get_close_matches(str(key), allowed, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(sorted(allowed))})"
        return f"{source.where(location)}: unknown key {key!r}{suggestion}"
    if kind == "missing":
        parent = location[:-1]
        return f"{source.where(parent)}: {_dotted(parent) or 'the document'} needs the key {location[-1]!r}"
    return f"{source.where(location)}: {shown or 'the document'}: {error['msg']}"


def _allowed_keys(model: type[BaseModel], location: tuple) -> list[str]:
    """Field names of the model found at ``location``, for "did you mean" suggestions."""
    for part in reversed(location):
        if part in _FRAME_MODELS:
            return list(_FRAME_MODELS[part].model_fields)
    nested: dict[str, type[BaseModel]] = {
        "exercises": Exercise,
        "parts": Part,
        "parameters": Parameter,
        "picture": PictureSpec,
        "notation": Notation,
    }
    names = [part for part in location if isinstance(part, str)]
    if names and names[-1] in nested and isinstance(location[-1], int | str):
        return list(nested[names[-1]].model_fields)
    return list(model.model_fields) if not location else []


def _dotted(location: tuple) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _kind_of(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "true/false"}.get(type(value), "value")
