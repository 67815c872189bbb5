"""Deck frames → what the templates show: plain strings and lists, never sympy.

Every value a template prints is escaped for LaTeX unless it is a :class:`Latex` string: the
LaTeX we generate from sympy, rule statements, and the deck fields meant for raw LaTeX.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from ..calculus.front import derive, derive_one, only_variable
from ..calculus.model import ChainInfo, Derivation, DerivationResult, Part
from ..calculus.rules import REGISTRY
from ..calculus.rules.base import mul
from ..calculus.rules.chain import outer_derivative_at
from ..calculus.rules.final_form import RESULT_FORMS, ResultError, refuse_misspelt_form
from ..calculus.worker import HardLimitExceeded, run_limited
from ..errors import DerivgenError
from ..input.matrices import declare, parse_matrix, substitute_written
from ..input.parser import check_substitution, parse
from ..input.spec import (
    Deck,
    DefinitionFrame,
    DerivationFrame,
    PictureSpec,
    PlotFrame,
    RulesFrame,
    SourceMap,
    SpecError,
    Task,
    TextFrame,
)
from .lines import DisplayLine, Occurrences, display_lines, line_forms
from .matrices import collect_forms, left_side, matrix_latex
from .page_check import PageCheckError, check_rows
from .plots import Picture, picture
from .printer import changed_path, rule_statement, to_latex
from .text import Latex, escape_text


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, or a list of bullet points (lines starting with "- ")."""

    paragraph: str | None = None
    bullets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """One line of a derivation: ``lhs = rhs`` with the rules' label, revealed at ``overlay``."""

    lhs: Latex
    rhs: Latex
    rhs_highlighted: Latex  # the changed part wrapped in \alert<overlay| handout:0>{…}
    label: str
    overlay: int
    notes: tuple[Latex, ...] = ()
    steps: tuple[int, ...] = ()  # indices into the derivation's steps, for error messages
    # as set on the page (by the layout): the row cut into lines, and the size it is set at
    lines: tuple[Latex, ...] = ()
    lines_highlighted: tuple[Latex, ...] = ()
    scale: float = 1.0
    lhs_above: bool = False  # the left side on a line of its own above the row (wide rows)

    def __post_init__(self) -> None:
        if not self.lines:  # one line, at the normal size, until the layout says otherwise
            object.__setattr__(self, "lines", (self.rhs,))
            object.__setattr__(self, "lines_highlighted", (self.rhs_highlighted,))


@dataclass(frozen=True)
class Piece:
    """The rows of a derivation that fit on one slide."""

    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class RuleItem:
    label: str
    statement: Latex


@dataclass
class PresentedFrame:
    """One deck frame, ready for a template."""

    number: int
    kind: str
    title: str
    intro: tuple[TextBlock, ...] = ()
    notes: tuple[TextBlock, ...] = ()
    # derivation
    rows: tuple[Row, ...] = ()
    pieces: tuple[Piece, ...] = ()
    substitution: tuple[Latex, ...] = ()
    result: str = ""  # LaTeX
    rows_per_frame: int | None = None  # at most this many rows on one slide
    label_width: float | None = None  # points: the rule-label column, widened where the lines leave room
    # text and definition
    text: tuple[TextBlock, ...] = ()
    latex: str = ""  # raw LaTeX from the deck
    term: str = ""
    formulas: tuple[Latex, ...] = ()
    after: tuple[TextBlock, ...] = ()
    # rules
    rules: tuple[RuleItem, ...] = ()
    # plot
    picture: Picture | None = None
    sources: list[str] = field(default_factory=list)  # LaTeX of each row, to name a step in errors


def text_blocks(text: str | None) -> tuple[TextBlock, ...]:
    """Free text → paragraphs (split at blank lines) and bullet lists (lines starting "- ")."""
    if not text:
        return ()
    blocks: list[TextBlock] = []
    for chunk in text.split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith(("- ", "* ")) for line in lines):
            blocks.append(TextBlock(bullets=tuple(line[2:].strip() for line in lines)))
        else:
            blocks.append(TextBlock(paragraph=" ".join(lines)))
    return tuple(blocks)


