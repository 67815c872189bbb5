"""The ``derivgen`` command line.

Errors a user can cause are printed as one line on stderr with a non-zero exit status (2 for
bad input, 3 for a step that did not check); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from . import __version__
from .calculus.worker import DEFAULT_MEMORY_MB, DEFAULT_SECONDS
from .errors import DerivgenError
from .options import DETAILS

if TYPE_CHECKING:
    from .calculus.model import DerivationResult

FORMAT_CHOICES = ("slides", "handout", "notes", "all", "moodle")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="derivgen")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def cli(debug: bool) -> None:
    """Step-by-step derivatives with named, checked rules, for lecture slides."""


def _limit_options(command: Callable) -> Callable:
    """--time-limit and --max-memory: the hard limits of one derivation (its worker process)."""
    command = click.option(
        "--max-memory",
        type=click.IntRange(64, 1 << 20),
        default=DEFAULT_MEMORY_MB,
        show_default=True,
        metavar="MB",
        help="Memory (address space, MB) one derivation may use; over it, it is stopped (exit status 2).",
    )(command)
    return click.option(
        "--time-limit",
        type=click.FloatRange(0.1, 3600),
        default=DEFAULT_SECONDS,
        show_default=True,
        metavar="SECONDS",
        help="Seconds (wall clock and CPU) one derivation may take, printing included; over it, it is "
        "stopped (exit status 2).",
    )(command)


@cli.command("derive")
@click.argument("expression", required=False)
@click.option("--expr", "-e", "more", multiple=True, metavar="EXPR", help="A function of a Jacobian (repeatable).")
@click.option("--wrt", "-x", multiple=True, help="Variable to differentiate by; repeat for a gradient.")
@click.option(
    "--order",
    "-n",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="2 with several variables: the Hessian; with one: the second derivative.",
)
@click.option(
    "--detail",
    type=click.Choice(DETAILS),
    default="normal",
    show_default=True,
    help="full: every step; normal: trivial steps merged; brief: main rules only.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole trace as JSON.")
@click.option("--latex", "as_latex", is_flag=True, help="Print the align* body in LaTeX.")
@click.option("--positive", multiple=True, metavar="NAME", help="Treat variable NAME as positive (repeatable).")
@click.option(
    "--symbol",
    "-s",
    "symbol_specs",
    multiple=True,
    metavar="NAME=SHAPE",
    help="Declare a vector or matrix: x=vector(n), M=matrix(n, n), lam=scalar (repeatable).",
)
@click.option(
    "--assume",
    multiple=True,
    metavar="FACT",
    help="symmetric(M), positive_definite(S), invertible(X), positive_determinant(X), sums_to_one(y).",
)
@click.option(
    "--layout",
    type=click.Choice(["row", "shape"]),
    default="row",
    show_default=True,
    help="Gradient by a column vector: a row (the seed's convention) or the variable's shape.",
)
@click.option(
    "--method",
    type=click.Choice(["rules", "limit"]),
    default="rules",
    show_default=True,
    help="rules: the rule engine; limit: from the limit of the difference quotient.",
)
@click.option(
    "--max-steps",
    type=click.IntRange(1, 100000),
    default=2000,
    show_default=True,
    help="Refuse a derivation that needs more steps.",
)
@_limit_options
@click.option(
    "--result",
    "result",
    default=None,
    metavar="FORM",
    help="How the result ends: shortest (default), factor, expand, cancel, as-derived, or an expression "
    "it is rewritten as (proved equal).",
)
@click.option("--no-verify", is_flag=True, help="Do not check the steps (faster; not for slides).")
def derive_command(
    expression: str | None,
    more: tuple[str, ...],
    wrt: tuple[str, ...],
    order: int,
    detail: str,
    as_json: bool,
    as_latex: bool,
    positive: tuple[str, ...],
    symbol_specs: tuple[str, ...],
    assume: tuple[str, ...],
    layout: str,
    method: str,
    max_steps: int,
    time_limit: float,
    result: str | None,
    no_verify: bool,
    max_memory: int,
) -> None:
    """Derive an expression step by step: derivgen derive "(x^2 + 2)^3" --wrt x.

    Several --wrt give the gradient (a row vector); a list "[f1, f2]" or several --expr give the
    Jacobian; --order 2 gives the Hessian or the second derivative, --order 3 and more by several
    variables the tensor of partial derivatives, printed as its slices.  The derivation (reading,
    deriving, checking, printing) runs in a worker process under --time-limit and --max-memory.
    """
    from .calculus.worker import HardLimitExceeded, run_limited, using_hard_limits

    texts = ([expression] if expression is not None else []) + list(more)
    if not texts:
        raise click.UsageError("give an EXPRESSION (or --expr for each function of a Jacobian)")
    ctx = click.get_current_context()
    _refuse_together(ctx, "as_json", "as_latex", "choose one output")
    _refuse_together(ctx, "as_json", "detail", "the JSON holds every step, whatever the detail")
    if method == "limit":
        # the limit method takes one function of one variable and no engine limits (derive() refuses
        # several functions or variables itself); the hard limits (--time-limit, --max-memory) hold
        _refuse_with(ctx, ("symbol_specs", "assume", "layout", "order", "max_steps", "result"), "--method limit")
    symbols = None
    if symbol_specs:
        _refuse_with(ctx, ("positive", "order", "result"), "--symbol (a matrix derivative)")
        if len(texts) != 1 or len(wrt) != 1:
            raise click.UsageError("a matrix derivative takes one EXPRESSION and one --wrt")
        symbols = dict(_symbol_spec(spec) for spec in symbol_specs)
        if len(symbols) != len(symbol_specs):
            raise click.UsageError("--symbol declares each name once")
    else:
        for name in ("assume", "layout"):
            if _given(ctx, name):
                raise click.UsageError(
                    f"{_flag(ctx, name)} is for matrix derivatives: declare the shapes with --symbol"
                )
    request = _DeriveRequest(
        texts, wrt, order, positive, symbols, tuple(assume), layout, method, max_steps, time_limit, result, no_verify
    )
    try:
        with using_hard_limits(time_limit, max_memory):
            text = run_limited(_derived_text, request, detail, as_json, as_latex)
    except HardLimitExceeded as error:
        what = ", ".join(texts)
        raise HardLimitExceeded(
            f"derivative of {what[:60]}{'…' if len(what) > 60 else ''}: {error.one_line()}"
        ) from None
    click.echo(text)


@dataclass(frozen=True)
class _DeriveRequest:
    texts: list[str]
    wrt: tuple[str, ...]
    order: int
    positive: tuple[str, ...]
    symbols: dict[str, str] | None
    assume: tuple[str, ...]
    layout: str
    method: str
    max_steps: int
    time_limit: float
    result: str | None
    no_verify: bool


def _derived_text(request: _DeriveRequest, detail: str, as_json: bool, as_latex: bool) -> str:
    """What ``derive`` prints (runs in the worker: reading the text, deriving and printing are limited)."""
    from .calculus.engine import EngineLimits
    from .calculus.front import derive, only_variable
    from .input.parser import parse_list

    limits = EngineLimits(max_steps=request.max_steps, max_seconds=request.time_limit)
    verify = not request.no_verify
    wrt = request.wrt
    if request.symbols is not None:
        matrix = derive(
            request.texts[0],
            wrt[0],
            symbols=request.symbols,
            assume=request.assume,
            layout=request.layout,
            verify=verify,
            limits=limits,
        )
        return _output(matrix, detail, as_json, as_latex)
    functions = [function for text in request.texts for function in parse_list(text)]
    names = {symbol.name for function in functions for symbol in function.free_symbols}
    for name in request.positive:
        if name not in names:
            raise click.UsageError(f"--positive {name}: the expression has no variable {name}")
    if not wrt:
        wrt = (only_variable(*functions),)
    several = len(functions) > 1
    derivation = derive(
        functions if several else functions[0],
        list(wrt) if len(wrt) > 1 else wrt[0],
        order=request.order,
        verify=verify,
        positive=request.positive,
        method=request.method,
        limits=limits,
        result=request.result,
    )
    return _output(derivation, detail, as_json, as_latex)


def _output(derivation: DerivationResult, detail: str, as_json: bool, as_latex: bool) -> str:
    from .presentation.body import result_body
    from .presentation.printer import to_latex

    if as_json:
        return json.dumps(derivation.to_dict(to_latex), indent=2)
    if as_latex:
        return result_body(derivation, detail)
    from .presentation.notebook import result_text

    return result_text(derivation, detail)


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user set the option ``name`` (rather than leaving its default)."""
    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _flag(ctx: click.Context, name: str) -> str:
    """The option as the user types it: ``max_steps`` → ``--max-steps``."""
    option = next(param for param in ctx.command.params if param.name == name)
    return max(option.opts, key=len)


