"""Output files: their modes, no temporary file left by any failure, any deck file name."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

import derivgen.documents.build as build_module
from derivgen.documents.build import BuildError, build_deck, build_sheet

DECK = "title: T\nframes:\n  - title: One\n    derive: x**2\n"
SHEET = "title: T\nexercises:\n  - derive: x**a\n    parameters:\n      a: {integer: [2, 9]}\n"


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_are_0644_under_umask_022(tmp_path, umask_022):
    out = tmp_path / "out"
    path = tmp_path / "deck.yaml"
    path.write_text(DECK)
    build_deck(path, out, tex_only=True)
    sheet = tmp_path / "sheet.yaml"
    sheet.write_text(SHEET)
    build_sheet(sheet, out, variants=2, tex_only=True)
    written = [p for p in out.iterdir() if p.is_file()]
    assert len(written) > 8
    assert {p.name: mode(p) for p in written} == {p.name: 0o644 for p in written}


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        build_module._write_all(tmp_path, {tmp_path / "a.tex": b"x"})
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.tex") == 0o640


def test_a_replaced_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "a.tex"
    target.write_bytes(b"old")
    target.chmod(0o664)
    build_module._write_all(tmp_path, {target: b"new", tmp_path / "b.tex": b"new"})
    assert target.read_bytes() == b"new" and mode(target) == 0o664
    assert mode(tmp_path / "b.tex") == 0o644


def test_a_full_disk_leaves_no_part_file_and_no_half_output(tmp_path, monkeypatch):
    (tmp_path / "a.tex").write_bytes(b"old a")
    real = build_module._write_bytes
    calls = []

    def full_disk(handle, content):
        calls.append(content)
        if len(calls) == 2:  # the first file is staged, the second one hits the full disk
            os.write(handle, content[:3])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(handle, content)

    monkeypatch.setattr(build_module, "_write_bytes", full_disk)
    files = {tmp_path / "a.tex": b"new a", tmp_path / "b.tex": b"new b", tmp_path / "c.tex": b"new c"}
    with pytest.raises(BuildError) as caught:
        build_module._write_all(tmp_path, files)
    message = caught.value.one_line()
    assert "No space left on device" in message and str(tmp_path) in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tex"]  # no .part, nothing new
    assert (tmp_path / "a.tex").read_bytes() == b"old a"


def test_a_failed_rename_leaves_no_part_file(tmp_path, monkeypatch):
    real = os.replace
    done = []

    def failing(source, target):
        if done:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        done.append(target)
        real(source, target)

    monkeypatch.setattr(build_module.os, "replace", failing)
    with pytest.raises(BuildError):
        build_module._write_all(tmp_path, {tmp_path / "a.tex": b"a", tmp_path / "b.tex": b"b"})
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_an_interrupted_build_leaves_no_part_file(tmp_path, monkeypatch):
    def interrupted(handle, content):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "_write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_module._write_all(tmp_path, {tmp_path / "a.tex": b"a"})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["-deck", ".hidden", "a%b", "a b", "ü#1"])
def test_any_deck_file_name_builds(tmp_path, name, monkeypatch):
    """Past derivgen's own layer: the .tex files are named after the deck, and TeX gets a job name it can
    take (a leading '-' is an option to latexmk, a leading '.' a file openout_any=p refuses, '%' a comment)."""
    jobs = []

    def fake_compile(tex, job, timeout, files=None, **options):  # options: the kept build folder
        jobs.append(job)
        return _Fake()

    monkeypatch.setattr(build_module, "compile_tex", fake_compile)
    path = tmp_path / f"{name}.yaml"
    path.write_text(DECK)
    out = tmp_path / "out"
    build_deck(path, out, formats=("slides",))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".derivgen")) == [f"{name}.pdf", f"{name}.tex"]
    assert all(build_module._JOB_NAME.fullmatch(job) for job in jobs), jobs


class _Fake:
    pdf = b"%PDF-1.5 fake"
    passes = 1


@pytest.mark.slow
def test_a_deck_named_against_every_tex_hazard_compiles(tmp_path):
    """One real build: a leading '.' (openout_any=p refuses dot files), then '-' (an option to latexmk), '%'."""
    from .test_build import pages

    path = tmp_path / ".-a%b.yaml"
    path.write_text(DECK)
    out = tmp_path / "out"
    build_deck(path, out, formats=("slides",))
    assert pages(out / ".-a%b.pdf") >= 1
