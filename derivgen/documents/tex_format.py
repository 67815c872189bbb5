"""Precompiled preambles: a document's class, packages and macros dumped once into a TeX format.

Every pdflatex run of a deck reads beamer, pgfplots, lmodern and amsmath again before its first page:
about 1 s of CPU, the same in the measuring run, in each latexmk pass and in every rebuild of ``derivgen
watch``.  mylatexformat (TeX Live, texlive-latex-extra) dumps the preamble up to the line that holds
:data:`MARKER` into a format; a run started with ``-fmt`` from that format skips the source up to the
marker's line and goes on from there.  The templates put the marker after the packages and macros and
before the parts a deck changes (theme, logo, title), so one format serves the measuring run and the
slides of a deck and every rebuild.

A format is TeX's memory image and TeX runs what it holds, so it is only ever made by TeX itself from
derivgen's own preamble, in the sandboxed build folder of a run, with the guard read first (the dump holds
the guard's hook).  It is kept in ``<output>/.derivgen-build/formats/<key>.fmt``: the key is a hash of
what was dumped, the guard and this TeX installation, and a sidecar holds the file's SHA-256, so a
changed or truncated file is made anew, never loaded.  A format goes to disk with the first document
compiled into the output folder (a measuring run only remembers it in the process, so a build that fails
later leaves the folder as it was).  At most :data:`KEPT` formats stay; the least recently used go
first.  The folder is safe to delete.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

MARKER = r"\csname endofdump\endcsname"
"""On a line of its own: where the dump ends (plain ``\\relax`` in a run without a format)."""
FORMAT_NAME = "derivgen-preamble"
"""The format's job name in the temporary build folder (``derivgen-preamble.fmt``)."""
FOLDER = Path(".derivgen-build") / "formats"
KEPT = 6  # formats: slides, handout, handout-2up, notes of a deck, and a second deck's


def dumped_part(source: str) -> str | None:
    """The lines a format would hold (everything before the marker's line), or None: no marker."""
    at = source.find("\n" + MARKER + "\n")
    return source[:at] if at >= 0 else None


@functools.lru_cache(maxsize=1)
def _installation() -> str | None:
    """What identifies this TeX for a format (pdfTeX's version, its LaTeX format and mylatexformat),
    or None where mylatexformat or kpsewhich is missing."""
    try:
        found = subprocess.run(
            ["kpsewhich", "-engine=pdftex", "pdflatex.fmt", "mylatexformat.ltx"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.split()
        version = subprocess.run(["pdflatex", "-version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    if len(found) != 2:
        return None
    stamps = [f"{path}:{os.stat(path).st_size}:{os.stat(path).st_mtime_ns}" for path in found]
    return "\n".join([version.splitlines()[0] if version else "", *stamps])


def format_key(dumped: str, guard: bytes) -> str | None:
    """The name of the format for this dump, or None where this TeX cannot make formats."""
    installation = _installation()
    if installation is None:
        return None
    digest = hashlib.sha256()
    for part in (installation.encode(), guard, dumped.encode("utf-8")):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[Path]:
    """The formats folder, a real folder of ours, locked against another derivgen writing it."""
    folder = out_dir / FOLDER
    for path in (folder.parent, folder):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder


def _plain_file(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.getuid()


# formats made by this process and not yet on disk: a measuring run makes one before the build has
# written anything into the output folder (a later error must leave that folder as it was)
_MADE: dict[str, bytes] = {}
_MAX_MADE = 4


def cached_format(out_dir: Path, key: str) -> tuple[bytes, bool] | None:
    """The format ``key`` and whether it is kept on disk: made earlier in this process, or kept in the
    output folder with the bytes recorded beside it; None where neither holds it."""
    if key in _MADE:
        return _MADE[key], False
    if not (out_dir / FOLDER).is_dir() or (out_dir / FOLDER).is_symlink():
        return None  # nothing kept: the folder is made only when a format is kept
    with _locked(out_dir) as folder:
        path, sidecar = folder / f"{key}.fmt", folder / f"{key}.sha256"
        if not (_plain_file(path) and _plain_file(sidecar)):
            return None
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sidecar.read_text(errors="replace").strip():
            path.unlink()
            sidecar.unlink()
            return None
        os.utime(path)  # recently used: pruned last
        return data, True


def remember_format(key: str, data: bytes) -> None:
    """A format this process made, for its later runs; :func:`keep_format` puts it on disk."""
    if len(_MADE) >= _MAX_MADE:
        _MADE.pop(next(iter(_MADE)))
    _MADE[key] = data


def keep_format(out_dir: Path, key: str, data: bytes) -> None:
    """Keep a format TeX made (written whole, then renamed); the oldest beyond :data:`KEPT` go."""
    _MADE.pop(key, None)
    with _locked(out_dir) as folder:
        for name, content in ((f"{key}.sha256", hashlib.sha256(data).hexdigest().encode()), (f"{key}.fmt", data)):
            partial = folder / f"{name}.part"
            partial.write_bytes(content)
            os.replace(partial, folder / name)
        formats = sorted(folder.glob("*.fmt"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for old in formats[KEPT:]:
            old.unlink()
            old.with_suffix(".sha256").unlink(missing_ok=True)


def remove_formats(out_dir: Path) -> None:
    """Every kept format, and those of this process (a run failed on loading one)."""
    _MADE.clear()
    shutil.rmtree(out_dir / FOLDER, ignore_errors=True)
