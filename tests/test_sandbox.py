r"""TeX in its sandbox (issue 14): no file and no environment variable leaves the machine through a PDF.

Each layer is tested on its own where it can be: the allow-list refuses hostile raw LaTeX at load
(file:line:column); with ``--trust-latex`` the PDF is built, and checked by extracting its attachments
(``pdfdetach``) and inflating every stream, with bubblewrap and without it (the primitive guard alone);
TeX's environment holds no secret of derivgen's; TERM and KILL leave no TeX and no folder; any deck
file name builds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

import derivgen.documents.compile as compile_module
from derivgen.documents.build import BuildError, build_deck
from derivgen.documents.build_folder import kept_folder
from derivgen.documents.compile import TexError, compile_tex, remove_stale_folders, tex_environment
from derivgen.documents.tex_format import FOLDER, MARKER
from derivgen.input.mathtext import MathTextError, check_raw_latex
from derivgen.input.spec import SpecError, load_deck

ROOT = Path(__file__).resolve().parent.parent
SECRET_VALUE = "d3rivg3n-3nv-s3cr3t"
PASSWD_LINES = [line for line in Path("/etc/passwd").read_text().splitlines() if line.strip()]
BUBBLEWRAP = compile_module.bubblewrap_problem() is None
needs_tex = pytest.mark.skipif(bool(compile_module.tex_tools_missing()), reason="TeX Live is not installed")

# the attachment leak of the issue: the file becomes an embedded file that pdfdetach extracts
ATTACH = (
    r"\immediate\pdfobj stream attr {/Type /EmbeddedFile} file {FILE}"
    r"\pdfannot width 2cm height 1cm {/Subtype /FileAttachment /FS << /Type /Filespec /F (leak.txt)"
    r" /EF << /F \the\pdflastobj\space 0 R >> >>}"
)
LEAKS = {
    "attachment": ATTACH,
    "pdfprimitive": r"\immediate\pdfprimitive\pdfobj stream file {FILE}\pdfrefobj\pdflastobj",
    "primitive": r"\immediate\primitive\pdfobj stream file {FILE}\pdfrefobj\pdflastobj",
    "expl3 names": r"\ExplSyntaxOn \tex_immediate:D \tex_pdfobj:D stream~ file~ {FILE}"
    r" \tex_pdfrefobj:D \tex_pdflastobj:D \ExplSyntaxOff",
    "keyword from a macro": r"\def\F{fi}\immediate\pdfobj stream \F le {FILE}\pdfrefobj\pdflastobj",
    "pdfximage": r"\pdfximage {FILE}\pdfrefximage\pdflastximage",
    "file dump": r"\edef\x{\pdffiledump length 4000 {FILE}}\x",
    "md5 of a file": r"\edef\x{\pdfmdfivesum file {FILE}}\x",
}


def inflated(pdf: bytes) -> bytes:
    """The PDF with every deflated stream inflated (an embedded file is one of them)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def assert_nothing_leaked(pdf: bytes, folder: Path) -> None:
    """No line of /etc/passwd and no secret of the environment, in any stream or attachment."""
    pdf_path = folder / "checked.pdf"
    pdf_path.write_bytes(pdf)
    attachments = folder / "attachments"
    attachments.mkdir(exist_ok=True)
    if shutil.which("pdfdetach"):
        command = ["pdfdetach", "-saveall", "-o", str(attachments), str(pdf_path)]
        subprocess.run(command, capture_output=True, check=False)
    contents = [inflated(pdf), *(path.read_bytes() for path in attachments.iterdir())]
    for content in contents:
        assert SECRET_VALUE.encode() not in content
        for line in PASSWD_LINES:
            assert line.encode() not in content, f"a line of /etc/passwd is in the PDF: {line}"


@pytest.fixture(autouse=True)
def secret_in_environment(monkeypatch):
    monkeypatch.setenv("DERIVGEN_TEST_SECRET", SECRET_VALUE)


@pytest.fixture(params=["bubblewrap", "guard only"])
def sandbox(request, monkeypatch):
    """Each leak with bubblewrap (where it works here) and without it: the primitive guard alone."""
    if request.param == "bubblewrap" and not BUBBLEWRAP:
        pytest.skip(f"bubblewrap {compile_module.bubblewrap_problem()}")
    if request.param == "guard only":
        monkeypatch.setattr(compile_module, "use_bubblewrap", lambda: False)
    return request.param


# -- layer 1: the allow-list ---------------------------------------------------------------------------

