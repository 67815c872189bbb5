"""A deck's look: beamer themes checked against TeX Live, the logo carried into the sandboxed build,
speaker notes kept from the students unless the deck says otherwise, and pictures whose legend covers
nothing.  Real latexmk, read back with pdftotext, pdfimages and pdffonts; few builds (they are slow)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from derivgen.cli import main
from derivgen.documents.build import build_deck
from derivgen.documents.compile import compile_tex
from derivgen.documents.themes import ThemeError, installed_themes, theme_installed
from derivgen.input.spec import SpecError
from tests.pdf_pages import page_words
from tests.test_build import SEED, pages, pdf_text

needs_kpsewhich = pytest.mark.skipif(shutil.which("kpsewhich") is None, reason="TeX Live is not installed")


def png(width: int = 40, height: int = 16, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A minimal PNG of one colour (no image library needed)."""
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def seed_with(tmp_path: Path, keys: str) -> Path:
    """The seed deck with deck keys added after its aspect line."""
    text = SEED.read_text(encoding="utf-8")
    assert 'aspect: "4:3"\n' in text
    path = tmp_path / "seed.yaml"
    path.write_text(text.replace('aspect: "4:3"\n', f'aspect: "4:3"\n{keys}'), encoding="utf-8")
    return path


def small_deck(tmp_path: Path, keys: str = "") -> Path:
    path = tmp_path / "deck.yaml"
    path.write_text(
        f"title: Small deck\nauthor: A. Lecturer\n{keys}frames:\n"
        "  - title: Power\n    derive: x**3\n    notes: Say SPEAKERWORD here.\n",
        encoding="utf-8",
    )
    return path


def page_texts(pdf: Path) -> list[str]:
    return pdf_text(pdf).split("\f")


def word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float]]:
    """(word, xMin, xMax, yMin) of every word on a page, in reading order."""
    _, _, words = page_words(pdf)[page - 1]
    return [(word, x0, x1, y0) for x0, y0, x1, _, word in words]


@pytest.mark.slow
def test_seed_deck_with_madrid_a_logo_and_notes_for_students(tmp_path):
    (tmp_path / "logo.png").write_bytes(png())
    deck = seed_with(tmp_path, "theme: Madrid\nlogo: logo.png\nnotes: students\n")
    out = tmp_path / "out"
    build_deck(deck, out, formats=("handout", "notes"))
    handout, notes = out / "seed-handout.pdf", out / "seed-notes.pdf"
    tex = (out / "seed-handout.tex").read_text()
    assert r"\usetheme{Madrid}" in tex and "[frame number]" not in tex  # the theme's footline, not ours
    # Madrid's footline names the author and the title on every frame, not only on the title page
    frames = page_texts(handout)[1:-1]
    assert all("Laube" in text and "DNN supplementary slides" in text for text in frames)
    images = subprocess.run(["pdfimages", "-list", str(handout)], capture_output=True, text=True, check=True)
    shown = [line.split() for line in images.stdout.splitlines()[2:]]
    assert {(row[3], row[4]) for row in shown} == {("40", "16")}  # the logo, on every page
    assert len(shown) == pages(handout)
    # the picture (page 3): its legend stands right of every tick label, covering none of them
    boxes = word_boxes(handout, 3)
    legend = [x0 for word, x0, _, _ in boxes if word in ("secant", "tangent")][-2:]  # the intro says them first
    numbers = [(x1, round(y0)) for word, _, x1, y0 in boxes if re.fullmatch(r"[−-]?\d+(\.\d+)?", word)]
    rows = Counter(y for _, y in numbers)
    axis_row = max(rows, key=lambda y: rows[y])  # the x axis' tick labels: the row with most numbers
    ticks = [x1 for x1, y in numbers if y == axis_row]
    assert len(legend) == 2 and len(ticks) >= 4 and min(legend) > max(ticks)
    # notes: students — the speaker's notes reach the notes PDF under a heading of their own
    text = pdf_text(notes)
    assert "Lecturer’s note" in text or "Lecturer's note" in text
    assert "Draw the secant and the tangent on the board" in " ".join(text.split())
    assert r"\usetheme" not in (out / "seed-notes.tex").read_text()  # the notes stay a plain article
    # in the notes the picture stays on the page of its heading
    plot_page = next(page for page in page_texts(notes) if "slope in a point" in page)
    assert "secant" in plot_page


@pytest.mark.slow
def test_seed_deck_with_cambridge_beaver_and_a_serif_font(tmp_path):
    deck = seed_with(tmp_path, "theme: CambridgeUS\ncolortheme: beaver\nfonttheme: serif\n")
    out = tmp_path / "out"
    build_deck(deck, out, formats=("handout",))
    handout = out / "seed-handout.pdf"
    tex = (out / "seed-handout.tex").read_text()
    for line in (r"\usetheme{CambridgeUS}", r"\usecolortheme{beaver}", r"\usefonttheme{serif}"):
        assert line in tex
    assert "alerted text}{fg=red" not in tex  # the colour theme decides the highlight
    assert "Laube" in page_texts(handout)[2]  # CambridgeUS's footline
    fonts = subprocess.run(["pdffonts", str(handout)], capture_output=True, text=True, check=True).stdout
    assert "LMRoman" in fonts  # the serif font theme: text in Latin Modern Roman, not Sans


