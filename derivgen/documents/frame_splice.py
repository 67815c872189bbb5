"""A few frames of a deck typeset alone, their pages put in place of the old ones in the last PDF.

Editing one frame of a 60-frame deck would otherwise cost a whole pdflatex pass (about 0.2 s a frame,
spread evenly).  When the kept build folder holds the PDF, the ``.tex`` and the aux files of the last
whole run, and the new ``.tex`` differs from that one only inside some frames (between derivgen's
``%% derivgen-frame N`` markers), those frames are compiled in a document of their own: the same
preamble, the frame and page counters set to where the frames stand in the deck, and the last run's aux
files in place, so "frame 35 / 73", the total and every reference come out as in a whole run.  Their
pages then take the place of the old ones, page object for page object, so the outline, the named
destinations and the page tree of the old PDF stay valid (pikepdf, which is qpdf).

Only where nothing else can differ: the same number of beamer frames in each changed frame and, frame for
frame, the same pages (TeX reports where each frame ends); a beamer deck without an outer theme (a
theme's headline shows sections and frames of the whole deck) and without pgfpages (two frames a sheet);
no construct in the document that carries state from frame to frame (sections, labels, numbered
equations, definitions, counters); new pages without annotations (links would point into the partial
document); and a deck whose raw LaTeX went through the allow-list (with ``--trust-latex`` it can do
anything across frames, and the build compiles the whole document).  Anything else, and the whole
document goes through latexmk as before.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from .compile import GUARD_FILE, JOB, CompileResult, TexError, compile_tex

_MARKER = re.compile(r"\n%% derivgen-frame (\d+)\n")
_BEGIN_DOCUMENT = "\\begin{document}\n"
_END_DOCUMENT = "\\end{document}"
_FRAME = "\\begin{frame}"
_FRAME_PAGES = re.compile(r"\\beamer@framepages \{(\d+)\}\{(\d+)\}")
_FRAME_END = re.compile(r"^derivgen-splice (\d+) (\d+)$", re.MULTILINE)
# in the frames: what carries state from one frame to the next, or makes pages of its own
_STATEFUL = re.compile(
    r"\\(?:(?:sub)*section|part|label|ref|eqref|pageref|tag|(?:re)?newcommand|providecommand|[egx]?def|global"
    r"|let|(?:set|addto|step|refstep)counter|againframe|footnote|includeonlyframes|begin\{(?:equation|align"
    r"|gather|multline|flalign|alignat)\})(?![A-Za-z])|allowframebreaks"
)
# in the preamble: a headline or sidebar of the whole deck, or several frames to a sheet
_WHOLE_DECK = re.compile(r"\\use(?:outer)?theme(?![A-Za-z])|pgfpages")
# an overlay specification's number (\\uncover<3->, \\alert<3| handout:0>): a frame has as many slides
# as its highest number says
_OVERLAY = re.compile(r"<(\d+)(?=[-|>,])")
MAX_SHARE = 0.5  # more frames changed than this share: the whole pass costs little more


@dataclass(frozen=True)
class _Parts:
    """A deck's ``.tex`` cut at the frame markers."""

    head: str  # up to and including \begin{document}
    opening: str  # the title page: what stands before the first marker
    frames: dict[int, str]  # derivgen frame number -> its text
    numbers: tuple[int, ...]  # in order

    @classmethod
    def of(cls, tex: str) -> _Parts | None:
        start = tex.find(_BEGIN_DOCUMENT)
        if start < 0 or not tex.rstrip().endswith(_END_DOCUMENT):
            return None
        head, body = tex[: start + len(_BEGIN_DOCUMENT)], tex[start + len(_BEGIN_DOCUMENT) :]
        body = body.rstrip()[: -len(_END_DOCUMENT)]
        pieces = _MARKER.split(body)
        numbers = tuple(int(number) for number in pieces[1::2])
        if not numbers or len(set(numbers)) != len(numbers):
            return None
        return cls(head, pieces[0], dict(zip(numbers, pieces[2::2], strict=True)), numbers)

    def frames_before(self, number: int) -> int:
        """Beamer frames before derivgen's frame ``number`` (the title page's among them)."""
        count = self.opening.count(_FRAME)
        for other in self.numbers:
            if other == number:
                return count
            count += self.frames[other].count(_FRAME)
        raise KeyError(number)


@dataclass(frozen=True)
class Spliced:
    """What :func:`typeset_changed_frames` did: the frames typeset alone, the pages replaced."""

    frames: tuple[int, ...]
    pages: tuple[tuple[int, int], ...]


