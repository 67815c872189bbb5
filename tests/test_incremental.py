"""Incremental deck builds (per-frame cache, kept build folder, no TeX for an unchanged .tex) and watch.

What a build did is read from its BuildResult and from counters on the TeX runs, never from timing;
the mathematics of a re-derived frame is compared with sympy.diff (its printed result read back).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sympy

import derivgen.documents.build as build_module
import derivgen.documents.compile as compile_module
from derivgen.documents.build import BuildError, build_deck
from derivgen.documents.build_folder import BUILD_FOLDER, kept_folder
from derivgen.documents.frame_cache import CACHE_FOLDER, FrameCache
from derivgen.documents.measure import measure
from derivgen.documents.render import DeckInfo, environment

from .latex_reader import numerically_equal, read_latex
from .test_build import pdf_text

ROOT = Path(__file__).resolve().parent.parent
needs_tex = pytest.mark.skipif(bool(compile_module.tex_tools_missing()), reason="TeX Live is not installed")
x = sympy.Symbol("x")

DECK = """\
title: Incremental
frames:
  - title: Product
    derive: x**2*sin(x)
  - title: Edited
    derive: sinh(x**2)
  - kind: text
    title: Words
    text: Some words.
  - title: Logarithm
    derive: log(x**2 + 1)
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deck.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tex_runs(monkeypatch) -> list[list[str]]:
    """Every TeX process started (latexmk for a PDF or for measuring)."""
    runs: list[list[str]] = []
    real = compile_module._run

    def counted(command, *args, **kwargs):
        runs.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(compile_module, "_run", counted)
    return runs


def cached_results(out: Path) -> dict[str, str]:
    """Frame title → the LaTeX of its result, as the per-frame cache holds it."""
    cache = json.loads((out / CACHE_FOLDER / "deck.json").read_text())
    loaded = FrameCache.load(out, "deck", cache["version"])
    frames = [loaded.frame(key, 0) for key in loaded.frames]
    return {frame.title: str(frame.result) for frame in frames if frame is not None and frame.kind == "derivation"}


@needs_tex
@pytest.mark.slow
def test_an_edited_frame_is_the_only_one_derived_and_the_pdf_shows_it(tmp_path, tex_runs):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    first = build_deck(path, out, formats=("slides",))
    assert first.derived == (1, 2, 3, 4) and first.frames == 4
    assert set(first.measured) == {1, 2, 4}  # the derivation frames
    assert "sinh" in pdf_text(out / "deck.pdf")

    path.write_text(DECK.replace("sinh(x**2)", "atan(x**3)"))
    tex_runs.clear()
    second = build_deck(path, out, formats=("slides",))
    assert second.derived == (2,) and second.measured == (2,) and second.compiled == ("slides",)
    text = pdf_text(out / "deck.pdf")
    assert "atan" in text and "sinh" not in text
    results = cached_results(out)
    expected = {"Product": x**2 * sympy.sin(x), "Edited": sympy.atan(x**3), "Logarithm": sympy.log(x**2 + 1)}
    for title, function in expected.items():
        assert numerically_equal(sympy.diff(function, x), read_latex(results[title])), title
    # one measuring run of the one changed frame, one latexmk run for the slides
    assert len(tex_runs) == 2


@needs_tex
@pytest.mark.slow
def test_a_comment_or_whitespace_edit_runs_no_tex_and_derives_nothing(tmp_path, tex_runs, monkeypatch):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides", "handout"))
    pdf_before = (out / "deck.pdf").stat().st_mtime_ns
    # a comment, blank lines, other quoting and a key order of its own: the same parsed deck
    edited = "# lecture 3\n" + DECK.replace(
        "  - title: Edited\n    derive: sinh(x**2)\n", "\n  - derive: 'sinh(x**2)'   # why\n    title: \"Edited\"\n"
    )
    path.write_text(edited)
    tex_runs.clear()

    def no_derivation(*args):
        raise AssertionError("a frame was derived again")

    import derivgen.presentation.frames as frames_module

    monkeypatch.setattr(frames_module, "present_frame", no_derivation)
    result = build_deck(path, out, formats=("slides", "handout"))
    assert not result.skipped  # the file changed: the deck was loaded and looked at
    assert result.derived == () and result.measured == () and result.compiled == ()
    assert tex_runs == []
    assert (out / "deck.pdf").stat().st_mtime_ns == pdf_before  # not even rewritten


