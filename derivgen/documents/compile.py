"""LaTeX source → PDF with latexmk, safely.

TeX runs in a temporary build folder with shell escape off, file access restricted to that
folder (``openin_any=p``, ``openout_any=p``: no absolute paths, no parent folders), stdin closed
and a time limit (``\\def\\x{\\x}\\x`` loops forever).  A failure is reported as the first TeX
error and its line, not as a log dump.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import DerivgenError

DEFAULT_TIMEOUT = 120.0
# "./deck.tex:12: msg" (the generated source), "/usr/share/…/fontspec.sty:45: msg" (a package's file)
_FILE_LINE_ERROR = re.compile(r"^((?:\./)?[^:\n]*\.(?:tex|sty|cls|def|cfg|fd|clo|ldf)):(\d+): (.*)$", re.MULTILINE)
# "! msg", and pdfTeX's own "!pdfTeX error: pdflatex: cannot find image file x.png" (no space after "!")
_BANG_ERROR = re.compile(r"^!(?: |pdfTeX error: ?(?:pdf(?:la)?tex(?:\.\w+)?: )?)(.*)$", re.MULTILINE)
_EXTRA_FILE = re.compile(r"[a-z][a-z0-9-]{0,30}\.(?:png|jpe?g|pdf)")
_CONTEXT_LINE = re.compile(r"^(?:l\.(\d+)|<argument>|<recently read>|<to be read again>) ?(.*)$", re.MULTILINE)


class TexError(DerivgenError):
    """TeX failed on a generated source; ``line`` is the line of the ``.tex`` it names."""

    def __init__(self, message: str, line: int | None = None, context: str = ""):
        super().__init__(message)
        self.line = line
        self.context = context


@dataclass(frozen=True)
class CompileResult:
    pdf: bytes
    log: str


def tex_tools_missing() -> list[str]:
    """Programs the build needs that are not installed."""
    return [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]


def compile_tex(
    source: str,
    name: str = "document",
    timeout: float = DEFAULT_TIMEOUT,
    files: Mapping[str, bytes] | None = None,
    single_pass: bool = False,
) -> CompileResult:
    """Compile a LaTeX source; returns the PDF bytes and the log.  Raises :class:`TexError`.

    ``files`` are put into the build folder beside the source (e.g. ``{"logo.png": …}``): with
    ``openin_any=p`` TeX can read nothing else, so an image the document shows must come this way.
    The caller passes bytes, not paths, so what is compiled is exactly what it fingerprinted.
    ``single_pass``: one pdflatex run (a document that only writes to its log needs no second).
    """
    extra = dict(files or {})
    for file_name in extra:
        # a fixed, plain name: no folders, and never the source or what latexmk writes beside it
        if not _EXTRA_FILE.fullmatch(file_name) or file_name.startswith(f"{name}."):
            raise ValueError(f"not a plain file name for the build folder: {file_name!r}")
    missing = tex_tools_missing()
    if missing:
        raise TexError(f"{', '.join(missing)} not found: install TeX Live (bash scripts/setup.sh --tex does it)")
    with tempfile.TemporaryDirectory(prefix="derivgen-tex-") as folder:
        build = Path(folder)
        for file_name, content in extra.items():
            (build / file_name).write_bytes(content)
        (build / f"{name}.tex").write_text(source, encoding="utf-8")
        command = [
            "latexmk",
            "-norc",
            "-pdf",
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-file-line-error",
            "-no-shell-escape",
            f"-outdir={build}",
            *(["-e", "$max_repeat = 1"] if single_pass else []),
            f"{name}.tex",
        ]
        environment = {
            **os.environ,
            "openin_any": "p",
            "openout_any": "p",
            "shell_escape": "f",
            "max_print_line": "10000",
            "TEXMFOUTPUT": str(build),
        }
        if "SOURCE_DATE_EPOCH" in os.environ:  # reproducible PDFs: dates and ID from the given time
            environment["FORCE_SOURCE_DATE"] = "1"
        _run(command, build, environment, timeout)
        log_path = build / f"{name}.log"
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        pdf_path = build / f"{name}.pdf"
        if not pdf_path.exists() or _first_error(log) is not None:
            raise _error_from_log(log)
        return CompileResult(pdf_path.read_bytes(), log)


def _run(command: list[str], folder: Path, environment: dict[str, str], timeout: float) -> None:
    process = subprocess.Popen(
        command,
        cwd=folder,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a time-out ends pdflatex too
    )
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise TexError(
            f"TeX did not finish within {timeout:g} s and was stopped (an endless macro loop in raw LaTeX?)"
        ) from None


def _first_error(log: str) -> tuple[int | None, str] | None:
    match = _FILE_LINE_ERROR.search(log)
    bang = _BANG_ERROR.search(log)
    if match and (bang is None or match.start() <= bang.start()):
        path, at, message = match.group(1), int(match.group(2)), match.group(3).strip()
        if not path.startswith("/") and path.endswith(".tex"):  # the generated source, in the build folder
            return at, message
        return None, f"{message} (in {Path(path).name}, line {at})"  # a package's file: its line is not ours
    if bang:
        line = _CONTEXT_LINE.search(log, bang.end())
        number = int(line.group(1)) if line and line.group(1) else None
        message = bang.group(1).strip()
        return number, f"pdfTeX error: {message}" if bang.group(0).startswith("!pdfTeX") else message
    return None


def _error_from_log(log: str) -> TexError:
    found = _first_error(log)
    if found is None:
        return TexError("TeX produced no PDF (no error found in its log)")
    line, message = found
    # the context lines after the error name the culprit: "<argument> \foo" or "l.12 ...\foo"
    start = log.find(message)
    context = ""
    for match in _CONTEXT_LINE.finditer(log, start if start >= 0 else 0):
        text = match.group(2).strip()
        if text:
            context = text
            break
        if match.start() - start > 2000:
            break
    return TexError(f"TeX error: {message}", line=line, context=context[-80:])
