"""Frames as the templates get them: the substitution style of the chain rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derivgen.input.spec import SpecError, load_deck
from derivgen.presentation.frames import present_deck


def _present(tmp_path: Path, expression: str) -> list:
    deck = tmp_path / "deck.yaml"
    deck.write_text(
        f'title: T\nframes:\n  - title: "Chain"\n    derive: "{expression}"\n    wrt: x\n    style: substitution\n'
    )
    return present_deck(*load_deck(deck))


def test_substitution_of_an_undefined_outer_function(tmp_path: Path) -> None:
    # was a ValueError: sympy cannot differentiate f(u) by u = x² + 1 after substituting
    (frame,) = _present(tmp_path, "f(x**2 + 1)")
    *_, last = frame.substitution
    assert "f'\\left(x^{2} + 1\\right)" in last  # g'(f(x)) written at the inner function
    assert "2 x" in last


def test_substitution_names_avoid_the_expressions_own_functions(tmp_path: Path) -> None:
    (frame,) = _present(tmp_path, "f(x**2 + 1)")
    first = frame.substitution[0]
    # the user's f is the outer function here; the generic names must be other letters
    generic = re.search(r"= (\w)\\bigl\((\w)\(x\)\\bigr\)$", first)
    assert generic is not None and not {"f"} & set(generic.groups()), first


def test_substitution_keeps_the_lecturers_letters_when_free(tmp_path: Path) -> None:
    (frame,) = _present(tmp_path, "(x**2 + 2)**3")
    assert frame.substitution[0].endswith(r"= g\bigl(f(x)\bigr)")
    assert frame.substitution[1].startswith("g(u) = u^{3}")


def test_substitution_refuses_several_inner_functions(tmp_path: Path) -> None:
    # h(f(x), g(x)) needs the multivariate chain rule: a clear message, not an AttributeError
    with pytest.raises(SpecError, match="through one inner function"):
        _present(tmp_path, "h(f(x), g(x))")
