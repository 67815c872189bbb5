"""The command line: output, JSON, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import ast
import concurrent.futures
import json
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import click
import pytest
import sympy
from sympy.parsing.sympy_parser import parse_expr

from derivgen.calculus import engine, front
from derivgen.cli import cli, main
from derivgen.errors import VerificationError
from derivgen.presentation.printer import to_text
from tests.conftest import same_function
from tests.strategies import X, Y, read_text


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_prints_steps_with_labels(capsys):
    code, out, err = run(capsys, "derive", "(x^2 + 2)^3", "--wrt", "x")
    assert code == 0 and err == ""
    assert "[chain rule]" in out
    inner = re.search(r"with u = (.*?):", out)
    assert inner is not None and read_text(inner.group(1)) == X**2 + 2  # the chain rule's inner function
    assert same_function(read_text(_result(out)), sympy.diff((X**2 + 2) ** 3, X))


def test_json_output(capsys):
    code, out, _ = run(capsys, "derive", "x*sin(x)", "--wrt", "x", "--json")
    data = json.loads(out)
    assert code == 0 and data["wrt"] == "x" and data["steps"][0]["rule"] == "product"


def test_latex_output(capsys):
    code, out, _ = run(capsys, "derive", "sin(x)", "--latex")
    assert code == 0 and r"\text{derivative of sin}" in out


@pytest.mark.parametrize("detail", ["full", "normal", "brief"])
def test_detail_levels(capsys, detail):
    """Every displayed line means the derivative (read back, compared with sympy), each is
    labelled, and a briefer level shows fewer lines of the same derivation."""
    x = sympy.Symbol("x", real=True)
    truth = sympy.diff(x**2 * sympy.exp(x), x)
    code, out, _ = run(capsys, "derive", "x^2*exp(x)", "--detail", detail)
    assert code == 0
    lines = out.splitlines()
    assert same_function(read_text(lines[0]), truth)  # d/dx(x**2*exp(x))
    rows = [line for line in lines if line.strip().startswith("= ")]
    assert rows and all(re.search(r"\[[a-z ,]+\]$", row) for row in rows), out
    for row in rows:
        assert same_function(read_text(row.strip()[2:].rsplit("[", 1)[0]), truth), row
    result = next(line for line in lines if line.startswith("result:"))
    assert same_function(read_text(result.removeprefix("result:").split("(every")[0]), truth)
    _, full, _ = run(capsys, "derive", "x^2*exp(x)", "--detail", "full")
    shown = len([line for line in full.splitlines() if line.strip().startswith("= ")])
    assert len(rows) < shown if detail == "brief" else len(rows) <= shown


def test_positive_variable(capsys):
    code, out, _ = run(capsys, "derive", "abs(log(x))", "--positive", "x")
    positive = sympy.Symbol("x", positive=True)
    expected = sympy.sign(sympy.log(positive)) / positive
    assert code == 0 and same_function(read_text(_result(out)).subs(X, positive), expected)


def test_rules_listing(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "quotient rule" in out and r"g(x)^2" in out


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["derive", "__import__('os').system('true')"], 2, "only named functions"),
        (["derive", "eval(x)"], 2, "unknown function 'eval'"),
        (["derive", "x +"], 2, "syntax"),
        (["derive", "x*y"], 2, "wrt"),
        (["derive", "x", "--wrt", "1x"], 2, "name"),
        (["derive", "9**9**9**9"], 2, "exponent"),
        (["derive", "x", "--detail", "loud"], 2, "loud"),
        (["derive"], 2, "EXPRESSION"),
    ],
)
def test_bad_input_is_one_line_without_traceback(capsys, args, code, words):
    status, out, err = run(capsys, *args)
    assert status == code
    assert words in err
    assert "Traceback" not in err and "Traceback" not in out
    assert len([line for line in err.splitlines() if line.strip()]) <= 3  # click usage errors add a hint


def test_our_errors_are_exactly_one_line(capsys):
    status, _, err = run(capsys, "derive", "sin(x, y)")
    assert status == 2 and err.count("\n") == 1 and err.startswith("derivgen: error:")


def test_debug_shows_the_traceback():
    from derivgen import ParseError

    with pytest.raises(ParseError):
        main(["--debug", "derive", "eval(x)"])


def test_console_script_runs_as_a_program():
    done = subprocess.run(
        [sys.executable, "-m", "derivgen", "derive", "x^3", "--wrt", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "[power rule]" in done.stdout
    failed = subprocess.run(
        [sys.executable, "-m", "derivgen", "derive", "x."], capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr


def test_gradient_jacobian_hessian_from_the_command_line(capsys):
    code, out, _ = run(capsys, "derive", "(2x + y^2)^2", "--wrt", "x", "--wrt", "y")
    assert code == 0 and "[collect the partial derivatives (a row vector)]" in out
    code, out, _ = run(capsys, "derive", "[x*y, sin(x)]", "--wrt", "x", "--wrt", "y")
    jacobian = sympy.Matrix([[X * Y, sympy.sin(X)]]).jacobian([X, Y])
    rows = ast.literal_eval(_result(out))  # [['y', 'x'], …]: each entry read back on its own
    assert code == 0 and sympy.Matrix([[read_text(entry) for entry in row] for row in rows]) == jacobian
    code, out, _ = run(capsys, "derive", "--expr", "x*y", "--expr", "x + y", "-x", "x", "-x", "y", "--json")
    assert code == 0 and json.loads(out)["kind"] == "jacobian"
    code, out, _ = run(capsys, "derive", "x^2*y^3", "-x", "x", "-x", "y", "--order", "2", "--latex")
    assert code == 0 and r"H_{(x, y)}" in out
    code, out, _ = run(capsys, "derive", "sin(x)", "--order", "2")
    assert code == 0 and same_function(read_text(_result(out)), sympy.diff(sympy.sin(X), X, 2))


def test_multivariate_errors(capsys):
    code, _, err = run(capsys, "derive", "x*y", "-x", "x", "-x", "x")
    assert code == 2 and "only once" in err
    code, _, err = run(capsys, "derive", "[]", "-x", "x")
    assert code == 2 and "empty" in err
    code, _, err = run(capsys, "derive", "-x", "x")
    assert code == 2 and "EXPRESSION" in err


def test_matrix_derivative_from_the_command_line(capsys):
    code, out, _ = run(
        capsys,
        "derive",
        "x.T*M*x",
        "--wrt",
        "x",
        "--symbol",
        "x=vector(n)",
        "--symbol",
        "M=matrix(n, n)",
        "--assume",
        "symmetric(M)",
    )
    assert code == 0 and "requires M to be symmetric" in out and "M is symmetric" in out
    # the seed's closed form for symmetric M: ∇ₓ xᵀMx = 2xᵀM (a row)
    n = sympy.Symbol("n", integer=True, positive=True)
    x, m = sympy.MatrixSymbol("x", n, 1), sympy.MatrixSymbol("M", n, n)
    assert parse_expr(_result(out), local_dict={"x": x, "M": m}) == 2 * x.T * m
    assert "checked by finite differences" in out
    code, out, _ = run(
        capsys, "derive", "a.T*x", "-x", "x", "-s", "a=vector(n)", "-s", "x=vector(n)", "--layout", "shape", "--latex"
    )
    assert code == 0 and r"\nabla_{\mathbf{x}}" in out
    code, _, err = run(capsys, "derive", "A*x", "-x", "x", "-s", "A=matrix(n, m)", "-s", "x=vector(n)")
    assert code == 2 and "cannot multiply" in err and err.count("\n") == 1
    code, _, err = run(capsys, "derive", "x.T*x", "-x", "x", "-s", "x")
    assert code == 2 and "NAME=SHAPE" in err


# --- every option, by its effect (issue 18) -------------------------------------------------------------------------

# eight factors, each a chain: about 50 steps, about a second with every step checked
SLOW = "*".join(f"(sin(x^{k} + {k}) + {k})" for k in range(1, 9))


def one_line_error(err: str) -> str:
    """The message of a refusal: one ``derivgen: error:`` line, or click's usage text with one ``Error:`` line."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith(("derivgen: error:", "Error:"))]
    assert len(errors) == 1, err
    return errors[0]