def present_deck(deck: Deck, source: SourceMap) -> list[PresentedFrame]:
    """Derive every derivation in the deck and lay every frame out for the templates."""
    return [present_frame(deck, source, index) for index in range(len(deck.frames))]


def present_frame(deck: Deck, source: SourceMap, index: int) -> PresentedFrame:
    """The deck's frame ``index`` (0-based) for the templates: its number, messages and file:line are
    those of its place in the whole deck (an incremental build presents only the frames that changed)."""
    frame = deck.frames[index]
    number = index + 1
    if isinstance(frame, DerivationFrame):
        location = ("frames", index, "derive")
        return _limited(source.where(location), number, frame.title, _derivation, frame, deck, number, source, location)
    if isinstance(frame, RulesFrame):
        return _rules(frame, number, source, index)
    if isinstance(frame, PlotFrame):
        where = source.where(("frames", index, "plot"))
        return _limited(where, number, frame.title, _plot, frame, number, where)
    if isinstance(frame, DefinitionFrame):
        return PresentedFrame(
            number,
            "definition",
            frame.title,
            notes=text_blocks(frame.notes),
            term=frame.term or "",
            text=text_blocks(frame.text),
            formulas=tuple(Latex(formula) for formula in frame.formulas),
            after=text_blocks(frame.after),
        )
    assert isinstance(frame, TextFrame), f"a deck frame of an unknown kind: {type(frame).__name__}"
    return PresentedFrame(
        number,
        "text",
        frame.title,
        notes=text_blocks(frame.notes),
        text=text_blocks(frame.text),
        latex=Latex(frame.latex or ""),
    )


def _limited(where: str, number: int, title: str, work: Callable[..., PresentedFrame], *args) -> PresentedFrame:
    """A frame's derivation (or picture) worked out in a worker process under the hard limits
    (``--time-limit``, ``--max-memory``); a limit met is reported with the frame's file:line."""
    try:
        return run_limited(work, *args)
    except HardLimitExceeded as error:
        raise SpecError(f"{where}: frame {number} ({title!r}): {error.one_line()}") from None


def draw_picture(spec: PictureSpec, substitutions: dict | None = None) -> Picture:
    """The picture of a plot frame or an exercise (with a variant's numbers put in)."""
    return picture(spec.plot, spec.x, spec.y, spec.x0, spec.dx, list(spec.show), substitutions)


def _plot(frame: PlotFrame, number: int, where: str) -> PresentedFrame:
    try:
        drawn = draw_picture(frame)
    except (DerivgenError, ValueError) as error:
        message = error.one_line() if isinstance(error, DerivgenError) else str(error)
        raise SpecError(f"{where}: frame {number} ({frame.title!r}): {message}") from None
    return PresentedFrame(
        number, "plot", frame.title, intro=text_blocks(frame.intro), notes=text_blocks(frame.notes), picture=drawn
    )


