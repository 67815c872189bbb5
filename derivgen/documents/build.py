"""Deck file → LaTeX → PDF in the output folder: the whole flow, with caching and atomic output.

Outputs are written only when every requested format compiled: each file goes to a temporary
name in the output folder first and is renamed into place, so a failed or interrupted build
leaves the previous files as they were.  A build whose deck, templates, derivgen code and version,
and the versions of the libraries that shape its output (sympy, …) are unchanged (a content hash)
does not run TeX — nor even import sympy.  The cache file also records, for every sheet PDF, a hash
of the .tex it was compiled from: a PDF is reused only for exactly that source (a ``--tex-only``
build writes a new .tex without a PDF, and must not make the old PDF look current).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DerivgenError
from ..presentation.text import Plain
from ..version import __version__
from .build_folder import kept_folder
from .compile import DEFAULT_TIMEOUT, CompileResult, TexError, compile_tex, tex_tools_missing
from .executor import run_jobs
from .frame_cache import CACHE_FOLDER, FrameCache, encode, frame_keys, measure_key, version_fingerprint
from .frame_splice import Spliced, typeset_changed_frames
from .render import FORMATS, DeckInfo, environment, render, render_template, templates_fingerprint
from .themes import Look, deck_look, logo_fingerprint

if TYPE_CHECKING:
    import jinja2

    from ..calculus.worker import HardLimits
    from ..input.spec import ExerciseSheet
    from .sheets import Variant

FORMAT_CHOICES = {
    "slides": ("slides",),
    "handout": ("handout", "handout-2up"),
    "notes": ("notes",),
    "all": ("slides", "handout", "handout-2up", "notes"),
}
CACHE_FILE = ".derivgen-cache.json"
# distributions whose version changes what a deck derives, prints or renders
OUTPUT_LIBRARIES = ("sympy", "jinja2", "pyyaml")
_FRAME_MARKER = re.compile(r"^%% derivgen-frame (\d+)$")
# what TeX is given as the job name: the output's own name may be anything ("-deck" is an option to
# latexmk, ".hidden" a file openout_any=p refuses to write, "a%b" a comment, "李明" an encoding question)
_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")


class BuildError(DerivgenError):
    """A build failed; the message names the deck, the format, the frame and the step."""


@dataclass(frozen=True)
class BuildResult:
    outputs: list[Path]
    skipped: bool  # nothing changed since the last build, nothing was rebuilt
    frames: int = 0  # frames in the deck
    derived: tuple[int, ...] = ()  # numbers of the frames derived and presented anew (the rest from the cache)
    measured: tuple[int, ...] = ()  # numbers of the frames TeX measured anew
    compiled: tuple[str, ...] = ()  # formats whose PDF TeX made (the others' .tex was unchanged)
    passes: dict[str, int] = field(default_factory=dict)  # pdflatex runs per compiled format
    # formats whose changed frames were typeset alone and put into the last PDF: those frames' numbers
    typeset_alone: dict[str, tuple[int, ...]] = field(default_factory=dict)


def build_deck(
    deck_path: str | Path,
    out_dir: str | Path = "output",
    formats: Iterable[str] = FORMAT_CHOICES["all"],
    templates: str | Path | None = None,
    tex_only: bool = False,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    report: Callable[[str], None] = lambda message: None,
    warn: Callable[[str], None] = lambda message: None,
    trust_latex: bool = False,
) -> BuildResult:
    """Build the deck into ``out_dir``: ``<deck>.pdf``, ``<deck>-handout.pdf``, … with their ``.tex``.

    Incremental (README, "Incremental builds and watch"): only the frames whose key changed are
    derived and measured again (:mod:`.frame_cache`), a format whose .tex is what made its PDF is not
    compiled, and latexmk's files are kept per format (:mod:`.build_folder`).  ``force``: all anew.
    ``trust_latex``: the deck's raw LaTeX is not checked against the allow-list (the lecturer's own file).
    """
    deck_path, out_dir = Path(deck_path), Path(out_dir)
    formats = tuple(formats)
    env = environment(Path(templates) if templates is not None else None)
    stem = deck_path.stem
    outputs = [out_dir / f"{stem}{FORMATS[fmt][1]}{suffix}" for fmt in formats for suffix in _suffixes(tex_only)]
    fingerprint = _fingerprint(deck_path, env, formats, tex_only, trust_latex)
    if not force and _cache(out_dir)["decks"].get(stem) == fingerprint and all(path.exists() for path in outputs):
        report(f"{deck_path}: unchanged, nothing to rebuild")
        return BuildResult(outputs, skipped=True)

    from ..input.spec import load_deck

    deck, source = load_deck(deck_path, trust_latex)
    # before the derivations: an uninstalled theme or a missing logo fails fast, with nothing written
    look = deck_look(deck, source, deck_path)
    version = version_fingerprint(__version__, _code_fingerprint(), _library_versions())
    cache = (
        FrameCache(out_dir / CACHE_FOLDER / f"{stem}.json", version)  # --force: an empty cache, all derived anew
        if force
        else FrameCache.load(out_dir, stem, version)
    )
    keys = frame_keys(deck, version, trust_latex)
    frames, entries, derived = _present(deck, source, keys, cache)
    info = deck_info(deck, look)
    extra = dict(look.files)
    look_key = templates_fingerprint(env)
    size_keys = {frame.number: measure_key(key, info, look_key, extra) for frame, key in zip(frames, keys, strict=True)}
    sizes, measured = _lay_out(frames, info, env, timeout, source, deck_path, warn, extra, cache, size_keys, out_dir)
    report(_derived_report(deck_path, derived, len(frames)))
    sources = {fmt: render(fmt, info, frames, env) for fmt in formats}
    files: dict[Path, bytes] = {}
    compiled_before = {} if force else _cache(out_dir)["pdfs"]
    compiled_from: dict[str, str] = {}
    to_compile = []
    for fmt, tex in sources.items():
        tex_path = out_dir / f"{stem}{FORMATS[fmt][1]}.tex"
        files[tex_path] = tex.encode("utf-8")
        if _unchanged(tex_path, files[tex_path]):
            files.pop(tex_path)  # already there: not touched (its time stays, nothing reloads)
        pdf_path = tex_path.with_suffix(".pdf")
        made_from = compiled_before.get(pdf_path.name)
        if not tex_only and not (pdf_path.exists() and made_from == _deck_source_hash(tex, extra)):
            to_compile.append(fmt)
    passes: dict[str, int] = {}
    typeset_alone: dict[str, tuple[int, ...]] = {}
    if to_compile:
        report(f"{deck_path}: compiling {', '.join(to_compile)}")
        with ThreadPoolExecutor(max_workers=max(1, min(len(to_compile), os.cpu_count() or 1))) as pool:
            futures = {
                fmt: pool.submit(
                    _compile_kept, sources[fmt], out_dir, f"{stem}{FORMATS[fmt][1]}", timeout, extra, not trust_latex
                )
                for fmt in to_compile
            }
            for fmt, future in futures.items():
                try:
                    result, spliced = future.result()
                except TexError as error:
                    # the frames derived are right whatever TeX said: the next save derives only what it changes
                    _write_all(out_dir, {cache.path: cache.content(entries, sizes)})
                    raise BuildError(_explain(error, deck_path, fmt, sources[fmt], frames)) from None
                pdf_path = out_dir / f"{stem}{FORMATS[fmt][1]}.pdf"
                files[pdf_path] = result.pdf
                compiled_from[pdf_path.name] = _deck_source_hash(sources[fmt], extra)
                passes[fmt] = result.passes
                if spliced is not None:
                    typeset_alone[fmt] = spliced.frames
                    report(f"{deck_path}: {fmt}: {_frames_typeset_alone(spliced)}")
    elif not tex_only:
        report(f"{deck_path}: every .tex as before: TeX not run")
    files[cache.path] = cache.content(entries, sizes)
    files[out_dir / CACHE_FILE] = _updated_cache(out_dir, decks={stem: fingerprint}, pdfs=compiled_from)
    _write_all(out_dir, files)
    for path in outputs:
        report(f"wrote {path}" if path in files else f"kept {path} (unchanged)")
    return BuildResult(outputs, False, len(frames), derived, measured, tuple(to_compile), passes, typeset_alone)


def _present(deck, source, keys: list[str], cache: FrameCache) -> tuple[list, dict[str, object], tuple[int, ...]]:
    """Every frame, from the cache where its key is there, else derived and presented (and encoded for
    the cache before the layout changes it)."""
    from ..presentation.frames import present_frame  # imports sympy: only when there is work to do
    from ..presentation.printer import notation

    frames, entries, derived = [], {}, []
    with notation(deck.notation):  # the deck's one way of writing det, log, (X^T)^-1
        for index, key in enumerate(keys):
            frame = cache.frame(key, index + 1)
            if frame is None:
                frame = present_frame(deck, source, index)
                derived.append(index + 1)
            with contextlib.suppress(TypeError):  # a value the cache cannot hold: that frame is derived again
                entries[key] = encode(frame)
            frames.append(frame)
    return frames, entries, tuple(derived)


def _derived_report(deck_path: Path, derived: tuple[int, ...], count: int) -> str:
    """What was derived anew: "re-derived frames 3, 7-9 of 60; 56 from cache" (runs of frames as ranges)."""
    if not derived:
        return f"{deck_path}: all {count} frames from cache"
    if len(derived) == count:
        return f"{deck_path}: derived all {count} frames"
    noun = "frame" if len(derived) == 1 else "frames"
    return f"{deck_path}: re-derived {noun} {_listed(derived)} of {count}; {count - len(derived)} from cache"


def _frames_typeset_alone(spliced: Spliced) -> str:
    pages = ", ".join(_span(first, last) for first, last in spliced.pages)
    noun = "frame" if len(spliced.frames) == 1 else "frames"
    return f"typeset {noun} {_listed(spliced.frames)} alone, in place of pages {pages}"


def _listed(numbers: Iterable[int]) -> str:
    """``3, 7-9``: the numbers, runs of consecutive ones as ranges."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(_span(run[0], run[-1]) for run in runs)


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def deck_info(deck, look: Look | None = None) -> DeckInfo:
    """What the templates see of a deck's title page and look (``look``: the slides'; None for a page)."""
    look = look or Look()
    return DeckInfo(
        title=deck.title,
        subtitle=deck.subtitle or "",
        author=deck.author or "",
        institute=deck.institute or "",
        course=deck.course or "",
        date=Plain(deck.date or ""),  # data, not a text field: a $ in it is a dollar
        aspectratio=169 if deck.aspect == "16:9" else 43,
        theme=look.theme,
        colortheme=look.colortheme,
        fonttheme=look.fonttheme,
        logo=look.logo,
        notes_for_students=deck.notes == "students",
    )


