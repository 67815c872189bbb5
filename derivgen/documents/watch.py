"""``derivgen watch``: build a deck, then build it again on every save of the deck or of a file it uses.

Files are watched with watchfiles (inotify where the system has it): the deck's folder (the deck
itself, and an image beside it that may be its logo; an editor that saves by writing a new file and
renaming it is seen too) and the templates folder.  Every build is an incremental :func:`.build.build_deck`:
it re-derives only the frames that changed, and a PDF is replaced by a rename, the moment at which
PDF viewers that watch their file (evince, okular, zathura) reload it.  A build that fails leaves the
last good files as they were (build_deck writes nothing unless every format compiled): its error is
printed on one line and watching goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import DerivgenError
from .build import BuildResult

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf")  # what a deck's logo can be


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def changes_filter(deck: Path, out_dir: Path, templates: Path | None) -> Callable[[object, str], bool]:
    """watchfiles' filter: the deck, an image in its folder, any file of the templates folder; never
    anything in the output folder (the build's own writes)."""
    deck, out_dir = deck.resolve(), out_dir.resolve()
    templates = templates.resolve() if templates is not None else None

    def wanted(change: object, name: str) -> bool:
        path = Path(name).resolve()
        if _inside(path, out_dir):
            return False
        if templates is not None and _inside(path, templates):
            return True
        return path == deck or (_inside(path, deck.parent) and path.suffix.lower() in IMAGE_SUFFIXES)

    return wanted


def watch_deck(
    deck: Path,
    out_dir: Path,
    templates: Path | None,
    build: Callable[[], BuildResult],
    echo: Callable[[str], None],
    fail: Callable[[str], None],
    stop: threading.Event | None = None,
) -> int:
    """Build once, then on every change until ``stop`` is set or Ctrl-C; returns the number of builds."""
    import watchfiles

    builds = 0

    def once() -> None:
        nonlocal builds
        builds += 1
        start = time.perf_counter()
        try:
            result = build()
        except DerivgenError as error:
            fail(f"derivgen: error: {error.one_line()} (the last good files are kept; still watching)")
            return
        except Exception as error:  # a bug: say so in one line and keep watching the next save
            fail(f"derivgen: internal error: {type(error).__name__}: {error} (still watching)")
            return
        took = time.perf_counter() - start
        echo(f"{'unchanged' if result.skipped else 'built'} in {took:.1f} s")

    once()
    roots = [str(deck.resolve().parent)] + ([str(templates)] if templates is not None else [])
    echo(f"watching {deck} for changes (Ctrl-C to stop)")
    wanted = changes_filter(deck, out_dir, templates)
    for changes in watchfiles.watch(*roots, watch_filter=wanted, stop_event=stop, debounce=800, step=50):
        names = sorted({Path(name).name for _, name in changes})
        echo(f"changed: {', '.join(names)}")
        once()
    return builds