def _rules(frame: RulesFrame, number: int, source: SourceMap, index: int) -> PresentedFrame:
    known = [rule.id for rule in REGISTRY]
    items = []
    for position, rule_id in enumerate(frame.rules):
        if rule_id not in known:
            hint = difflib.get_close_matches(rule_id, known, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else "; `derivgen rules` lists them"
            where = source.where(("frames", index, "rules", position))
            raise SpecError(f"{where}: unknown rule {rule_id!r}{suggestion}")
        rule = REGISTRY[rule_id]
        items.append(RuleItem(rule.label[:1].upper() + rule.label[1:], Latex(rule_statement(rule))))
    return PresentedFrame(
        number, "rules", frame.title, intro=text_blocks(frame.intro), notes=text_blocks(frame.notes), rules=tuple(items)
    )


def derive_task(task: Task, substitutions: dict | None = None) -> DerivationResult:
    """Derive what a deck frame or an exercise asks for; ``substitutions`` puts drawn numbers in
    for parameters (after parsing: the text is never formatted)."""
    substitutions = substitutions or {}
    if task.symbols is not None:
        if not isinstance(task.derive, str) or not isinstance(task.wrt, str):
            raise DerivgenError("matrix calculus takes one expression (derive) and one variable (wrt)")
        declared = {name: declare(name, spec) for name, spec in task.symbols.items()}
        function = substitute_written(parse_matrix(task.derive, declared, written=True), substitutions)
        return derive(
            function,
            task.wrt,
            symbols=task.symbols,
            assume=task.assume,
            layout=task.layout,
            result=task.result,
            as_written=True,
        )
    texts = task.derive if isinstance(task.derive, list) else [task.derive]
    expressions = [_substitute(parse(text, written=True), substitutions, written=True) for text in texts]
    wrt = task.wrt if task.wrt is not None else only_variable(*expressions)
    function = expressions if isinstance(task.derive, list) else expressions[0]
    result = task.result
    if result is not None and result.strip() not in RESULT_FORMS:  # the lecturer's own form, with the drawn numbers
        refuse_misspelt_form(result)
        result = _substitute(parse(result, written=True), substitutions, written=True)
    return derive(
        function, wrt, order=task.order, positive=task.positive, method=task.method, as_written=True, result=result
    )


def _substitute(expression, substitutions: dict, written: bool = False):
    """The drawn numbers put in; in a written expression they keep its order of terms, and the
    numbers that meet are worked out (a·2x with a = 3 reads 6x, x^(a-1) reads x^2)."""
    if not substitutions:
        return expression
    by_name = {symbol: substitutions[symbol.name] for symbol in expression.free_symbols if symbol.name in substitutions}
    if not by_name:
        return expression
    check_substitution(expression, by_name)  # gamma(n) with n = 10**8 is refused, not computed
    if not written:
        return expression.xreplace(by_name)
    return _replace_written(expression, by_name)


def _replace_written(node: sympy.Basic, by_name: dict) -> sympy.Basic:
    if node in by_name:
        return by_name[node]
    if node.is_Atom or not node.args:
        return node
    args = [_replace_written(arg, by_name) for arg in node.args]
    if not node.free_symbols & set(by_name):
        return node
    return _rebuilt(node, args)


def _rebuilt(node: sympy.Basic, args: list) -> sympy.Basic:
    """``node`` with new arguments: a constant part evaluated, numbers of a sum or product merged
    into one where the first stood, everything else in the written order."""
    if all(not arg.free_symbols for arg in args) and isinstance(node, sympy.Expr):
        return node.func(*args)
    if isinstance(node, sympy.Add | sympy.Mul):
        numbers = [arg for arg in args if arg.is_Number]
        absorbing = isinstance(node, sympy.Mul) and sympy.S.Zero in numbers
        if len(numbers) > 1 or absorbing or (numbers and numbers[0] == node.identity):
            merged = node.func(*numbers)
            first = args.index(numbers[0])
            rest = [arg for arg in args if not arg.is_Number]
            if isinstance(node, sympy.Mul) and merged == 0:
                return sympy.S.Zero
            if merged != node.identity:
                rest.insert(min(first, len(rest)), merged)
            args = rest
        if len(args) == 1:
            return args[0]
        if not args:
            return node.identity
    with sympy.evaluate(False):
        return node.func(*args)


def derivation_rows(derivation: DerivationResult, detail: str) -> tuple[tuple[Row, ...], str]:
    """The displayed rows of any result, part after part, and the LaTeX of the result."""
    rows: tuple[Row, ...] = ()
    lines: list[DisplayLine] = []
    for part in derivation.parts:
        if part.collected is not None:
            rows += _collect_rows(part, detail, first_overlay=len(rows) + 1)
            lines = []
        else:
            assert part.derivation is not None, "a part shows either lines or a collecting step"
            start = left_side(part.left, part.derivation.start, part.derivation.partial)
            lines = display_lines(part.derivation, detail)  # grouped and printed once, for rows and answer
            rows += _rows(part.derivation, detail, first_overlay=len(rows) + 1, lhs=start, lines=lines)
    result = derivation.result
    if isinstance(result, sympy.MatrixBase):
        return rows, matrix_latex(result, True)
    last = derivation.parts[-1].derivation
    if lines:  # the boxed answer is the last line as shown: σ(x)(1 - σ(x)), not sympy's reordering of it
        answer = lines[-1]  # its memo holds the line's print: the same text, not printed again
        return rows, to_latex(answer.expression, last.partial, written=answer.written, memo=answer.memo)  # type: ignore[union-attr]
    return rows, to_latex(result, written=derivation.left.written)


def error_location(task: Task, error: DerivgenError, source: SourceMap, location: tuple) -> str:
    """``file:line`` of a task's expression (or of its ``result:``), and ``:column`` of the culprit
    for a parse error."""
    column = getattr(error, "column", None)
    text = getattr(error, "text", None)
    if isinstance(error, ResultError) or (text is not None and text == task.result):
        return source.where_in((*location[:-1], "result"), column)
    if isinstance(task.derive, list):
        text = getattr(error, "text", None)
        if text in task.derive:
            location = (*location, task.derive.index(text))
    return source.where_in(location, column)


def _derivation(frame: DerivationFrame, deck: Deck, number: int, source: SourceMap, location: tuple) -> PresentedFrame:
    where = source.where(location)
    try:
        derivation = derive_task(frame)
    except DerivgenError as error:
        where = error_location(frame, error, source, location)
        raise SpecError(f"{where}: frame {number} ({frame.title!r}): {error.one_line()}") from None
    try:
        rows, result = derivation_rows(derivation, frame.detail or deck.detail)
    except PageCheckError as error:
        raise SpecError(f"{where}: frame {number} ({frame.title!r}): {error.one_line()}") from None
    presented = PresentedFrame(
        number,
        "derivation",
        frame.title,
        intro=text_blocks(frame.intro),
        notes=text_blocks(frame.notes),
        rows=rows,
        rows_per_frame=frame.rows_per_frame or deck.rows_per_frame,
        result=Latex(result),
        sources=[row.rhs for row in rows],
    )
    if frame.style == "substitution":
        (first, *more) = derivation.parts
        if more or first.derivation is None or first.left.notation != "derivative":
            raise SpecError(f"{where}: frame {number} ({frame.title!r}): the substitution style is for one variable")
        presented.substitution = _substitution(first.derivation, where, number, frame.title)
    return presented


def _rows(
    derivation: Derivation,
    detail: str,
    first_overlay: int = 1,
    lhs: str | None = None,
    lines: list[DisplayLine] | None = None,
) -> tuple[Row, ...]:
    """The displayed lines of one derivation, revealed from overlay ``first_overlay`` on; ``lhs``
    replaces the derivative written out as the left side (``(∇_x f)_i`` in index notation);
    ``lines``: its :func:`display_lines`, where the caller has them."""
    partial = derivation.partial
    written = derivation.written
    operator = to_latex(derivation.start, partial, operator=True, written=written)
    start = Latex(lhs if lhs is not None else operator)
    lines = display_lines(derivation, detail) if lines is None else lines
    if not lines:  # already final: d/dx f(x) = f'(x)
        result = Latex(to_latex(derivation.result, partial, written=written))
        return (Row(start, result, result, "", first_overlay),)
    rows: list[Row] = []
    previous, previous_tex = derivation.start, operator
    step_index = 0
    counted = Occurrences()  # kept from line to line: each line counts only what changed
    for position, line in enumerate(lines):
        plain = line_forms(line, partial)
        last_overlay = first_overlay + len(rows) + len(plain) - 1  # the expression itself is the last form
        path = changed_path(previous, line.expression)
        highlighted = plain
        if path is not None and len(plain) == 1:
            changed = line.expression
            for index in path:
                changed = changed.args[index]
            highlight = (changed, r"\alert<%d| handout:0>{%s}" % (last_overlay, "%s"))
            counts = counted.of(line.expression, previous, path)
            highlighted = line_forms(line, partial, highlight, previous_tex, counts, path)
        steps = tuple(range(step_index, step_index + len(line.steps)))
        # a line with several forms (row · column = Σ = …) gets a row for each form
        for form, (tex, tex_highlighted) in enumerate(zip(plain, highlighted, strict=True)):
            first = form == 0
            rows.append(
                Row(
                    lhs=start if position == 0 and first else Latex(""),
                    rhs=Latex(tex),
                    rhs_highlighted=Latex(tex_highlighted),
                    label=line.label if first else "",
                    overlay=first_overlay + len(rows),
                    notes=tuple(Latex(f"{escape_text(label)}: {note}") for label, note in line.notes) if first else (),
                    steps=steps,
                )
            )
        step_index += len(line.steps)
        previous, previous_tex = line.expression, plain[-1]
    check_rows(rows, operator)  # by construction; a violation is a bug, reported like a failed step check
    return tuple(rows)


def _collect_rows(part: Part, detail: str, first_overlay: int) -> tuple[Row, ...]:
    """The line that collects the entries' derivations into the matrix (one row for each form)."""
    assert part.collected is not None and part.collected.collect is not None
    label = part.collected.collect.label
    rows = []
    for form, tex in enumerate(collect_forms(part.collected, detail)):
        lhs = Latex(left_side(part.left) if form == 0 else "")
        rows.append(Row(lhs, Latex(tex), Latex(tex), label if form == 0 else "", first_overlay + form))
    return tuple(rows)


def _substitution(derivation: Derivation, where: str, number: int, title: str) -> tuple[Latex, ...]:
    """The seed's chain-rule layout: h = g(f(x)), g(u) and g'(u), f(x) and f'(x), h'(x)."""
    first = derivation.steps[0] if derivation.steps else None
    if first is None or not isinstance(first.chain, ChainInfo) or first.path != ():
        # h(f(x), g(x)) has several inner functions (the multivariate chain rule): no single g(f(x))
        raise SpecError(
            f"{where}: frame {number} ({title!r}): the substitution style needs an expression whose "
            "outermost rule is the chain rule through one inner function; use style: inline"
        )
    chain = first.chain
    x, u = derivation.wrt, chain.variable
    inner_derivation = derive_one(chain.inner, x)
    inner_derivative = inner_derivation.lecturer_result
    chained = mul(outer_derivative_at(chain.outer_derivative, u, chain.inner), inner_derivative)
    X, U = to_latex(x), to_latex(u)
    h, g, f = _composition_names(derivation.expression)
    items = [
        rf"{h}({X}) = {to_latex(derivation.expression)} = {g}\bigl({f}({X})\bigr)",
        rf"{g}({U}) = {to_latex(chain.outer)} \qquad {g}'({U}) = {to_latex(chain.outer_derivative)}",
        rf"{f}({X}) = {to_latex(chain.inner)} \qquad {f}'({X}) = {to_latex(inner_derivative)}",
        rf"{h}'({X}) = {g}'\bigl({f}({X})\bigr)\, {f}'({X}) = {to_latex(chained)}"
        + ("" if chained == derivation.result else rf" = {to_latex(derivation.result)}"),
    ]
    return tuple(Latex(item) for item in items)


def _composition_names(expression: sympy.Expr) -> tuple[str, str, str]:
    """Names for h = g ∘ f that the expression does not use itself: in h(x) = f(x² + 1) the
    lecturer's generic f would stand for two different functions on one slide."""
    used = {symbol.name for symbol in expression.free_symbols}
    used |= {str(function.func) for function in expression.atoms(sympy.Function)}
    for names in (("h", "g", "f"), ("H", "G", "F"), ("r", "q", "p")):
        if not used & set(names):
            return names
    return ("h", "g", "f")  # every letter taken: the definitions on the slide still say which is which