def test_deck_keys_that_shape_frames_derive_them_again(tmp_path):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides",), tex_only=True)
    # the notation of the logarithm: every frame's key holds the deck's notation
    path.write_text(DECK.replace("title: Incremental\n", "title: Incremental\nnotation:\n  log: ln\n"))
    result = build_deck(path, out, formats=("slides",), tex_only=True)
    assert result.derived == (1, 2, 3, 4)
    assert r"\ln" in (out / "deck.tex").read_text()
    path.write_text(DECK.replace("title: Incremental\n", "title: Incremental\nnotation:\n  log: ln\ndetail: full\n"))
    assert build_deck(path, out, formats=("slides",), tex_only=True).derived == (1, 2, 3, 4)
    # the title is only on the title page: no frame is derived for it
    path.write_text(
        DECK.replace("Incremental", "Renamed").replace(
            "title: Renamed\n", "title: Renamed\nnotation:\n  log: ln\ndetail: full\n"
        )
    )
    result = build_deck(path, out, formats=("slides",), tex_only=True)
    assert result.derived == ()
    assert "Renamed" in (out / "deck.tex").read_text()


def test_a_frame_added_before_others_renumbers_them_from_the_cache(tmp_path):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides",), tex_only=True)
    before = (out / "deck.tex").read_text()
    path.write_text(DECK.replace("frames:\n", "frames:\n  - kind: text\n    title: First\n    text: New.\n"))
    result = build_deck(path, out, formats=("slides",), tex_only=True)
    assert result.derived == (1,)
    tex = (out / "deck.tex").read_text()
    assert "%% derivgen-frame 5" in tex and "%% derivgen-frame 5" not in before
    # and the same .tex as a build without any cache
    fresh = build_deck(path, tmp_path / "fresh", formats=("slides",), tex_only=True)
    assert fresh.derived == (1, 2, 3, 4, 5)
    assert (tmp_path / "fresh" / "deck.tex").read_text() == tex


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all {",
        b"",
        b'{"format": 1, "version": "x", "frames": []}',
        b"[1, 2, 3]",
        b"\xff\xfe binary",
    ],
    ids=["garbage", "empty", "foreign version", "a list", "binary"],
)
def test_a_corrupt_or_foreign_cache_file_is_a_miss(tmp_path, content):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides",), tex_only=True)
    good = (out / "deck.tex").read_text()
    (out / CACHE_FOLDER / "deck.json").write_bytes(content)
    (out / "deck.tex").unlink()
    result = build_deck(path, out, formats=("slides",), tex_only=True)
    assert result.derived == (1, 2, 3, 4)
    assert (out / "deck.tex").read_text() == good


def test_a_cache_entry_that_does_not_decode_is_a_miss(tmp_path):
    """An entry naming a class that is not one of the cache's (or with the wrong fields) is never built."""
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides",), tex_only=True)
    cache_path = out / CACHE_FOLDER / "deck.json"
    cache = json.loads(cache_path.read_text())
    keys = sorted(cache["frames"])
    cache["frames"][keys[0]] = {"D": "Popen", "f": {"args": "touch PWNED"}}
    cache["frames"][keys[1]] = {"D": "PresentedFrame", "f": {"no_such_field": 1}}
    cache_path.write_text(json.dumps(cache))
    (out / "deck.tex").unlink()
    result = build_deck(path, out, formats=("slides",), tex_only=True)
    assert len(result.derived) == 2
    assert not list(tmp_path.rglob("PWNED"))


def test_a_cache_of_another_version_is_not_read(tmp_path, monkeypatch):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides",), tex_only=True)
    (out / "deck.tex").unlink()
    assert build_deck(path, out, formats=("slides",), tex_only=True).derived == ()
    monkeypatch.setattr(build_module, "__version__", "999.0")
    (out / "deck.tex").unlink()
    assert build_deck(path, out, formats=("slides",), tex_only=True).derived == (1, 2, 3, 4)
    # and the file now holds that version's entries only
    assert build_deck(path, out, formats=("slides",), tex_only=True, force=True).derived == (1, 2, 3, 4)


def test_force_derives_everything(tmp_path):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    build_deck(path, out, formats=("slides",), tex_only=True)
    assert build_deck(path, out, formats=("slides",), tex_only=True, force=True).derived == (1, 2, 3, 4)


@needs_tex
def test_measuring_some_frames_gives_their_sizes_as_measuring_all(tmp_path):
    """The measuring document of just the changed frames sets them as the whole deck's does."""
    from derivgen.input.spec import load_deck
    from derivgen.presentation.frames import present_deck

    deck, source = load_deck(write(tmp_path, DECK))
    frames = present_deck(deck, source)
    info, env = DeckInfo(title="T"), environment()
    everything = measure(frames, info, env, 120)
    alone = measure([frames[3]], info, env, 120)
    assert set(alone) == {4}
    assert alone[4] == everything[4]