def test_limit_method_text_reads_like_mathematics(capsys):
    code, out, _ = run(capsys, "derive", "x^2 + 1/x", "--method", "limit")
    assert code == 0 and "Limit(" not in out and "dir=" not in out
    x, h = sympy.symbols("x h")
    lines = re.findall(r"^  = (.*)    \[", out, re.MULTILINE)
    assert sum("lim_{h→0} (" in line for line in lines) >= 2  # the definition and a rewrite before the limit
    for line in lines:  # read back, every line is worth the true derivative
        value = sympy.sympify(line.replace("lim_{h→0} ", "LIM"), locals={"LIM": lambda body: sympy.limit(body, h, 0)})
        assert sympy.simplify(value - (2 * x - 1 / x**2)) == 0, line
    assert to_text(sympy.Limit(1 / h, h, 0, "+")).startswith("lim_{h→0+} ")
    assert to_text(sympy.Limit(1 / h, h, 0, "-")).startswith("lim_{h→0-} ")


def test_max_steps_refuses_a_longer_derivation(capsys):
    code, out, _ = run(capsys, "derive", "(x^2 + 2)^3*sin(x)", "--json")
    assert code == 0 and len(json.loads(out)["steps"]) > 3
    code, _, err = run(capsys, "derive", "(x^2 + 2)^3*sin(x)", "--max-steps", "3")
    assert code == 2 and "3 steps" in one_line_error(err)
    code, out, _ = run(capsys, "derive", "x^2", "--max-steps", "3")  # one step fits
    assert code == 0 and "result: 2*x" in out


