r"""Maths in text (issue 13): ``$…$`` in titles, intros, notes, prompts is checked inline maths.

The allow-list of :mod:`derivgen.input.mathtext`, the loaders' file:line:column on a refusal, the
``finalize`` hook that converts (and refuses again), and the real CLI with latexmk, read back with
pdftotext.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derivgen.calculus.rules import REGISTRY
from derivgen.documents.render import _finalize
from derivgen.input.mathtext import ALLOWED_COMMANDS, UNICODE_COMMANDS, MathTextError, check_math_text
from derivgen.input.spec import SpecError, load_deck, load_sheet
from derivgen.presentation.frames import text_blocks
from derivgen.presentation.text import Plain, escape_text, text_latex
from tests.test_build import pdf_text
from tests.test_cli import one_line_error, run, write

# --- the allow-list ---------------------------------------------------------------------------------------------

# (text, 0-based index of the culprit, a word of the message)
REFUSED = [
    (r"$\input{/etc/passwd}$", 1, r"\input"),
    (r"$\csname input\endcsname$", 1, r"\csname"),
    (r"$^^5cinput$", 1, "^^"),
    (r"$x^^5c$", 2, "^^"),
    (r"$\def\x{}$", 1, r"\def"),
    (r"$\catcode`\$=11$", 1, r"\catcode"),
    (r"$\write18{touch x}$", 1, r"\write"),
    (r"$\openin1=/etc/passwd$", 1, r"\openin"),
    (r"$\usepackage{shellesc}$", 1, r"\usepackage"),
    (r"$\begin{matrix} a \end{matrix}$", 1, "environments"),
    (r"$\text{anything}$", 1, "text mode"),
    (r"$\mbox{anything}$", 1, "text mode"),
    (r"$\operatorname{tr}\pdfobj$", 18, r"\pdfobj"),
    (r"$\simga$", 1, r"did you mean \sigma"),
    (r"$\makeatletter$", 1, r"\makeatletter"),
    (r"$a \\ b$", 3, r"\\"),
    ("$a\\\tb$", 2, "not allowed"),
    ("$a{b$", 2, "not closed"),
    (r"$\left( a$", 1, r"no \right"),
    (r"$a \right)$", 3, r"no \left"),
    ("$a}b$", 2, "closes no"),
    ("$a%b$", 2, "%"),
    ("$a#1$", 2, "#"),
    ("$a&b$", 2, "&"),
    ("$a~b$", 2, "~"),
    ('$a"b$', 2, '"'),
    ("$a@b$", 2, "@"),
    ("$a\x07b$", 2, r"'\x07'"),
    ("$a\x1bb$", 2, r"'\x1b'"),
    ("$ℵ$", 1, "ℵ"),
    ("$$", 0, "empty"),
    ("the price is $5", 13, "never closed"),
    (r"open $x\$", 5, "never closed"),
    (r"fine $x$ then $\input$", 15, r"\input"),
    ("$a\n\nb$", 2, "blank line"),
    ("$a\n- b$", 2, "bullet"),
]


@pytest.mark.parametrize(("text", "offset", "word"), REFUSED, ids=range(len(REFUSED)))
def test_refused_maths_names_the_culprit(text, offset, word):
    with pytest.raises(MathTextError) as caught:
        check_math_text(text)
    assert caught.value.offset == offset
    message = caught.value.one_line()
    assert word in message and "\n" not in message


def test_every_refusal_of_a_construct_says_what_is_allowed():
    with pytest.raises(MathTextError, match=r"allowed in \$…\$: letters, digits.*\\frac, \\sqrt"):
        check_math_text(r"$\input x$")


ACCEPTED = [
    ("no maths at all: 100% & #1 ~ _", escape_text("no maths at all: 100% & #1 ~ _")),
    (r"$\sigma(x)$", r"$\sigma(x)$"),
    (r"The slope of $f$, then $\frac{d}{dx} f$.", r"The slope of $f$, then $\frac{d}{dx} f$."),
    (r"costs \$5, or $x$ \$", r"costs \$5, or $x$ \$"),
    ("$x_0 + \\Delta x$\n goes", r"$x_0 + \Delta x$ goes"),
    ("maths over\n$a +\n  b$ lines", r"maths over $a + b$ lines"),
    ("$σ²$ and $∇ f · x$", r"$\sigma ^{2}$ and $\nabla f \cdot x$"),
    (r"$\{a\}\,\|x\|\;\!\ \$\%\_\&$", r"$\{a\}\,\|x\|\;\!\ \$\%\_\&$"),
    (r"$a$$b$", r"$a$$b$"),
    (r"  $\mathbf{x}^T \mathbf{M} \mathbf{x}$ with $\mathbf{M}$ symmetric ", None),
    (r"$\left( \frac{1}{2} \right)^{-1}, \hat{\theta}, \operatorname{tr}(\mathbf{A})$", None),
]


@pytest.mark.parametrize(("text", "latex"), ACCEPTED, ids=range(len(ACCEPTED)))
def test_allowed_maths_is_typeset_and_text_stays_escaped(text, latex):
    check_math_text(text)
    converted = text_latex(text)
    if latex is not None:
        assert converted == latex
    assert converted == converted.strip() and "\n" not in converted


def every_command_in_use() -> str:
    """Each allowed command as a lecturer would use it (with its arguments), in one maths."""
    two = {"frac", "dfrac", "tfrac", "binom"}
    one = {"sqrt", "boxed", "overline", "underline", "operatorname"}
    one |= {name for name in ALLOWED_COMMANDS if name.startswith(("math", "wide")) or name == "boldsymbol"}
    one |= set("hat bar tilde vec dot ddot check breve acute grave".split())
    delimiter = {name for name in ALLOWED_COMMANDS if re.fullmatch(r"[bB]ig+[lr]?", name)} | {"middle"}
    uses = []
    for name in sorted(ALLOWED_COMMANDS - {"left", "right"}):
        if name in two:
            uses.append(f"\\{name}{{a}}{{b}}")
        elif name in one:
            uses.append(f"\\{name}{{A}}")
        elif name in delimiter:
            uses.append(f"\\left( \\{name}| \\right)" if name == "middle" else f"\\{name}(")
        elif name in ("limits", "nolimits"):
            uses.append(f"\\sum\\{name}_{{i}}")
        else:
            uses.append(f"\\{name}")
    return "$" + " ".join(uses) + " x" + " x".join(UNICODE_COMMANDS) + "$"  # x: ᵀ² is a double superscript


def test_every_allowed_command_passes():
    check_math_text(every_command_in_use())
    for char in UNICODE_COMMANDS:
        check_math_text(f"${char}$")


def test_text_without_dollars_is_escaped_exactly_as_before():
    for text in ("plain", r"\input{x} % # & ~ ^ _ < > |", "σ → ∂ ∇ ²", "  spaced\n text  "):
        assert text_latex(text) == escape_text(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab $\\{}^%\n-σ", "\\alpha", "\\$", "\\input", "\n- ", "\n\n"])).map("".join))
def test_checked_text_converts_in_every_paragraph_and_bullet(text):
    """What passes the check at loading also passes where the templates print it, block by block."""
    try:
        check_math_text(text)
    except MathTextError as error:
        assert 0 <= error.offset < max(1, len(text))
        return
    for block in text_blocks(text):
        for piece in (block.paragraph, *block.bullets):
            if piece is not None:
                text_latex(piece)


def test_finalize_typesets_text_and_refuses_unchecked_maths():
    assert _finalize(r"on $\sigma$") == r"on $\sigma$"
    with pytest.raises(MathTextError):  # a value that slipped past the loader is refused, never emitted
        _finalize(r"$\input{/etc/passwd}$")
    assert _finalize(Plain(r"Ke$ha \$")) == r"Ke\$ha \textbackslash{}\$"  # data: dollars are dollars
    assert _finalize(3.5) == "3.5"


def test_no_rule_label_holds_a_dollar():
    """Rule labels go through finalize as text: a dollar in one would turn into maths."""
    assert not [rule.id for rule in REGISTRY if "$" in rule.label]


# --- loading names file:line:column ----------------------------------------------------------------------------

# (frame as written in the YAML, the text the reported line:column must point at)
WRITTEN = [
    ('  - title: "Quoted \\\\sigma $\\\\sigma \\\\input x$"\n    text: a\n', r"\\input"),
    ("  - title: T\n    text: |\n      First line $x$\n      second $\\alpha + \\def$ here\n", r"\def"),
    ("  - title: T\n    plot: x\n    intro: >\n      folded $x$\n\n      then $\\csname$\n", r"\csname"),
    ("  - title: T\n    notes: plain multi\n      line $\\y$\n", r"\y"),
    ("  - title: 'single ''q'' $\\z$'\n    text: x\n", r"\z"),
    ('  - title: "esc \\x41 \\u00e9 $\\\\omega\\t\\\\w$"\n    text: x\n', r"\\w"),
    ('  - title: "two \\\n      lines $a^^b$"\n    text: x\n', "^^b"),
    ("  - title: T\n    text: unclosed $a\n", "$a"),
    ('  - title: T\n    text: "  spaced $a{$"\n', "{$"),
    ("  - title: T\n    derive: x\n    intro: a $b$ c $\\x$\n", r"\x"),
    ("  - title: T\n    formulas: [x]\n    term: $\\Gamma$ and $\\gamma\\#$\n", r"\#"),
    ("  - title: T\n    formulas: [x]\n    after: $a&b$\n", "&b"),
]


@pytest.mark.parametrize(("frame", "culprit"), WRITTEN, ids=range(len(WRITTEN)))
def test_loading_names_file_line_and_column_of_the_culprit(tmp_path, frame, culprit):
    path = write(tmp_path, "deck.yaml", "title: Deck\nframes:\n" + frame)
    with pytest.raises(SpecError) as caught:
        load_deck(path)
    message = caught.value.one_line()
    located = re.match(re.escape(str(path)) + r":(\d+):(\d+): frames\[0\]\.\w+: ", message)
    assert located, message
    line, column = int(located.group(1)), int(located.group(2))
    assert path.read_text().splitlines()[line - 1][column - 1 :].startswith(culprit), message


def test_sheet_fields_are_checked_on_loading(tmp_path):
    sheet = "title: S\ninstructions: |\n  Fine $x$.\n\n  - bad $\\input$\nexercises:\n  - {derive: x**2, wrt: x}\n"
    with pytest.raises(SpecError, match=r"sheet\.yaml:5:10: instructions: in maths, \\input"):
        load_sheet(write(tmp_path, "sheet.yaml", sheet))
    part = "title: S\nexercises:\n  - parts:\n      - {derive: x, prompt: 'a $b'}\n"
    with pytest.raises(SpecError, match=r"sheet\.yaml:4:32: exercises\[0\]\.parts\[0\]\.prompt: this \$"):
        load_sheet(write(tmp_path, "sheet.yaml", part))


def test_keys_that_are_not_text_fields_are_not_maths(tmp_path):
    # a declared symbol may be called "title"; a date or a sheet number prints its dollar
    frame = "{title: T, derive: title.T*title, wrt: title, symbols: {title: vector(n)}}"
    deck = f"title: D\ndate: $5 day\nframes:\n  - {frame}\n"
    loaded, _ = load_deck(write(tmp_path, "deck.yaml", deck))
    assert loaded.date == "$5 day"


# --- the real CLI and TeX --------------------------------------------------------------------------------------

DECK = r"""title: 'Deck on $\sigma(x)$'
subtitle: 'with $\tau$'
author: 'A. $\lambda$ecturer'
course: 'Course $\kappa$'
institute: 'Institute $\xi$'
frames:
  - title: 'Slope of $\sigma(x)$'
    derive: sigmoid(x)
    intro: 'The intro of $\alpha$.'
    notes: 'Notes on $\beta$.'
  - kind: definition
    title: 'Definition of $\gamma$'
    text: 'Text with $\delta$.'
    term: 'Term $\epsilon$'
    formulas: [x]
    after: 'After $\zeta$.'
  - kind: text
    title: Paragraphs
    text: |
      A paragraph with $\eta
      + 1$ across a line break.

      - a bullet with $\theta$
      - a price of \$5
  - kind: text
    title: Every allowed command
    text: 'ALLCOMMANDS'