def png(red: int) -> bytes:
    """A 1×1 PNG of the given red (written here: two logos that differ only in their pixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, 0, 0]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@needs_tex
@pytest.mark.slow
def test_a_logo_changed_in_place_is_compiled_again(tmp_path):
    """The .tex names logo.png and stays the same: the PDF is made from the logo's bytes too."""
    (tmp_path / "logo.png").write_bytes(png(10))
    path, out = write(tmp_path, DECK.replace("frames:\n", "logo: logo.png\nframes:\n")), tmp_path / "out"
    build_deck(path, out, formats=("slides",))
    tex = (out / "deck.tex").read_bytes()
    (tmp_path / "logo.png").write_bytes(png(250))
    result = build_deck(path, out, formats=("slides",))
    assert (out / "deck.tex").read_bytes() == tex
    assert result.derived == () and result.compiled == ("slides",)
    assert build_deck(path, out, formats=("slides",)).skipped


@needs_tex
@pytest.mark.slow
def test_the_kept_build_folder_makes_one_pass_where_the_aux_files_stay(tmp_path):
    out = tmp_path / "out"
    path = write(tmp_path, DECK)
    first = build_deck(path, out, formats=("slides",))
    assert first.passes["slides"] >= 2  # from a cold folder: the aux files are new
    path.write_text(DECK.replace("sinh(x**2)", "cosh(x**2)"))  # the same steps: the same pages
    second = build_deck(path, out, formats=("slides",))
    assert second.derived == (2,)
    assert second.passes == {"slides": 1}
    assert "cosh" in pdf_text(out / "deck.pdf")
    assert (out / BUILD_FOLDER / "deck" / "document.fdb_latexmk").is_file()


@needs_tex
@pytest.mark.slow
@pytest.mark.parametrize("bubblewrap", [True, False], ids=["bubblewrap", "guard only"])
def test_a_file_planted_in_the_kept_folder_is_not_readable_by_the_deck(tmp_path, monkeypatch, bubblewrap):
    if bubblewrap and compile_module.bubblewrap_problem() is not None:
        pytest.skip(f"bubblewrap {compile_module.bubblewrap_problem()}")
    if not bubblewrap:
        monkeypatch.setattr(compile_module, "use_bubblewrap", lambda: False)
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRETOUTSIDE")
    reader = (
        "title: TITLE\nframes:\n  - kind: text\n    title: Reader\n    latex: '"
        r"\IfFileExists{planted.tex}{\input{planted.tex}}{NOPLANT} \IfFileExists{link.tex}{\input{link.tex}}{NOLINK}"
        "'\n"
    )
    out = tmp_path / "out"
    path = write(tmp_path, reader.replace("TITLE", "One"))
    build_deck(path, out, formats=("slides",), trust_latex=True)
    folder = out / BUILD_FOLDER / "deck"
    assert folder.is_dir()
    (folder / "planted.tex").write_text("PLANTEDTEXT")
    (folder / "link.tex").symlink_to(secret)
    with (folder / "document.aux").open("a") as aux:
        aux.write("\\gdef\\derivgenplanted{AUXTEXT}\\AtBeginDocument{\\derivgenplanted}\n")
    path.write_text(reader.replace("TITLE", "Two"))  # a new .tex: TeX runs again
    build_deck(path, out, formats=("slides",), trust_latex=True)
    text = pdf_text(out / "deck.pdf")
    assert "NOPLANT" in text and "NOLINK" in text
    assert "PLANTEDTEXT" not in text and "SECRETOUTSIDE" not in text and "AUXTEXT" not in text
    assert not (folder / "planted.tex").exists() and not (folder / "link.tex").is_symlink()
    assert secret.read_text() == "SECRETOUTSIDE"  # the link was removed, not followed


@needs_tex
@pytest.mark.slow
def test_a_failed_tex_run_leaves_no_state_for_the_next_build(tmp_path):
    out = tmp_path / "out"
    good = "title: T\nframes:\n  - kind: text\n    title: W\n    latex: '{body}'\n"
    path = write(tmp_path, good.format(body="fine"))
    build_deck(path, out, formats=("slides",), trust_latex=True)
    path.write_text(good.format(body=r"\undefinedmacro"))
    with pytest.raises(BuildError):
        build_deck(path, out, formats=("slides",), trust_latex=True)
    assert not (out / BUILD_FOLDER / "deck").exists()
    assert "fine" in pdf_text(out / "deck.pdf")  # the last good PDF
    path.write_text(good.format(body="better"))
    result = build_deck(path, out, formats=("slides",), trust_latex=True)
    assert result.passes["slides"] >= 2  # cold again
    assert "better" in pdf_text(out / "deck.pdf")


