"""Several files in one build: decks and exercise files, every deck and every sheet variant one job on
one executor (a process pool or a Dask cluster, :mod:`.executor`).

A sheet's variants come back to this process, which writes them (:func:`.build.finish_sheet`); a deck's
job runs :func:`.build.build_deck` where it runs and writes its outputs there — on a cluster the output
folder must be the same folder on every machine (checked before anything runs).  The files are finished
and reported in the order they were given; one failing file does not stop the others.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..calculus.worker import HardLimits, hard_limits, using_hard_limits
from ..errors import DerivgenError
from .build import (
    BuildError,
    SheetJob,
    SheetOutcome,
    WorkerCheck,
    build_deck,
    build_variant,
    failed_variant,
    failure,
    finish_sheet,
    sheet_jobs,
)
from .compile import DEFAULT_TIMEOUT, tex_tools_missing
from .executor import run_jobs

PROBE_PREFIX = ".derivgen-shared-"


@dataclass(frozen=True)
class DeckJob:
    """One deck to build (picklable), with the client's hard limits of a derivation."""

    deck_path: Path
    out_dir: Path
    formats: tuple[str, ...]
    templates: Path | None
    tex_only: bool
    force: bool
    timeout: float
    trust_latex: bool
    limits: HardLimits


@dataclass
class DeckOutcome:
    job: DeckJob
    messages: list[tuple[bool, str]] = field(default_factory=list)  # (a warning?, text), in order
    error: str | None = None


def build_deck_job(job: DeckJob) -> DeckOutcome:
    """Build one deck where the job runs; its messages are kept for the client to print in order."""
    outcome = DeckOutcome(job)
    try:
        with using_hard_limits(job.limits.seconds, job.limits.memory_mb):
            build_deck(
                job.deck_path,
                job.out_dir,
                job.formats,
                job.templates,
                job.tex_only,
                job.force,
                job.timeout,
                lambda message: outcome.messages.append((False, message)),
                lambda message: outcome.messages.append((True, message)),
                trust_latex=job.trust_latex,
            )
    except Exception as error:
        outcome.error = _failed_deck(job, error).error
    return outcome


def _failed_deck(job: DeckJob, error: Exception) -> DeckOutcome:
    message = failure(error)
    return DeckOutcome(job, error=message if message.startswith(str(job.deck_path)) else f"{job.deck_path}: {message}")


Job = SheetJob | DeckJob
Outcome = SheetOutcome | DeckOutcome


def run_job(job: Job) -> Outcome:
    return build_variant(job) if isinstance(job, SheetJob) else build_deck_job(job)


def failed_job(job: Job, error: Exception) -> Outcome:
    return failed_variant(job, error) if isinstance(job, SheetJob) else _failed_deck(job, error)


def build_files(
    paths: Sequence[Path],
    out_dir: Path,
    formats: tuple[str, ...],
    templates: Path | None = None,
    tex_only: bool = False,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    variants: int = 0,
    seed: int = 0,
    roster: Path | None = None,
    trust_latex: bool = False,
    jobs: int | None = None,
    cluster: str | None = None,
    report: Callable[[str], None] = lambda message: None,
    warn: Callable[[str], None] = lambda message: None,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Build every file (a deck, or an exercise file with ``variants``/``roster``) into ``out_dir``.

    Every file is read and checked before any job runs; a :class:`BuildError` at the end names the
    files that failed (the others are written).
    """
    from ..input.spec import is_exercise_file

    if cluster is not None:  # a worker runs elsewhere, in a folder of its own: it reads by absolute paths
        paths, out_dir = [path.absolute() for path in paths], out_dir.absolute()
        templates = templates.absolute() if templates is not None else None
    plans: list[tuple[Path, list[Job]]] = [
        (
            path,
            [*sheet_jobs(path, out_dir, variants, seed, roster, templates, tex_only, force, timeout)]
            if is_exercise_file(path)
            else [DeckJob(path, out_dir, formats, templates, tex_only, force, timeout, trust_latex, hard_limits())],
        )
        for path in paths
    ]
    _refuse_clashes(plans)
    every: list[Job] = [job for _, file_jobs in plans for job in file_jobs]
    with _shared_folder_probe(out_dir, cluster is not None and any(isinstance(j, DeckJob) for j in every)) as probe:
        check = None
        if cluster is not None:
            inputs = [job if isinstance(job, SheetJob) else job.deck_path for job in every]
            # TeX also for .tex only: this machine measures the layout with it, so must every worker
            check = WorkerCheck.of([*inputs, *probe], need_tex=not tex_only or not tex_tools_missing())
        outcomes = run_jobs(run_job, every, failed_job, jobs, cluster, progress, check)
    failures = []
    start = 0
    for path, file_jobs in plans:
        mine = outcomes[start : start + len(file_jobs)]
        start += len(file_jobs)
        try:
            _finish(mine, variants, roster, report, warn)
        except DerivgenError as error:
            failures.append(error.one_line() if str(path) in error.one_line() else f"{path}: {error.one_line()}")
    if failures:
        raise BuildError(f"{len(failures)} of {len(plans)} file(s) failed: {'; '.join(failures)}")


def _finish(
    outcomes: list[Outcome],
    variants: int,
    roster: Path | None,
    report: Callable[[str], None],
    warn: Callable[[str], None],
) -> None:
    first = outcomes[0]
    if isinstance(first, DeckOutcome):
        for is_warning, message in first.messages:
            (warn if is_warning else report)(message)
        if first.error is not None:
            raise BuildError(first.error)
        return
    sheets = [outcome for outcome in outcomes if isinstance(outcome, SheetOutcome)]
    finish_sheet(first.job, sheets, variants, roster, report)


def _refuse_clashes(plans: list[tuple[Path, list[Job]]]) -> None:
    """Two files whose outputs would be named alike (``a/deck.yaml`` and ``b/deck.yaml``) overwrite each other."""
    seen: dict[str, Path] = {}
    for path, _ in plans:
        other = seen.setdefault(path.stem, path)
        if other != path:
            raise BuildError(f"{path}: its outputs would overwrite those of {other} (the same name, {path.stem})")


@contextlib.contextmanager
def _shared_folder_probe(out_dir: Path, wanted: bool):
    """A file in the output folder the workers must see (decks on a cluster write there), removed after."""
    if not wanted:
        yield []
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir.resolve() / f"{PROBE_PREFIX}{secrets.token_hex(8)}"
        probe.write_text(secrets.token_hex(16))
    except OSError as error:
        raise BuildError(f"{out_dir}: cannot write into the output folder ({error.strerror or error})") from None
    try:
        yield [probe]
    finally:
        probe.unlink(missing_ok=True)