"""

SHEET = r"""title: 'Sheet on $\sigma$'
course: 'Course $\omega$'
instructions: 'Read $\pi$ first.'
exercises:
  - title: 'Exercise $\rho$'
    prompt: 'Differentiate $\phi(x)$.'
    derive: x**2
  - title: Parts
    prompt: 'Both parts use $\psi$.'
    parts:
      - {prompt: 'Part $\chi$:', derive: x**3}
"""


def _no_source_maths(text: str) -> None:
    assert "$" not in text.replace("$5", "") and r"\sigma" not in text, text


@pytest.mark.slow
def test_maths_in_every_text_field_of_every_format(tmp_path):
    out = tmp_path / "out"
    every = every_command_in_use().replace("'", "''")  # TeX compiles each command of the allow-list
    for name, text in (("deck", DECK.replace("ALLCOMMANDS", every)), ("sheet", SHEET)):
        done = subprocess.run(
            [sys.executable, "-m", "derivgen", "build", str(write(tmp_path, f"{name}.yaml", text)), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr
    slides, handout, notes = (pdf_text(out / f"deck{suffix}.pdf") for suffix in ("", "-handout", "-notes"))
    for text in (slides, handout, notes):
        _no_source_maths(text)
        assert all(letter in text for letter in "στλκξαγδϵζηθ"), text
        assert "a price of $5" in text and re.search(r"η\s*\+\s*1 across", text)
    assert "β" in notes  # the speaker notes: in the notes version (beamer shows them only with show notes)
    for suffix in ("", "-solutions"):
        text = pdf_text(out / f"sheet{suffix}.pdf")
        _no_source_maths(text)
        assert all(letter in text for letter in "σωπρϕψχ"), text  # \\phi prints ϕ


HOSTILE_MATHS = [
    r"$\input{/etc/passwd}$",
    r"$\csname input\endcsname{/etc/passwd}$",
    r"$^^5cinput{/etc/passwd}$",
    r"$\def\x{\x}\x$",
    r"an unmatched $ dollar",
]


@pytest.mark.parametrize("maths", HOSTILE_MATHS, ids=range(len(HOSTILE_MATHS)))
@pytest.mark.parametrize("kind", ["deck", "sheet"])
def test_hostile_maths_is_refused_before_anything_is_written(tmp_path, capsys, maths, kind):
    if kind == "deck":
        text = f"title: D\nframes:\n  - title: T\n    derive: x**2\n    intro: 'see {maths} here'\n"
        where = r":5:\d+: frames\[0\]\.intro: "
    else:
        text = f"title: S\nexercises:\n  - derive: x**2\n    prompt: 'see {maths} here'\n"
        where = r":4:\d+: exercises\[0\]\.prompt: "
    path = write(tmp_path, f"{kind}.yaml", text)
    out = tmp_path / "out"
    code, _, err = run(capsys, "build", str(path), "-o", str(out))
    assert code != 0
    message = one_line_error(err)
    assert re.search(re.escape(str(path)) + where, message), message
    assert not out.exists() or not any(out.iterdir())
    assert not Path("PWNED").exists()


def test_examples_write_their_maths_as_maths():
    """The picture says x₀ and Δx: so does the intro; no maths is left spelled as code."""
    root = Path(__file__).resolve().parent.parent / "examples"
    deck, _ = load_deck(root / "dnn_supplementary.yaml")
    keys = ("title", "intro", "text", "after", "term")
    texts = " ".join(str(getattr(frame, key, None) or "") for frame in deck.frames for key in keys)
    assert r"$(x_0, f(x_0))$" in texts and r"$\Delta x$" in texts
    for spelled in ("x0", " dx", "f1", "x^T M x"):
        assert spelled not in texts.replace("$", " "), spelled
    load_deck(root / "matrix_cookbook.yaml")
    load_sheet(root / "exercise_sheet.yaml")
