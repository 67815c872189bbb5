"""Derivation rows → slides, by measured size: as many rows as fit at the normal size on each slide.

TeX measures (:mod:`derivgen.documents.measure`); this module only decides, from those sizes, where
a derivation is split and how a row too wide for the slide is set:

- a row that fits is set as it is;
- a row up to 25 % too wide is scaled down, never below 80 % of the normal size;
- a wider row is broken before a ``+``, ``-`` or ``=`` of its right-hand side that stands outside
  every bracket and group (so each line stays well-formed TeX and the highlight is never cut);
- a row that can be neither is scaled to fit and reported as a warning with the scale used.

Splitting happens only at row boundaries.  A continuation slide repeats the left-hand side in grey,
so it can be read alone, and holds at least three new rows unless the derivation has fewer left.
Breaking a row only cuts its text into lines: the lines, joined, are the checked row.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .frames import Piece, PresentedFrame, Row
from .page_check import split_highlight
from .text import Latex

MIN_SCALE = 0.8  # the smallest size a row may be set at, as a fraction of the normal size
MIN_CONTINUATION_ROWS = 3
SLACK = 3.0  # points kept free: the height estimate is exact for amsmath's aligned, up to rounding

# TeX tokens as far as breaking cares: \left/\right with their delimiter, environment ends,
# \alert<…> with its overlay (whose "3-" is no minus), control words, control symbols, characters
_TOKEN = re.compile(
    r"\\(?:left|right)(?![a-zA-Z])\s*(?:\\[a-zA-Z]+|\\.|.)"
    r"|\\(?:begin|end)\{[^}]*\}|\\alert<[^>]*>|\\[a-zA-Z]+|\\.|.",
    re.DOTALL,
)
# after these a "+" or "-" is a sign, not an operation between two terms: no line may start there
_NO_OPERAND = {"=", "+", "-", "&", ",", r"\cdot", r"\times", r"\quad", r"\qquad", r"\pm", r"\mp"}


@dataclass(frozen=True)
class Box:
    """A measured box, in TeX points."""

    width: float
    height: float
    depth: float


@dataclass(frozen=True)
class RowSize:
    """What TeX measured of one row: its left side, ``{} = rhs``, the rule label, the terms of the
    right-hand side between its break points, and the height of the notes below the block."""

    lhs: Box
    rhs: Box
    label: Box
    terms: tuple[Box, ...]
    notes: float = 0.0
    wider_labels: tuple[Box, ...] = ()  # the label in a column LABEL_GROWTHS times as wide


@dataclass(frozen=True)
class Page:
    """The slide's measures: text width, the width the rule-label column and alignment gap take,
    the line spacing of an aligned block, and the room left below the title (and intro)."""

    linewidth: float
    label_column: float  # the label box and the gap before it
    baselineskip: float
    lineskip: float
    jot: float
    quad: float
    first: float  # height free on the first slide, below title and intro
    continuation: float  # on a continuation slide, below its title
    label_width: float = 0.0  # the label box alone (\\rulelabelwidth)


# commands that begin a factor of a product: a long product may break before one
_FACTORS = {r"\frac", r"\sin", r"\cos", r"\tan", r"\log", r"\ln", r"\exp", r"\sigma", r"\tanh", r"\sqrt", r"\sum"}


# a function's name and its bracketed argument (σ(…), \operatorname{softmax}(…), tanh²(…)): never cut apart
_FUNCTION_HEAD = re.compile(
    r"(?:\\(?:sigma|sin|cos|tan|cot|sec|csc|sinh|cosh|tanh|coth|log|ln|exp|det|arcsin|arccos|arctan)(?![a-zA-Z])"
    r"|\\operatorname\{[^{}]*\})(?:\s*[\^_](?:\{[^{}]*\}|\w))*\s*(?=\\left(?![a-zA-Z]))"
)

# operators whose operand follows them: a product never breaks right after one
_OPERATORS = {r"\sum", r"\prod", r"\lim"}
_DERIVATIVE = (r"{\partial}", "{d}")  # \frac{\partial}{\partial x} and \frac{d}{dx} stand before what they act on


def break_points(rhs: str, factors: bool = False, inside: bool = False) -> list[int]:
    """Offsets in ``rhs`` where a continuation line may start: just before a top-level ``=``, binary
    ``+`` or ``-``.  Depth counts braces, brackets, parentheses, ``\\left…\\right`` and
    ``\\begin…\\end`` (and so the highlight's group).  With ``factors`` also before a factor of a
    product that opens a bracket or a function (for a long product).  With ``inside`` also before a
    ``+`` or ``-`` inside ``\\left…\\right`` brackets and the highlight's group only (a long bracketed
    sum, as a lecturer breaks it; :func:`cut` closes and reopens them at such a break).  An unbalanced
    row gives none."""
    points: list[int] = []
    arguments = {head.end() for head in _FUNCTION_HEAD.finditer(rhs)}  # where a function's argument opens
    groups: list[str] = []  # the open groups: "left" (\left), "alert" (the highlight's braces) or "other"
    previous = ""  # the last token, to tell a binary minus from a sign
    awaiting = False  # a sum or a d/dx waits for its operand: no line may end between them
    for match in _TOKEN.finditer(rhs):
        token = match.group(0)
        if token.isspace():
            continue
        depth = len(groups)
        operand = depth == 0 and token not in ("{", "}", ")", "]", "_", "^") and previous not in ("_", "^")
        operand = operand and not token.startswith(r"\right")
        if token.startswith((r"\left", r"\begin{")) or token in ("{", "(", "["):
            kind = "left" if token.startswith(r"\left") else "other"
            groups.append("alert" if token == "{" and previous.startswith(r"\alert<") else kind)
        elif token.startswith((r"\right", r"\end{")) or token in ("}", ")", "]"):
            if not groups:
                return []
            groups.pop()
        elif (
            token in ("=", "+", "-")
            and previous
            and previous not in _NO_OPERAND
            and not _opens(previous)
            and (depth == 0 or (inside and token != "=" and "other" not in groups))
        ):
            points.append(match.start())
        opens_factor = (depth == 0 and token in _FACTORS) or (depth == 0 and token.startswith(r"\left"))
        if (
            factors
            and opens_factor
            and match.start() not in arguments
            and not (operand and awaiting)
            and previous
            and previous not in _NO_OPERAND | {"^", "_"}
        ):
            points.append(match.start())
        if operand:
            awaiting = token in _OPERATORS or (token == r"\frac" and rhs.startswith(_DERIVATIVE, match.end()))
        previous = token
    return points if not groups else []


def _opens(token: str) -> bool:
    """A token after which a ``+`` or ``-`` is a sign: an opening bracket, brace or highlight."""
    return token in ("{", "(", "[") or token.startswith((r"\left", r"\alert<", r"\begin{"))


def terms(tex: str) -> list[Latex]:
    """The right-hand side cut at its break points, inside brackets too (each piece but the first
    starts with its operation; a piece inside brackets is closed as :func:`cut` closes a line)."""
    return list(cut(tex, break_points(tex, factors=True, inside=True)))


def _shared_breaks(
    plain: str, highlighted: str, factors: bool = True, inside: bool = True
) -> tuple[list[int], list[int]]:
    """Break points that both forms of a row have at the same place of the text (a highlight
    spanning a break point removes it): offsets in ``plain`` and the matching ones in ``highlighted``."""
    plain_points = set(break_points(plain, factors, inside))
    shared_plain, shared_highlighted = [], []
    for offset in break_points(highlighted, factors, inside):
        plain_offset = _plain_offset(highlighted, offset)
        if plain_offset in plain_points:
            shared_plain.append(plain_offset)
            shared_highlighted.append(offset)
    return shared_plain, shared_highlighted


def _plain_offset(highlighted: str, offset: int) -> int:
    """Where ``offset`` of the highlighted form falls in the plain form (the highlight's opening
    ``\\alert<…>{`` and closing ``}`` removed)."""
    pieces = split_highlight(highlighted)
    if pieces is None or offset <= len(pieces[0]):
        return offset
    before, inside, after = pieces
    opening = len(highlighted) - len(after) - 1 - len(inside) - len(before)  # the length of \alert<…>{
    return offset - opening - (offset >= len(highlighted) - len(after))


@dataclass(frozen=True)
class RowLayout:
    """How one row is set: the cut offsets into its plain text (empty: one line) and its scale."""

    cuts: tuple[int, ...] = ()
    scale: float = 1.0
    heights: tuple[tuple[float, float], ...] = ()  # (height, depth) of each line
    lhs_above: bool = False  # the left side on a line of its own, the row below it


def fit_row(
    plain: str, highlighted: str, size: RowSize, room: float, quad: float, lhs_above: bool = False
) -> RowLayout:
    """The row fitted to ``room``; with ``lhs_above`` its left side (if any) gets a line of its own."""
    layout = _fit(plain, highlighted, size, room, quad, lhs_above)
    if not lhs_above or size.lhs.width == 0:
        return layout
    return RowLayout(layout.cuts, layout.scale, ((size.lhs.height, size.lhs.depth), *layout.heights), True)


def _fit(plain: str, highlighted: str, size: RowSize, room: float, quad: float, lhs_above: bool) -> RowLayout:
    """The way ``plain`` (and its highlighted form) fits ``room`` points: as it is, scaled, or broken."""
    lhs = Box(0, 0, 0) if lhs_above else size.lhs
    line = (
        max(lhs.height, size.rhs.height, size.label.height),
        max(lhs.depth, size.rhs.depth, size.label.depth),
    )
    if size.rhs.width <= room:
        return RowLayout(heights=(line,))
    scale = room / size.rhs.width
    if scale >= MIN_SCALE:
        return RowLayout(scale=_floor(scale), heights=((line[0] * scale, line[1] * scale),))
    offsets = break_points(plain, factors=True, inside=True)  # where the measured terms begin
    if len(size.terms) != len(offsets) + 1:
        return RowLayout(scale=_floor(scale), heights=((line[0] * scale, line[1] * scale),))
    # between terms first; only where that is not enough also between the factors of a product,
    # and then inside brackets
    layout = _broken(size, lhs, offsets, set(_shared_breaks(plain, highlighted, False, False)[0]), room, quad)
    for inside in (False, True):
        if layout.scale >= MIN_SCALE:
            break
        finer = _broken(size, lhs, offsets, set(_shared_breaks(plain, highlighted, True, inside)[0]), room, quad)
        layout = max(layout, finer, key=lambda candidate: candidate.scale)
    if not layout.cuts:
        return RowLayout(scale=_floor(scale), heights=((line[0] * scale, line[1] * scale),))
    return layout


def _broken(size: RowSize, lhs: Box, offsets: list[int], allowed: set[int], room: float, quad: float) -> RowLayout:
    """Greedy: each line takes the terms that fit, breaking only at ``allowed`` offsets; a
    continuation line starts a \\quad in.  A line still too wide sets the whole row smaller."""
    widths = [term.width for term in size.terms]
    cuts: list[int] = []
    lines: list[list[int]] = [[]]
    used = 0.0
    for index, width in enumerate(widths):
        available = room if not cuts else room - quad
        breakable = index > 0 and offsets[index - 1] in allowed
        if lines[-1] and used + width > available and breakable:
            cuts.append(offsets[index - 1])
            lines.append([])
            used = 0.0
        lines[-1].append(index)
        used += width
    heights = []
    worst = 1.0
    for number, members in enumerate(lines):
        height = max(size.terms[i].height for i in members)
        depth = max(size.terms[i].depth for i in members)
        if number == 0:
            height, depth = max(height, lhs.height, size.label.height), max(depth, lhs.depth, size.label.depth)
        width = sum(widths[i] for i in members)
        available = room if number == 0 else room - quad
        worst = min(worst, available / width if width > available else 1.0)
        heights.append((height, depth))
    if worst < 1.0:
        heights = [(h * worst, d * worst) for h, d in heights]
    return RowLayout(cuts=tuple(cuts), scale=_floor(worst), heights=tuple(heights))


def _floor(scale: float) -> float:
    return math.floor(min(scale, 1.0) * 100) / 100


def block_height(heights: Sequence[tuple[float, float]], page: Page) -> float:
    """Height of an ``aligned`` block of lines with these (height, depth): amsmath opens the line
    spacing up by ``\\jot`` and puts lines ``\\baselineskip`` apart unless they are taller."""
    if not heights:
        return 0.0
    total = heights[0][0] + heights[-1][1]
    for (_, depth), (height, _) in itertools.pairwise(heights):
        total += max(page.baselineskip + page.jot, depth + height + page.lineskip + page.jot)
    return total


@dataclass(frozen=True)
class FrameSizes:
    """All TeX measured of one derivation frame."""

    page: Page
    lhs: Box  # the derivation's left side, as the grey repeat on a continuation slide
    rows: tuple[RowSize, ...]


@dataclass(frozen=True)
class Slide:
    """The rows (indices into the derivation's rows) of one slide."""

    rows: tuple[int, ...]


def split_rows(
    layouts: Sequence[RowLayout],
    sizes: Sequence[RowSize],
    page: Page,
    lhs: Box,
    limit: int | None = None,
) -> list[Slide]:
    """Rows → slides: as many as fit the room measured for each slide (and at most ``limit``);
    a continuation slide also holds the grey left-hand side, and at least three new rows."""
    count = len(layouts)
    slides: list[list[int]] = [[]]
    lines: list[tuple[float, float]] = []
    notes = 0.0
    for index in range(count):
        room = page.first if len(slides) == 1 else page.continuation
        candidate = lines + _row_lines(layouts[index], lhs if not slides[-1] and len(slides) > 1 else None)
        height = block_height(candidate, page) + notes + sizes[index].notes
        full = limit is not None and len(slides[-1]) >= limit
        if slides[-1] and (height > room - SLACK or full):
            slides.append([])
            candidate = _row_lines(layouts[index], lhs)
            notes = 0.0
        slides[-1].append(index)
        lines = candidate
        notes += sizes[index].notes
    # a continuation holds at least three rows, as far as the slide before can spare them and keep three
    if len(slides) > 1 and len(slides[-1]) < MIN_CONTINUATION_ROWS:
        before, last = slides[-2], slides[-1]
        moved = min(MIN_CONTINUATION_ROWS - len(last), len(before) - MIN_CONTINUATION_ROWS)
        if moved > 0:
            slides[-2], slides[-1] = before[:-moved], before[-moved:] + last
    return [Slide(tuple(rows)) for rows in slides]


def _row_lines(layout: RowLayout, grey_lhs: Box | None) -> list[tuple[float, float]]:
    heights = list(layout.heights)
    if grey_lhs is not None and layout.lhs_above:
        heights.insert(0, (grey_lhs.height, grey_lhs.depth))
    elif grey_lhs is not None and heights:
        heights[0] = (max(heights[0][0], grey_lhs.height), max(heights[0][1], grey_lhs.depth))
    return heights


# a line cut inside \left…\right brackets ends with \breakclose (\right.) for each bracket left open,
# and the next begins with \breakopen (\left.) for each; cut inside the highlight, a line closes its
# group with \breakend} and the next opens it again with \breakbegin\alert<…>{.  Every line is
# well-formed TeX, and the commands (templates/base.tex.j2) are derivgen's alone, so :func:`joined`
# removes exactly what cut added
BREAK_CLOSE = r"\breakclose"
BREAK_OPEN = r"\breakopen"
ALERT_CLOSE = r"\breakend}"
ALERT_OPEN = r"\breakbegin"
_GROUPS = re.compile(r"\\(?:left|right)(?![a-zA-Z])|\\alert<[^>]*>\{|\\[{}]|[{}]")
_ADDED_START = re.compile(r"^(?:\\breakopen |\\breakbegin\\alert<[^>]*>\{)")
_ADDED_END = re.compile(r"(?: \\breakclose| \\breakend\})$")


def cut(text: str, offsets: Sequence[int]) -> tuple[Latex, ...]:
    """``text`` cut at ``offsets`` into lines, each stripped, with the brackets and highlight it leaves
    open closed at its end and opened again at the start of the next; :func:`joined` gives ``text`` back."""
    bounds = [0, *offsets, len(text)]
    lines = []
    open_groups: list[str] = []  # what opened each group still open: "\left", "\alert<…>{" or "{"
    for start, end in itertools.pairwise(bounds):
        line = text[start:end].strip()
        reopened = "".join(
            f"{BREAK_OPEN} " if group == r"\left" else ALERT_OPEN + group for group in open_groups if group != "{"
        )
        for token in _GROUPS.findall(line):
            if token in (r"\left", "{") or token.startswith(r"\alert<"):
                open_groups.append(token)
            elif token in (r"\right", "}"):
                open_groups.pop()
        closed = "".join(
            f" {BREAK_CLOSE}" if group == r"\left" else f" {ALERT_CLOSE}"
            for group in reversed(open_groups)
            if group != "{"
        )
        lines.append(Latex(reopened + line + closed))
    return tuple(lines)


def joined(lines: Sequence[str]) -> str:
    """The row that :func:`cut` cut into ``lines`` (joined with spaces, what it added removed)."""
    stripped = []
    for line in lines:
        while (start := _ADDED_START.match(line)) is not None:
            line = line[start.end() :]
        while (end := _ADDED_END.search(line)) is not None:
            line = line[: end.start()]
        stripped.append(line)
    return " ".join(stripped)


def highlighted_cuts(plain: str, highlighted: str, offsets: Sequence[int]) -> list[int]:
    """The offsets in ``highlighted`` that match the cuts ``offsets`` in ``plain``."""
    shared_plain, shared_highlighted = _shared_breaks(plain, highlighted)
    matching = dict(zip(shared_plain, shared_highlighted, strict=True))
    return [matching[offset] for offset in offsets]


# -- rows and slides of a presented frame --------------------------------------------------------------


@dataclass(frozen=True)
class Shrunk:
    """A row set below the smallest allowed size: the build warns with the frame's place."""

    frame: int
    row: int  # 1-based
    scale: float


def lay_out(frame: PresentedFrame, sizes: FrameSizes | None) -> list[Shrunk]:
    """Set ``frame.pieces``: its rows fitted to the slide's width and split over slides by
    measured height (or, unmeasured, by ``rows_per_frame`` rows, default 5)."""
    rows = frame.rows
    if sizes is None:
        per_slide = frame.rows_per_frame or DEFAULT_ROWS
        counted = [tuple(range(start, min(start + per_slide, len(rows)))) for start in range(0, len(rows), per_slide)]
        frame.pieces = _pieces(frame.title, rows, counted)
        return []
    page = sizes.page
    widest_lhs = max([sizes.lhs.width, *(size.lhs.width for size in sizes.rows)])
    beside = page.linewidth - widest_lhs - page.label_column
    above = page.linewidth - page.quad - page.label_column
    # the left side on a line of its own (as the seed writes it) when the rows need its room
    lhs_above = above > beside and any(size.rhs.width > beside for size in sizes.rows)
    room = above if lhs_above else beside
    layouts = [
        fit_row(row.rhs, row.rhs_highlighted, size, room, page.quad, lhs_above)
        for row, size in zip(rows, sizes.rows, strict=True)
    ]
    row_sizes = list(sizes.rows)
    growth = _label_width(row_sizes, layouts, page, room)
    if growth is not None:  # the labels take the room the lines leave: fewer wrap, rows get shorter
        row_sizes = [_wider_label(size, growth) for size in row_sizes]
        layouts = [
            fit_row(row.rhs, row.rhs_highlighted, size, room, page.quad, lhs_above)
            for row, size in zip(rows, row_sizes, strict=True)
        ]
        frame.label_width = math.floor(page.label_width * LABEL_GROWTHS[growth] * 10) / 10
    shrunk = [
        Shrunk(frame.number, index + 1, layout.scale)
        for index, layout in enumerate(layouts)
        if layout.scale < MIN_SCALE
    ]
    fitted = tuple(
        replace(
            row,
            lines=cut(row.rhs, layout.cuts),
            lines_highlighted=cut(row.rhs_highlighted, highlighted_cuts(row.rhs, row.rhs_highlighted, layout.cuts)),
            scale=layout.scale,
            lhs_above=lhs_above,
        )
        for row, layout in zip(rows, layouts, strict=True)
    )
    slides = split_rows(layouts, row_sizes, page, sizes.lhs, frame.rows_per_frame)
    frame.rows = fitted  # the notes set each row as the slides do
    frame.pieces = _pieces(frame.title, fitted, [slide.rows for slide in slides])
    return shrunk


DEFAULT_ROWS = 5
LABEL_GROWTHS = (1.25, 1.5, 1.75, 2.0)  # wider label columns measured: the layout takes the widest that fits


def _label_width(sizes: Sequence[RowSize], layouts: Sequence[RowLayout], page: Page, room: float) -> int | None:
    """Which of the wider label columns the lines leave room for (None: the normal one)."""
    if page.label_width <= 0 or any(layout.scale < 1 or layout.cuts for layout in layouts):
        return None
    spare = room - max(size.rhs.width for size in sizes)
    fitting = [n for n, growth in enumerate(LABEL_GROWTHS) if page.label_width * (growth - 1) <= spare - 1]
    if not fitting or all(len(size.wider_labels) != len(LABEL_GROWTHS) for size in sizes):
        return None
    return fitting[-1]


def _wider_label(size: RowSize, growth: int) -> RowSize:
    """The row's size with its label in the wider column."""
    return replace(size, label=size.wider_labels[growth]) if size.wider_labels else size


def _pieces(title: str, rows: Sequence[Row], slides: Sequence[Sequence[int]]) -> tuple[Piece, ...]:
    """One piece per slide, its rows revealed from overlay 1; a continuation's first row gets the
    left side it continues in grey (the rows before it are on the slide before)."""
    if len(slides) <= 1:
        return (Piece(title, tuple(rows)),)
    left_sides, lhs = [], Latex("")
    for row in rows:  # a gradient's parts each have their own left side
        lhs = row.lhs or lhs
        left_sides.append(lhs)
    pieces = []
    for number, indices in enumerate(slides, start=1):
        renumbered = []
        for position, index in enumerate(indices):
            row = rows[index]
            overlay = position + 1
            changes: dict = {"overlay": overlay, "lines_highlighted": _renumbered(row, overlay)}
            if number > 1 and position == 0 and not row.lhs:
                changes["lhs"] = Latex(r"\textcolor{black!45}{%s}" % left_sides[index])
            renumbered.append(replace(row, **changes))
        pieces.append(Piece(f"{title} ({number}/{len(slides)})", tuple(renumbered)))
    return tuple(pieces)


def _renumbered(row: Row, overlay: int) -> tuple[Latex, ...]:
    """The highlight of a row moved to another overlay number (after splitting)."""
    old = r"\alert<%d|" % row.overlay
    new = r"\alert<%d|" % overlay
    return tuple(Latex(line.replace(old, new, 1)) for line in row.lines_highlighted)
