# ruff: noqa: E501  (log lines as TeX writes them: max_print_line=10000)
"""The first error of a TeX log, in one line: errors inside a package's file and pdfTeX's own errors too
(they were "TeX produced no PDF (no error found in its log)")."""

from __future__ import annotations

import pytest

from derivgen.documents.compile import TexError, _error_from_log, compile_tex

FONTSPEC_LOG = """\
(/usr/share/texlive/texmf-dist/tex/latex/fontspec/fontspec.sty
/usr/share/texlive/texmf-dist/tex/latex/fontspec/fontspec.sty:45: Fatal Package fontspec Error: The fontspec package requires either XeTeX or
(fontspec)                      LuaTeX.

l.45 \\msg_fatal:nn {fontspec} {cannot-use-pdftex}
"""
PGF_LOG = """\
/usr/share/texlive/texmf-dist/tex/generic/pgf/math/pgfmathparser.code.tex:1234: Package PGF Math Error: Unknown function `foo'.
"""
PDFTEX_LOG = """\
LaTeX Font Info:    ... okay on input line 2.

!pdfTeX error: pdflatex: cannot find image file missing.png
 ==> Fatal error occurred, no output PDF file produced!
"""
OWN_LOG = """\
./deck.tex:12: Undefined control sequence.
<argument> \\foo
"""


@pytest.mark.parametrize(
    ("log", "message", "line"),
    [
        (
            FONTSPEC_LOG,
            "TeX error: Fatal Package fontspec Error: The fontspec package requires either XeTeX or "
            "(in fontspec.sty, line 45)",
            None,
        ),
        (
            PGF_LOG,
            "TeX error: Package PGF Math Error: Unknown function `foo'. (in pgfmathparser.code.tex, line 1234)",
            None,
        ),
        (PDFTEX_LOG, "TeX error: pdfTeX error: cannot find image file missing.png", None),
        (OWN_LOG, "TeX error: Undefined control sequence.", 12),
    ],
)
def test_first_error_of_a_log(log, message, line):
    error = _error_from_log(log)
    assert error.one_line() == message and error.line == line


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("\\usepackage{fontspec}\n\\begin{document}\nx\n", "fontspec.sty, line"),
        ("\\begin{document}\nx\\pdfximage{missing.png}\n", "pdfTeX error: cannot find image file missing.png"),
    ],
)
def test_real_tex_errors_outside_the_source_are_found(body, words):
    with pytest.raises(TexError) as caught:
        compile_tex(f"\\documentclass{{article}}\n{body}\\end{{document}}\n", "errors", single_pass=True)
    message = caught.value.one_line()
    assert words in message and "no error found" not in message, message