ALLOWED_TEXT = [
    r"\textbf{Bold} and \emph{stressed}, $x^2 + \frac{1}{2}$ and \(a\) and \[ \sum_i x_i \]",
    r"\begin{itemize}\item one \item[b)] two\end{itemize}\par 50\,\% of \$3",
    r"\begin{align*} f(x) &= x^2 \\ f'(x) &= 2x \end{align*}",
    r"\begin{tabular}{l|c} a & b \\ \end{tabular} \begin{center}\alert{note}\end{center}",
]
REFUSED_TEXT = {
    r"ok \input{/etc/passwd}": 3,
    r"\immediate\pdfobj stream file {/etc/passwd}": 0,
    r"\csname input\endcsname": 0,
    r"a ^^5cinput": 2,
    r"\catcode`\|=0": 0,
    r"\begin{verbatim}x\end{verbatim}": 0,
    r"\begin{tabular}{@{\input x}l}\end{tabular}": 15,
    r"\end{frame}": 0,
    r"a % comment": 2,
    r"\def\x{1}": 0,
    r"$\text{\input x}$": 7,
    r"\textbf{open": 7,
}


@pytest.mark.parametrize("latex", ALLOWED_TEXT)
def test_text_mode_allow_list_passes_ordinary_latex(latex):
    check_raw_latex(latex, math=False)


@pytest.mark.parametrize(("latex", "column"), REFUSED_TEXT.items(), ids=range(len(REFUSED_TEXT)))
def test_text_mode_allow_list_refuses_and_points_at_the_culprit(latex, column):
    with pytest.raises(MathTextError) as caught:
        check_raw_latex(latex, math=False)
    assert caught.value.offset == column, caught.value.message


def test_formulas_of_the_seed_deck_pass_and_a_file_read_does_not():
    load_deck(ROOT / "examples" / "dnn_supplementary.yaml")  # \begin{bmatrix}, \text{…}, cases, &, \\
    check_raw_latex(r"\delta_{ij} = \begin{cases} 1 & \text{if } i = j \\ 0 & \text{else} \end{cases}", math=True)
    with pytest.raises(MathTextError):
        check_raw_latex(r"x \pdfximage{/etc/passwd}", math=True)
    with pytest.raises(MathTextError):
        check_raw_latex(r"\begin{itemize}\end{itemize}", math=True)  # a text environment in maths


def deck_file(tmp_path: Path, frame: str, name: str = "deck.yaml") -> Path:
    path = tmp_path / name
    path.write_text("title: T\nframes:\n" + frame)
    return path


def test_leak_decks_are_refused_at_load_with_file_line_and_column(tmp_path):
    latex = deck_file(tmp_path, "  - kind: text\n    title: A\n    latex: 'see \\pdfobj stream file {/etc/passwd}'\n")
    with pytest.raises(SpecError) as caught:
        load_deck(latex)
    assert caught.value.one_line().startswith(f"{latex}:5:17: frames[0].latex: \\pdfobj is not allowed")
    formulas = "  - title: B\n    formulas:\n      - 'x = 1'\n      - 'y \\pdffiledump{/etc/passwd}'\n"
    formula = deck_file(tmp_path, formulas)
    with pytest.raises(SpecError) as caught:
        load_deck(formula)
    assert caught.value.one_line().startswith(f"{formula}:6:")
    assert "frames[0].formulas[1]: \\pdffiledump is not allowed" in caught.value.one_line()
    load_deck(latex, trust_latex=True)  # the lecturer's own file: checked by TeX's layers only


# -- layers 2-4: what TeX does with trusted LaTeX ------------------------------------------------------


def body_source(body: str, preamble: str = "", dump: bool = False) -> str:
    """``dump``: with the marker where a precompiled preamble ends (after the class)."""
    marker = f"\n{MARKER}\n" if dump else "\n"
    return f"\\documentclass{{article}}{marker}{preamble}\n\\begin{{document}}\n{body}\nafter\n\\end{{document}}\n"


def compile_body(body: str, preamble: str = "", formats: Path | None = None) -> bytes | str:
    """``formats``: run from the precompiled preamble kept there."""
    source = body_source(body, preamble, dump=formats is not None)
    try:
        return compile_tex(source, timeout=30, formats=formats).pdf
    except TexError as error:
        return error.one_line()


@pytest.fixture(scope="module")
def formats_folder(tmp_path_factory) -> Path:
    """An output folder holding the format of :func:`compile_body`'s preamble, which the tests load."""
    folder = tmp_path_factory.mktemp("formats")
    with kept_folder(folder, "document") as kept:  # as a build compiles into its output folder
        compile_tex(body_source("harmless", dump=True), timeout=60, folder=kept, formats=folder)
    assert len(list((folder / FOLDER).glob("*.fmt"))) == 1
    return folder