def test_time_limit_refuses_a_slow_derivation(capsys):
    code, _, err = run(capsys, "derive", SLOW, "--time-limit", "0.1")
    assert code == 2 and "0.1 s" in one_line_error(err)
    code, out, _ = run(capsys, "derive", SLOW, "--time-limit", "120", "--detail", "brief")
    assert code == 0 and "every step checked" in out


def test_time_limit_stops_a_call_python_cannot_interrupt(capsys, monkeypatch):
    """One long call in C (no SIGALRM reaches it): the worker is killed at the wall clock."""
    monkeypatch.setattr(front, "derive", lambda *args, **kwargs: sum(range(10**12)))
    started = time.monotonic()
    code, out, err = run(capsys, "derive", "x^2", "--time-limit", "1")
    assert code == 2 and out == "" and "time limit of 1 s (--time-limit)" in one_line_error(err)
    assert time.monotonic() - started < 10


def test_max_memory_stops_a_derivation_that_grows(capsys, monkeypatch):
    monkeypatch.setattr(front, "derive", lambda *args, **kwargs: bytearray(1 << 30))
    code, out, err = run(capsys, "derive", "x^2", "--max-memory", "300")
    assert code == 2 and out == "" and "memory than the limit of 300 MB (--max-memory)" in one_line_error(err)


def test_no_verify_skips_the_checks_with_the_same_result(capsys, monkeypatch):
    code, out, _ = run(capsys, "derive", "x*sin(x)", "--json")
    checked = json.loads(out)
    code, out, _ = run(capsys, "derive", "x*sin(x)", "--json", "--no-verify")
    unchecked = json.loads(out)
    assert code == 0 and checked["verified"] and not unchecked["verified"]
    assert [step["rule"] for step in unchecked["steps"]] == [step["rule"] for step in checked["steps"]]
    x = sympy.Symbol("x")
    assert sympy.simplify(sympy.sympify(unchecked["result"]) - sympy.diff(x * sympy.sin(x), x)) == 0

    def every_check_fails(before, after, what):
        raise VerificationError(f"{what}: planted failure")

    monkeypatch.setattr(engine, "check_equal", every_check_fails)
    code, _, err = run(capsys, "derive", "x*sin(x)")
    assert code == 3 and "planted failure" in one_line_error(err)  # the checks run without the flag…
    code, out, _ = run(capsys, "derive", "x*sin(x)", "--no-verify")
    assert code == 0 and "steps not checked" in out  # …and not with it


