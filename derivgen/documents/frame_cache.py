"""The per-frame cache of a deck build: each frame's derived and presented form, and its measured size.

One JSON file per deck in the output folder (``.derivgen-cache/<deck>.json``), written with the outputs.
A frame's entry is keyed by the frame's parsed content (so a comment or a blank line in the YAML
changes nothing), by every deck-level key that can change what a frame shows (all of them but the
title page's text), and by derivgen's version, code and the versions of the libraries that shape the
output (:func:`version_fingerprint`); a measured size is keyed by the frame's key and everything the
measuring document depends on (the deck's look, the templates, the logo).  A file written by another
version is not read at all.

JSON, not pickle: the file lies in the user's output folder, and unpickling a file planted there would
run code.  Decoding builds only the dataclasses listed in :data:`_CLASSES`; a missing, corrupt or
foreign file, or an entry that does not decode, is a miss — never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..presentation.text import Latex, Plain

if TYPE_CHECKING:
    from ..input.spec import Deck
    from ..presentation.frames import PresentedFrame
    from ..presentation.layout import FrameSizes
    from .render import DeckInfo

CACHE_FOLDER = ".derivgen-cache"
FORMAT = 1  # of the file itself: a new layout of entries is a new number
# deck keys that reach only the title page (DeckInfo), never a frame's derivation or presentation;
# every other deck key (detail, notation, rows_per_frame, aspect, theme, …) is part of each frame's key
TITLE_PAGE_KEYS = frozenset({"title", "subtitle", "author", "institute", "course", "date"})


def _classes() -> dict[str, type]:
    """The dataclasses a cached frame is made of (imported late: presentation imports sympy)."""
    from ..presentation.frames import Piece, PresentedFrame, Row, RuleItem, TextBlock
    from ..presentation.layout import Box, FrameSizes, Page, RowSize
    from ..presentation.plots import Curve, Picture

    kinds = (PresentedFrame, Row, Piece, RuleItem, TextBlock, Picture, Curve, FrameSizes, Page, RowSize, Box)
    return {kind.__name__: kind for kind in kinds}


def encode(value: Any) -> Any:
    """``value`` as JSON data that keeps the kinds of strings apart: :class:`Latex` is typeset as it
    is, :class:`Plain` escaped, a plain ``str`` checked as text — a cache must not change which."""
    if isinstance(value, Latex):
        return {"L": str(value)}
    if isinstance(value, Plain):
        return {"P": str(value)}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, tuple):
        return {"T": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {item.name: encode(getattr(value, item.name)) for item in dataclasses.fields(value)}
        return {"D": type(value).__name__, "f": fields}
    raise TypeError(f"cannot cache a {type(value).__name__}")


def decode(data: Any, classes: dict[str, type]) -> Any:
    """The value :func:`encode` made; raises (ValueError, TypeError, KeyError) on anything else."""
    if data is None or isinstance(data, str | bool | int | float):
        return data
    if isinstance(data, list):
        return [decode(item, classes) for item in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError("not a cached value")
    if set(data) == {"L"} and isinstance(data["L"], str):
        return Latex(data["L"])
    if set(data) == {"P"} and isinstance(data["P"], str):
        return Plain(data["P"])
    if set(data) == {"T"} and isinstance(data["T"], list):
        return tuple(decode(item, classes) for item in data["T"])
    if set(data) == {"D", "f"} and isinstance(data["f"], dict):
        kind = classes[data["D"]]  # KeyError: not one of ours
        return kind(**{str(name): decode(item, classes) for name, item in data["f"].items()})
    raise ValueError("not a cached value")


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def version_fingerprint(version: str, code: str, libraries: list[str]) -> str:
    return _digest("derivgen-frame-cache", FORMAT, version, code, libraries)


def frame_keys(deck: Deck, version: str, trust_latex: bool) -> list[str]:
    """The key of every frame of the deck, in order."""
    deck_keys = deck.model_dump(mode="json", exclude={"frames", *TITLE_PAGE_KEYS})
    return [_digest(version, trust_latex, deck_keys, frame.model_dump(mode="json")) for frame in deck.frames]


def measure_key(frame_key: str, info: DeckInfo, templates: str, files: dict[str, bytes]) -> str:
    """What a frame's measured size depends on: the frame, the whole look of the slides (title and
    author too: a theme may show them in every slide's footline), the templates and the logo."""
    logo = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    return _digest(frame_key, dataclasses.asdict(info), templates, logo)


@dataclass
class FrameCache:
    """The cache of one deck: read once at the start of a build, written with its outputs."""

    path: Path
    version: str
    frames: dict[str, Any] = field(default_factory=dict)  # frame key -> encoded presented frame
    sizes: dict[str, Any] = field(default_factory=dict)  # measure key -> encoded FrameSizes
    _classes: dict[str, type] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, out_dir: Path, stem: str, version: str) -> FrameCache:
        cache = cls(out_dir / CACHE_FOLDER / f"{stem}.json", version)
        try:
            data = json.loads(cache.path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return cache
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != version:
            return cache  # another derivgen's (or not ours): never read across versions
        for name in ("frames", "sizes"):
            if isinstance(data.get(name), dict):
                setattr(cache, name, data[name])
        return cache

    def _decoded(self, table: dict[str, Any], key: str) -> Any:
        if key not in table:
            return None
        if not self._classes:
            self._classes = _classes()
        try:
            return decode(table[key], self._classes)
        except (ValueError, TypeError, KeyError, RecursionError):
            return None

    def frame(self, key: str, number: int) -> PresentedFrame | None:
        """The cached frame, renumbered to its place now (a frame moves when one before it is added)."""
        from ..presentation.frames import PresentedFrame

        found = self._decoded(self.frames, key)
        if not isinstance(found, PresentedFrame):
            return None
        found.number = number
        return found

    def frame_sizes(self, key: str) -> FrameSizes | None:
        from ..presentation.layout import FrameSizes

        found = self._decoded(self.sizes, key)
        return found if isinstance(found, FrameSizes) else None

    def content(self, frames: dict[str, Any], sizes: dict[str, Any]) -> bytes:
        """The file with exactly these entries (the deck's frames now: no entry of an old frame stays)."""
        data = {"format": FORMAT, "version": self.version, "frames": frames, "sizes": sizes}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
