"""Deck file → LaTeX → PDF in the output folder: the whole flow, with caching and atomic output.

Outputs are written only when every requested format compiled: each file goes to a temporary
name in the output folder first and is renamed into place, so a failed or interrupted build
leaves the previous files as they were.  A build whose deck, templates and derivgen version are
unchanged (a content hash) does not run TeX — nor even import sympy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .compile import DEFAULT_TIMEOUT, TexError, compile_tex
from .errors import DerivgenError
from .render import FORMATS, DeckInfo, environment, render, templates_fingerprint

FORMAT_CHOICES = {
    "slides": ("slides",),
    "handout": ("handout", "handout-2up"),
    "notes": ("notes",),
    "all": ("slides", "handout", "handout-2up", "notes"),
}
CACHE_FILE = ".derivgen-cache.json"
_FRAME_MARKER = re.compile(r"^%% derivgen-frame (\d+)$")


class BuildError(DerivgenError):
    """A build failed; the message names the deck, the format, the frame and the step."""


@dataclass(frozen=True)
class BuildResult:
    outputs: list[Path]
    skipped: bool  # nothing changed since the last build, nothing was rebuilt


def build_deck(
    deck_path: str | Path,
    out_dir: str | Path = "output",
    formats: Iterable[str] = FORMAT_CHOICES["all"],
    templates: str | Path | None = None,
    tex_only: bool = False,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    report: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Build the deck into ``out_dir``: ``<deck>.pdf``, ``<deck>-handout.pdf``, … with their ``.tex``."""
    deck_path, out_dir = Path(deck_path), Path(out_dir)
    formats = tuple(formats)
    env = environment(Path(templates) if templates is not None else None)
    stem = deck_path.stem
    outputs = [out_dir / f"{stem}{FORMATS[fmt][1]}{suffix}" for fmt in formats for suffix in _suffixes(tex_only)]
    fingerprint = _fingerprint(deck_path, env, formats, tex_only)
    if not force and _cached(out_dir, stem) == fingerprint and all(path.exists() for path in outputs):
        report(f"{deck_path}: unchanged, nothing to rebuild")
        return BuildResult(outputs, skipped=True)

    from .frames import present_deck  # imports sympy: only when there is work to do
    from .spec import load_deck

    deck, source = load_deck(deck_path)
    frames = present_deck(deck, source)
    info = DeckInfo(
        title=deck.title,
        subtitle=deck.subtitle or "",
        author=deck.author or "",
        institute=deck.institute or "",
        course=deck.course or "",
        date=deck.date or "",
        aspectratio=169 if deck.aspect == "16:9" else 43,
    )
    sources = {fmt: render(fmt, info, frames, env) for fmt in formats}
    files: dict[Path, bytes] = {}
    for fmt, tex in sources.items():
        files[out_dir / f"{stem}{FORMATS[fmt][1]}.tex"] = tex.encode("utf-8")
    if not tex_only:
        report(f"{deck_path}: compiling {', '.join(formats)}")
        with ThreadPoolExecutor(max_workers=max(1, min(len(formats), os.cpu_count() or 1))) as pool:
            futures = {
                fmt: pool.submit(compile_tex, tex, f"{stem}{FORMATS[fmt][1]}", timeout) for fmt, tex in sources.items()
            }
            for fmt, future in futures.items():
                try:
                    files[out_dir / f"{stem}{FORMATS[fmt][1]}.pdf"] = future.result().pdf
                except TexError as error:
                    raise BuildError(_explain(error, deck_path, fmt, sources[fmt], frames)) from None
    _write_all(out_dir, files)
    _remember(out_dir, stem, fingerprint)
    for path in outputs:
        report(f"wrote {path}")
    return BuildResult(outputs, skipped=False)


def _suffixes(tex_only: bool) -> tuple[str, ...]:
    return (".tex",) if tex_only else (".pdf", ".tex")


def _fingerprint(deck_path: Path, env, formats: tuple[str, ...], tex_only: bool) -> str:
    try:
        deck_bytes = deck_path.read_bytes()
    except OSError as error:
        raise BuildError(f"{deck_path}: cannot read the deck ({error.strerror or error})") from None
    digest = hashlib.sha256()
    for part in (__version__, _code_fingerprint(), ",".join(formats), str(tex_only), templates_fingerprint(env)):
        digest.update(part.encode() + b"\0")
    digest.update(deck_bytes)
    return digest.hexdigest()


def _code_fingerprint() -> str:
    """derivgen's own code: a changed rule or printer must rebuild even at the same version."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cached(out_dir: Path, stem: str) -> str | None:
    try:
        return json.loads((out_dir / CACHE_FILE).read_text()).get(stem)
    except (OSError, ValueError, AttributeError):
        return None


def _remember(out_dir: Path, stem: str, fingerprint: str) -> None:
    try:
        cache = json.loads((out_dir / CACHE_FILE).read_text())
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    cache[stem] = fingerprint
    _write_all(out_dir, {out_dir / CACHE_FILE: json.dumps(cache, indent=1, sort_keys=True).encode()})


def _write_all(out_dir: Path, files: dict[Path, bytes]) -> None:
    """Write every file to a temporary name first, then rename them all into place."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"{out_dir}: cannot create the output folder ({error.strerror or error})") from None
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            handle, temporary = tempfile.mkstemp(dir=out_dir, prefix=f".{path.name}.", suffix=".part")
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            staged.append((Path(temporary), path))
        for temporary, path in staged:
            os.replace(temporary, path)
    except OSError as error:
        raise BuildError(f"{out_dir}: cannot write the output ({error.strerror or error})") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


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
    """One variant to build (picklable: it crosses into a worker process)."""

    sheet_path: Path
    out_dir: Path
    templates: Path | None
    seed: int
    number: int | None
    name: str
    slug: str | None
    tex_only: bool
    force: bool
    timeout: float


