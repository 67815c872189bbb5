"""Decks and exercise files → one self-contained HTML page each (``--format html``).

The page shows the very rows the PDFs show — the presented, page-checked LaTeX of every derivation line —
and KaTeX renders them in the browser.  KaTeX (``templates/html/katex``, its licence and version beside it)
is inlined into the page with its fonts as ``data:`` URIs, and a Content-Security-Policy forbids every
fetch, so the one file works offline.  Templates are Jinja with HTML autoescaping: no user text (a title,
a label) can add markup or a script; ``$…$`` in text is checked maths, as in the PDFs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from ..presentation.text import Latex, Plain
from .render import DeckInfo, TemplateError, render_template, template_loader

if TYPE_CHECKING:
    from .build import SheetInfo
    from .sheets import Variant

KATEX_FOLDER = ("html", "katex")
# the deck's own LaTeX commands (base.tex.j2's macros) as KaTeX macros; \alert<k| handout:0>{…} marks the
# part a line changed (the slides' highlight): here a class the page colours on the step just revealed
KATEX_MACROS = {
    r"\breakclose": r"\right.",
    r"\breakopen": r"\left.",
    r"\breakend": "",
    r"\breakbegin": "",
}
KATEX_PRELUDE = r"\gdef\alert<#1>#2{\htmlClass{dg-changed}{#2}}"
_FONT_SOURCE = re.compile(r"src:([^;}]*)")
_FONT_URL = re.compile(r"url\(fonts/([A-Za-z0-9_-]+\.woff2)\)")


def html_environment(user_templates: Path | None = None) -> jinja2.Environment:
    """Jinja for the HTML templates (``html/*.html.j2``): autoescaped, strict; a user's folder first."""
    env = jinja2.Environment(
        loader=template_loader(user_templates),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
    )
    env.filters["display"] = lambda tex: math_html(tex, display=True)
    env.filters["inline"] = lambda tex: math_html(tex, display=False)
    env.filters["mixed"] = mixed_html
    env.filters["rawlatex"] = raw_latex_html
    env.filters["plain"] = Plain
    return env


def math_html(tex: str, display: bool = False) -> Markup:
    """A placeholder KaTeX renders in the browser: the LaTeX as the element's (escaped) text."""
    kind = "dg-display" if display else "dg-inline"
    return Markup('<span class="dg-math %s">%s</span>') % (kind, tex)


def text_html(text: str) -> Markup:
    """A text field → HTML: the words escaped, each ``$…$`` checked against the maths allow-list."""
    from ..input.mathtext import math_latex, segments

    return Markup("").join(
        math_html(math_latex(part.text)) if part.math else Markup.escape(part.text) for part in segments(text)
    )


def mixed_html(tex: str) -> Markup:
    """derivgen's own text with ``$…$`` maths (a sheet's "where $x \\in \\mathbb{R}^n$"): trusted, not checked."""
    pieces = re.split(r"(\$[^$]*\$)", tex)
    return Markup("").join(
        math_html(piece[1:-1]) if piece.startswith("$") and len(piece) > 1 else Markup.escape(piece) for piece in pieces
    )


_RAW_MATH = re.compile(r"(\\\[.*?\\\]|\$\$.*?\$\$|\\\(.*?\\\)|\$.*?\$)", re.DOTALL)


def raw_latex_html(tex: str) -> Markup:
    """A deck's raw LaTeX block (``latex:``): its maths (``\\[…\\]``, ``$$…$$``, ``\\(…\\)``, ``$…$``) rendered,
    with the words around it; a block with other LaTeX in its text (a table, a command) is typeset in the
    PDFs only, and the page says so rather than show LaTeX source."""
    pieces = _RAW_MATH.split(tex)
    words = pieces[::2]
    if any(re.search(r"[\\{}&%~^_#]", text) for text in words):
        return Markup('<span class="dg-rawlatex-note">(A LaTeX block shown in the PDF versions only.)</span>')
    out = Markup("")
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            out += Markup.escape(piece)
        else:
            display = piece.startswith(("\\[", "$$"))
            inner = piece[2:-2] if piece.startswith(("\\[", "$$", "\\(")) else piece[1:-1]
            out += math_html(inner, display=display)
    return out


def _finalize(value: Any) -> Any:
    """As the LaTeX templates do: LaTeX rendered as maths, text with its ``$…$`` maths, data escaped."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, Latex):
        return math_html(value)
    if isinstance(value, str) and not isinstance(value, Plain):
        return text_html(value)
    return value  # autoescaped


@dataclass(frozen=True)
class Assets:
    """What the page inlines: KaTeX's script and style (fonts as data: URIs) and derivgen's own."""

    katex_js: Markup
    katex_css: Markup
    page_js: Markup
    page_css: Markup
    katex_version: str
    policy: str  # the Content-Security-Policy: only these scripts, no fetch of anything

    @classmethod
    def load(cls, env: jinja2.Environment) -> Assets:
        folder = resources.files("derivgen.templates").joinpath(*KATEX_FOLDER)
        fonts = folder.joinpath("fonts")

        def font(match: re.Match[str]) -> str:
            data = base64.b64encode(fonts.joinpath(match.group(1)).read_bytes()).decode()
            return f"url(data:font/woff2;base64,{data})"

        def woff2_only(match: re.Match[str]) -> str:  # "url(a.woff2) format("woff2"),url(a.woff) …" → the woff2
            first = match.group(1).split(",")[0]
            return "src:" + _FONT_URL.sub(font, first)

        css = _FONT_SOURCE.sub(woff2_only, folder.joinpath("katex.min.css").read_text("utf-8"))
        katex_js = folder.joinpath("katex.min.js").read_text("utf-8")
        page_js = render_template(env, "html/page.js.j2", macros=KATEX_MACROS, prelude=KATEX_PRELUDE)
        page_css = render_template(env, "html/page.css.j2")
        for name, text in (("katex.min.js", katex_js), ("page.js", page_js)):
            if "</script" in text.lower():  # would end the inline script early
                raise TemplateError(f"{name}: contains '</script', which cannot be inlined")
        hashes = " ".join(
            "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            for text in (katex_js, page_js)
        )
        policy = f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; font-src data:; img-src data:"
        version = folder.joinpath("VERSION").read_text("utf-8").strip()
        return cls(Markup(katex_js), Markup(css), Markup(page_js), Markup(page_css), version, policy)


def render_deck_html(env: jinja2.Environment, deck: DeckInfo, frames: list, assets: Assets) -> str:
    """The deck's page."""
    return render_template(env, "html/deck.html.j2", deck=deck, frames=frames, assets=assets, plots=_plots(frames))


def render_sheet_html(
    env: jinja2.Environment, sheet: SheetInfo, variant: Variant, solutions: bool, assets: Assets
) -> str:
    """An exercise sheet's page, or its solutions' page."""
    pictures = {exercise.number: svg_plot(exercise.picture) for exercise in variant.exercises if exercise.picture}
    return render_template(
        env, "html/sheet.html.j2", sheet=sheet, variant=variant, solutions=solutions, assets=assets, plots=pictures
    )


def _plots(frames: list) -> dict[int, Markup]:
    return {frame.number: svg_plot(frame.picture) for frame in frames if frame.picture is not None}


# -- pictures: the plot's sampled coordinates (the ones pgfplots draws) as an SVG -------------------------

_PAIR = re.compile(r"\(([^,()]+),([^,()]+)\)")
_WIDTH, _HEIGHT, _PAD = 560.0, 340.0, 28.0


def svg_plot(picture: Any) -> Markup:
    """The picture of a plot frame or an exercise: f (blue), f' (orange, dashed), the secant (red) and
    the tangent (green, dashed), with the axes; the legends are maths under it (see the template)."""
    xmin, xmax, ymin, ymax = (float(value) for value in (picture.xmin, picture.xmax, picture.ymin, picture.ymax))

    def point(x: float, y: float) -> str:
        sx = _PAD + (x - xmin) / (xmax - xmin) * (_WIDTH - 2 * _PAD)
        sy = _HEIGHT - _PAD - (y - ymin) / (ymax - ymin) * (_HEIGHT - 2 * _PAD)
        return f"{sx:.1f},{sy:.1f}"

    def lines(coordinates: str, style: str) -> str:
        runs: list[list[str]] = [[]]
        for x_text, y_text in _PAIR.findall(coordinates):
            if y_text.strip() == "nan":
                runs.append([])
            else:
                runs[-1].append(point(float(x_text), float(y_text)))
        return "".join(f'<polyline points="{" ".join(run)}" {style}/>' for run in runs if len(run) > 1)

    shapes = []
    if xmin <= 0 <= xmax:
        shapes.append(
            f'<line class="axis" x1="{point(0, ymin).split(",")[0]}" y1="{_HEIGHT - _PAD}" '
            f'x2="{point(0, ymax).split(",")[0]}" y2="{_PAD}"/>'
        )
    if ymin <= 0 <= ymax:
        y0 = point(xmin, 0).split(",")[1]
        shapes.append(f'<line class="axis" x1="{_PAD}" y1="{y0}" x2="{_WIDTH - _PAD}" y2="{y0}"/>')
    shapes.append(lines(picture.function.coordinates, 'class="f"'))
    if picture.derivative is not None:
        shapes.append(lines(picture.derivative.coordinates, 'class="df"'))
    if picture.secant:
        shapes.append(lines(picture.secant, 'class="secant"'))
        for pair in _PAIR.findall(picture.points):
            x, y = point(float(pair[0]), float(pair[1])).split(",")
            shapes.append(f'<circle cx="{x}" cy="{y}" r="3.5"/>')
    if picture.tangent:
        shapes.append(lines(picture.tangent, 'class="tangent"'))
    # a nested svg clips to the plot area (a clipPath would need an id of its own for every plot of a page)
    size = f"{_WIDTH - 2 * _PAD:g} {_HEIGHT - 2 * _PAD:g}"
    inner = f'<svg x="{_PAD:g}" y="{_PAD:g}" width="{_WIDTH - 2 * _PAD:g}" height="{_HEIGHT - 2 * _PAD:g}" '
    inner += f'viewBox="{_PAD:g} {_PAD:g} {size}" overflow="hidden">{"".join(shapes)}</svg>'
    return Markup(
        f'<svg class="dg-plot-svg" viewBox="0 0 {_WIDTH:g} {_HEIGHT:g}" role="img" xmlns="http://www.w3.org/2000/svg">'
        f"{inner}</svg>"
    )


# -- the builds -----------------------------------------------------------------------------------------


def build_deck_html(
    deck_path: Path,
    out_dir: Path,
    templates: Path | None = None,
    report: Callable[[str], None] = lambda message: None,
    trust_latex: bool = False,
) -> Path:
    """``<deck>.html`` in ``out_dir``; frames come from the deck build's cache where it has them."""
    from ..input.spec import load_deck
    from ..version import __version__
    from .build import _code_fingerprint, _derived_report, _library_versions, _present, _write_all, deck_info
    from .frame_cache import FrameCache, frame_keys, version_fingerprint

    env = html_environment(templates)
    deck, source = load_deck(deck_path, trust_latex)
    version = version_fingerprint(__version__, _code_fingerprint(), _library_versions())
    cache = FrameCache.load(out_dir, deck_path.stem, version)
    frames, _, derived = _present(deck, source, frame_keys(deck, version, trust_latex), cache)
    report(_derived_report(deck_path, derived, len(frames)))
    info = deck_info(deck)
    page = render_deck_html(env, info, frames, Assets.load(env))
    path = out_dir / f"{deck_path.stem}.html"
    _write_all(out_dir, {path: page.encode("utf-8")})
    report(f"wrote {path}")
    return path


def build_sheet_html(
    sheet_path: Path,
    out_dir: Path,
    variants: int = 0,
    seed: int = 0,
    roster: Path | None = None,
    templates: Path | None = None,
    report: Callable[[str], None] = lambda message: None,
) -> list[Path]:
    """``<sheet>.html`` and ``<sheet>-solutions.html``, or a pair per variant or roster student, named as
    the PDFs are (:func:`~derivgen.documents.build.sheet_jobs`)."""
    from ..input.spec import load_sheet
    from ..presentation.printer import notation
    from .build import SheetInfo, _write_all, sheet_jobs
    from .sheets import present_variant

    env = html_environment(templates)
    assets = Assets.load(env)
    sheet, source = load_sheet(sheet_path)
    info = SheetInfo.of(sheet)
    files: dict[Path, bytes] = {}
    for job in sheet_jobs(sheet_path, out_dir, variants, seed, roster, templates, tex_only=True):
        with notation(sheet.notation):
            variant = present_variant(sheet, source, seed, job.number, job.name, job.stems[0], job.identity, job.tag)
        for stem, solutions in zip(job.stems, (False, True), strict=True):
            files[out_dir / f"{stem}.html"] = render_sheet_html(env, info, variant, solutions, assets).encode("utf-8")
    _write_all(out_dir, files)
    for path in files:
        report(f"wrote {path}")
    return sorted(files)
