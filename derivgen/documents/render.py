"""Jinja rendering of presented frames into LaTeX sources, one template per output format.

The environment uses LaTeX-safe delimiters (``\\VAR{…}``, ``\\BLOCK{…}``, ``\\#{…}``), no line
statements (``%`` is everywhere in LaTeX), ``StrictUndefined``, and a ``finalize`` hook that
escapes every printed value unless it is :class:`~derivgen.presentation.frames.Latex`; in text, ``$…$`` is
checked maths (:func:`~derivgen.presentation.text.text_latex`).  A user folder given
with ``--templates`` is searched before the built-in templates, so any template can be overridden.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from ..errors import DerivgenError
from ..presentation.text import Latex, Plain, escape_text, text_latex

if TYPE_CHECKING:
    from ..presentation.frames import PresentedFrame

# format -> (template, suffix of the output file name)
FORMATS: dict[str, tuple[str, str]] = {
    "slides": ("slides.tex.j2", ""),
    "handout": ("handout.tex.j2", "-handout"),
    "handout-2up": ("handout-2up.tex.j2", "-handout-2up"),
    "notes": ("notes.tex.j2", "-notes"),
}


class TemplateError(DerivgenError):
    """A template could not be found or rendered."""


def builtin_templates() -> jinja2.BaseLoader:
    """The templates shipped with derivgen: the top-level ``templates/`` folder, which installs as the
    package ``derivgen.templates`` (pyproject.toml maps it), found through the import system so an
    editable install, a wheel and a zipped install all work."""
    return jinja2.PackageLoader("derivgen.templates", ".")


def _finalize(value: Any) -> str:
    """Every printed value: trusted LaTeX as it is, text with its ``$…$`` maths checked (in every
    template, a user's own too), data (:class:`Plain`, numbers) escaped literally."""
    if value is None:
        return ""
    if isinstance(value, Latex):
        return str(value)
    if isinstance(value, str) and not isinstance(value, Plain):
        return text_latex(value)
    return escape_text(value)


def template_loader(user_templates: Path | None = None) -> jinja2.ChoiceLoader:
    """The built-in templates, after those of ``user_templates`` (a folder of UTF-8 ``*.j2`` files) where
    given: a user's template overrides the built-in one of the same name (every format: LaTeX, HTML, Moodle)."""
    loaders: list[jinja2.BaseLoader] = [builtin_templates()]
    if user_templates is not None:
        if not user_templates.is_dir():
            raise TemplateError(f"{user_templates}: the templates folder does not exist")
        _check_templates_folder(user_templates)
        loaders.insert(0, jinja2.FileSystemLoader(str(user_templates)))
    return jinja2.ChoiceLoader(loaders)


def environment(user_templates: Path | None = None) -> jinja2.Environment:
    """The Jinja environment; ``user_templates`` overrides built-in templates of the same name."""
    return jinja2.Environment(
        loader=template_loader(user_templates),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_statement_prefix=None,
        line_comment_prefix=None,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
    )


@dataclass(frozen=True)
class DeckInfo:
    """Title-page data as the templates see it (plain strings, escaped when printed)."""

    title: str
    subtitle: str = ""
    author: str = ""
    institute: str = ""
    course: str = ""
    date: str = ""
    aspectratio: int = 169
    # the look (slides and handouts): installed beamer theme names, checked; "" for beamer's default
    theme: str = ""
    colortheme: str = ""
    fonttheme: str = ""
    logo: str = ""  # the logo's fixed name in the TeX build folder, e.g. "logo.png"
    notes_for_students: bool = False  # frame notes also in the students' notes (deck key notes: students)


def render(fmt: str, deck: DeckInfo, frames: list[PresentedFrame], env: jinja2.Environment) -> str:
    """The LaTeX source of one output format."""
    template_name, _ = FORMATS[fmt]
    return render_template(env, template_name, deck=deck, frames=frames)


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render the template ``name``; any error in it — a syntax error, an undefined name, an exception a
    template raises (``\\VAR{1/0}``) — is a :class:`TemplateError` naming the template file and line."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as error:
        raise TemplateError(f"template not found: {error.name}") from None
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name or name}:{error.lineno}"
        raise TemplateError(f"{where}: template error: {error.message}") from None
    except UnicodeDecodeError as error:  # a template included from outside the checked folder
        raise TemplateError(f"{_where(error, name)}: loads a file that is not UTF-8 text ({error.reason})") from None
    except (DerivgenError, MemoryError):
        raise
    except Exception as error:  # the template itself raised: 1/0, a filter on the wrong type, endless recursion
        message = error.message if isinstance(error, jinja2.TemplateError) and error.message else str(error)
        kind = "" if isinstance(error, jinja2.TemplateError) else f"{type(error).__name__}: "
        raise TemplateError(f"{_where(error, name)}: template error: {kind}{message}") from None


def _where(error: BaseException, name: str) -> str:
    """``file:line`` of the innermost template frame of the traceback (Jinja gives a template's frames
    its file name and line), or the template's name."""
    found = name
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.endswith(".j2") and frame.lineno:
            found = f"{frame.filename}:{frame.lineno}"
    return found


def _check_templates_folder(folder: Path) -> None:
    """Every template (``*.j2``) in a user's folder must be UTF-8 text: a Latin-1 or binary file is named
    here, not reported as a decoding error later.  Other files (a logo, notes) are left alone."""
    for path in sorted(folder.rglob("*.j2")):
        if not path.is_file():
            continue
        try:
            path.read_bytes().decode("utf-8")
        except OSError as error:
            raise TemplateError(f"{path}: cannot read the template ({error.strerror or error})") from None
        except UnicodeDecodeError as error:
            line = path.read_bytes()[: error.start].count(b"\n") + 1
            raise TemplateError(
                f"{path}:{line}: the template is not UTF-8 text (byte 0x{error.object[error.start]:02x}); "
                "save it as UTF-8"
            ) from None


def templates_fingerprint(env: jinja2.Environment) -> str:
    """A hash over every template the environment can load (what a rebuild depends on)."""
    digest = hashlib.sha256()
    loader = env.loader
    assert loader is not None, "environment() always sets a loader"
    # only templates: the package folder also holds __init__.py and its bytecode
    for name in sorted(env.list_templates(extensions=["j2"])):
        try:
            source, _, _ = loader.get_source(env, name)
        except UnicodeDecodeError as error:  # environment() checks a user's folder; this is a last guard
            raise TemplateError(f"{name}: the template is not UTF-8 text ({error.reason})") from None
        digest.update(name.encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()
