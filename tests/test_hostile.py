"""Hostile and malformed input, across the whole tool (issue 8).

The promise: derivgen either produces correct output or stops with one clear DerivgenError naming
file and line; it never runs code from its input, reads or writes outside the build folder, hangs,
or lets another exception escape.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
import sympy
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sympy import Symbol

from derivgen import DerivgenError, LimitExceeded, ParseError, UnsupportedExpression, VerificationError, derive, parse
from derivgen.calculus.matrix_engine import derive_matrix
from derivgen.cli import main
from derivgen.documents.build import BuildError, build_deck
from derivgen.input.spec import SpecError, load_deck, load_sheet
from tests.conftest import same_function
from tests.matrix_numeric import finite_differences, numeric
from tests.strategies import malformed_texts

HOSTILE_EXPRESSIONS = [
    "__import__('os').system('touch PWNED')",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', '', 'eval')",
    "open('/etc/passwd')",
    "getattr(x, 'y')",
    "globals()",
    "lambda: 1",
    "[x for x in y]",
    "{x for x in y}",
    "(x for x in y)",
    "{x: 1}",
    "f'{x}'",
    "b'x'",
    "x if y else z",
    "(y := 1)",
    "x; import os",
    "import os",
    "x = 1",
    "*x",
    "x @ y",
    "await x",
    "yield x",
    "x\0",
    "x\u202e + 1",  # a bidi override
    "ｘ + 1",  # a full-width letter
    "+".join(["x"] * 100_000),  # 10⁵ terms
    "(" * 10_000 + "x" + ")" * 10_000,  # nesting 10⁴ deep
    "-" * 10_000 + "x",
    "x**" * 3000 + "x",
    "9**9**9**9",
    "x**(10**100)",
    "10**10**10",
    "1" * 5000,
    "1e999999999",
    "0x" + "f" * 100,
    "sin(" * 200 + "x" + ")" * 200,
    "Piecewise((x, __import__('os')), (1, True))",
]


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS, ids=range(len(HOSTILE_EXPRESSIONS)))
def test_hostile_expressions_are_refused_cleanly(text):
    with pytest.raises(DerivgenError) as caught:
        derive(text, "x")
    assert "\n" not in caught.value.one_line()
    assert not Path("PWNED").exists()


HOSTILE_MATRIX = ["x.__class__", "x.T.__dict__", "M.T.T.I", "inv(x)", "tr(x)", "det(M)**x.T", "x.T*M*x*M"]


@pytest.mark.parametrize("text", HOSTILE_MATRIX)
def test_hostile_matrix_expressions_are_refused_cleanly(text):
    with pytest.raises(DerivgenError):
        derive_matrix(text, "x", {"x": "vector(n)", "M": "matrix(n, m)"})


HOSTILE_YAML = [
    "title: !!python/object/apply:os.system ['touch PWNED']\nframes: []\n",
    "title: !!python/name:os.system\nframes: []\n",
    "title: !!python/module:os\nframes: []\n",
    "title: !!binary aGVsbG8=\nframes: []\n",
    "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "- just\n- a list\n",
    "just a string\n",
    "~\n",
    "title: [1, 2]\nframes: []\n",
    "title: T\nframes: 3\n",
    "title: T\nframes: [3]\n",
    "title: T\nrows_per_frame: many\nframes: [{title: A, text: a}]\n",
    "title: T\nframes: [{title: A, derive: x, wrtt: x}]\n",
    "title: T\noutput: /etc\nframes: [{title: A, text: a}]\n",
    "title: T\ntemplates: /etc\nframes: [{title: A, text: a}]\n",
    "title: 'broken\nframes: []\n",
    "title: T\n\tframes: []\n",
    "title: T\ntitle: U\nframes: []\n",
    "base: &b {title: A}\nframes:\n  - <<: *b\n",
    "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "",
]


@pytest.mark.parametrize("text", HOSTILE_YAML, ids=range(len(HOSTILE_YAML)))
def test_hostile_yaml_is_refused_with_file_and_line(tmp_path, text):
    path = tmp_path / "deck.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_deck(path)
    assert caught.value.one_line().startswith(str(path))
    assert not Path("PWNED").exists()


def test_binary_and_huge_files(tmp_path):
    path = tmp_path / "deck.yaml"
    for content in (
        bytes(range(256)) * 100,
        b"\xff\xfe" + "title: T".encode("utf-16-le"),
        b"title: " + b"x" * 3_000_000,
    ):
        path.write_bytes(content)
        with pytest.raises(SpecError):
            load_deck(path)


@pytest.mark.slow
@pytest.mark.parametrize("latex", [r"\def\x{\x}\x", r"\loop\iftrue\repeat"])
def test_endless_tex_is_stopped(tmp_path, latex):
    deck = tmp_path / "deck.yaml"
    deck.write_text(f"title: T\nframes:\n  - kind: text\n    title: Loop\n    latex: '{latex}'\n")
    with pytest.raises(BuildError, match="did not finish"):
        build_deck(deck, tmp_path / "out", formats=("notes",), timeout=2, trust_latex=True)
    assert not (tmp_path / "out" / "deck-notes.pdf").exists()


def test_cli_never_shows_a_traceback(tmp_path, capsys):
    for text in HOSTILE_EXPRESSIONS[:12]:
        assert main(["derive", text, "--wrt", "x"]) == 2
    path = tmp_path / "deck.yaml"
    for content in HOSTILE_YAML[:6]:
        path.write_text(content)
        assert main(["build", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("derivgen: error:") == 18


def test_same_input_same_tex(tmp_path):
    deck = Path(__file__).resolve().parent.parent / "examples" / "dnn_supplementary.yaml"
    build_deck(deck, tmp_path / "one", formats=("slides",), tex_only=True)
    build_deck(deck, tmp_path / "two", formats=("slides",), tex_only=True)
    assert (tmp_path / "one" / "dnn_supplementary.tex").read_bytes() == (
        tmp_path / "two" / "dnn_supplementary.tex"
    ).read_bytes()


# -- fuzzing: only derivgen's own errors escape, and everything that comes out is right ----------------


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed_texts())
def test_fuzz_parser_and_engine(text):
    """Near misses of valid expressions (a character deleted, inserted, repeated …) and noise:
    a ParseError/LimitExceeded, or a derivative equal to sympy.diff of what was parsed.  A
    VerificationError (a wrong rule) or any other exception is a bug."""
    try:
        parsed = parse(text)
    except (ParseError, LimitExceeded):
        event("refused by the parser")
        return
    event("parsed")
    try:
        derivation = derive(text, "x")
    except (UnsupportedExpression, LimitExceeded):
        event("refused by the engine")
        return
    variable = next((s for s in parsed.free_symbols if s.name == "x"), Symbol("x", real=True))
    assert same_function(derivation.result, sympy.diff(parsed, variable)), (text, derivation.result)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
deck_like = st.fixed_dictionaries(
    {
        "title": yaml_values,
        "frames": st.lists(
            st.dictionaries(
                st.sampled_from(["title", "derive", "wrt", "kind", "text", "rules", "plot", "x", "detail", "order"]),
                yaml_values,
                max_size=5,
            ),
            max_size=3,
        ),
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.one_of(deck_like, yaml_values))
@example({"title": "a $", "frames": [{"title": "T", "text": "t"}]})  # maths in text: refused with line and column
def test_fuzz_deck_loader(tmp_path, data):
    """A deck that loads holds what the file says; a refused one names the file and a line in it."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        deck, _ = load_deck(path)
    except SpecError as error:
        assert_names_file_and_line(error, path)
    else:
        assert deck.title == str(data["title"]).strip()
        assert len(deck.frames) == len(data["frames"])
    with contextlib.suppress(SpecError):
        load_sheet(path)


