"""Hard limits (derivgen/calculus/worker.py, and the refusals of the parser, the limit method, the matrix
check and a sheet's parameters): every runaway input of issue 14 ends within its limit plus a few seconds,
with exit status 2 and one line on stderr, under a 3 GB address-space limit."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy

from derivgen.calculus import worker
from derivgen.calculus.matrix_check import MAX_CHECK_DIMENSION, shrunk
from derivgen.calculus.worker import HardLimitExceeded, HardLimits, run_limited
from derivgen.errors import DerivgenError, LimitExceeded, ParseError
from derivgen.input.parser import check_substitution, parse

ROOT = Path(__file__).resolve().parent.parent
ADDRESS_SPACE = 3 << 30
WALL = 60  # a hang is a failure, not a stuck suite


def _address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def derivgen(*args: str, cwd: Path | None = None) -> tuple[int, str, str, float]:
    """The command line in a subprocess under 3 GB of address space: status, stdout, stderr, seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "derivgen", *args],
        capture_output=True,
        text=True,
        timeout=WALL,
        preexec_fn=_address_space,
        env=env,
        cwd=cwd,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def assert_one_line_refusal(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derivgen: error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])


SUM_299 = " + ".join(f"sin({k}*x)" for k in range(1, 300))

# (expression, extra options, words of the one-line error); each ran > 45 s, filled GBs or crashed before
RUNAWAYS = [
    ("gamma(10**99)*x", [], ["column 1", "gamma(", "too large to compute"]),
    ("loggamma(10**99)*x", [], ["loggamma(", "too large to compute"]),
    ("gamma(2000)*x", [], ["gamma(2000) is too large", "about 5736 digits"]),
    ("(2**1000)**19*x", [], ["**19 is too large to compute"]),
    ("exp(exp(exp(exp(exp(x)))))", [], ["exponentials are nested 5 deep; the limit is 4"]),
    (SUM_299, [], ["a sum of 299 terms; the limit is 100"]),
    ("(x**2+x+1)**50", ["--method", "limit"], ["degree 100", "--method rules"]),
    ("(x**2+x+1)**100", ["--method", "limit"], ["degree 200", "--method rules"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "options", "words"), RUNAWAYS, ids=[r[0][:24] for r in RUNAWAYS])
def test_runaway_inputs_are_refused_in_one_line(text, options, words):
    code, out, err, seconds = derivgen("derive", text, "--wrt", "x", "--time-limit", "20", *options)
    assert_one_line_refusal(code, err, *words)
    assert out == "" and seconds < 20


@pytest.mark.slow
@pytest.mark.parametrize("size", ["999", "9999"])
def test_numeric_dimensions_are_checked_at_a_small_size(size):
    """vector(999) took 22 s and vector(9999) 4 GB in the numeric check; the identity does not depend on n."""
    code, out, err, seconds = derivgen(
        "derive", "x.T*M*x", "--wrt", "x", "-s", f"x=vector({size})", "-s", f"M=matrix({size}, {size})"
    )
    assert code == 0 and err == "", err
    assert "result: x.T*(M + M.T)    (checked by finite differences)" in out
    assert seconds < 15


SHEET = (
    "title: T\nexercises:\n  - title: E\n    derive: {derive}\n    wrt: x\n"
    "    parameters:\n      n: {{integer: [{n}, {n}]}}\n"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("derive", "n", "words"),
    [
        ("gamma(n)*x", 10**8, ["sheet.yaml:3: exercise 1:", "gamma(100000000) is too large to compute"]),
        ("2**n*x", 10**9, ["sheet.yaml:3: exercise 1:", "the exponent 1000000000 is larger than 1000"]),
        ("x**n", 10**200, ["has more than 100 digits"]),
    ],
)
def test_sheet_parameters_are_held_to_the_parser_limits(tmp_path, derive, n, words):
    """gamma(n)*x with n = 10**8 hung, 2**n*x with n = 10**9 took 500 MB and then crashed."""
    (tmp_path / "sheet.yaml").write_text(SHEET.format(derive=derive, n=n))
    code, _, err, seconds = derivgen("build", "sheet.yaml", "--tex-only", cwd=tmp_path)
    assert_one_line_refusal(code, err, *words)
    assert seconds < 30 and not list(tmp_path.glob("output/*.tex"))


@pytest.mark.slow
def test_a_deck_frame_over_the_limits_names_file_and_line(tmp_path):
    (tmp_path / "deck.yaml").write_text(
        "title: D\nframes:\n  - {title: Fine, derive: x**2}\n  - title: Tower\n    derive: exp(exp(exp(exp(exp(x)))))\n"
    )
    code, _, err, _ = derivgen("build", "deck.yaml", "--tex-only", cwd=tmp_path)
    assert_one_line_refusal(code, err, "deck.yaml:5:", "frame 2 ('Tower')", "nested 5 deep")


@pytest.mark.slow
def test_the_time_limit_holds_for_a_derivation_that_is_merely_slow():
    """No refusal applies: the worker is stopped at --time-limit (CPU-bound sympy, one long call)."""
    slow = "*".join(f"(sin(x^{k} + {k}) + {k})" for k in range(1, 9))
    code, _, err, seconds = derivgen("derive", slow, "--time-limit", "2")
    assert_one_line_refusal(code, err, "2 s")
    assert seconds < 2 + 8  # interpreter start-up (~3 s on a busy machine) and a margin


# -- the worker itself ---------------------------------------------------------------------------------


def test_the_result_and_the_errors_come_back():
    assert run_limited(sympy.diff, sympy.sin(sympy.Symbol("x")), sympy.Symbol("x")) == sympy.cos(sympy.Symbol("x"))
    with pytest.raises(ParseError) as caught:
        run_limited(parse, "x + * 2")
    assert caught.value.column is not None  # the error's own fields survive the trip
    with pytest.raises(ZeroDivisionError):
        run_limited(lambda: 1 / 0)


def test_a_long_call_is_killed_at_the_wall_clock():
    started = time.monotonic()
    with pytest.raises(HardLimitExceeded, match=r"time limit of 0\.5 s"):
        run_limited(lambda: sum(range(10**12)), limits=HardLimits(seconds=0.5))
    assert time.monotonic() - started < 3


def test_memory_over_the_limit_is_a_one_line_error():
    with pytest.raises(HardLimitExceeded, match="more memory than the limit of 200 MB"):
        run_limited(lambda: bytearray(1 << 30), limits=HardLimits(memory_mb=200))


def test_a_worker_that_dies_is_reported():
    with pytest.raises(HardLimitExceeded, match=r"stopped with SIGSEGV"):
        run_limited(lambda: os.kill(os.getpid(), 11))  # getpid() in the worker: the worker itself
    with pytest.raises(HardLimitExceeded, match="ended without an answer"):
        run_limited(os._exit, 0)


def test_inside_a_worker_the_call_is_direct():
    assert run_limited(lambda: run_limited(worker.in_worker)) is True
    assert worker.in_worker() is False


def test_no_worker_is_left_behind():
    children_before = _children()
    for _ in range(3):
        run_limited(int, "1")
    with pytest.raises(HardLimitExceeded):
        run_limited(time.sleep, 30, limits=HardLimits(seconds=0.3))
    assert _children() == children_before


def _children() -> set[str]:
    path = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return set(path.read_text().split()) if path.exists() else set()


def test_limits_of_a_command_do_not_outlive_it():
    before = worker.hard_limits()
    with worker.using_hard_limits(3, 500) as limits:
        assert worker.hard_limits() == limits == HardLimits(3, 500)
    assert worker.hard_limits() == before
    with pytest.raises(DerivgenError):
        HardLimits(seconds=0)


def test_translate_names_the_limits_python_raises():
    assert isinstance(worker.translate(MemoryError()), LimitExceeded)
    digits = ValueError("Exceeds the limit (4300 digits) for integer string conversion; use sys.set_…")
    assert "more than 4300 digits" in str(worker.translate(digits))
    assert isinstance(worker.translate(KeyError("x")), KeyError)


# -- what is refused before it is tried ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("gamma(2000.5)*x", "too large to compute"),
        ("gamma(10**400)*x", "too large to compute"),
        (" * ".join(["2**999"] * 13), "too large"),
        ("2**(2**(2**(2**(2**x))))", "nested 5 deep"),
        ("E**(E**(E**(E**(E**x))))", "nested 5 deep"),
    ],
)
def test_parser_refuses_what_can_only_explode(text, words):
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match=words):
        parse(text)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "text", ["gamma(1000)*x", "gamma(5/2)*x", "loggamma(x)", "exp(exp(exp(exp(x))))", "2**1000*x", "(x + 1)**1000"]
)
def test_parser_still_reads_what_is_large_but_fine(text):
    parse(text)


