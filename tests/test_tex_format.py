"""Precompiled preambles (derivgen/documents/tex_format.py): made once by TeX, loaded by later runs,
the same pages as a run that reads its preamble, and never loaded when the kept file is not ours."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import derivgen.documents.compile as compile_module
from derivgen.documents.build import build_deck
from derivgen.documents.build_folder import BUILD_FOLDER
from derivgen.documents.compile import compile_tex
from derivgen.documents.tex_format import (
    FOLDER,
    KEPT,
    MARKER,
    cached_format,
    dumped_part,
    format_key,
    keep_format,
)

needs_tex = pytest.mark.skipif(bool(compile_module.tex_tools_missing()), reason="TeX Live is not installed")
# mylatexformat's banner in the log of a run started from a format it made
LOADED = 'CUSTOMISED FORMAT: "derivgen-preamble"'

DECK = """title: Formats
frames:
  - title: Power
    derive: x**{power} + sin(x)
  - title: Product
    derive: x**2 * exp(x)
"""


def pdf_text(pdf: Path | bytes, tmp_path: Path) -> str:
    if isinstance(pdf, bytes):
        (tmp_path / "read.pdf").write_bytes(pdf)
        pdf = tmp_path / "read.pdf"
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_the_dump_ends_at_the_marker_on_a_line_of_its_own():
    source = f"\\documentclass{{article}}\n\\usepackage{{amsmath}}\n{MARKER}\n\\title{{T}}\n\\begin{{document}}\n"
    assert dumped_part(source) == "\\documentclass{article}\n\\usepackage{amsmath}"
    assert dumped_part(source.replace(f"\n{MARKER}\n", f"\n{MARKER} \\title{{X}}\n")) is None
    assert dumped_part("\\documentclass{article}\n\\begin{document}\n") is None


@needs_tex
def test_another_preamble_or_guard_is_another_format():
    key = format_key("\\documentclass{article}", b"guard")
    assert key is not None and len(key) == 32
    assert format_key("\\documentclass{article}", b"guard") == key
    assert format_key("\\documentclass{article}\n\\usepackage{amsmath}", b"guard") != key
    assert format_key("\\documentclass{article}", b"another guard") != key


@needs_tex
def test_a_deck_makes_one_format_and_its_rebuild_loads_it_for_the_same_pages(tmp_path):
    deck, out = tmp_path / "deck.yaml", tmp_path / "out"
    deck.write_text(DECK.format(power=2))
    build_deck(deck, out, formats=("slides",))
    kept = sorted((out / FOLDER).glob("*.fmt"))
    assert len(kept) == 1, "the measuring run and the slides share one preamble"
    deck.write_text(DECK.format(power=3))
    result = build_deck(deck, out, formats=("slides",))
    assert result.derived == (1,)
    assert sorted((out / FOLDER).glob("*.fmt")) == kept
    assert LOADED in (out / BUILD_FOLDER / "deck" / "document.log").read_text(errors="replace")
    # the pages are those of a run that reads the whole preamble itself
    tex = (out / "deck.tex").read_text()
    assert f"\n{MARKER}\n" in tex
    plain = compile_tex(tex, timeout=120)
    assert LOADED not in plain.log
    assert pdf_text(out / "deck.pdf", tmp_path) == pdf_text(plain.pdf, tmp_path)
    # the edited frame's new derivative, 3x² + cos x, is on the page (pdftotext writes x² as x2)
    assert "3x2" in pdf_text(out / "deck.pdf", tmp_path).replace(" ", "")


@needs_tex
def test_a_changed_format_file_is_not_loaded_but_made_anew(tmp_path):
    deck, out = tmp_path / "deck.yaml", tmp_path / "out"
    deck.write_text(DECK.format(power=2))
    build_deck(deck, out, formats=("notes",))
    (kept,) = (out / FOLDER).glob("*.fmt")
    damaged = bytearray(kept.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    kept.write_bytes(bytes(damaged))
    assert cached_format(out, kept.stem) is None and not kept.exists()
    kept.write_bytes(bytes(damaged))
    deck.write_text(DECK.format(power=4))
    build_deck(deck, out, formats=("notes",))
    assert kept.read_bytes() != damaged and cached_format(out, kept.stem) is not None, "made again"
    assert "x^{4}" in (out / "deck-notes.tex").read_text()
    deck.write_text(DECK.format(power=5))
    build_deck(deck, out, formats=("notes",))
    (log,) = (out / BUILD_FOLDER).glob("*/document.log")
    assert LOADED in log.read_text(errors="replace")


def test_a_planted_link_or_a_file_without_its_hash_is_not_loaded(tmp_path):
    secret = tmp_path / "secret.fmt"
    secret.write_bytes(b"not a format")
    keep_format(tmp_path, "k" * 32, b"format bytes")
    assert cached_format(tmp_path, "k" * 32) == (b"format bytes", True)
    kept = tmp_path / FOLDER / f"{'k' * 32}.fmt"
    kept.unlink()
    kept.symlink_to(secret)
    assert cached_format(tmp_path, "k" * 32) is None
    (tmp_path / FOLDER / "p.fmt").write_bytes(b"planted, no recorded hash")
    assert cached_format(tmp_path, "p") is None


def test_only_the_most_recently_used_formats_stay(tmp_path):
    for number in range(KEPT + 3):
        keep_format(tmp_path, f"{number:032d}", f"format {number}".encode())
    kept = sorted(path.stem for path in (tmp_path / FOLDER).glob("*.fmt"))
    assert kept == [f"{number:032d}" for number in range(3, KEPT + 3)]
    assert sorted(path.stem for path in (tmp_path / FOLDER).glob("*.sha256")) == kept
