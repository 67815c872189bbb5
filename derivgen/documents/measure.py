"""TeX measures the slides before they are laid out: one pdflatex run of the slides' own preamble.

The document (``measure.tex.j2``) writes to its log the room below each derivation frame's title and
intro (``\\pdfsavepos`` at the top of the free space and after a ``\\vfill``), and the width, height
and depth of every row's left side, right side, terms and rule label.  :mod:`..presentation.layout`
decides from these numbers; nothing here decides anything.  It runs in the same sandbox as every
other TeX run (:func:`.compile.compile_tex`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..presentation.layout import LABEL_GROWTHS, Box, FrameSizes, Page, RowSize, terms
from .compile import TexError, compile_tex
from .render import render_template

if TYPE_CHECKING:
    import jinja2

    from ..presentation.frames import PresentedFrame, Row
    from .render import DeckInfo

_MEASURE = re.compile(r"^derivgen-measure (\S+) (.*)$", re.MULTILINE)
_POINTS = re.compile(r"(-?[\d.]+)pt")
_SCALED_POINTS_PER_POINT = 65536


@dataclass(frozen=True)
class MeasuredRow:
    lhs: str
    rhs: str
    label: str
    terms: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class MeasuredFrame:
    """What the measuring document sets of one derivation frame."""

    number: int
    title: str
    intro: tuple
    lhs: str
    rows: tuple[MeasuredRow, ...]


def measured_frames(frames: Sequence[PresentedFrame]) -> list[MeasuredFrame]:
    """The derivation frames whose rows are laid out on slides (not the substitution style)."""
    items = []
    for frame in frames:
        if frame.kind != "derivation" or frame.substitution or not frame.rows:
            continue
        rows = tuple(_measured_row(row) for row in frame.rows)
        # a title as long as it will be: "(k/n)" may make it wrap
        items.append(MeasuredFrame(frame.number, f"{frame.title} (9/9)", frame.intro, frame.rows[0].lhs, rows))
    return items


def _measured_row(row: Row) -> MeasuredRow:
    return MeasuredRow(row.lhs, row.rhs, row.label, tuple(terms(row.rhs)), row.notes)


class MeasureError(TexError):
    """TeX failed on the measuring document; ``source`` is that document, to name the frame."""

    def __init__(self, error: TexError, source: str):
        super().__init__(str(error), error.line, error.context)
        self.source = source


def measure(
    frames: Sequence[PresentedFrame],
    deck: DeckInfo,
    env: jinja2.Environment,
    timeout: float,
    files: dict[str, bytes] | None = None,
    formats: Path | None = None,
    plots: bool = False,
) -> dict[int, FrameSizes]:
    """Sizes of every laid-out derivation frame, by frame number.  ``formats``: see :func:`.compile_tex`;
    ``plots``: the deck has plots (its preamble, and so the measuring one, loads pgfplots)."""
    items = measured_frames(frames)
    if not items:
        return {}
    source = render_template(
        env, "measure.tex.j2", deck=deck, frames=frames, measured=items, label_growths=LABEL_GROWTHS, plots=plots
    )
    log = measured_log(source, timeout, files or {}, formats)
    values = {key: value for key, value in _MEASURE.findall(log)}
    # a frame the document did not measure (a user's slides template without derivgen's blocks) is
    # left out: the layout splits it by row count
    return {item.number: _frame_sizes(item, values) for item in items if f"{item.number}.first.top" in values}


_LOGS: dict[str, str] = {}  # measuring logs by a hash of the document (and the files it reads), this process
_MAX_LOGS = 64


def measured_log(
    source: str, timeout: float, files: dict[str, bytes] | None = None, formats: Path | None = None
) -> str:
    """The log of a measuring run (one pdflatex pass of a document that writes sizes to its log,
    for slides or for a sheet's solutions); the same document is measured once per process."""
    files = files or {}
    digest = hashlib.sha256(source.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    key = digest.hexdigest()
    if key not in _LOGS:
        try:
            log = compile_tex(source, "measure", timeout, files, single_pass=True, formats=formats).log
        except TexError as error:
            raise MeasureError(error, source) from None
        if len(_LOGS) >= _MAX_LOGS:
            _LOGS.pop(next(iter(_LOGS)))
        _LOGS[key] = log
    return _LOGS[key]


def _box(values: dict[str, str], key: str) -> Box:
    width, height, depth = (float(number) for number in _POINTS.findall(values[key]))
    return Box(width, height, depth)


def _height(box: Box) -> float:
    return box.height + box.depth


def _length(values: dict[str, str], key: str) -> float:
    return float(_POINTS.findall(values[key])[0])


def _frame_sizes(item: MeasuredFrame, values: dict[str, str]) -> FrameSizes:
    number = item.number
    plain, aligned = _box(values, "page.plain"), _box(values, "page.aligned")
    page = Page(
        linewidth=_length(values, "page.linewidth"),
        label_column=aligned.width - plain.width,
        label_width=_box(values, "page.label").width,
        baselineskip=_length(values, "page.baselineskip"),
        lineskip=_length(values, "page.lineskip"),
        jot=_length(values, "page.jot"),
        quad=_box(values, "page.quad").width,
        first=_position(values, f"{number}.first.top") - _position(values, f"{number}.first.bottom"),
        continuation=_position(values, f"{number}.continuation.top")
        - _position(values, f"{number}.continuation.bottom"),
    )
    rows = []
    for index, row in enumerate(item.rows):
        key = f"{number}.{index}"
        notes = sum(_height(_box(values, f"{key}.note.{n}")) for n in range(len(row.notes)))
        rows.append(
            RowSize(
                lhs=_box(values, f"{key}.lhs"),
                rhs=_box(values, f"{key}.rhs"),
                label=_box(values, f"{key}.label"),
                wider_labels=tuple(_box(values, f"{key}.label.{n}") for n in range(len(LABEL_GROWTHS))),
                terms=tuple(_box(values, f"{key}.term.{n}") for n in range(len(row.terms))),
                notes=notes,
            )
        )
    return FrameSizes(page, _box(values, f"{number}.lhs"), tuple(rows))


def _position(values: dict[str, str], key: str) -> float:
    """A ``\\pdfsavepos`` y coordinate (scaled points from the page's bottom), in points."""
    return int(values[key]) / _SCALED_POINTS_PER_POINT