# every leak against /etc/passwd; one of each kind (pdfTeX's name, expl3's) is enough for /proc
_TARGETS = [(name, leak, "/etc/passwd") for name, leak in LEAKS.items()] + [
    (name, LEAKS[name], "/proc/self/environ") for name in LEAKS if LEAKS[name] in (ATTACH, LEAKS["expl3 names"])
]


@needs_tex
@pytest.mark.parametrize(("leak", "target"), [case[1:] for case in _TARGETS], ids=[f"{n}-{t}" for n, _, t in _TARGETS])
@pytest.mark.parametrize("precompiled", [False, True], ids=["preamble read", "preamble precompiled"])
def test_trusted_latex_cannot_put_a_file_into_the_pdf(tmp_path, sandbox, leak, target, precompiled, formats_folder):
    """Also from a precompiled preamble: the guard's hook is in the dump and acts as in a plain run."""
    result = compile_body(leak.replace("FILE", target), formats=formats_folder if precompiled else None)
    if isinstance(result, str):  # refused: by the guard (Derivgen…) or, in the sandbox, "not found"
        assert SECRET_VALUE not in result and not any(line in result for line in PASSWD_LINES)
    else:
        assert_nothing_leaked(result, tmp_path)


@needs_tex
def test_a_leak_in_a_deck_built_with_trust_latex(tmp_path):
    """The issue's deck, end to end: refused with a clear error, or a PDF carrying nothing."""
    frame = f"  - kind: text\n    title: Leak\n    latex: '{ATTACH.replace('FILE', '/etc/passwd')}'\n"
    path = deck_file(tmp_path, frame)
    try:
        build_deck(path, tmp_path / "out", formats=("notes",), trust_latex=True)
    except BuildError as error:
        assert "frame 1 ('Leak')" in error.one_line() and "root:" not in error.one_line()
    else:
        assert_nothing_leaked((tmp_path / "out" / "deck-notes.pdf").read_bytes(), tmp_path)


@needs_tex
def test_a_user_template_cannot_leak_either(tmp_path, sandbox):
    templates = tmp_path / "templates" / "article"
    templates.mkdir(parents=True)
    leak = ATTACH.replace("FILE", "/etc/passwd")
    (templates / "text.tex.j2").write_text("\\section*{\\VAR{frame.title}}\n" + leak + "\n")
    path = deck_file(tmp_path, "  - kind: text\n    title: Plain\n    text: hello\n")
    try:
        build_deck(path, tmp_path / "out", formats=("notes",), templates=tmp_path / "templates")
    except BuildError as error:
        assert "root:" not in error.one_line()
    else:
        assert_nothing_leaked((tmp_path / "out" / "deck-notes.pdf").read_bytes(), tmp_path)


@needs_tex
@pytest.mark.skipif(not BUBBLEWRAP, reason="only bubblewrap hides files from a template's preamble")
def test_in_the_sandbox_even_the_preamble_sees_no_file_and_no_secret(tmp_path):
    """Before \\begin{document} the guard is not yet on: there, only bubblewrap and the minimal
    environment stand (README, Threat model)."""
    preamble = ATTACH.replace("FILE", "/proc/self/environ").replace(r"\pdfannot", r"\pdfrefobj\pdflastobj%")
    result = compile_body("x", preamble=preamble)
    assert isinstance(result, bytes)
    assert b"HOME=" in inflated(result)  # the environment was read: TeX's own, minimal one
    assert_nothing_leaked(result, tmp_path)
    message = compile_body("x", preamble=r"\immediate\pdfobj stream file {/etc/passwd}\pdfrefobj\pdflastobj")
    assert isinstance(message, str) and "not found" in message


def test_tex_gets_a_minimal_environment(tmp_path):
    environment = tex_environment(tmp_path)
    assert set(environment) <= {
        "PATH",
        "HOME",
        "TEXMFHOME",
        "TEXMFVAR",
        "TEXMFCONFIG",
        "TEXMFOUTPUT",
        "openin_any",
        "openout_any",
        "shell_escape",
        "max_print_line",
        "SOURCE_DATE_EPOCH",
        "FORCE_SOURCE_DATE",
    }
    assert environment["HOME"] == str(tmp_path) and environment["openin_any"] == "p"
    assert SECRET_VALUE not in repr(environment)


