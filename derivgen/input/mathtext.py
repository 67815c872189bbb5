r"""Maths in free text: ``$…$`` in titles, intros, notes, prompts is typeset as inline mathematics.

Free text is escaped so that it prints literally; only what stands between two dollars is passed to
TeX, and only after a tokenizer has checked it against the allow-list below: math mode only, letters,
digits, ordinary punctuation and a closed list of commands.  Nothing that reads files, defines
macros, changes catcodes or leaves math mode can pass (``\input``, ``\def``, ``\csname``,
``\catcode``, ``^^5c``, ``\text``, ``\begin``, ``%``, ``#``, ``&``).  A literal dollar is ``\$``.

Validation runs when a file is loaded (errors name ``file:line:column``); the templates' ``finalize``
hook converts text with :func:`math_text_latex`, which checks again and refuses rather than emit
maths that has not been checked.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from ..errors import DerivgenError

# -- the allow-list: every command a maths in text may use ---------------------------------------------

_GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi pi "
    "varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega "
    "varGamma varDelta varTheta varLambda varXi varPi varSigma varUpsilon varPhi varPsi varOmega"
)
_OPERATORS = (
    "cdot times div pm mp ast star circ bullet odot otimes oplus cup cap setminus wedge vee "
    "sum prod coprod int iint iiint oint bigcup bigcap bigoplus bigotimes "
    "lim liminf limsup sup inf min max arg det dim ker deg gcd exp log ln lg Pr "
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth limits nolimits operatorname"
)
_RELATIONS = (
    "leq geq le ge neq ne approx equiv sim simeq cong propto ll gg in notin ni subset subseteq supset supseteq "
    "to gets mapsto rightarrow leftarrow leftrightarrow Rightarrow Leftarrow Leftrightarrow implies impliedby iff "
    "uparrow downarrow mid parallel perp forall exists neg lnot land lor"
)
_SYMBOLS = (
    "infty partial nabla ell hbar Re Im aleph emptyset varnothing prime top intercal dagger "
    "ldots cdots vdots ddots dots dotsc dotsb dotsm "
    "langle rangle lvert rvert lVert rVert vert Vert lfloor rfloor lceil rceil"
)
_STRUCTURE = (
    "frac dfrac tfrac binom sqrt boxed overline underline "
    "hat bar tilde vec dot ddot check breve acute grave widehat widetilde "
    "mathbf boldsymbol mathrm mathit mathbb mathcal mathsf mathtt "
    "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr "
    "quad qquad displaystyle textstyle"
)
ALLOWED_COMMANDS: frozenset[str] = frozenset(" ".join((_GREEK, _OPERATORS, _RELATIONS, _SYMBOLS, _STRUCTURE)).split())
r"""Control words (without the backslash) a maths in text may use.  ``\text``, ``\mbox`` and the like
are not here: their argument is text mode, where anything could be written."""

ALLOWED_SYMBOLS = frozenset([*r", ; : ! { } | $ % _ &".split(), " "])
r"""Control symbols (``\,`` ``\;`` ``\:`` ``\!`` ``\ `` spacing; ``\{`` ``\}`` ``\|`` ``\$`` ``\%`` ``\_``
``\&`` print their character)."""

ALLOWED_CHARACTERS = frozenset("+-*/=<>()[]|,.;:!?'^_{}")
"""Characters besides ASCII letters, digits and white space.  Refused: ``%`` (a comment would swallow
the closing dollar), ``#`` (macro parameters), ``&`` (alignment), ``~``, ``"``, ``@``, `` ` ``."""

