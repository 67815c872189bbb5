"""Results in a notebook (derivgen/presentation/notebook.py): ``_repr_html_`` and ``__str__``.

The HTML is read back with html.parser and its maths with the test suite's own LaTeX reader, and
compared with sympy's derivative — not with strings copied from derivgen's output.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import sympy

import derivgen
from derivgen.calculus import front
from derivgen.calculus.rules import REGISTRY
from derivgen.cli import main

from .latex_reader import read_latex

x, y = sympy.symbols("x y")
LABELS = {rule.label for rule in REGISTRY}


class Table(HTMLParser):
    """The table's rows as lists of cell texts, and every tag seen."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def right_side(cell: str) -> sympy.Basic:
    r"""The maths right of the line's first "=": ``\(\displaystyle lhs = rhs\)``."""
    assert cell.startswith("\\(\\displaystyle ") and cell.endswith("\\)"), cell
    _, equals, rhs = cell[len("\\(\\displaystyle ") : -2].partition(" = ")
    assert equals, cell
    return read_latex(rhs)


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("sin(x**2)*exp(x)", sympy.sin(x**2) * sympy.exp(x)),
        ("(x**2 + 2)**3", (x**2 + 2) ** 3),
        ("log(x)/(1 + x)", sympy.log(x) / (1 + x)),
    ],
)
def test_repr_html_is_a_table_of_lines_and_rules(text, function):
    derivation = derivgen.derive(text, "x")
    table = Table(derivation._repr_html_())
    assert table.tags <= {"table", "thead", "tbody", "tfoot", "tr", "th", "td"}
    header, *lines, footer = table.rows
    assert header == ["line", "rule"]
    assert lines and all(len(row) == 2 for row in lines)
    expected = sympy.diff(function, x)
    for maths, label in lines:
        assert all(rule in LABELS for rule in label.split(", ")), label
        # every line equals the derivative (its pending d/dx worked out by sympy)
        assert sympy.simplify(right_side(maths).doit() - expected) == 0, maths
    assert lines[0][0].split(" = ")[0].count("\\frac{d}{d x}") == 1  # the first line says what is derived
    assert footer[0].startswith("result: ") and "every step checked" in footer[0]


def test_repr_html_of_a_gradient_has_a_heading_per_entry():
    derivation = derivgen.derive([x * y, x + y**2], ["x", "y"])
    rows = Table(derivation._repr_html_()).rows
    headings = [row[0] for row in rows if len(row) == 1 and row[0].startswith("entry")]
    assert headings == ["entry (1, 1)", "entry (1, 2)", "entry (2, 1)", "entry (2, 2)"]


def test_str_is_what_the_cli_prints(capsys):
    derivation = derivgen.derive("x*sin(x**2)", "x")  # an order sympy keeps, as the CLI's written order does
    assert main(["derive", "x*sin(x**2)", "--wrt", "x"]) == 0
    printed = capsys.readouterr().out
    assert str(derivation) == printed.rstrip("\n")
    assert "product rule" in str(derivation) and "result: " in str(derivation)


def test_without_a_printer_there_is_no_html_and_str_is_the_repr():
    derivation = front.derive(sympy.sin(x), x)  # the calculus layer's own front door: no printer attached
    assert derivation._repr_html_() is None
    assert str(derivation) == repr(derivation)