def _unchanged(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() == content
    except OSError:
        return False


def _compile_kept(
    tex: str, out_dir: Path, name: str, timeout: float, files: dict[str, bytes], splice: bool = True
) -> tuple[CompileResult, Spliced | None]:
    """``tex`` compiled in the deck's kept build folder for this output (``name``: its file stem): only its
    changed frames where that gives the same pages (:mod:`.frame_splice`), else the whole document.
    ``splice`` False (raw LaTeX not held to the allow-list: it may do anything across frames): always whole."""
    job = _job_name(name, files)
    with kept_folder(out_dir, job) as folder:
        typeset = typeset_changed_frames(tex, folder, timeout, files, out_dir) if splice else None
        if typeset is not None:
            return typeset
        return compile_tex(tex, job, timeout, files, folder=folder, formats=out_dir), None


def _lay_out(
    frames,
    info: DeckInfo,
    env,
    timeout: float,
    source,
    deck_path: Path,
    warn: Callable[[str], None],
    files: dict,
    cache: FrameCache,
    size_keys: dict[int, str],
    out_dir: Path,
) -> tuple[dict[str, object], tuple[int, ...]]:
    """Split the derivations over slides by the size TeX measures (by row count without TeX).

    Sizes come from the cache where the frame and the slides' look are unchanged; TeX measures the
    others in one document of just those frames.  Returns the sizes to cache, and the frames measured.
    """
    from ..presentation.layout import MIN_SCALE, lay_out
    from .measure import MeasureError, measure, measured_frames

    sizes = {}
    wanted = {item.number for item in measured_frames(frames)}
    for number in wanted:
        found = cache.frame_sizes(size_keys[number])
        if found is not None:
            sizes[number] = found
    missing = [frame for frame in frames if frame.number in wanted and frame.number not in sizes]
    measured: tuple[int, ...] = ()
    if missing and tex_tools_missing():
        warn(f"{deck_path}: TeX is not installed: derivations are split by row count, not by measured size")
    elif missing:
        try:
            plots = any(frame.kind == "plot" for frame in frames)
            new = measure(missing, info, env, timeout, files, formats=out_dir, plots=plots)
        except MeasureError as error:  # the slides themselves will fail and say where; --tex-only still writes them
            new = {}
            explained = _explain(error, deck_path, "measuring", error.source, frames)
            warn(f"{explained}: the slides could not be measured; derivations are split by row count")
        sizes.update(new)
        measured = tuple(sorted(new))
    for frame in frames:
        if frame.kind == "derivation" and not frame.substitution:
            for shrunk in lay_out(frame, sizes.get(frame.number)):
                warn(
                    f"{source.where(('frames', frame.number - 1))}: frame {frame.number} ({frame.title!r}): "
                    f"line {shrunk.row} is too wide to break and is set at {shrunk.scale:.0%} of the normal size "
                    f"(below {MIN_SCALE:.0%}); shorten it or split the derivation"
                )
    return {size_keys[number]: encode(found) for number, found in sizes.items()}, measured


def _job_name(stem: str, beside: Iterable[str] = ()) -> str:
    """A name TeX takes for the build folder's files, whatever the output is called: ASCII letters,
    digits, '-' and '_', starting with a letter or digit (the files it names are derivgen's own, in
    a fresh folder: two outputs sharing a job name never meet), and not the stem of a file put
    ``beside`` it (a deck named logo.yaml with its logo.png)."""
    plain = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).lstrip("-_")[:80].rstrip("-_")
    plain = plain if _JOB_NAME.fullmatch(plain) else "document"
    return plain if not any(name.startswith(f"{plain}.") for name in beside) else f"document-{plain}"[:80]