# a few Unicode symbols lecturers type, written as their commands (every Greek letter TeX has as well)
UNICODE_COMMANDS: dict[str, str] = {
    "−": "-",
    "·": r"\cdot",
    "×": r"\times",
    "±": r"\pm",
    "≤": r"\leq",
    "≥": r"\geq",
    "≠": r"\neq",
    "≈": r"\approx",
    "→": r"\to",
    "∈": r"\in",
    "∞": r"\infty",
    "∇": r"\nabla",
    "∂": r"\partial",
    "∑": r"\sum",
    "ᵀ": "^{T}",
    "²": "^{2}",
    "³": "^{3}",
}
for _name in _GREEK.split():
    if not _name.startswith("var"):
        _size = "CAPITAL" if _name[0].isupper() else "SMALL"
        _letter = "LAMDA" if _name.lower() == "lambda" else _name.upper()
        UNICODE_COMMANDS[unicodedata.lookup(f"GREEK {_size} LETTER {_letter}")] = "\\" + _name
UNICODE_COMMANDS.update({"ε": r"\varepsilon", "φ": r"\varphi"})  # the shapes the Unicode letters have

ALLOWED_SUMMARY = (
    "allowed in $…$: letters, digits, + - * / = < > ( ) [ ] | , . ; : ! ? ' ^ _ { } and commands such as "
    r"\alpha…\Omega, \frac, \sqrt, \mathbf, \sum, \int, \partial, \nabla, \cdot, \leq, \hat (the README lists them)"
)


class MathTextError(DerivgenError):
    """A maths in text is malformed or uses what is not allowed; ``offset`` is the culprit's index (0-based)."""

    def __init__(self, message: str, offset: int):
        self.message = message
        self.offset = offset
        super().__init__(message)


# -- splitting text at the dollars ---------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of text (printed literally) or of maths (``math``: the source between the dollars)."""

    text: str
    math: bool
    offset: int  # index of the segment's first character in the field (after the dollar for maths)


def segments(text: str) -> list[Segment]:
    r"""``text`` cut at its dollars; ``\$`` is a literal dollar.  Every maths segment is checked."""
    parts: list[Segment] = []
    plain: list[str] = []
    plain_start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text.startswith("$", i + 1):
            plain.append("$")
            i += 2
        elif char == "$":
            end = _closing_dollar(text, i + 1)
            if end is None:
                raise MathTextError(r"this $ opens maths that is never closed (a literal dollar is written \$)", i)
            parts.append(Segment("".join(plain), False, plain_start))
            source = text[i + 1 : end]
            check_math(source, i + 1)
            parts.append(Segment(source, True, i + 1))
            plain, plain_start = [], end + 1
            i = end + 1
        else:
            plain.append(char)
            i += 1
    parts.append(Segment("".join(plain), False, plain_start))
    return [part for part in parts if part.text or part.math]