def _refuse_with(ctx: click.Context, names: Sequence[str], reason: str) -> None:
    """A usage error naming the first of the options ``names`` the user gave; they do not apply under ``reason``."""
    for name in names:
        if _given(ctx, name):
            raise click.UsageError(f"{_flag(ctx, name)} does not apply with {reason}")


def _refuse_together(ctx: click.Context, first: str, second: str, why: str) -> None:
    if _given(ctx, first) and _given(ctx, second):
        raise click.UsageError(f"{_flag(ctx, first)} and {_flag(ctx, second)} do not go together: {why}")


def _symbol_spec(spec: str) -> tuple[str, str]:
    name, equals, shape = spec.partition("=")
    if not equals:
        raise click.UsageError(f"--symbol takes NAME=SHAPE such as x=vector(n), not {spec!r}")
    return name.strip(), shape.strip()


@cli.command("rules")
def rules_command() -> None:
    """List the rules derivgen knows, with their ids and general statements."""
    from .calculus.rules import REGISTRY
    from .presentation.printer import rule_statement

    for rule in REGISTRY:
        click.echo(f"{rule.id:28} {rule.label:32} {rule_statement(rule)}")


def _deck_options(command: Callable) -> Callable:
    """The options of a deck build, shared by build and watch."""
    options = [
        click.option(
            "-o",
            "--output",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("output"),
            show_default=True,
            help="Folder for the PDFs and their .tex.",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice([*FORMAT_CHOICES, "html"]),
            default="all",
            show_default=True,
            help="slides; handout (one frame a page, and two a page on A4); notes (an article); all; "
            "html (one self-contained page; exercise files: the sheet and its solutions); "
            "moodle (exercise files: a Moodle XML quiz, with --variants N).",
        ),
        click.option(
            "--templates",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder of templates that override the built-in ones of the same name.",
        ),
        click.option("--tex-only", is_flag=True, help="Write the .tex files, do not run TeX."),
        click.option(
            "--timeout",
            type=click.FloatRange(1, 3600),
            default=120,
            show_default=True,
            help="Seconds TeX may take for one document.",
        ),
        click.option(
            "--trust-latex",
            is_flag=True,
            help="Decks: typeset latex: and formulas: as written, without the allow-list of commands "
            "(only for your own files: raw LaTeX can then do anything TeX can; see README, Threat model).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command("build")
@click.argument("decks", nargs=-1, required=True, metavar="FILE...", type=click.Path(dir_okay=False, path_type=Path))
@_deck_options
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@click.option(
    "--variants",
    type=click.IntRange(0, 10000),
    default=0,
    help="Exercise files: build N variants with their own numbers (-v1 … -vN).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Exercise files: seed of the drawn numbers.")
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Exercise files: a CSV of students or groups; one variant each, named after them.",
)
@click.option(
    "--jobs", type=click.IntRange(1, 256), help="Variants and several files: parallel processes (default: all cores)."
)
@click.option(
    "--cluster",
    metavar="tcp://HOST:PORT",
    help="Run the variants (and the files) on this Dask scheduler's workers (pip install 'derivgen[dask]').",
)
@_limit_options
def build_command(
    decks: tuple[Path, ...],
    out_dir: Path,
    fmt: str,
    templates: Path | None,
    tex_only: bool,
    force: bool,
    timeout: float,
    variants: int,
    seed: int,
    roster: Path | None,
    jobs: int | None,
    cluster: str | None,
    time_limit: float,
    max_memory: int,
    trust_latex: bool,
) -> None:
    """Build decks (slides, handouts, notes) and exercise files (sheets and solutions) into PDFs.

    An exercise file (one with `exercises:`) gives DECK.pdf and DECK-solutions.pdf, or one pair per
    variant with --variants N or --roster students.csv, and an answer key: DECK-answers.json,
    DECK-variants-answers.json or DECK-roster-students-answers.json.  Several files, and the variants,
    are built in parallel: on all cores, or on a Dask cluster with --cluster tcp://HOST:PORT.
    """
    from .calculus.worker import using_hard_limits
    from .documents.compile import install_signal_handlers
    from .input.spec import is_exercise_file

    install_signal_handlers()  # SIGTERM/SIGINT: TeX dies with derivgen, its folders are removed
    ctx = click.get_current_context()
    ctx.with_resource(using_hard_limits(time_limit, max_memory))  # each derivation frame, each sheet exercise
    if tex_only:
        _refuse_with(ctx, ("timeout",), "--tex-only (TeX does not run)")
    _refuse_together(ctx, "jobs", "cluster", "the cluster's workers run the jobs")
    if fmt == "moodle":
        _build_quiz(ctx, decks, out_dir, templates, variants, seed)
        return
    if fmt == "html":
        _refuse_with(ctx, ("tex_only", "timeout", "jobs", "cluster", "force"), "--format html (no TeX runs)")
        if len(decks) > 1:
            raise click.UsageError("--format html builds one file at a time")
    if len(decks) > 1 or cluster is not None:
        _refuse_together(ctx, "variants", "roster", "the roster gives one variant per line")
        exercises = [is_exercise_file(path) for path in decks]
        if not any(exercises):
            _refuse_with(ctx, ("variants", "roster", "seed"), "decks only (they are for exercise files)")
        if all(exercises):
            _refuse_with(ctx, ("fmt",), "exercise files only (they give a sheet and its solutions)")
        if len(decks) > 1 or not exercises[0]:
            _build_files(ctx, decks, out_dir, fmt, templates, tex_only, force, timeout, variants, seed, roster, jobs)
            return
    deck = decks[0]
    if fmt == "html":
        _build_html(ctx, deck, out_dir, templates, variants, seed, roster, trust_latex)
        return
    if is_exercise_file(deck):
        _refuse_with(ctx, ("fmt",), "an exercise file (it gives a sheet and its solutions)")
        _refuse_together(ctx, "variants", "roster", "the roster gives one variant per line")
        if not (variants > 1 or roster is not None):
            _refuse_with(ctx, ("jobs",), "a single sheet (it is for --variants N or --roster)")
        _build_sheet(deck, out_dir, templates, tex_only, force, timeout, variants, seed, roster, jobs, cluster)
        return
    _refuse_with(ctx, ("variants", "roster", "seed", "jobs"), "a deck (it is for exercise files, with exercises:)")
    from .documents.build import FORMAT_CHOICES as FORMATS
    from .documents.build import build_deck

    build_deck(
        deck, out_dir, FORMATS[fmt], templates, tex_only, force, timeout, click.echo, _warn, trust_latex=trust_latex
    )


@cli.command("watch")
@click.argument("deck", type=click.Path(dir_okay=False, path_type=Path))
@_deck_options
@_limit_options
def watch_command(
    deck: Path,
    out_dir: Path,
    fmt: str,
    templates: Path | None,
    tex_only: bool,
    timeout: float,
    time_limit: float,
    max_memory: int,
    trust_latex: bool,
) -> None:
    """Build a deck, then rebuild it on every save of the deck, its logo or the templates (Ctrl-C stops).

    Only the frames that changed are derived again; a PDF is replaced by a rename, so a viewer that
    watches it (evince, okular, zathura) reloads; a build that fails keeps the last good PDF.
    """
    from .calculus.worker import using_hard_limits
    from .documents.build import FORMAT_CHOICES as FORMATS
    from .documents.build import build_deck
    from .documents.compile import install_signal_handlers
    from .documents.watch import watch_deck
    from .input.spec import is_exercise_file

    install_signal_handlers()
    ctx = click.get_current_context()
    ctx.with_resource(using_hard_limits(time_limit, max_memory))
    if tex_only:
        _refuse_with(ctx, ("timeout",), "--tex-only (TeX does not run)")
    try:
        exercises = is_exercise_file(deck)
    except DerivgenError:  # unreadable or broken now: the first build says so, and watching goes on
        exercises = False
    if exercises or fmt == "moodle":
        raise click.UsageError("watch is for decks; build an exercise file with `derivgen build`")
    if fmt == "html":
        raise click.UsageError("watch builds PDFs; build the page with `derivgen build --format html`")

    def build():
        return build_deck(
            deck, out_dir, FORMATS[fmt], templates, tex_only, False, timeout, click.echo, _warn, trust_latex=trust_latex
        )

    try:
        watch_deck(deck, out_dir, templates, build, click.echo, lambda line: click.echo(line, err=True))
    except KeyboardInterrupt:
        click.echo("stopped watching")


def _build_quiz(ctx, paths, out_dir, templates, variants, seed) -> None:
    """``--format moodle``: one exercise file → ``<file>-moodle.xml`` (no TeX)."""
    from .documents.moodle import build_moodle
    from .input.spec import is_exercise_file

    if len(paths) != 1 or not is_exercise_file(paths[0]):
        raise click.UsageError("--format moodle takes one exercise file (a file with exercises:), not a deck")
    options = ("roster", "jobs", "cluster", "tex_only", "timeout", "force", "trust_latex")
    _refuse_with(ctx, options, "--format moodle (one quiz of N variants, no TeX)")
    build_moodle(paths[0], out_dir, variants, seed, templates, report=click.echo)


def _build_html(ctx, path, out_dir, templates, variants, seed, roster, trust_latex) -> None:
    from .documents.html import build_deck_html, build_sheet_html
    from .input.spec import is_exercise_file

    if is_exercise_file(path):
        _refuse_together(ctx, "variants", "roster", "the roster gives one variant per line")
        build_sheet_html(path, out_dir, variants, seed, roster, templates, click.echo)
    else:
        _refuse_with(ctx, ("variants", "roster", "seed"), "a deck (it is for exercise files, with exercises:)")
        build_deck_html(path, out_dir, templates, click.echo, trust_latex)


def _warn(message: str) -> None:
    click.echo(f"derivgen: warning: {message}", err=True)


def _build_files(ctx, paths, out_dir, fmt, templates, tex_only, force, timeout, variants, seed, roster, jobs) -> None:
    """Several files (or a deck on a cluster): every deck and every sheet variant a job on one executor."""
    from .documents.batch import build_files
    from .documents.build import FORMAT_CHOICES as FORMATS
    from .documents.sheets import read_roster
    from .input.spec import is_exercise_file

    per_sheet = len(read_roster(roster)) if roster else max(variants, 1)
    count = sum(per_sheet if is_exercise_file(path) else 1 for path in paths)
    with _progress(count, "building files") as advance:
        build_files(
            paths,
            out_dir,
            FORMATS[fmt],
            templates,
            tex_only,
            force,
            timeout,
            variants,
            seed,
            roster,
            ctx.params["trust_latex"],
            jobs,
            ctx.params["cluster"],
            report=click.echo,
            warn=_warn,
            progress=advance,
        )


@contextlib.contextmanager
def _progress(count: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for ``count`` jobs (none for one); yields ``advance(finished)``."""
    bar = click.progressbar(length=count, label=label, file=sys.stderr, show_pos=True)
    done = [0]

    def advance(finished: int) -> None:
        if count > 1:
            bar.update(finished - done[0])
        done[0] = finished

    try:
        yield advance
    finally:
        if count > 1:
            bar.render_finish()


def _build_sheet(path, out_dir, templates, tex_only, force, timeout, variants, seed, roster, jobs, cluster) -> None:
    from .documents.build import build_sheet
    from .documents.sheets import read_roster

    count = len(read_roster(roster)) if roster else max(variants, 1)
    with _progress(count, "building sheets") as advance:
        build_sheet(
            path,
            out_dir,
            variants,
            seed,
            roster,
            templates,
            tex_only,
            force,
            timeout,
            jobs,
            report=click.echo,
            progress=advance,
            cluster=cluster,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status instead of raising."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="derivgen", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("derivgen: aborted", err=True)
        return 130
    except DerivgenError as error:
        if debug:
            raise
        click.echo(f"derivgen: error: {error.one_line()}", err=True)
        return error.exit_code
    except Exception as error:  # a bug: say so in one line, keep the traceback for --debug
        if debug:
            raise
        from .calculus.worker import translate

        limit = translate(error)  # a limit met outside a worker: MemoryError, a number too long to print
        if isinstance(limit, DerivgenError):
            click.echo(f"derivgen: error: {limit.one_line()}", err=True)
            return limit.exit_code
        click.echo(
            f"derivgen: internal error: {type(error).__name__}: {error} (run with --debug for details)",
            err=True,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