def _suffixes(tex_only: bool) -> tuple[str, ...]:
    return (".tex",) if tex_only else (".pdf", ".tex")


def _fingerprint(deck_path: Path, env, formats: tuple[str, ...], tex_only: bool, trust_latex: bool = False) -> str:
    try:
        deck_bytes = deck_path.read_bytes()
    except OSError as error:
        raise BuildError(f"{deck_path}: cannot read the deck ({error.strerror or error})") from None
    digest = hashlib.sha256()
    # trust_latex: a deck built trusted must not count as built (and allowed) for an untrusted build
    parts = (__version__, _code_fingerprint(), *_library_versions(), ",".join(formats), str(tex_only), str(trust_latex))
    for part in (*parts, templates_fingerprint(env)):
        digest.update(part.encode() + b"\0")
    digest.update(deck_bytes)
    digest.update(b"\0logo\0" + logo_fingerprint(deck_path))  # the logo is part of the output too
    return digest.hexdigest()


def _code_fingerprint() -> str:
    """derivgen's own code: a changed rule or printer must rebuild even at the same version."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.parent.rglob("*.py")):  # the whole derivgen package
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _library_versions() -> list[str]:
    """Versions of the libraries in OUTPUT_LIBRARIES, read from their metadata (without importing sympy)."""
    versions = []
    for name in OUTPUT_LIBRARIES:
        try:
            versions.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}=?")
    return versions


def _cache(out_dir: Path) -> dict[str, dict[str, str]]:
    """The cache file: ``decks`` (deck stem → fingerprint), ``pdfs`` (PDF name → hash of its .tex)."""
    try:
        loaded = json.loads((out_dir / CACHE_FILE).read_text())
    except (OSError, ValueError):
        loaded = None
    if not isinstance(loaded, dict):
        loaded = {}
    return {key: loaded[key] if isinstance(loaded.get(key), dict) else {} for key in ("decks", "pdfs")}


def _updated_cache(out_dir: Path, **sections: dict[str, str]) -> bytes:
    """The cache file's new content, to be written with the outputs it describes."""
    cache = _cache(out_dir)
    for key, entries in sections.items():
        cache[key].update(entries)
    return json.dumps(cache, indent=1, sort_keys=True).encode()