@needs_tex
def test_logo_pictures_and_shadings_still_work_under_the_guard(tmp_path):
    logo = _tiny_png()
    source = (
        "\\documentclass{beamer}\\usepackage{pgfplots}\\pgfplotsset{compat=1.18}\n"
        "\\logo{\\includegraphics[height=0.7cm]{logo.png}}\n\\begin{document}\n\\begin{frame}{A}\n"
        "\\includegraphics[width=1cm, interpolate]{./logo.png}\n"
        "\\begin{tikzpicture}\\shade[left color=red, right color=blue, opacity=0.5] (0,0) rectangle (1,1);"
        "\\end{tikzpicture}\n\\begin{tikzpicture}\\begin{axis}\\addplot{x^2};\\end{axis}\\end{tikzpicture}\n"
        "\\end{frame}\n\\end{document}\n"
    )
    pdf = compile_tex(source, files={"logo.png": logo}, timeout=60).pdf
    assert pdf.count(b"/Subtype /Image") >= 1 or b"/Image" in inflated(pdf)


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (2).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# -- TeX ends with derivgen; no folder is left ---------------------------------------------------------


def tex_processes_in(folder: Path) -> list[int]:
    """Processes working in ``folder`` (latexmk, pdflatex, bwrap's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd").startswith(str(folder)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


LOOPING_BUILD = ("--format", "notes", "--trust-latex", "--timeout", "300")


def start_looping_build(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    deck = deck_file(tmp_path, "  - kind: text\n    title: Loop\n    latex: '\\loop\\iftrue\\repeat'\n")
    environment = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "derivgen", "build", str(deck), "-o", str(tmp_path / "out"), *LOOPING_BUILD],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not any(path.name.startswith("derivgen-tex-") for path in temp.iterdir()) or not tex_processes_in(temp):
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "TeX did not start"
        time.sleep(0.2)
    time.sleep(1)  # pdflatex is looping by now
    return process, temp


@needs_tex
@pytest.mark.slow
def test_term_leaves_no_tex_and_no_folder(tmp_path):
    process, temp = start_looping_build(tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) != 0
    time.sleep(0.5)
    assert tex_processes_in(temp) == []
    assert list(temp.iterdir()) == []


@needs_tex
@pytest.mark.slow
def test_kill_leaves_no_tex_and_the_next_run_removes_the_folder(tmp_path):
    process, temp = start_looping_build(tmp_path)
    process.kill()
    process.wait(timeout=20)
    deadline = time.monotonic() + 10
    while tex_processes_in(temp) and time.monotonic() < deadline:
        time.sleep(0.2)
    # without bubblewrap pdflatex may outlive latexmk: the next run ends it with its folder (below)
    folders = [path for path in temp.iterdir() if path.name.startswith("derivgen-tex-")]
    assert folders, "a KILL leaves its folder (nothing can remove it then)"
    assert remove_stale_folders(str(temp)) == []  # younger than a minute: it could still be in use
    for folder in folders:
        os.utime(folder, (time.time() - 120, time.time() - 120))
    assert sorted(remove_stale_folders(str(temp))) == sorted(folders)
    assert tex_processes_in(temp) == [] and list(temp.iterdir()) == []


def test_a_folder_whose_owner_lives_is_kept(tmp_path):
    folder = tmp_path / "derivgen-tex-live"
    folder.mkdir()
    (folder / compile_module.OWNER_FILE).write_text(f"{os.getpid()}\n")
    unowned = tmp_path / "derivgen-tex-unknown"  # no PID recorded: not known to be derivgen's
    unowned.mkdir()
    for path in (folder, unowned):
        os.utime(path, (time.time() - 120, time.time() - 120))
    assert remove_stale_folders(str(tmp_path)) == []
    assert folder.exists() and unowned.exists()


# -- the job name --------------------------------------------------------------------------------------


@needs_tex
@pytest.mark.parametrize("name", ["-deck.yaml", ".hidden.yaml", "a%b.yaml"])
def test_odd_deck_names_build(tmp_path, name):
    path = deck_file(tmp_path, "  - {title: A, text: hello}\n", name)
    build_deck(path, tmp_path / "out", formats=("notes",))
    assert (tmp_path / "out" / f"{Path(name).stem}-notes.pdf").read_bytes().startswith(b"%PDF")


def test_without_bubblewrap_the_build_says_so_once(monkeypatch, capsys):
    monkeypatch.setattr(compile_module, "bubblewrap_problem", lambda: "is not installed")
    monkeypatch.setattr(compile_module, "_warned", False)
    assert not compile_module.use_bubblewrap() and not compile_module.use_bubblewrap()
    err = capsys.readouterr().err
    assert err.count("warning: bubblewrap (bwrap) is not installed: TeX runs without the sandbox") == 1
