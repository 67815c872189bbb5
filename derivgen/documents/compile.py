"""LaTeX source → PDF with latexmk, in a sandbox.

TeX runs in a temporary build folder, in layers (README, "Threat model"):

* shell escape off, file access restricted to that folder (``openin_any=p``, ``openout_any=p``: no
  absolute paths, no parent folders), stdin closed, a time limit (``\\def\\x{\\x}\\x`` loops forever),
  a cap on the size of any file it writes;
* a minimal environment: PATH, HOME (the build folder), the TEXMF and kpathsea variables, nothing
  of derivgen's own environment (``/proc/self/environ`` would show every secret in it);
* bubblewrap where it is installed and works: only ``/usr``, the TeX trees, the few files of
  ``/etc`` that perl and kpathsea read, and the build folder (read-write) exist; no network, its own
  process and IPC namespaces, killed with derivgen.  Where it is missing the build says so once;
* ``guard.tex``, read before the source's first line: after the packages have loaded, the pdfTeX
  primitives that read files whatever ``openin_any`` says (``\\pdfobj … file``, ``\\pdfximage``,
  ``\\pdffiledump`` …) read only plain names in the build folder.

The job is always ``document.tex``, whatever the deck is called.  latexmk and pdflatex run in their own
process group: a time-out, SIGTERM or SIGINT of derivgen kills that group, and ``PR_SET_PDEATHSIG`` (and
bubblewrap's ``--die-with-parent``, which takes everything in the sandbox along) ends them if
derivgen is killed outright; the build folder records
derivgen's PID, and a later run removes folders whose owner is gone (and any TeX still in them).  A
failure is reported as the first TeX error and its line, not as a log dump; the log is read with a cap.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ..errors import DerivgenError
from .tex_format import (
    FORMAT_NAME,
    cached_format,
    dumped_part,
    format_key,
    keep_format,
    remember_format,
    remove_formats,
)

DEFAULT_TIMEOUT = 120.0
JOB = "document"
"""The job name of every TeX run: a deck named ``-deck.yaml``, ``.hidden.yaml`` or ``a%b.yaml`` builds."""
GUARD_FILE = "derivgen-guard.tex"
TEMP_PREFIX = "derivgen-tex-"
OWNER_FILE = ".derivgen-owner"
STALE_AFTER = 60.0  # seconds: a folder this old whose owner process is gone is left over from a KILL
LOG_CAP = 2_000_000  # characters of the log read from its start and from its end
FILE_SIZE_LIMIT = 1 << 30  # bytes: a TeX writing a larger file (a \loop\message log) is stopped
# "./deck.tex:12: msg" (the generated source), "/usr/share/…/fontspec.sty:45: msg" (a package's file)
_FILE_LINE_ERROR = re.compile(r"^((?:\./)?[^:\n]*\.(?:tex|sty|cls|def|cfg|fd|clo|ldf)):(\d+): (.*)$", re.MULTILINE)
# "! msg", and pdfTeX's own "!pdfTeX error: pdflatex: cannot find image file x.png" (no space after "!")
_BANG_ERROR = re.compile(r"^!(?: |pdfTeX error: ?(?:pdf(?:la)?tex(?:\.\w+)?: )?)(.*)$", re.MULTILINE)
_EXTRA_FILE = re.compile(r"[a-z][a-z0-9-]{0,30}\.(?:png|jpe?g|pdf)")
_CONTEXT_LINE = re.compile(r"^(?:l\.(\d+)|<argument>|<recently read>|<to be read again>) ?(.*)$", re.MULTILINE)
_PDFLATEX_RUN = re.compile(r"^Run number \d+ of rule '(?:pdf)?latex'", re.MULTILINE)
_GUARD = (Path(__file__).with_name("guard.tex")).read_bytes()
# pdfTeX on a format it cannot load (another TeX's, or damaged past its checksum's notice)
_FORMAT_FAILURE = re.compile(r"Fatal format file error|I can't find the format file|---! .*\.fmt")


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
    passes: int = 0  # pdflatex runs latexmk made (0: nothing to do in a kept folder)


def tex_tools_missing() -> list[str]:
    """Programs the build needs that are not installed."""
    return [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]


def compile_tex(
    source: str,
    name: str = JOB,
    timeout: float = DEFAULT_TIMEOUT,
    files: Mapping[str, bytes] | None = None,
    single_pass: bool = False,
    folder: Path | None = None,
    formats: Path | None = None,
    seed: Path | None = None,
) -> CompileResult:
    """Compile a LaTeX source; returns the PDF bytes and the log.  Raises :class:`TexError`.

    ``name`` is what the source is for (a deck's file name, "measure"): the job itself is always
    ``document`` (:data:`JOB`), so any file name builds.
    ``files`` are put into the build folder beside the source (e.g. ``{"logo.png": …}``): with
    ``openin_any=p`` TeX can read nothing else, so an image the document shows must come this way.
    The caller passes bytes, not paths, so what is compiled is exactly what it fingerprinted.
    ``single_pass``: one pdflatex run (a document that only writes to its log needs no second).
    ``folder``: a kept build folder (:func:`.build_folder.kept_folder`, locked and checked by the
    caller): its files are copied into the temporary build folder before the run, and TeX's files back
    after a successful one, so latexmk finds its aux and fdb files and reruns only what changed, while
    TeX itself still runs in a temporary folder of this process, as every run does.
    ``seed``: a kept build folder whose files the run starts from (its aux files: the totals and
    references of the last whole run) and which it leaves as it was (:mod:`.frame_splice`).
    ``formats``: the output folder whose precompiled preambles (:mod:`.tex_format`) the run may load,
    and where it keeps the one it makes; a source without the template's marker runs without.
    """
    del name  # the job name is fixed; callers still say what they compile
    extra = dict(files or {})
    for file_name in extra:
        # a fixed, plain name: no folders, and never the source or what latexmk writes beside it
        if not _EXTRA_FILE.fullmatch(file_name) or file_name.startswith(f"{JOB}."):
            raise ValueError(f"not a plain file name for the build folder: {file_name!r}")
    missing = tex_tools_missing()
    if missing:
        raise TexError(f"{', '.join(missing)} not found: install TeX Live (bash scripts/setup.sh --tex does it)")
    install_signal_handlers()
    remove_stale_folders()
    with contextlib.ExitStack() as stack:
        build = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)))
        (build / OWNER_FILE).write_text(f"{os.getpid()}\n")
        for start_from in (folder, seed):
            if start_from is not None:
                _copy_files(start_from, build)
        for file_name, content in extra.items():
            _write_if_changed(build / file_name, content)
        _write_if_changed(build / GUARD_FILE, _GUARD)
        # on the source's first line, so that TeX's line numbers stay those of the source
        _write_if_changed(build / f"{JOB}.tex", (f"\\input{{{GUARD_FILE}}}" + source).encode("utf-8"))
        environment = tex_environment(build)
        preamble = _preamble_format(source, formats, build, environment, timeout) if formats is not None else None
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
            *([f"-pdflatex=pdflatex -fmt={FORMAT_NAME} %O %S"] if preamble is not None else []),
            f"{JOB}.tex",
        ]
        # latexmk's own report (not a pipe: nobody reads it while TeX runs), to count its passes
        said = stack.enter_context(tempfile.TemporaryFile())
        try:
            _run(command, build, environment, timeout, said)
        finally:
            _kill_left_in(build)  # nothing may go on writing into a folder about to be removed
        log = read_log(build / f"{JOB}.log")
        pdf_path = build / f"{JOB}.pdf"
        if not pdf_path.exists() or _first_error(log) is not None:
            if preamble is not None and _FORMAT_FAILURE.search(log):
                remove_formats(preamble.formats)  # a format this pdfTeX cannot load: the next run makes it anew
            raise _error_from_log(log)
        if preamble is not None and not preamble.on_disk:
            if folder is not None:  # compiled into the output folder: the format goes there too
                keep_format(preamble.formats, preamble.key, preamble.data)
            else:
                remember_format(preamble.key, preamble.data)
        said.seek(0)
        passes = len(_PDFLATEX_RUN.findall(said.read(LOG_CAP).decode("utf-8", errors="replace")))
        if folder is not None:
            for kept in folder.iterdir():
                kept.unlink()
            _copy_files(build, folder, leave_out={OWNER_FILE, f"{FORMAT_NAME}.fmt", f"{FORMAT_NAME}.log"})
        return CompileResult(pdf_path.read_bytes(), log, passes)


@dataclass(frozen=True)
class _Format:
    formats: Path  # the output folder it is kept in (or for)
    key: str
    data: bytes
    on_disk: bool  # kept in the output folder already


def _preamble_format(
    source: str, formats: Path, build: Path, environment: dict[str, str], timeout: float
) -> _Format | None:
    """The precompiled preamble for ``source``, put into ``build``: kept from an earlier run or made
    now by ``pdflatex -ini`` in the same sandbox; None where the source has no marker, this TeX cannot
    make formats, or making it failed (the run then reads its preamble as usual)."""
    dumped = dumped_part(source)
    key = format_key(dumped, _GUARD) if dumped is not None else None
    if key is None:
        return None
    cached = cached_format(formats, key)
    if cached is not None:
        (build / f"{FORMAT_NAME}.fmt").write_bytes(cached[0])
        return _Format(formats, key, *cached)
    command = ["pdflatex", "-ini", "-interaction=nonstopmode", "-halt-on-error", f"-jobname={FORMAT_NAME}"]
    try:
        _run([*command, "&pdflatex", "mylatexformat.ltx", f"{JOB}.tex"], build, environment, timeout)
    except TexError:
        return None  # too slow to dump: the run reads its preamble, and its own time-out applies
    finally:
        _kill_left_in(build)
    made = build / f"{FORMAT_NAME}.fmt"
    return _Format(formats, key, made.read_bytes(), on_disk=False) if made.is_file() else None


def _copy_files(source: Path, target: Path, leave_out: Set[str] = frozenset()) -> None:
    """Every plain file of ``source`` into ``target``, with its times (latexmk compares them); never
    through a link.  Anything else there (a folder TeX made) stays behind: the kept folder has only files."""
    for path in source.iterdir():
        if path.name not in leave_out and path.is_file() and not path.is_symlink():
            shutil.copy2(path, target / path.name, follow_symlinks=False)


def _write_if_changed(path: Path, content: bytes) -> None:
    """Write ``content`` unless the file holds it already (latexmk then sees nothing new)."""
    with contextlib.suppress(OSError):
        if path.read_bytes() == content:
            return
    path.write_bytes(content)


def tex_environment(build: Path) -> dict[str, str]:
    """The whole environment TeX sees: nothing of derivgen's own but SOURCE_DATE_EPOCH."""
    directories = [str(Path(found).parent) for found in map(shutil.which, ("latexmk", "pdflatex", "perl")) if found]
    path = ":".join(dict.fromkeys([*directories, "/usr/local/bin", "/usr/bin", "/bin"]))
    environment = {
        "PATH": path,
        "HOME": str(build),
        "TEXMFHOME": str(build / "texmf"),
        "TEXMFVAR": str(build / "texmf-var"),
        "TEXMFCONFIG": str(build / "texmf-config"),
        "TEXMFOUTPUT": str(build),
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        "max_print_line": "10000",
    }
    if "SOURCE_DATE_EPOCH" in os.environ:  # reproducible PDFs: dates and ID from the given time
        environment["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]
        environment["FORCE_SOURCE_DATE"] = "1"
    return environment


def read_log(path: Path, cap: int = LOG_CAP) -> str:
    """The log, or its first and last ``cap`` characters (a runaway \\message can fill gigabytes)."""
    if not path.exists():
        return ""
    with path.open("rb") as log:
        head = log.read(cap)
        size = log.seek(0, os.SEEK_END)
        tail = b""
        if size > 2 * cap:
            log.seek(size - cap)
            tail = log.read(cap)
        elif size > cap:
            log.seek(cap)
            tail = log.read()
    text = head.decode("utf-8", errors="replace")
    if size > 2 * cap:
        text += f"\n[derivgen: {size - 2 * cap} bytes of the log left out]\n"
    return text + tail.decode("utf-8", errors="replace")


# -- bubblewrap ----------------------------------------------------------------------------------------

SANDBOX_WARNING = (
    "derivgen: warning: bubblewrap (bwrap) {}: TeX runs without the sandbox, with a minimal environment "
    "and file access limited by TeX itself (install the Debian package bubblewrap)"
)
_warned = False
_warn_lock = threading.Lock()


def _warn_once(reason: str) -> None:
    global _warned
    with _warn_lock:
        if not _warned:
            _warned = True
            print(SANDBOX_WARNING.format(reason), file=sys.stderr)


def _kpse_value(variable: str) -> str:
    try:
        found = subprocess.run(
            ["kpsewhich", f"-var-value={variable}"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return found.stdout.strip()


@functools.lru_cache(maxsize=1)
def _read_only_paths() -> tuple[str, ...]:
    """What latexmk, perl and pdflatex read: /usr, the TeX trees, a few files of /etc."""
    paths = ["/usr"]
    for variable in ("TEXMFDIST", "TEXMFSYSVAR", "TEXMFSYSCONFIG", "TEXMFLOCAL", "TEXMFMAIN", "TEXMFROOT"):
        for part in re.split(r"[:;,{}!]+", _kpse_value(variable)):
            if part.startswith("/") and Path(part).is_dir():
                paths.append(os.path.realpath(part))
    # kpathsea's texmf.cnf and ls-R, perl's configuration, the dynamic linker's cache, the
    # alternatives some TeX programs are linked through; never /etc/passwd and the like
    etc = ["/etc/texmf", "/etc/perl", "/etc/alternatives", "/etc/ld.so.cache", "/etc/fonts", "/var/lib/texmf"]
    paths += [path for path in etc if os.path.exists(path)]
    unique: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == kept or path.startswith(kept.rstrip("/") + "/") for kept in unique):
            unique.append(path)
    return tuple(unique)


def _bwrap_prefix(build: Path) -> list[str]:
    prefix = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev"]
    prefix += ["--tmpfs", "/tmp"]
    for path in _read_only_paths():
        prefix += ["--ro-bind", path, path]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            prefix += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            prefix += ["--ro-bind", top, top]
    prefix += ["--bind", str(build), str(build), "--chdir", str(build), "--"]
    return prefix


@functools.lru_cache(maxsize=1)
def bubblewrap_problem() -> str | None:
    """Why TeX cannot run in bubblewrap here (not installed, no namespaces), or None when it can."""
    if shutil.which("bwrap") is None:
        return "is not installed"
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as folder:
        try:
            tried = subprocess.run(
                [*_bwrap_prefix(Path(folder)), "pdflatex", "-version"],
                capture_output=True,
                env=tex_environment(Path(folder)),
                timeout=30,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"cannot run ({error})"
    if tried.returncode != 0:
        said = tried.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return f"cannot create its sandbox here ({said[-1] if said else f'exit {tried.returncode}'})"
    return None


def use_bubblewrap() -> bool:
    """Whether TeX runs in bubblewrap; says once on stderr when it cannot."""
    problem = bubblewrap_problem()
    if problem is not None:
        _warn_once(problem)
    return problem is None


# -- running TeX, and ending it with derivgen ----------------------------------------------------------

_running: set[int] = set()  # process groups of the TeX runs going on
_running_lock = threading.RLock()  # re-entrant: the signal handler runs in the thread it interrupts
_stopping = False


def _limits_prefix() -> list[str]:
    """util-linux's prlimit and setpriv before TeX: a cap on the size of any file it writes, and
    SIGKILL when derivgen dies (``PR_SET_PDEATHSIG``), without a ``preexec_fn`` (unsafe with threads)."""
    prefix = []
    if shutil.which("prlimit"):
        prefix += ["prlimit", f"--fsize={FILE_SIZE_LIMIT}", "--"]
    if shutil.which("setpriv"):
        prefix += ["setpriv", "--pdeathsig", "KILL", "--"]
    return prefix


def _run(command: list[str], folder: Path, environment: dict[str, str], timeout: float, output=None) -> None:
    command = [*_limits_prefix(), *(_bwrap_prefix(folder) if use_bubblewrap() else []), *command]
    with _running_lock:
        if _stopping:
            raise TexError("derivgen is stopping: TeX was not started")
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=environment,
            stdin=subprocess.DEVNULL,
            # the log file has it all; a pipe would fill derivgen's memory (``output``: a file, capped by prlimit)
            stdout=output if output is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if output is not None else subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a time-out ends pdflatex too
        )
        _running.add(process.pid)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.wait()
        raise TexError(
            f"TeX did not finish within {timeout:g} s and was stopped (an endless macro loop in raw LaTeX?)"
        ) from None
    finally:
        _kill_group(process.pid)  # whatever latexmk left behind
        process.wait()
        with _running_lock:
            _running.discard(process.pid)


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def _stop_all(signum: int, frame: FrameType | None) -> None:
    """SIGTERM/SIGINT: kill every TeX run, then stop derivgen so that its folders are removed."""
    global _stopping
    with _running_lock:
        _stopping = True
        groups = list(_running)
    for group in groups:
        _kill_group(group)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)  # unwinds the with-blocks: temporary folders are removed


_handlers_installed = False


def install_signal_handlers() -> None:
    """Kill TeX on SIGTERM and SIGINT (from the main thread only; a no-op elsewhere or twice)."""
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if previous in (signal.SIG_DFL, signal.default_int_handler):  # never override a caller's own handler
            signal.signal(signum, _stop_all)
    _handlers_installed = True


# -- folders left over by a KILL -----------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_left_in(folder: Path) -> None:
    """Kill any process whose working folder is ``folder`` (TeX that outlived its latexmk)."""
    target = os.path.realpath(folder)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cwd = os.readlink(entry / "cwd")
            if cwd == target or cwd.startswith(target + "/"):
                os.kill(int(entry.name), signal.SIGKILL)


def remove_stale_folders(parent: str | None = None) -> list[Path]:
    """Remove the build folders of runs that were killed: older than a minute, their owner gone."""
    removed = []
    root = Path(parent or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for folder in root.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(OSError, ValueError):
                if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                    continue
                if time.time() - folder.stat().st_mtime < STALE_AFTER:
                    continue
                owner = folder / OWNER_FILE  # only derivgen's own folders, never one without its PID
                if not owner.is_file() or _alive(int(owner.read_text().strip() or "0")):
                    continue
                _kill_left_in(folder)
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


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