def _tex_hash(tex: bytes) -> str:
    return hashlib.sha256(tex).hexdigest()


def _deck_source_hash(tex: str, files: dict[str, bytes]) -> str:
    """What a deck's PDF is made from: its .tex and the files beside it (a logo changed in place
    leaves the .tex as it was)."""
    digest = hashlib.sha256(tex.encode())
    for name in sorted(files):
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _write_all(out_dir: Path, files: dict[Path, bytes]) -> None:
    """Write every file to a temporary name first, then rename them all into place.

    A new file gets the mode ``0666 & ~umask`` (as ``open()`` would give it; ``mkstemp`` alone makes
    it 0600, which breaks a web-served lecture folder), a replaced file keeps its own mode.  Whatever
    fails — a full disk, a rename, an interrupt — no ``.part`` file is left behind.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"{out_dir}: cannot create the output folder ({error.strerror or error})") from None
    staged: list[tuple[Path, Path]] = []
    new_mode = 0o666 & ~_umask()
    try:
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)  # the cache folder beside the outputs
            handle, part_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            staged.append((Path(part_name), path))  # before writing: a failed write is cleaned up too
            try:
                os.fchmod(handle, _mode_of(path, new_mode))
                _write_bytes(handle, content)
            finally:
                os.close(handle)
        for temporary, path in staged:
            os.replace(temporary, path)
    except OSError as error:
        raise BuildError(f"{out_dir}: cannot write the output ({error.strerror or error})") from None
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def _write_bytes(handle: int, content: bytes) -> None:
    """All of ``content`` to the open file ``handle`` (``os.write`` may write less than asked)."""
    view = memoryview(content)
    while view:
        view = view[os.write(handle, view) :]


def _mode_of(path: Path, default: int) -> int:
    """The permission bits of the file ``path`` replaces, or ``default`` for a new file."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return default


