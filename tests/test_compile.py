"""compile.py: TeX cannot reach outside its build folder — checked where TeX really runs.

compile_tex makes its build folder with ``tempfile`` (under ``tempfile.gettempdir()``), not in the
test's folder.  These tests point that parent at a folder they own, watch that TeX ran in a build
folder inside it, and then look for anything written outside the build folder (its parent, the
test's folder, absolute paths) or anything run by ``\\write18``, and for a planted secret in the
PDF (every stream inflated) or in the error message.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import derivgen.documents.compile as compile_module
from derivgen.documents.compile import TexError, compile_tex

DOCUMENT = "\\documentclass{article}\n\\begin{document}\n%s\nafter\n\\end{document}\n"
SECRET = "s3cr3t-d3rivg3n-t0k3n"


@dataclass
class Watch:
    """The folder TeX's build folder is made in, and what each TeX run left in its build folder."""

    root: Path  # the test's folder: nothing may appear anywhere in it
    parent: Path  # tempfile's directory: holds the build folder while TeX runs
    secret: Path  # a file outside the build folder, in the parent
    runs: list[tuple[Path, list[str]]] = field(default_factory=list)


@pytest.fixture
def watch(tmp_path, monkeypatch) -> Watch:
    parent = tmp_path / "tmp"
    parent.mkdir()
    secret = parent / "secret.tex"  # .tex: \include and \input find it by its stem too
    secret.write_text(SECRET + "\n")
    monkeypatch.setattr(tempfile, "tempdir", str(parent))  # what gettempdir() returns, TMPDIR or not
    seen = Watch(tmp_path, parent, secret)
    run = compile_module._run

    def recording_run(command, folder, *more):  # more: environment, timeout, where latexmk's report goes
        try:
            return run(command, folder, *more)
        finally:
            seen.runs.append((Path(folder), sorted(path.name for path in Path(folder).rglob("*"))))

    monkeypatch.setattr(compile_module, "_run", recording_run)
    return seen


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def pdf_bytes_inflated(pdf: bytes) -> bytes:
    """The PDF with every compressed stream inflated: a file embedded as a stream is readable here."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        with contextlib.suppress(zlib.error):  # not every stream is deflated
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
    return b"\n".join(parts)


def compile_watched(watch: Watch, body: str) -> tuple[bytes, str]:
    """Compile ``body`` in a document; the PDF (inflated) and the error message, if TeX refused."""
    try:
        pdf, message = pdf_bytes_inflated(compile_tex(DOCUMENT % body, "hostile", timeout=30).pdf), ""
    except TexError as error:
        pdf, message = b"", error.one_line()
    assert len(watch.runs) == 1, "TeX did not run (or ran more than once) through compile._run"
    build, _ = watch.runs[0]
    assert build.parent == watch.parent, f"TeX ran in {build}, outside the folder this test watches"
    return pdf, message


def test_a_plain_document_compiles_in_the_watched_folder_and_leaves_nothing(watch):
    before = files_under(watch.root)
    pdf, message = compile_watched(watch, "hello")
    assert message == "" and pdf.startswith(b"%PDF")
    assert "document.pdf" in watch.runs[0][1]  # the fixed job name  # the build folder held TeX's output while it ran
    assert files_under(watch.root) == before  # and was removed afterwards


def _targets(watch: Watch) -> dict[str, Path]:
    return {
        "ABS": watch.root / "absolute-escape.txt",
        "ABSDIR": watch.root / "elsewhere" / "absolute-escape.txt",
    }


# \write (file) and \write18 (shell) attempts; ABS/ABSDIR become absolute paths outside the build folder
WRITES = {
    "relative parent": r"\newwrite\w \immediate\openout\w=../escaped.txt \immediate\write\w{x} \immediate\closeout\w",
    "relative grandparent": r"\newwrite\w \immediate\openout\w=../../escaped.tex \immediate\write\w{x}"
    r" \immediate\closeout\w",
    "absolute": r"\newwrite\w \immediate\openout\w=ABS \immediate\write\w{x} \immediate\closeout\w",
    "absolute, new folder": r"\newwrite\w \immediate\openout\w=ABSDIR \immediate\write\w{x} \immediate\closeout\w",
    "shell, immediate": r"\immediate\write18{touch PWNED; touch ../PWNED; touch ABS}",
    "shell, at shipout": r"\write18{touch PWNED; touch ../PWNED; touch ABS} text",
    "shell, through a catcode trick": r"\catcode`\|=0 |immediate|write18{touch PWNED; touch ../PWNED}",
    "shell, pipe in openout": r'\newwrite\w \immediate\openout\w="|touch ../PWNED" \immediate\closeout\w',
}


@pytest.mark.parametrize("latex", WRITES.values(), ids=WRITES.keys())
def test_tex_writes_nothing_outside_its_build_folder(watch, latex):
    targets = _targets(watch)
    for key, path in targets.items():
        latex = latex.replace(key, str(path))
    before = files_under(watch.root)
    compile_watched(watch, latex)
    assert files_under(watch.root) == before  # parent, test folder: nothing new anywhere
    assert not any(path.exists() for path in targets.values())
    _, left_in_build = watch.runs[0]
    assert "PWNED" not in left_in_build  # a command run inside the build folder counts too
    assert not Path("PWNED").exists() and not Path("escaped.txt").exists()


# read attempts: SECRET names the planted file by its absolute path, STEM without ".tex"
READS = {
    "input, absolute": r"\input{SECRET}",
    "input, relative": r"\input{../secret.tex}",
    "include": r"\include{STEM}",  # refused twice: its .aux write and its read
    "csname input": r"\csname input\endcsname{SECRET}",
    "^^5c input": r"^^5cinput{SECRET}",
    "catcode input": r"\catcode`\|=0 |input{SECRET}",
    "openin and read": r"\newread\r \openin\r=SECRET \read\r to\x \x",
    "@@input": r"\makeatletter\@@input SECRET \makeatother",
    # pdfTeX reads these files whatever openin_any says (DESIGN.md, "Security and failure")
    "pdfobj stream file": r"\immediate\pdfobj stream file {SECRET}\pdfrefobj\pdflastobj",
}


@pytest.mark.parametrize("latex", READS.values(), ids=READS.keys())
def test_tex_reads_nothing_outside_its_build_folder(watch, latex):
    latex = latex.replace("SECRET", str(watch.secret)).replace("STEM", str(watch.secret.with_suffix("")))
    pdf, message = compile_watched(watch, latex)
    assert SECRET.encode() not in pdf
    assert SECRET not in message