def test_result_chooses_the_final_form(capsys):
    x = sympy.Symbol("x")
    truth = sympy.diff((x**2 - 1) / (x**2 + 1), x)
    code, out, _ = run(capsys, "derive", "(x^2 - 1)/(x^2 + 1)", "--result", "expand")
    value = sympy.sympify(_result(out))
    assert code == 0 and "[expand]" in out
    assert sympy.simplify(value - truth) == 0 and sympy.expand(value) == value
    code, out, _ = run(capsys, "derive", "(x^2 - 1)/(x^2 + 1)", "--result", "4x/(x^2 + 1)^2")
    assert code == 0 and "[rewrite as]" in out and sympy.simplify(sympy.sympify(_result(out)) - truth) == 0
    code, _, err = run(capsys, "derive", "(x^2 - 1)/(x^2 + 1)", "--result", "4x/(x^2 + 1)")
    assert code == 2 and "not equal to the derivative" in one_line_error(err)


def test_version_is_the_installed_one(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.split()[-1] == metadata.version("derivgen")


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "-h")
    assert code == 0 and all(name in out for name in ("derive", "build", "rules"))


def test_internal_error_is_one_line_and_debug_shows_it(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(front, "derive", broken)
    code, out, err = run(capsys, "derive", "x^2")
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.count("\n") == 1 and "internal error" in err and "RuntimeError: planted bug" in err
    with pytest.raises(RuntimeError, match="planted bug"):
        main(["--debug", "derive", "x^2"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--json", "--latex"], "--json and --latex"),
        (["--json", "--detail", "brief"], "--json and --detail"),
        (["--method", "limit", "--max-steps", "50"], "--max-steps does not apply with --method limit"),
        (["--method", "limit", "--order", "2"], "--order does not apply with --method limit"),
        (["--method", "limit", "--assume", "symmetric(M)"], "--assume does not apply with --method limit"),
        (["--method", "limit", "--layout", "shape"], "--layout does not apply with --method limit"),
        (["--method", "limit", "-s", "x=scalar"], "--symbol does not apply with --method limit"),
        (["--method", "limit", "--result", "factor"], "--result does not apply with --method limit"),
        (["--layout", "shape"], "--layout is for matrix derivatives"),
        (["--assume", "symmetric(M)"], "--assume is for matrix derivatives"),
        (["--positive", "y"], "no variable y"),
        (["-s", "x=vector(n)", "-x", "x", "--positive", "x"], "--positive does not apply with --symbol"),
        (["-s", "x=vector(n)", "-x", "x", "--order", "2"], "--order does not apply with --symbol"),
        (["-s", "x=vector(n)", "-s", "x=scalar", "-x", "x"], "each name once"),
    ],
)
def test_derive_refuses_options_that_do_not_fit(capsys, args, words):
    code, out, err = run(capsys, "derive", "x^2", *args)
    assert code == 2 and out == "" and words in one_line_error(err)


@pytest.mark.parametrize(
    "args",
    [["-x", "x", "-x", "y"], ["--expr", "x*y", "--expr", "y", "-x", "x"]],
)
def test_limit_method_refuses_several_variables_or_functions(capsys, args):
    code, _, err = run(capsys, "derive", "x*y", "--method", "limit", *args)
    assert code == 2 and "one function of one variable" in one_line_error(err)


DECK = "title: Small deck\nframes:\n  - {title: Chain, derive: (x**2 + 2)**3}\n  - {title: Power, derive: x**3}\n"
SHEET = (
    "title: Powers\nexercises:\n  - title: Power\n    derive: x**n\n    wrt: x\n"
    "    parameters:\n      n: {integer: [2, 1000]}\n"  # x**n: the parser's exponent limit (1000) holds for drawn n
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_build_format_and_output_folder(tmp_path, capsys):
    deck = write(tmp_path, "deck.yaml", DECK)
    code, _, _ = run(capsys, "build", str(deck), "--output", str(tmp_path / "notes"), "--format", "notes", "--tex-only")
    assert code == 0 and sorted(path.name for path in (tmp_path / "notes").glob("*.tex")) == ["deck-notes.tex"]
    code, _, _ = run(capsys, "build", str(deck), "-o", str(tmp_path / "all"), "--tex-only")
    written = sorted(path.name for path in (tmp_path / "all").glob("*.tex"))
    assert written == ["deck-handout-2up.tex", "deck-handout.tex", "deck-notes.tex", "deck.tex"]
    assert not list((tmp_path / "all").glob("*.pdf"))  # --tex-only


def test_build_with_own_templates(tmp_path, capsys):
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "slides.tex.j2").write_text(r"\VAR{deck.title} has \VAR{frames|length} frames")
    deck = write(tmp_path, "deck.yaml", DECK)
    out_dir = tmp_path / "out"
    code, _, _ = run(
        capsys,
        "build",
        str(deck),
        "-o",
        str(out_dir),
        "--format",
        "slides",
        "--tex-only",
        "--templates",
        str(templates),
    )
    assert code == 0 and (out_dir / "deck.tex").read_text() == "Small deck has 2 frames"
    code, _, err = run(capsys, "build", str(deck), "-o", str(out_dir), "--templates", str(tmp_path / "none"))
    assert code == 2 and "does not exist" in one_line_error(err)


def test_force_rebuilds_an_unchanged_deck(tmp_path, capsys):
    deck = write(tmp_path, "deck.yaml", DECK)
    args = ["build", str(deck), "-o", str(tmp_path / "out"), "--format", "slides", "--tex-only"]
    tex = tmp_path / "out" / "deck.tex"
    assert run(capsys, *args)[0] == 0
    built = tex.read_text()
    tex.write_text(built + "% edited by hand\n")
    code, out, _ = run(capsys, *args)
    assert code == 0 and "unchanged" in out and tex.read_text().endswith("% edited by hand\n")  # skipped
    code, out, _ = run(capsys, *args, "--force")
    assert code == 0 and "unchanged" not in out and tex.read_text() == built  # rebuilt


@pytest.mark.slow
def test_timeout_stops_a_looping_tex(tmp_path, capsys):
    deck = write(
        tmp_path, "deck.yaml", "title: T\nframes:\n  - kind: text\n    title: Loop\n    latex: '\\def\\x{\\x}\\x'\n"
    )
    started = time.monotonic()
    out = str(tmp_path / "out")
    code, _, err = run(capsys, "build", str(deck), "-o", out, "--format", "notes", "--timeout", "2", "--trust-latex")
    assert code != 0 and "within 2 s" in one_line_error(err)
    assert time.monotonic() - started < 60 and not (tmp_path / "out" / "deck-notes.pdf").exists()


def test_build_limits_name_the_frame(tmp_path, capsys, monkeypatch):
    from derivgen.presentation import frames

    deck = write(tmp_path, "deck.yaml", DECK)
    code, _, _ = run(capsys, "build", str(deck), "-o", str(tmp_path / "ok"), "--tex-only", "--max-memory", "1024")
    assert code == 0
    monkeypatch.setattr(frames, "derive_task", lambda *args, **kwargs: sum(range(10**12)))
    started = time.monotonic()
    code, _, err = run(capsys, "build", str(deck), "-o", str(tmp_path / "out"), "--tex-only", "--time-limit", "1")
    assert code == 2 and time.monotonic() - started < 15
    assert re.search(r"deck\.yaml:3: frame 1 \('Chain'\): stopped: .*time limit of 1 s", one_line_error(err))
    assert not (tmp_path / "out").exists()


def answers(out_dir: Path) -> dict:
    """The one answer key of a build (its name says what was built: sheet-variants-answers.json, …)."""
    (path,) = out_dir.glob("sheet*-answers.json")
    return json.loads(path.read_text())


def test_seed_reproduces_and_changes_the_variants(tmp_path, capsys):
    sheet = write(tmp_path, "sheet.yaml", SHEET)
    drawn = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        out_dir = tmp_path / name
        code, _, _ = run(
            capsys, "build", str(sheet), "-o", str(out_dir), "--variants", "2", "--seed", seed, "--tex-only"
        )
        assert code == 0 and sorted(path.name for path in out_dir.glob("*.tex")) == [
            "sheet-v1-solutions.tex",
            "sheet-v1.tex",
            "sheet-v2-solutions.tex",
            "sheet-v2.tex",
        ]
        drawn[name] = {variant: data["exercises"][0] for variant, data in answers(out_dir).items()}
    x = sympy.Symbol("x")
    for exercises in drawn.values():
        for exercise in exercises.values():  # each variant's answer is the derivative of its own x**n
            n = int(exercise["parameters"]["n"])
            assert sympy.sympify(exercise["answer"]) == sympy.diff(x**n, x)
    assert drawn["a"] == drawn["b"]
    assert drawn["a"] != drawn["c"]
    assert drawn["a"]["Variant 1"] != drawn["a"]["Variant 2"]


def test_jobs_runs_the_variants_in_parallel(tmp_path, capsys, monkeypatch):
    pools = []

    class RecordingPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            pools.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", RecordingPool)
    sheet = write(tmp_path, "sheet.yaml", SHEET)
    code, _, _ = run(
        capsys, "build", str(sheet), "-o", str(tmp_path / "one"), "--variants", "2", "--jobs", "1", "--tex-only"
    )
    assert code == 0 and pools == []  # one process
    code, _, _ = run(
        capsys, "build", str(sheet), "-o", str(tmp_path / "two"), "--variants", "2", "--jobs", "2", "--tex-only"
    )
    assert code == 0 and pools == [2]
    assert answers(tmp_path / "one") == answers(tmp_path / "two")  # the same sheets either way


def test_roster_names_the_variants(tmp_path, capsys):
    sheet = write(tmp_path, "sheet.yaml", SHEET)
    roster = write(tmp_path, "students.csv", "name\nAnn Lee\nBo Chen\n")
    code, _, _ = run(capsys, "build", str(sheet), "-o", str(tmp_path / "out"), "--roster", str(roster), "--tex-only")
    assert code == 0 and sorted(answers(tmp_path / "out")) == ["Ann Lee", "Bo Chen"]


@pytest.mark.parametrize(
    ("kind", "args", "words"),
    [
        ("deck", ["--variants", "2"], "--variants does not apply with a deck"),
        ("deck", ["--roster", "ROSTER"], "--roster does not apply with a deck"),
        ("deck", ["--seed", "3"], "--seed does not apply with a deck"),
        ("deck", ["--jobs", "2"], "--jobs does not apply with a deck"),
        ("deck", ["--tex-only", "--timeout", "5"], "--timeout does not apply with --tex-only"),
        ("sheet", ["--format", "slides"], "--format does not apply with an exercise file"),
        ("sheet", ["--variants", "2", "--roster", "ROSTER"], "--variants and --roster"),
        ("sheet", ["--jobs", "2"], "--jobs does not apply with a single sheet"),
        ("sheet", ["--tex-only", "--timeout", "5"], "--timeout does not apply with --tex-only"),
        (
            "sheet",
            ["--variants", "2", "--jobs", "2", "--cluster", "tcp://127.0.0.1:1"],
            "--jobs and --cluster do not go together",
        ),
    ],
)
def test_build_refuses_options_that_do_not_fit(tmp_path, capsys, kind, args, words):
    path = write(tmp_path, f"{kind}.yaml", DECK if kind == "deck" else SHEET)
    roster = write(tmp_path, "students.csv", "name\nAnn Lee\n")
    args = [str(roster) if arg == "ROSTER" else arg for arg in args]
    code, _, err = run(capsys, "build", str(path), "-o", str(tmp_path / "out"), *args)
    assert code == 2 and words in one_line_error(err)
    assert not (tmp_path / "out").exists()  # refused before anything was built


def test_every_option_is_exercised_here():
    """A new option of any command fails this test until a test above uses it."""
    source = Path(__file__).read_text(encoding="utf-8")
    commands = [cli, *cli.commands.values()]
    missing = [
        f"{command.name} {max(param.opts, key=len)}"
        for command in commands
        for param in command.params
        if isinstance(param, click.Option) and not any(f'"{opt}"' in source for opt in param.opts)
    ]
    assert not missing, f"options no test in this file uses: {missing}"


def _result(out: str) -> str:
    """The text after ``result:`` in ``derivgen derive`` output."""
    found = re.search(r"^result: (.*?)(?:    \(.*\))?$", out, re.M)  # without "(every step checked)"
    assert found is not None, out
    return found.group(1)
