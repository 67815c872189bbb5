"""A deck's look: its beamer themes checked against the TeX installation, its logo read from beside it.

The spec has already made sure a theme name is a plain word and the logo a relative image path;
here they meet the machine: a theme TeX cannot find would stop the build deep in the log, so an
unknown name is refused up front with the deck's ``file:line`` and the names that are installed.
"""

from __future__ import annotations

import difflib
import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DerivgenError

if TYPE_CHECKING:
    from ..input.spec import Deck, SourceMap

# deck key -> the file prefix beamer loads for it (\usetheme{X} reads beamerthemeX.sty, …)
THEME_KINDS = {"theme": "beamertheme", "colortheme": "beamercolortheme", "fonttheme": "beamerfonttheme"}
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
_KPSEWHICH_TIMEOUT = 20.0


class ThemeError(DerivgenError):
    """A theme is not installed or the logo cannot be read; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Look:
    """What the templates need of a deck's look, and the files the TeX build folder must hold."""

    theme: str = ""
    colortheme: str = ""
    fonttheme: str = ""
    logo: str = ""  # the logo's fixed name in the build folder ("logo.png"), or ""
    files: tuple[tuple[str, bytes], ...] = ()  # (name in the build folder, content)


def deck_look(deck: Deck, source: SourceMap, deck_path: Path, check_installed: bool = True) -> Look:
    """The deck's themes (checked to be installed unless ``check_installed`` is off) and its logo."""
    names = {kind: getattr(deck, kind) or "" for kind in THEME_KINDS}
    if check_installed and tex_can_look_up():
        for kind, name in names.items():
            if name and not theme_installed(kind, name):
                installed = installed_themes(kind)
                close = difflib.get_close_matches(name, installed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                listed = ", ".join(installed) if installed else "none found"
                raise ThemeError(
                    f"{source.where((kind,))}: {kind} {name!r} is not installed ({hint}installed: {listed})"
                )
    if not deck.logo:
        return Look(names["theme"], names["colortheme"], names["fonttheme"])
    content = logo_bytes(deck_path, deck.logo, source.where(("logo",)))
    # a fixed name in the build folder: the deck's own file name never reaches the TeX source
    logo = "logo" + Path(deck.logo).suffix.lower().replace(".jpeg", ".jpg")
    return Look(names["theme"], names["colortheme"], names["fonttheme"], logo, ((logo, content),))


def logo_bytes(deck_path: Path, logo: str, where: str) -> bytes:
    """The logo file's content; it must lie in the deck's folder or below it."""
    folder = deck_path.resolve().parent
    path = (folder / logo).resolve()
    if not path.is_relative_to(folder):  # a symbolic link out of the deck's folder
        raise ThemeError(f"{where}: the logo {logo!r} lies outside the deck's folder")
    try:
        return path.read_bytes()
    except OSError as error:
        raise ThemeError(f"{where}: cannot read the logo {logo!r} ({error.strerror or error})") from None


def logo_fingerprint(deck_path: Path) -> bytes:
    """The logo's bytes for the build cache (a changed logo must rebuild), read before the deck is
    validated: anything unusual is left to the real load, which reports it."""
    from ..input.spec import read_yaml

    data, _ = read_yaml(deck_path)
    logo = data.get("logo") if isinstance(data, dict) else None
    if not isinstance(logo, str):
        return b""
    try:
        return logo_bytes(deck_path, logo.strip(), str(deck_path))
    except ThemeError:
        return b"?"


def tex_can_look_up() -> bool:
    return shutil.which("kpsewhich") is not None


@functools.lru_cache(maxsize=64)
def theme_installed(kind: str, name: str) -> bool:
    """Whether TeX finds the theme's file (kpsewhich searches every tree TeX does, and its ls-R databases)."""
    if not _PLAIN_NAME.fullmatch(name):
        return False
    try:
        done = subprocess.run(
            ["kpsewhich", f"{THEME_KINDS[kind]}{name}.sty"],
            capture_output=True,
            text=True,
            timeout=_KPSEWHICH_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return True  # cannot ask: let TeX report it
    return bool(done.stdout.strip())


@functools.cache
def installed_themes(kind: str) -> tuple[str, ...]:
    """The names of the installed themes of one kind (for the error message), found once by walking
    the TeX trees' ``tex`` folders; names that are not plain words are left out (they are refused)."""
    prefix = THEME_KINDS[kind]
    names: set[str] = set()
    for tree in _tex_trees():
        for path in (tree / "tex").rglob(f"{prefix}*.sty"):
            name = path.name[len(prefix) : -len(".sty")]
            if _PLAIN_NAME.fullmatch(name):
                names.add(name)
    return tuple(sorted(names, key=str.lower))


def _tex_trees() -> list[Path]:
    """The TeX trees (TEXMF: the home, local and distribution trees) that exist."""
    try:
        done = subprocess.run(
            ["kpsewhich", "-var-value", "TEXMF"], capture_output=True, text=True, timeout=_KPSEWHICH_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    trees = []
    for entry in done.stdout.strip().strip("{}").split(","):
        path = Path(entry.strip().strip("{}").lstrip("!"))
        if entry.strip() and path.is_dir() and path not in trees:
            trees.append(path)
    return trees