def typeset_changed_frames(
    tex: str, folder: Path, timeout: float, files: dict[str, bytes], formats: Path | None
) -> tuple[CompileResult, Spliced] | None:
    """The PDF of ``tex`` from the kept ``folder``'s last PDF with only the changed frames typeset anew,
    and the folder updated to it; None where that is not known to give the pages a whole run gives."""
    plan = _plan(tex, folder)
    if plan is None:
        return None
    new, changed, spans = plan
    lines = [new.head]
    for number, (first, _) in zip(changed, spans, strict=True):
        lines.append(f"\\setcounter{{framenumber}}{{{new.frames_before(number)}}}\\setcounter{{page}}{{{first}}}")
        lines.append(new.frames[number])
        lines.append(f"\\typeout{{derivgen-splice {number} \\the\\value{{page}}}}")
    lines.append(_END_DOCUMENT + "\n")
    try:
        partial = compile_tex("\n".join(lines), JOB, timeout, files, single_pass=True, seed=folder, formats=formats)
    except TexError:
        return None  # the whole run says what is wrong, with the deck's own line numbers
    ends = {int(number): int(page) for number, page in _FRAME_END.findall(partial.log)}
    if any(ends.get(number) != last + 1 for number, (_, last) in zip(changed, spans, strict=True)):
        return None  # a frame now has more or fewer pages: they all move
    pdf = _replace_pages((folder / f"{JOB}.pdf").read_bytes(), partial.pdf, spans)
    if pdf is None:
        return None
    (folder / f"{JOB}.pdf").write_bytes(pdf)
    # as compile_tex writes it; latexmk's record still names the last whole run's source, so the next
    # whole run typesets everything again
    (folder / f"{JOB}.tex").write_text(f"\\input{{{GUARD_FILE}}}" + tex, encoding="utf-8")
    return CompileResult(pdf, partial.log, partial.passes), Spliced(tuple(changed), tuple(spans))


def _plan(tex: str, folder: Path) -> tuple[_Parts, list[int], list[tuple[int, int]]] | None:
    """The new document's parts, the changed frames and the old page span of each, or None."""
    try:
        old_tex = (folder / f"{JOB}.tex").read_text(encoding="utf-8")
        navigation = (folder / f"{JOB}.nav").read_text(encoding="utf-8", errors="replace")
        if not (folder / f"{JOB}.pdf").is_file() or not (folder / f"{JOB}.aux").is_file():
            return None
    except OSError:
        return None
    prefix = f"\\input{{{GUARD_FILE}}}"
    if not old_tex.startswith(prefix):
        return None
    old, new = _Parts.of(old_tex[len(prefix) :]), _Parts.of(tex)
    if old is None or new is None or (old.head, old.opening, old.numbers) != (new.head, new.opening, new.numbers):
        return None
    if _WHOLE_DECK.search(new.head) or any(_STATEFUL.search(text) for text in (new.opening, *new.frames.values())):
        return None
    changed = [number for number in new.numbers if new.frames[number] != old.frames[number]]
    if not changed or len(changed) > MAX_SHARE * len(new.numbers):
        return None
    pages = [(int(first), int(last)) for first, last in _FRAME_PAGES.findall(navigation)]
    total = old.opening.count(_FRAME) + sum(text.count(_FRAME) for text in old.frames.values())
    if len(pages) != total:
        return None  # frames that are not ours, or a navigation file of another run
    spans = []
    for number in changed:
        count = old.frames[number].count(_FRAME)
        if count == 0 or _slides(old.frames[number]) != _slides(new.frames[number]):
            return None  # more lines, or a derivation split otherwise: the pages move (no need to try)
        before = old.frames_before(number)
        spans.append((pages[before][0], pages[before + count - 1][1]))
    return new, changed, spans


def _slides(text: str) -> list[int]:
    """The slides of each beamer frame in ``text`` (its highest overlay number)."""
    return [max(map(int, _OVERLAY.findall(frame)), default=1) for frame in text.split(_FRAME)[1:]]


def _replace_pages(old_pdf: bytes, partial_pdf: bytes, spans: list[tuple[int, int]]) -> bytes | None:
    """``old_pdf`` with the pages of ``spans`` (1-based, inclusive) drawn from ``partial_pdf``'s pages in
    order; each old page object keeps its place (outline and destinations point at it) and takes the new
    page's content, resources and boxes.  None where the partial pages carry annotations."""
    import pikepdf

    with pikepdf.open(io.BytesIO(old_pdf)) as document, pikepdf.open(io.BytesIO(partial_pdf)) as partial:
        wanted = sum(last - first + 1 for first, last in spans)
        if len(partial.pages) != wanted or any(last > len(document.pages) for _, last in spans):
            return None
        if any("/Annots" in page.obj for page in partial.pages):
            return None
        # appended first, so that pikepdf copies each page with what it references into this document
        appended = len(document.pages)
        document.pages.extend(partial.pages)
        new_pages = iter(list(document.pages)[appended:])
        for first, last in spans:
            for index in range(first - 1, last):
                page, new = document.pages[index].obj, next(new_pages).obj
                for key in ("/Contents", "/Resources", "/MediaBox", "/CropBox", "/Group"):
                    if key in new:
                        page[key] = new[key]
                    elif key in page:
                        del page[key]
                if "/Annots" in page:
                    del page["/Annots"]
        del document.pages[appended:]
        written = io.BytesIO()
        document.save(written, deterministic_id=True)
        return written.getvalue()