def test_speaker_notes_stay_out_of_the_students_notes_by_default(tmp_path):
    out = tmp_path / "out"
    build_deck(small_deck(tmp_path), out, formats=("notes",))
    text = pdf_text(out / "deck-notes.pdf")
    assert "Power" in text and "SPEAKERWORD" not in text and "Remarks" not in text
    slides = build_deck(small_deck(tmp_path), out, formats=("slides",), tex_only=True)
    assert r"\note{" in slides.outputs[0].read_text() and "SPEAKERWORD" in slides.outputs[0].read_text()


@needs_kpsewhich
def test_unknown_theme_is_one_line_listing_the_installed_ones(tmp_path, capsys):
    deck = small_deck(tmp_path, "theme: Madird\n")
    out = tmp_path / "out"
    code = main(["build", str(deck), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert f"{deck}:3: theme 'Madird' is not installed" in line
    assert "did you mean 'Madrid'?" in line and "Boadilla" in line and "CambridgeUS" in line
    assert not out.exists()  # nothing written


@needs_kpsewhich
@pytest.mark.parametrize("kind, name", [("colortheme", "beavr"), ("fonttheme", "sherif")])
def test_unknown_colour_and_font_themes_are_refused(tmp_path, kind, name):
    with pytest.raises(ThemeError, match=rf":3: {kind} '{name}' is not installed \(.*installed: .*default"):
        build_deck(small_deck(tmp_path, f"{kind}: {name}\n"), tmp_path / "out", tex_only=True)


@needs_kpsewhich
def test_installed_themes_are_found_and_plain():
    assert {"Madrid", "Boadilla", "CambridgeUS", "default"} <= set(installed_themes("theme"))
    assert {"beaver", "default"} <= set(installed_themes("colortheme"))
    assert "serif" in installed_themes("fonttheme")
    assert theme_installed("theme", "Madrid") and not theme_installed("theme", "Madird")
    every = [name for kind in ("theme", "colortheme", "fonttheme") for name in installed_themes(kind)]
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", name) for name in every)


@pytest.mark.parametrize(
    "name", ["'Madrid}\\usepackage{x'", "Mad rid", "../Madrid", "'Madrid%'", "'-dark'", "'x^^5c'", "A" * 41]
)
def test_theme_names_that_could_inject_are_refused(tmp_path, name):
    with pytest.raises(SpecError, match=r":3: theme: .*a theme name is letters and digits"):
        build_deck(small_deck(tmp_path, f"theme: {name}\n"), tmp_path / "out", tex_only=True)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "logo, words",
    [
        ("../logo.png", "relative path without .."),
        ("/etc/logo.png", "relative path without .."),
        ("pics/../../logo.png", "relative path without .."),
        ("logo.gif", "an image: .png, .jpg, .jpeg, .pdf"),
        ("missing.png", "cannot read the logo 'missing.png'"),
    ],
)
def test_a_logo_must_be_an_image_beside_the_deck(tmp_path, logo, words):
    with pytest.raises((SpecError, ThemeError), match=rf":3: .*{re.escape(words)}"):
        build_deck(small_deck(tmp_path, f"logo: {logo}\n"), tmp_path / "out", tex_only=True)
    assert not (tmp_path / "out").exists()


def test_a_logo_linked_from_outside_the_deck_folder_is_refused(tmp_path):
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(png())
    folder = tmp_path / "deck"
    folder.mkdir()
    (folder / "logo.png").symlink_to(outside)
    with pytest.raises(ThemeError, match="outside the deck's folder"):
        build_deck(small_deck(folder, "logo: logo.png\n"), tmp_path / "out", tex_only=True)


def test_a_changed_logo_rebuilds_the_deck(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    deck, out = small_deck(tmp_path, "logo: logo.png\n"), tmp_path / "out"
    assert not build_deck(deck, out, formats=("slides",), tex_only=True).skipped
    assert build_deck(deck, out, formats=("slides",), tex_only=True).skipped
    logo.write_bytes(png(rgb=(0, 0, 200)))
    assert not build_deck(deck, out, formats=("slides",), tex_only=True).skipped
    tex = (out / "deck.tex").read_text()
    assert r"\logo{\includegraphics" in tex and "{logo.png}" in tex


@pytest.mark.parametrize("file_name", ["../logo.png", "sub/logo.png", "logo.tex", "document.pdf", "Logo.png", ""])
def test_compile_takes_only_plain_image_names_into_the_build_folder(file_name):
    with pytest.raises(ValueError, match="not a plain file name"):
        compile_tex(r"\documentclass{article}\begin{document}x\end{document}", "document", files={file_name: b""})