def test_substituted_parameters_are_checked_before_anything_is_computed():
    n, x = sympy.Symbol("n", real=True), sympy.Symbol("x", real=True)
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="gamma"):
        check_substitution(sympy.gamma(n) * x, {n: sympy.Integer(10**8)})
    with pytest.raises(LimitExceeded, match="exponent"):
        check_substitution(x**n, {n: sympy.Integer(5000)})
    with pytest.raises(LimitExceeded, match="100 digits"):
        check_substitution(n * x, {n: sympy.Integer(10**150)})
    assert time.monotonic() - started < 2
    check_substitution(sympy.gamma(n) * x**n, {n: sympy.Integer(7)})  # the usual numbers pass


def test_only_large_numeric_dimensions_are_shrunk():
    x, y = sympy.MatrixSymbol("x", 999, 1), sympy.MatrixSymbol("y", MAX_CHECK_DIMENSION, 1)
    (small_x, same_y), sizes = shrunk([x, y])
    assert small_x.shape[0] <= MAX_CHECK_DIMENSION and same_y == y and set(sizes) == {999}
    k = sympy.Symbol("k", integer=True)
    total = sympy.Sum(x[k, 0], (k, 0, 998))
    ([shrunk_total], _) = shrunk([total])
    assert shrunk_total.limits[0][2] == small_x.shape[0] - 1


def test_a_process_that_forks_workers_has_no_other_native_thread():
    # a fork copies only the forking thread: a lock held by another thread (OpenBLAS starts a pool when
    # numpy loads) would stay locked forever in the worker; derivgen keeps BLAS to one thread
    script = (
        "import os, derivgen\n"
        "from derivgen.calculus import matrix_check\n"
        "import numpy\n"
        "numpy.ones((300, 300)) @ numpy.ones((300, 300))\n"
        "print(len(os.listdir('/proc/self/task')))\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True)
    assert done.stdout.strip() == "1"
    assert len(os.listdir("/proc/self/task")) == 1  # this test process too (tests/conftest.py imports derivgen first)
