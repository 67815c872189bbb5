"""Worked solutions laid out by measured width: rows broken at a top-level operator, never shrunk.

A row of a solution (``lhs = rhs``, its rule in a grey column) that is wider than the solution
box is broken onto continuation lines (``&\\quad + …``) at a top-level ``=``, ``+`` or ``-`` of its
right-hand side — never inside braces, brackets, ``\\left…\\right``, ``\\begin…\\end`` or an
``\\alert``.  Only where no break point is left is a line scaled down; below
:data:`READABLE_SCALE` the build warns with the exercise's file:line.

Python cannot know TeX's widths, so one small TeX run measures them: the solution sheet rendered in
*measuring* mode writes the width of every row's left side and of every piece between two break
points to its log (``derivgen-width:…`` lines), in the very class, fonts and solution box the
sheet uses.  Widths add up exactly: each piece after the first is measured after an empty atom
(``{}+ x``), so it carries the spacing its operator has inside the row.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..presentation.layout import break_points
from ..presentation.text import Latex

READABLE_SCALE = 0.8  # below this a row cannot be read from the back of a room (DESIGN.md)
LHS_SHARE = 0.3  # a left side wider than this share of the room goes on a line of its own
SLACK_PT = 2.0  # rounding of measured widths, TeX's own overfull tolerance

def pieces(rhs: str) -> list[str]:
    """``rhs`` cut at every break point: ``"".join(pieces(rhs)) == rhs``."""
    cuts = [0, *break_points(rhs), len(rhs)]
    return [rhs[start:end] for start, end in itertools.pairwise(cuts) if end > start]


@dataclass(frozen=True)
class Line:
    """One line of a worked solution as the template writes it: ``lhs & body && label``."""

    lhs: Latex
    body: Latex  # "= piece…", or "\quad + piece…" on a continuation line
    label: str
    continued: bool  # a continuation of the row above: no page break before it


@dataclass(frozen=True)
class Widths:
    """What the measuring run found for one task (points)."""

    line: float  # \linewidth inside the solution box
    label: float  # the rule-label column
    separation: float  # amsmath's least space between two column pairs
    quad: float
    lhs: list[float]  # per row
    pieces: list[list[float]]  # per row, per piece ("= " in front of the first)
    answer: list[float] = field(default_factory=list)  # per piece of the boxed answer


def measuring_texts(rhs: str) -> list[Latex]:
    """What the measuring run boxes for a row's pieces: as they stand in the row's cell."""
    parts = pieces(rhs)
    return [Latex(text) for text in (["= " + parts[0], *parts[1:]] if parts else ["="])]


def lay_out_rows(
    rows: Sequence[tuple[str, str, str]], widths: Widths | None, warn: Callable[[float], None]
) -> list[Line]:
    """Rows ``(lhs, rhs, label)`` → lines, each row broken greedily where it would pass the box.

    Without widths (no TeX to measure with: ``--tex-only`` on a machine without TeX) every row stays
    one line, as written."""
    lines: list[Line] = []
    room, lhs_apart = 0.0, False
    if widths is not None:
        room = widths.line - widths.label - widths.separation - SLACK_PT
        # a long left side (∇_W of a whole loss) would narrow every row: set it on a line of its own
        lhs_apart = max(widths.lhs, default=0.0) > LHS_SHARE * room
        if not lhs_apart:
            room -= max(widths.lhs, default=0.0)
    for index, (lhs, rhs, label) in enumerate(rows):
        parts = pieces(rhs)
        if widths is None or not parts:
            lines.append(Line(Latex(lhs), Latex("= " + rhs), label, False))
            continue
        if lhs_apart and lhs:
            lines.append(Line(Latex(""), Latex(lhs), "", False))
            lhs = ""
        sizes = widths.pieces[index]
        groups: list[list[int]] = [[0]]
        used = sizes[0]
        for k in range(1, len(parts)):
            if used + sizes[k] <= room:
                groups[-1].append(k)
                used += sizes[k]
            else:
                groups.append([k])
                used = widths.quad + sizes[k]
        for number, group in enumerate(groups):
            text = "".join(parts[k] for k in group)
            body = ("= " if number == 0 else "") + text
            natural = sum(sizes[k] for k in group) + (widths.quad if number else 0.0)
            if natural > room > 0:  # no break point left inside this line: scale it, and say so if too small
                scale = max(room / natural, 0.01)
                if scale < READABLE_SCALE:
                    warn(scale)
                body = r"\scalebox{%.2f}{$\displaystyle{}%s$}" % (scale, body)
            if number:
                body = r"\quad " + body
            continued = number > 0 or (lhs_apart and bool(rows[index][0]))  # no page break under the left side
            lines.append(Line(Latex(lhs if number == 0 else ""), Latex(body), label if number == 0 else "", continued))
    return lines


ANSWER_ROOM_PT = 60.0  # "Answer:" and the box around it


def lay_out_answer(answer: str, widths: Widths | None, warn: Callable[[float], None]) -> Latex:
    """The boxed answer's content: one line, or an ``aligned`` block broken like a row when wider
    than the solution box (a box cannot break across lines by itself)."""
    parts = pieces(answer)
    if widths is None or not widths.answer or len(widths.answer) != len(parts):
        return Latex(answer)
    room = widths.line - ANSWER_ROOM_PT
    groups: list[list[int]] = [[0]]
    used = widths.answer[0]
    for k in range(1, len(parts)):
        if used + widths.answer[k] <= room:
            groups[-1].append(k)
            used += widths.answer[k]
        else:
            groups.append([k])
            used = widths.quad + widths.answer[k]
    if len(groups) == 1 and used <= room:
        return Latex(answer)
    lines = []
    for number, group in enumerate(groups):
        text = "".join(parts[k] for k in group)
        natural = sum(widths.answer[k] for k in group) + (widths.quad if number else 0.0)
        if natural > room:
            scale = max(room / natural, 0.01)
            if scale < READABLE_SCALE:
                warn(scale)
            text = r"\scalebox{%.2f}{$\displaystyle{}%s$}" % (scale, text)
        lines.append(("&" if number == 0 else r"&\quad ") + text)
    return Latex(r"\begin{aligned}%s\end{aligned}" % r" \\ ".join(lines))


_WIDTH = re.compile(r"^derivgen-width:([^:\s]+):([a-z]+):(-|\d+):(-|\d+):([0-9.]+)pt$", re.MULTILINE)


def read_widths(log: str) -> dict[str, Widths]:
    """The ``derivgen-width:KEY:KIND:ROW:PIECE:WIDTH`` lines of a measuring run's log, by task key."""
    found: dict[str, dict] = {}
    for key, kind, row, piece, value in _WIDTH.findall(log):
        task = found.setdefault(key, {"lhs": {}, "piece": {}, "answer": {}})
        width = float(value)
        if kind == "lhs":
            task["lhs"][int(row)] = width
        elif kind == "answer":
            task["answer"][int(piece)] = width
        elif kind == "piece":
            task["piece"].setdefault(int(row), {})[int(piece)] = width
        else:
            task[kind] = width
    result = {}
    for key, task in found.items():
        rows = sorted(task["piece"])
        result[key] = Widths(
            line=task["line"],
            label=task["label"],
            separation=task["sep"],
            quad=task["quad"],
            lhs=[task["lhs"].get(row, 0.0) for row in rows],
            pieces=[[task["piece"][row][k] for k in sorted(task["piece"][row])] for row in rows],
            answer=[task["answer"][k] for k in sorted(task["answer"])],
        )
    return result


def warn_scaled(where: str, exercise: str, scale: float) -> None:
    """A row that could not be broken and is set below the readable size."""
    sys.stderr.write(
        f"warning: {where}: exercise {exercise}: a solution row has no place to break and is set at "
        f"{scale:.0%} of the normal size; split the expression or give it a shorter form (result:)\n"
    )