def _umask() -> int:
    """The process's umask, read without changing it (``os.umask`` can only set it: setting it for a
    moment would race with threads creating files); the set-and-restore only where /proc lacks it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _explain(error: TexError, deck_path: Path, fmt: str, tex: str, frames) -> str:
    """The TeX message, and the deck frame (and derivation step) it came from."""
    message = f"{deck_path}: {fmt}: {error.one_line()}"
    if error.line is None:
        return message
    number = None
    for line in tex.splitlines()[: error.line][::-1]:
        found = _FRAME_MARKER.match(line)
        if found:
            number = int(found.group(1))
            break
    if number is None:
        return f"{message} (line {error.line} of the generated .tex, outside any frame)"
    frame = frames[number - 1]
    where = f"frame {number} ({frame.title!r})"
    culprit = error.context.strip()
    if culprit:
        for index, row_tex in enumerate(frame.sources):
            if culprit in row_tex:
                where += f", line {index + 1} of the derivation"
                break
        where += f", near {culprit!r}"
    return f"{message} in {where}"


# -- exercise sheets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetJob:
    """One variant to build (picklable: it crosses into a worker process, maybe on another machine).

    The worker reads the sheet (and the templates) at these paths, never the output folder: what is
    already there is the client's to know (``reusable``) and to compare with (:func:`finish_sheet`).
    """

    sheet_path: Path
    out_dir: Path
    templates: Path | None
    seed: int
    number: int | None
    name: str  # printed on the sheet
    identity: int | str | None  # what seeds the draws: the variant number or the student's name
    stems: tuple[str, str]  # file stems of the sheet and of its solutions
    where: str  # for messages: "Variant 3" or "Ann Solutions (roster.csv:4)"
    tex_only: bool
    timeout: float
    key: str = "sheet"  # the variant's key in the answers file: "Variant 3", a student's ID or name
    tag: str = ""  # printed after the name, to tell namesakes apart: "ID 4711", "roster line 7"
    about: tuple[tuple[str, str | int], ...] = ()  # more for its answer-key entry: ("id", "4711"), ("roster_line", 7)
    reusable: tuple[tuple[str, str], ...] = ()  # (PDF name, hash of its .tex): PDFs in the output folder to keep
    limits: HardLimits | None = None  # the client's hard limits of a derivation (a worker has its own defaults)
    measured: bool = True  # solution rows broken by TeX's widths (the client has TeX), else by row count


@dataclass
class SheetOutcome:
    job: SheetJob
    files: dict[Path, bytes]
    answers: dict | None
    compiled_from: dict[str, str]  # PDF name → hash of the .tex it was compiled from
    error: str | None = None
    exception: Exception | None = None


def build_sheet(
    sheet_path: str | Path,
    out_dir: str | Path = "output",
    variants: int = 0,
    seed: int = 0,
    roster: str | Path | None = None,
    templates: str | Path | None = None,
    tex_only: bool = False,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
    report: Callable[[str], None] = lambda message: None,
    progress: Callable[[int], None] = lambda done: None,
    cluster: str | None = None,
) -> list[Path]:
    """Build an exercise file: ``<sheet>.pdf`` and ``<sheet>-solutions.pdf`` (and their .tex), or one pair
    per variant (``<sheet>-v1``, ``<sheet>-v1-solutions``, …) or per roster student
    (``<sheet>--ada-lovelace``, ``<sheet>--ada-lovelace--solutions``), plus the build's answer key
    (:func:`answers_name`).

    Variants are built in parallel processes (``jobs``, default all cores), or on the Dask cluster whose
    scheduler is at ``cluster`` (:mod:`.executor`): the same files either way.  A variant that fails — with
    any exception — is reported without losing the others, which are written; a :class:`BuildError` at
    the end names the failures, and nothing of a failed variant is written.  A PDF is not compiled again
    when it was compiled from exactly the .tex of this build (recorded in the cache file).
    """
    if cluster is not None:  # a worker runs elsewhere, in a folder of its own: it reads by absolute paths
        sheet_path, out_dir = Path(sheet_path).absolute(), Path(out_dir).absolute()
        templates = Path(templates).absolute() if templates is not None else None
    batch = sheet_jobs(sheet_path, out_dir, variants, seed, roster, templates, tex_only, force, timeout)
    check = WorkerCheck.of(batch, need_tex=batch[0].measured) if cluster else None
    outcomes = run_jobs(build_variant, batch, failed_variant, jobs, cluster, progress, check)
    return finish_sheet(batch[0], outcomes, variants, roster, report)


def sheet_jobs(
    sheet_path: str | Path,
    out_dir: str | Path = "output",
    variants: int = 0,
    seed: int = 0,
    roster: str | Path | None = None,
    templates: str | Path | None = None,
    tex_only: bool = False,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[SheetJob]:
    """The variants of an exercise file to build, one job each (the file checked once, here, first)."""
    from ..calculus.worker import hard_limits
    from ..input.spec import load_sheet
    from .sheets import check_parameter_names, read_roster, student_stems

    sheet_path, out_dir = Path(sheet_path), Path(out_dir)
    check_parameter_names(*load_sheet(sheet_path))  # fail early, once, on a malformed file
    environment(Path(templates) if templates is not None else None)  # and on a missing templates folder
    stem = sheet_path.stem
    template_path = Path(templates) if templates is not None else None
    compiled_before = {} if force else _cache(out_dir)["pdfs"]
    limits = hard_limits()
    # decided here, for every worker alike: a worker without TeX would break the rows by count, not width
    measured = not tex_tools_missing()

    def make(
        number: int | None,
        name: str,
        identity: int | str | None,
        stems: tuple[str, str],
        where: str,
        key: str = "sheet",
        tag: str = "",
        about: tuple[tuple[str, str | int], ...] = (),
    ) -> SheetJob:
        pdfs = [f"{stem}.pdf" for stem in stems]
        reusable = tuple(
            (pdf, compiled_before[pdf]) for pdf in pdfs if pdf in compiled_before and (out_dir / pdf).exists()
        )
        return SheetJob(
            sheet_path,
            out_dir,
            template_path,
            seed,
            number,
            name,
            identity,
            stems,
            where,
            tex_only,
            timeout,
            key,
            tag,
            about,
            reusable,
            limits,
            measured,
        )

    if roster is not None:
        return [
            make(
                number=n,
                name=student.name,
                identity=student.identity,
                stems=student_stems(stem, student.slug),
                where=f"{student.name} ({roster}:{student.line})",
                key=student.key,
                tag=student.tag,
                about=(
                    ("name", student.name),
                    *((("id", student.id),) if student.id else ()),
                    ("roster_line", student.line),
                ),
            )
            for n, student in enumerate(read_roster(Path(roster)), start=1)
        ]
    if variants > 0:
        return [
            make(
                number=n,
                name=f"Variant {n}",
                identity=n,
                stems=(f"{stem}-v{n}", f"{stem}-v{n}-solutions"),
                where=f"Variant {n}",
                key=f"Variant {n}",
            )
            for n in range(1, variants + 1)
        ]
    return [make(number=None, name="", identity=None, stems=(stem, f"{stem}-solutions"), where=str(sheet_path))]


def finish_sheet(
    first: SheetJob,
    outcomes: list[SheetOutcome],
    variants: int = 0,
    roster: str | Path | None = None,
    report: Callable[[str], None] = lambda message: None,
) -> list[Path]:
    """Write what the variants of one exercise file gave (in the jobs' order), with the answer key and
    the cache; raise the failures.  ``first`` is the file's first job (its paths)."""
    sheet_path, out_dir = first.sheet_path, first.out_dir
    files: dict[Path, bytes] = {}
    answers = {}
    compiled_from: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.error is None:
            files.update(_changed(outcome.files))
            job = outcome.job
            answers[job.key] = {
                **(outcome.answers or {}),
                **dict(job.about),
                "sheet": job.stems[0],
                "solutions": job.stems[1],
            }
            compiled_from.update(outcome.compiled_from)
    if answers:
        name = answers_name(sheet_path.stem, variants, roster)
        files[out_dir / name] = json.dumps(answers, indent=2, sort_keys=True).encode()
    if compiled_from:
        files[out_dir / CACHE_FILE] = _updated_cache(out_dir, pdfs=compiled_from)
    _write_all(out_dir, files)
    compiled = sum(bool(outcome.compiled_from) for outcome in outcomes if outcome.error is None)
    report(
        f"{sheet_path}: {len(outcomes)} sheet(s) with solutions, {compiled} compiled, "
        f"{len(outcomes) - compiled} unchanged or .tex only"
    )
    failures = [outcome for outcome in outcomes if outcome.error is not None]
    only = failures[0].exception if len(outcomes) == 1 and failures else None
    if only is not None:  # one sheet: its own error, as it is
        raise only
    if failures:
        listed = "; ".join(f"{outcome.job.where}: {outcome.error}" for outcome in failures[:5])
        more = f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
        raise BuildError(f"{len(failures)} of {len(outcomes)} variant(s) failed: {listed}{more}")
    return sorted(files)


def _changed(files: dict[Path, bytes]) -> dict[Path, bytes]:
    """``files`` but the .tex already in place with that very content (left untouched, its time kept)."""
    return {
        path: content
        for path, content in files.items()
        if not (path.suffix == ".tex" and _unchanged(path, content))
    }


@dataclass(frozen=True)
class WorkerCheck:
    """What a cluster worker needs to build like this machine (runs on each worker before the batch):
    the same derivgen code, TeX (also for ``.tex`` only where this machine measures the solution rows
    with TeX: the same .tex), and the input files at the same paths."""

    code: str
    need_tex: bool
    inputs: tuple[tuple[str, str], ...]  # (path, sha256 of its content)

    def __call__(self) -> list[str]:
        problems = []
        if _code_fingerprint() != self.code:
            problems.append(f"its derivgen is another version or code ({__version__} here); install the same one")
        missing = tex_tools_missing() if self.need_tex else []
        if missing:
            problems.append(f"{', '.join(missing)} not found: install TeX Live there (the layout is measured with TeX)")
        for name, digest in self.inputs:
            try:
                seen = hashlib.sha256(Path(name).read_bytes()).hexdigest()
            except OSError:
                seen = None
            if seen != digest:
                state = "missing" if seen is None else "different"
                problems.append(f"{name} is {state} there (workers read the inputs at the same paths)")
        return problems

    @classmethod
    def of(cls, jobs: Iterable[SheetJob | Path], need_tex: bool) -> WorkerCheck:
        """The check for a batch: exercise files' jobs (their sheet and the user's templates) and decks."""
        paths: set[Path] = set()
        for job in jobs:
            if isinstance(job, Path):
                paths.add(job)
                continue
            paths.add(job.sheet_path)
            if job.templates is not None:
                paths.update(path for path in job.templates.rglob("*.j2") if path.is_file())
        inputs = tuple((str(path), hashlib.sha256(path.read_bytes()).hexdigest()) for path in sorted(paths))
        return cls(_code_fingerprint(), need_tex, inputs)


def answers_name(stem: str, variants: int = 0, roster: str | Path | None = None) -> str:
    """The answer key's file name, after what was built, so that no build overwrites another's key:
    ``<sheet>-answers.json`` (the sheet without variants), ``<sheet>-variants-answers.json`` (``--variants``),
    ``<sheet>-roster-<roster>-answers.json`` (``--roster <roster>.csv``; each roster its own)."""
    from .sheets import slug_of

    if roster is not None:
        return f"{stem}-roster-{slug_of(Path(roster).stem) or 'roster'}-answers.json"
    if variants > 0:
        return f"{stem}-variants-answers.json"
    return f"{stem}-answers.json"


def build_variant(job: SheetJob) -> SheetOutcome:
    """Present, render and compile one variant (runs in a worker process).

    Every exception becomes a failed outcome: one variant's bug must not abort the batch.
    """
    from ..calculus.worker import using_hard_limits

    try:
        limits = job.limits
        with using_hard_limits(limits.seconds, limits.memory_mb) if limits else contextlib.nullcontext():
            return _build_variant(job)
    except Exception as error:
        return failed_variant(job, error)


def failed_variant(job: SheetJob, error: Exception) -> SheetOutcome:
    return SheetOutcome(job, {}, None, {}, failure(error), error)


def failure(error: Exception) -> str:
    """One line for a failed job: the user's error as it is, anything else as the bug it is."""
    if isinstance(error, DerivgenError):
        message = error.one_line()
    else:
        message = f"internal error ({type(error).__name__}: {error}); please report it"
    return " ".join(message.split())


def _build_variant(job: SheetJob) -> SheetOutcome:
    from ..input.spec import load_sheet
    from ..presentation.printer import notation
    from .measure import measured_log
    from .sheets import lay_out_solutions, present_variant

    sheet, source = load_sheet(job.sheet_path)
    with notation(sheet.notation):
        variant = present_variant(sheet, source, job.seed, job.number, job.name, job.stems[0], job.identity, job.tag)
    env = environment(job.templates)
    info = SheetInfo.of(sheet)

    def measure(variant: Variant) -> str:  # one small TeX run: the widths the solution rows are broken by
        try:
            return measured_log(render_sheet(env, info, variant, True, measuring=True), job.timeout)
        except TexError as error:
            raise BuildError(f"{job.sheet_path}: {job.stems[1]} (measuring): {error.one_line()}") from None

    lay_out_solutions(variant, measure if job.measured else None)
    compiled_before = dict(job.reusable)  # PDFs in the output folder and the .tex each was made from
    files: dict[Path, bytes] = {}
    compiled_from: dict[str, str] = {}
    for stem, solutions in zip(job.stems, (False, True), strict=True):
        tex = render_sheet(env, info, variant, solutions)
        tex_path = job.out_dir / f"{stem}.tex"
        files[tex_path] = tex.encode("utf-8")
        if job.tex_only:
            continue
        pdf_path = tex_path.with_suffix(".pdf")
        source_hash = _tex_hash(tex.encode("utf-8"))
        if compiled_before.get(pdf_path.name) == source_hash:
            continue  # this very .tex made that PDF
        try:
            files[pdf_path] = compile_tex(tex, _job_name(stem), job.timeout).pdf
        except TexError as error:
            raise BuildError(f"{job.sheet_path}: {stem}: {error.one_line()}") from None
        compiled_from[pdf_path.name] = source_hash
    return SheetOutcome(job, files, variant.answers(), compiled_from)


@dataclass(frozen=True)
class SheetInfo:
    """Heading data of a sheet as the template sees it."""

    title: str
    course: str
    heading: str
    date: str
    due: str
    instructions: tuple

    @classmethod
    def of(cls, sheet: ExerciseSheet) -> SheetInfo:
        from ..presentation.frames import text_blocks

        heading = f"Sheet {sheet.number}" if sheet.number is not None else ""
        # title, course and instructions may hold $…$ maths (checked on loading); number, dates are data
        return cls(
            sheet.title,
            sheet.course or "",
            Plain(heading),
            Plain(sheet.date or ""),
            Plain(sheet.due or ""),
            text_blocks(sheet.instructions),
        )


def render_sheet(
    env: jinja2.Environment, info: SheetInfo, variant: Variant, solutions: bool, measuring: bool = False
) -> str:
    """The sheet's LaTeX; ``measuring``: the solution sheet that only logs the widths of its rows."""
    return render_template(env, "sheet.tex.j2", sheet=info, variant=variant, solutions=solutions, measuring=measuring)