def _closing_dollar(text: str, start: int) -> int | None:
    r"""Index of the dollar that closes maths opened before ``start`` (``\$`` inside maths is a dollar sign)."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "$":
            return i
        i += 1
    return None


# -- checking one maths --------------------------------------------------------------------------------

_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")
# a maths that runs on to a line starting a bullet, or across a blank line, would be cut in two
# where the text is split into paragraphs and bullets
_BLOCK_BREAK = re.compile(r"\n[ \t]*\n|\n[ \t]*[-*] ")


def check_math(source: str, offset: int = 0) -> None:
    """Refuse maths that uses anything outside the allow-list; ``offset``: where ``source`` starts in its field."""
    if not source.strip():
        raise MathTextError(r"empty maths $$ (a literal dollar is written \$)", offset - 1)
    broken = _BLOCK_BREAK.search(source)
    if broken:
        raise MathTextError(
            "maths may not run across a blank line or on to a line starting a bullet; keep it in one paragraph",
            offset + broken.start(),
        )
    depth: list[int] = []  # positions of the open braces
    lefts: list[int] = []  # positions of the open \left (TeX stops on one without its \right)
    i = 0
    while i < len(source):
        char = source[i]
        where = offset + i
        if char == "\\":
            word = _CONTROL_WORD.match(source, i)
            if word:
                _check_command(word.group(1), where)
                if word.group(1) == "left":
                    lefts.append(where)
                elif word.group(1) == "right" and not lefts:
                    raise MathTextError("this \\right has no \\left before it in the maths", where)
                elif word.group(1) == "right":
                    lefts.pop()
                i = word.end()
                continue
            symbol = source[i + 1 : i + 2]
            if symbol not in ALLOWED_SYMBOLS:
                shown = repr(symbol) if symbol and not symbol.isprintable() else symbol
                raise MathTextError(f"in maths, \\{shown} is not allowed; {ALLOWED_SUMMARY}", where)
            i += 2
            continue
        if char == "^" and source.startswith("^", i + 1):
            raise MathTextError(f"in maths, ^^ (TeX's character codes) is not allowed; {ALLOWED_SUMMARY}", where)
        if char == "{":
            depth.append(where)
        elif char == "}":
            if not depth:
                raise MathTextError("this } closes no { in the maths", where)
            depth.pop()
        elif not _allowed_character(char):
            shown = repr(char) if not char.isprintable() else char
            raise MathTextError(f"in maths, the character {shown} is not allowed; {ALLOWED_SUMMARY}", where)
        i += 1
    if depth:
        raise MathTextError("this { is not closed within the maths", depth[-1])
    if lefts:
        raise MathTextError("this \\left has no \\right after it in the maths", lefts[-1])


def _allowed_character(char: str) -> bool:
    if char.isascii():
        return char.isalnum() or char in ALLOWED_CHARACTERS or char in " \t\n"
    return char in UNICODE_COMMANDS


_REASONS = {
    "text": "text mode: end the maths and write the words outside the dollars",
    "mbox": "text mode: end the maths and write the words outside the dollars",
    "begin": "environments are for the latex: and formulas: fields",
    "end": "environments are for the latex: and formulas: fields",
}


def _check_command(name: str, where: int) -> None:
    if name in ALLOWED_COMMANDS:
        return
    close = difflib.get_close_matches(name, ALLOWED_COMMANDS, n=1, cutoff=0.8)  # \simga, not \input → \int
    hint = f" (did you mean \\{close[0]}?)" if close else f" ({_REASONS[name]})" if name in _REASONS else ""
    raise MathTextError(f"in maths, \\{name} is not allowed{hint}; {ALLOWED_SUMMARY}", where)


def check_math_text(text: str) -> None:
    """Refuse a text field whose ``$…$`` maths is malformed or not allowed (raises :class:`MathTextError`)."""
    segments(text)


# -- to LaTeX ------------------------------------------------------------------------------------------


def math_latex(source: str) -> str:
    """Checked maths (the source of one ``$…$``) on one line, its Unicode symbols written as commands."""
    written = "".join(
        (UNICODE_COMMANDS[char] + (" " if UNICODE_COMMANDS[char][-1].isalpha() else ""))
        if char in UNICODE_COMMANDS
        else char
        for char in source
    )
    return " ".join(written.split())


# -- raw LaTeX: the latex: (text mode) and formulas: (math mode) fields of a deck ----------------------

RAW_MATH_COMMANDS: frozenset[str] = ALLOWED_COMMANDS | frozenset(
    "colon not mid nmid cdotp vdots smallsetminus bmod pmod mod lbrace rbrace lbrack rbrack backslash "
    "substack overbrace underbrace overset underset stackrel xrightarrow xleftarrow cfrac "
    "longrightarrow Longrightarrow longleftarrow Longleftarrow longmapsto hookrightarrow nearrow searrow "
    "leqslant geqslant lesssim gtrsim prec succ preceq succeq ll gg "
    "scriptstyle scriptscriptstyle phantom vphantom hphantom mathstrut nonumber notag hline "
    "enspace thinspace negthinspace bigm Bigm biggm Biggm "
    "text textbf textit textrm textsf texttt emph mbox begin end".split()
)
r"""Control words a ``formulas:`` entry (and maths inside ``latex:``) may use: those of ``$…$`` in text,
environments (:data:`MATH_ENVIRONMENTS`), alignment and ``\text{…}``, whose argument is checked as text."""

RAW_TEXT_COMMANDS: frozenset[str] = frozenset(
    "textbf textit textsl textsc textup textrm textsf texttt textmd textnormal emph underline "
    "bfseries itshape slshape scshape upshape mdseries rmfamily sffamily ttfamily normalfont em "
    "tiny scriptsize footnotesize small normalsize large Large LARGE huge Huge "
    "par item newline linebreak noindent indent centering raggedright raggedleft "
    "hfill vfill hspace vspace medskip smallskip bigskip quad qquad enspace textwidth linewidth columnwidth "
    "ldots dots textendash textemdash textbullet textbackslash textasciitilde textasciicircum textbar "
    "textless textgreater S P dag ddag copyright LaTeX TeX today "
    "alert structure pause textcolor color begin end".split()
)
r"""Control words of the text of a ``latex:`` field.  Nothing that reads or writes files, defines
macros, changes catcodes or expands a name (``\input``, ``\def``, ``\csname``, ``\catcode``,
``\pdfobj``, ``\immediate``, ``\makeatletter``, ``\verb``) is here."""

TEXT_TO_MATH = frozenset("equation equation* align align* gather gather* multline multline* displaymath".split())
MATH_ENVIRONMENTS = frozenset(
    "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases dcases aligned alignedat gathered split "
    "array subarray".split()
)
TEXT_ENVIRONMENTS = frozenset(
    "itemize enumerate description center flushleft flushright quote quotation "
    "block alertblock exampleblock columns column tabular minipage".split()
)
_TEXT_ARGUMENT = frozenset("text textbf textit textrm textsf texttt emph mbox".split())  # maths → text
_COLUMN_SPEC = re.compile(r"\{[lcr| ]+\}")  # tabular/array: no @{…}, p{…}, >{…}, whose insides run as code
_ENVIRONMENT_NAME = re.compile(r"\{([A-Za-z]+\*?)\}")
_TEXT_SYMBOLS = frozenset("\\%$&#_{} ,;:!-()[]/'\"`^~.=@")
_MATH_SYMBOLS = ALLOWED_SYMBOLS | frozenset(["\\", ")", "]"])
RAW_SUMMARY = (
    r"raw LaTeX may use text commands such as \textbf, \emph, \item, \par, \\, environments such as "
    r"itemize, enumerate, center, align*, bmatrix, cases, and the commands of $…$ maths (the README lists "
    "them); derivgen build --trust-latex lifts this check for your own files"
)


@dataclass
class _Group:
    closer: str  # "}", "$", "\\)", "\\]" or "\\end{name}"
    math: bool
    where: int


def check_raw_latex(source: str, math: bool, offset: int = 0) -> None:
    r"""Refuse raw LaTeX (``formulas:`` with ``math=True``, ``latex:`` with ``math=False``) that uses
    anything outside the allow-lists above; ``offset``: where ``source`` starts in its field."""
    stack: list[_Group] = []
    in_math = math
    text_argument = False  # the next { opens a text argument (\text{…} in maths)
    i = 0
    while i < len(source):
        char = source[i]
        where = offset + i
        if char == "\\":
            word = _CONTROL_WORD.match(source, i)
            if word is None:
                symbol = source[i + 1 : i + 2]
                closer = stack[-1].closer if stack else ""
                if not in_math and symbol in "([":
                    stack.append(_Group("\\)" if symbol == "(" else "\\]", in_math, where))
                    in_math = True
                elif in_math and symbol in ")]" and closer == "\\" + symbol:
                    in_math = stack.pop().math
                elif symbol not in (_MATH_SYMBOLS if in_math else _TEXT_SYMBOLS) or symbol in ")]":
                    shown = repr(symbol) if symbol and not symbol.isprintable() else symbol
                    raise MathTextError(f"\\{shown} is not allowed here; {RAW_SUMMARY}", where)
                i += 2
                continue
            name = word.group(1)
            allowed = RAW_MATH_COMMANDS if in_math else RAW_TEXT_COMMANDS
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.8)
                hint = f" (did you mean \\{close[0]}?)" if close else ""
                raise MathTextError(f"\\{name} is not allowed in raw LaTeX{hint}; {RAW_SUMMARY}", where)
            i = word.end()
            if name in ("begin", "end"):
                i, in_math = _environment(source, i, name, in_math, stack, offset, where)
            elif in_math and name in _TEXT_ARGUMENT:
                text_argument = True
            continue
        if char == "^" and source.startswith("^", i + 1):
            raise MathTextError(f"^^ (TeX's character codes) is not allowed; {RAW_SUMMARY}", where)
        if char == "{":
            stack.append(_Group("}", in_math, where))
            if text_argument:
                in_math, text_argument = False, False
        elif char == "}":
            if not stack or stack[-1].closer != "}":
                raise MathTextError("this } closes no { of this field", where)
            in_math = stack.pop().math
        elif char == "$":
            if in_math and stack and stack[-1].closer == "$":
                in_math = stack.pop().math
            elif in_math:
                raise MathTextError("a $ inside maths (a literal dollar is written \\$)", where)
            else:
                if source.startswith("$", i + 1):
                    raise MathTextError("$$ is not allowed: write \\[ … \\] for displayed maths", where)
                stack.append(_Group("$", in_math, where))
                in_math = True
        elif char == "%":
            raise MathTextError("% starts a TeX comment: write \\% for a percent sign", where)
        elif char == "#":
            raise MathTextError("# (a macro parameter) is not allowed: write \\# for the sign", where)
        elif not _raw_character(char, in_math):
            shown = repr(char) if not char.isprintable() else char
            raise MathTextError(f"the character {shown} is not allowed here; {RAW_SUMMARY}", where)
        if char not in " \t\n" and char != "{":
            text_argument = False
        i += 1
    if stack:
        opened = stack[-1]
        openers = {"}": "{", "$": "$", "\\)": "\\(", "\\]": "\\["}
        what = openers.get(opened.closer, opened.closer.replace("end", "begin"))
        raise MathTextError(f"this {what} is not closed within the field", opened.where)


def _raw_character(char: str, math: bool) -> bool:
    if char in "\t\n":
        return True
    if math:
        return _allowed_character(char) or char in "&~"
    return char.isprintable()


def _environment(
    source: str, i: int, command: str, in_math: bool, stack: list[_Group], offset: int, where: int
) -> tuple[int, bool]:
    r"""Check ``\begin{name}``/``\end{name}`` at ``source[i:]``; the index after it and the mode inside."""
    named = _ENVIRONMENT_NAME.match(source, i)
    if named is None:
        raise MathTextError(f"\\{command} needs an environment name in braces, e.g. \\{command}{{itemize}}", where)
    name = named.group(1)
    i = named.end()
    if command == "end":
        if not stack or stack[-1].closer != f"\\end{{{name}}}":
            raise MathTextError(f"\\end{{{name}}} ends no \\begin{{{name}}} of this field", where)
        return i, stack.pop().math
    allowed = MATH_ENVIRONMENTS if in_math else TEXT_ENVIRONMENTS | TEXT_TO_MATH
    if name not in allowed:
        listed = ", ".join(sorted(allowed))
        raise MathTextError(f"the environment {name} is not allowed here (allowed: {listed})", where)
    stack.append(_Group(f"\\end{{{name}}}", in_math, where))
    if name in ("tabular", "array"):
        spec = _COLUMN_SPEC.match(source, i)
        if spec is None:
            raise MathTextError(f"{name} columns are written with l, c, r and | only, e.g. {{lcr}}", offset + i)
        i = spec.end()
    return i, in_math or name in TEXT_TO_MATH