def assert_names_file_and_line(error: SpecError, path: Path) -> None:
    located = re.match(re.escape(str(path)) + r":(\d+)?(?::\d+)?:? ", error.one_line())  # line, and column in a text
    assert located, error.one_line()
    # YAML counts NEL (\x85) and the Unicode line separators as line breaks, like str.splitlines
    lines = max(1, len(path.read_bytes().decode("utf-8", errors="replace").splitlines()))
    assert located.group(1) is None or 1 <= int(located.group(1)) <= lines + 1, error.one_line()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_fuzz_bytes(tmp_path, content):
    path = tmp_path / "bytes.yaml"
    path.write_bytes(content)
    try:
        deck, _ = load_deck(path)
    except SpecError as error:
        assert_names_file_and_line(error, path)
    else:  # only a valid deck in YAML gets here
        assert deck.title and deck.frames


matrix_text = st.recursive(
    st.sampled_from(["x", "M*x", "A.T*x", "a"]),
    lambda inner: (
        st.builds(lambda u, v: f"{u}.T*{v}", inner, inner)
        | st.builds(lambda u: f"tanh({u})", inner)
        | st.builds(lambda u, v: f"({u} + {v})", inner, inner)
        | st.builds(lambda u: f"hadamard({u}, {u})", inner)
    ),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrix_text)
@example("hadamard(x, x).T*tanh(M*x)")  # x ∘ x became HadamardPower, which the checker could not evaluate
def test_fuzz_matrix_engine(text):
    symbols = {"x": "vector(n)", "a": "vector(n)", "M": "matrix(n, n)", "A": "matrix(n, n)"}
    try:
        calculus = derive_matrix(text, "x", symbols)
    except VerificationError:
        raise  # a failed check is a bug, never an acceptable refusal
    except DerivgenError:
        event("refused")
        return
    event("derived")
    # the gradient against numpy's central differences of the function, at a random size and values
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    size = int(rng.integers(2, 5))
    values = {name: rng.normal(size=(size, 1 if kind.startswith("vector") else size)) for name, kind in symbols.items()}
    sizes = {"n": size}
    gradient = np.atleast_2d(np.asarray(numeric(calculus.result, values, sizes), dtype=float))
    differences = finite_differences(lambda v: numeric(calculus.expression, v, sizes), values, "x")
    np.testing.assert_allclose(gradient, differences.T, rtol=1e-5, atol=1e-6, err_msg=text)  # a row (seed layout)


@pytest.mark.slow
def test_pdfs_are_reproducible_with_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    deck = tmp_path / "deck.yaml"
    deck.write_text("title: T\nframes:\n  - {title: A, derive: x**2*sin(x)}\n")
    build_deck(deck, tmp_path / "one", formats=("notes",))
    build_deck(deck, tmp_path / "two", formats=("notes",))
    assert (tmp_path / "one" / "deck-notes.pdf").read_bytes() == (tmp_path / "two" / "deck-notes.pdf").read_bytes()
