"""The command line: output, JSON, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from derivgen.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_prints_steps_with_labels(capsys):
    code, out, err = run(capsys, "derive", "(x^2 + 2)^3", "--wrt", "x")
    assert code == 0 and err == ""
    assert "[chain rule]" in out and "with u = x**2 + 2" in out
    assert "result: 6*x*(x**2 + 2)**2" in out


def test_json_output(capsys):
    code, out, _ = run(capsys, "derive", "x*sin(x)", "--wrt", "x", "--json")
    data = json.loads(out)
    assert code == 0 and data["wrt"] == "x" and data["steps"][0]["rule"] == "product"


def test_latex_output(capsys):
    code, out, _ = run(capsys, "derive", "sin(x)", "--latex")
    assert code == 0 and r"\text{derivative of sin}" in out


@pytest.mark.parametrize("detail", ["full", "normal", "brief"])
def test_detail_levels(capsys, detail):
    code, out, _ = run(capsys, "derive", "x^2*exp(x)", "--detail", detail)
    assert code == 0 and "result:" in out


def test_positive_variable(capsys):
    code, out, _ = run(capsys, "derive", "abs(log(x))", "--positive", "x")
    assert code == 0 and "sign(log(x))/x" in out


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
    assert code == 0 and "result: [['y', 'x'], ['cos(x)', '0']]" in out
    code, out, _ = run(capsys, "derive", "--expr", "x*y", "--expr", "x + y", "-x", "x", "-x", "y", "--json")
    assert code == 0 and json.loads(out)["kind"] == "jacobian"
    code, out, _ = run(capsys, "derive", "x^2*y^3", "-x", "x", "-x", "y", "--order", "2", "--latex")
    assert code == 0 and r"H_{(x, y)}" in out
    code, out, _ = run(capsys, "derive", "sin(x)", "--order", "2")
    assert code == 0 and "result: -sin(x)" in out


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
    assert code == 0 and "[requires M to be symmetric]" in out and "result: 2*x.T*M" in out
    assert "checked by finite differences" in out
    code, out, _ = run(
        capsys, "derive", "a.T*x", "-x", "x", "-s", "a=vector(n)", "-s", "x=vector(n)", "--layout", "shape", "--latex"
    )
    assert code == 0 and r"\nabla_{\mathbf{x}}" in out
    code, _, err = run(capsys, "derive", "A*x", "-x", "x", "-s", "A=matrix(n, m)", "-s", "x=vector(n)")
    assert code == 2 and "cannot multiply" in err and err.count("\n") == 1
    code, _, err = run(capsys, "derive", "x.T*x", "-x", "x", "-s", "x")
    assert code == 2 and "NAME=SHAPE" in err