@dataclass
class SheetOutcome:
    job: SheetJob
    files: dict[Path, bytes]
    answers: dict | None
    compiled: bool
    error: str | None = None
    exception: DerivgenError | None = None


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
) -> list[Path]:
    """Build an exercise file: ``<sheet>.pdf`` and ``<sheet>-solutions.pdf`` (and their .tex), or one pair
    per variant (``-v1``, … or named after a roster's students), plus ``<sheet>-answers.json``.

    Variants are built in parallel processes; a variant that fails is reported without losing the
    others (a :class:`BuildError` at the end lists the failures).  An unchanged variant (same .tex
    as the one in ``out_dir``, PDF present) is not compiled again.
    """
    from .sheets import read_roster, slug_of
    from .spec import load_sheet

    sheet_path, out_dir = Path(sheet_path), Path(out_dir)
    load_sheet(sheet_path)  # fail early, once, on a malformed file
    environment(Path(templates) if templates is not None else None)  # and on a missing templates folder
    names: list[tuple[int | None, str, str | None]]
    if roster is not None:
        taken: set[str] = set()
        names = [(n, name, slug_of(name, taken)) for n, name in enumerate(read_roster(Path(roster)), start=1)]
    elif variants > 0:
        names = [(n, f"Variant {n}", f"v{n}") for n in range(1, variants + 1)]
    else:
        names = [(None, "", None)]
    template_path = Path(templates) if templates is not None else None
    batch = [
        SheetJob(sheet_path, out_dir, template_path, seed, number, name, slug, tex_only, force, timeout)
        for number, name, slug in names
    ]
    outcomes: list[SheetOutcome] = []
    workers = max(1, min(len(batch), jobs or os.cpu_count() or 1))
    if workers == 1:
        for job in batch:
            outcomes.append(build_variant(job))
            progress(len(outcomes))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            for future in as_completed([pool.submit(build_variant, job) for job in batch]):
                outcomes.append(future.result())
                progress(len(outcomes))
    outcomes.sort(key=lambda outcome: outcome.job.number or 0)
    files: dict[Path, bytes] = {}
    answers = {}
    for outcome in outcomes:
        if outcome.error is None:
            files.update(outcome.files)
            answers[outcome.job.name or "sheet"] = outcome.answers
    if answers:
        files[out_dir / f"{sheet_path.stem}-answers.json"] = json.dumps(answers, indent=2, sort_keys=True).encode()
    _write_all(out_dir, files)
    compiled = sum(outcome.compiled for outcome in outcomes if outcome.error is None)
    report(
        f"{sheet_path}: {len(outcomes)} sheet(s) with solutions, {compiled} compiled, "
        f"{len(outcomes) - compiled} unchanged or .tex only"
    )
    failures = [outcome for outcome in outcomes if outcome.error is not None]
    if len(outcomes) == 1 and failures:  # one sheet: its own error, as it is
        raise failures[0].exception
    if failures:
        listed = "; ".join(f"{outcome.job.slug or 'sheet'}: {outcome.error}" for outcome in failures[:5])
        raise BuildError(f"{len(failures)} of {len(outcomes)} variant(s) failed: {listed}")
    return sorted(files)


def build_variant(job: SheetJob) -> SheetOutcome:
    """Present, render and compile one variant (runs in a worker process)."""
    try:
        return _build_variant(job)
    except DerivgenError as error:
        return SheetOutcome(job, {}, None, False, error.one_line(), error)


def _build_variant(job: SheetJob) -> SheetOutcome:
    from .sheets import present_variant
    from .spec import load_sheet

    sheet, source = load_sheet(job.sheet_path)
    variant = present_variant(sheet, source, job.seed, job.number, job.name, job.slug or "")
    env = environment(job.templates)
    info = SheetInfo.of(sheet)
    stem = job.sheet_path.stem + (f"-{job.slug}" if job.slug else "")
    files: dict[Path, bytes] = {}
    compiled = False
    for suffix, solutions in (("", False), ("-solutions", True)):
        tex = render_sheet(env, info, variant, solutions)
        tex_path = job.out_dir / f"{stem}{suffix}.tex"
        files[tex_path] = tex.encode("utf-8")
        if job.tex_only:
            continue
        pdf_path = tex_path.with_suffix(".pdf")
        unchanged = (
            not job.force and pdf_path.exists() and tex_path.exists() and tex_path.read_bytes() == files[tex_path]
        )
        if unchanged:
            files.pop(tex_path)
            continue
        try:
            files[pdf_path] = compile_tex(tex, f"{stem}{suffix}", job.timeout).pdf
        except TexError as error:
            raise BuildError(f"{job.sheet_path}: {stem}{suffix}: {error.one_line()}") from None
        compiled = True
    return SheetOutcome(job, files, variant.answers(), compiled)


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
    def of(cls, sheet) -> SheetInfo:
        from .frames import text_blocks

        heading = f"Sheet {sheet.number}" if sheet.number is not None else ""
        return cls(
            sheet.title, sheet.course or "", heading, sheet.date or "", sheet.due or "", text_blocks(sheet.instructions)
        )


def render_sheet(env, info: SheetInfo, variant, solutions: bool) -> str:
    try:
        return env.get_template("sheet.tex.j2").render(sheet=info, variant=variant, solutions=solutions)
    except Exception as error:  # jinja's own errors: a broken user template
        raise BuildError(f"template sheet.tex.j2: {error}") from None
