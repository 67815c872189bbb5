"""The kept TeX build folder of a deck and format: ``<output>/.derivgen-build/<deck>-<format>/``.

latexmk keeps its aux and fdb files there between builds, so it runs only the passes a change needs
(one pdflatex run when the aux files come out unchanged) instead of two from a fresh folder.  TeX never
runs in it: :func:`.compile.compile_tex` copies its files into the temporary build folder of the run
(sandboxed as every run: bubblewrap binds only that folder, ``openin_any=p``, the guard, the owner
file and the removal of a killed run's folder) and copies TeX's files back after a successful run.

The folder is derivgen's, not the user's: it is trusted only while it holds exactly the files the last
successful run left, as recorded beside it (``<name>.manifest.json``: name, size and SHA-256 of each):
any other file, a symbolic or hard link, a subfolder, a changed byte — anything a person or another
program could have planted — and it is emptied before TeX sees it.  A failed run empties it too, so the
next build starts cold rather than from a half-written aux file.  A lock beside it (``<name>.lock``,
``fcntl.flock``) keeps two builds of the same deck and format from sharing it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

BUILD_FOLDER = ".derivgen-build"


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entries(folder: Path) -> dict[str, list] | None:
    """Name → [size, sha256] of every file, or None where anything is not a plain file of ours."""
    found: dict[str, list] = {}
    with os.scandir(folder) as listing:
        for entry in listing:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid != os.getuid():
                return None
            found[entry.name] = [info.st_size, _hash(Path(entry.path))]
    return found


def _trusted(folder: Path, manifest: Path) -> bool:
    try:
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        recorded = json.loads(manifest.read_text())
        return isinstance(recorded, dict) and _entries(folder) == recorded
    except (OSError, ValueError):
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)


def _own_parent(out_dir: Path) -> Path:
    """``<output>/.derivgen-build``, a real folder (a symbolic link there is replaced)."""
    parent = out_dir / BUILD_FOLDER
    if parent.is_symlink() or (parent.exists() and not parent.is_dir()):
        parent.unlink()
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return parent


@contextlib.contextmanager
def kept_folder(out_dir: Path, name: str) -> Iterator[Path]:
    """The locked, checked build folder ``name``; recorded on success, emptied on any failure."""
    parent = _own_parent(out_dir)
    folder, manifest = parent / name, parent / f"{name}.manifest.json"
    with open(parent / f"{name}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if derivgen is killed
        if not _trusted(folder, manifest):
            _remove(manifest)
            _remove(folder)
        folder.mkdir(mode=0o700, exist_ok=True)
        succeeded = False
        try:
            yield folder
            succeeded = True
        finally:
            entries = _entries(folder) if succeeded else None
            if entries is None:  # failed, or TeX left something that is not a plain file
                _remove(manifest)
                _remove(folder)
            else:
                partial = manifest.with_name(manifest.name + ".part")
                partial.write_text(json.dumps(entries, sort_keys=True))
                os.replace(partial, manifest)