def test_two_builds_of_one_deck_take_the_folder_in_turn(tmp_path):
    holding, order = threading.Event(), []

    def first():
        with kept_folder(tmp_path, "deck") as folder:
            (folder / "document.tex").write_text("one")
            holding.set()
            time.sleep(0.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with kept_folder(tmp_path, "deck") as folder:
        order.append("second in")
        assert (folder / "document.tex").read_text() == "one"  # what the first left, recorded and trusted
    thread.join()
    assert order == ["first done", "second in"]


def test_the_kept_folder_is_emptied_on_any_doubt(tmp_path):
    with kept_folder(tmp_path, "deck") as folder:
        (folder / "document.aux").write_text("aux")
    with kept_folder(tmp_path, "deck") as folder:
        assert (folder / "document.aux").read_text() == "aux"
        os.link(folder / "document.aux", tmp_path / "hard")  # a second name: not a plain file of ours
    with kept_folder(tmp_path, "deck") as folder:
        assert not any(folder.iterdir())
        (folder / "sub").mkdir()  # a folder TeX made: not recorded, the next build starts cold
    assert not (tmp_path / BUILD_FOLDER / "deck").exists()
    with kept_folder(tmp_path, "deck") as folder:
        assert not any(folder.iterdir())


def test_cli_build_reports_what_was_derived(tmp_path):
    path = write(tmp_path, DECK)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "derivgen", "build", str(path), "-o", str(out), "--format", "slides", "--tex-only"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    assert "derived all 4 frames" in first.stdout
    path.write_text(DECK.replace("sinh", "cosh"))
    second = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    assert "re-derived frame 2 of 4; 3 from cache" in second.stdout


# -- watch --------------------------------------------------------------------------------------------


# `python -m derivgen`, with Ctrl-C as in a terminal: a test run started in the background (scripts/test.sh runs
# its shards so) inherits SIGINT ignored, and derivgen rightly leaves an ignored SIGINT ignored
AS_FROM_A_TERMINAL = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'derivgen'; runpy.run_module('derivgen', run_name='__main__', alter_sys=True)"
)


class Watcher:
    """``derivgen watch`` as a subprocess, its output read line by line as it comes."""

    def __init__(self, path: Path, out: Path, *options: str):
        command = [sys.executable, "-c", AS_FROM_A_TERMINAL, "watch", str(path), "-o", str(out), "--format", "slides"]
        environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, count: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.lines) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {text!r} (x{count}) in the output of watch:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def save(path: Path, text: str) -> None:
    """Save as editors do: a new file renamed over the old one (never a half-written deck)."""
    partial = path.with_name(path.name + ".new")
    partial.write_text(text)
    os.replace(partial, path)


def _watch_session(tmp_path: Path, tex_only: bool) -> None:
    path, out = write(tmp_path, DECK), tmp_path / "out"
    watcher = Watcher(path, out, *(["--tex-only"] if tex_only else []))
    made = out / ("deck.tex" if tex_only else "deck.pdf")
    try:
        watcher.wait_for("watching")
        assert "derived all 4 frames" in "\n".join(watcher.lines)
        first = made.read_bytes()
        save(path, DECK.replace("sinh(x**2)", "atan(x**3)"))
        watcher.wait_for("built in", count=2)
        assert any("re-derived frame 2 of 4; 3 from cache" in line for line in watcher.lines)
        rebuilt = made.read_bytes()
        assert rebuilt != first
        text = (out / "deck.tex").read_text() if tex_only else pdf_text(made)
        assert ("atan" in text or "arctan" in text) and "sinh" not in text
        errors = sum("derivgen: error:" in line for line in watcher.lines)
        save(path, DECK.replace("sinh(x**2)", "sinh(x**2"))  # broken
        watcher.wait_for("derivgen: error:", count=errors + 1)
        error = [line for line in watcher.lines if "derivgen: error:" in line][-1]
        assert "deck.yaml" in error and "Traceback" not in "\n".join(watcher.lines)
        assert made.read_bytes() == rebuilt  # the last good file is kept
        save(path, DECK)  # fixed again: watching went on
        watcher.wait_for("built in", count=3)
        assert watcher.stop() == 0
    finally:
        watcher.kill()
    assert "stopped watching" in watcher.lines[-1]
    assert "Traceback" not in "\n".join(watcher.lines)


def test_watch_rebuilds_on_save_and_keeps_the_last_good_output(tmp_path):
    _watch_session(tmp_path, tex_only=True)


@needs_tex
@pytest.mark.slow
def test_watch_with_real_pdfs(tmp_path):
    _watch_session(tmp_path, tex_only=False)


def test_watch_refuses_an_exercise_file(tmp_path):
    sheet = ROOT / "examples" / "exercise_sheet.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "derivgen", "watch", str(sheet), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 2 and "watch is for decks" in done.stderr
