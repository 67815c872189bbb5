"""Deck files: safe YAML, validation errors that name file, line and key."""

from __future__ import annotations

import pytest

from derivgen.input.spec import DefinitionFrame, DerivationFrame, RulesFrame, SpecError, TextFrame, load_deck


def write(tmp_path, text: str, name: str = "deck.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_deck_from_the_issue(tmp_path):
    deck, _ = load_deck(
        write(
            tmp_path,
            "title: DNN supplementary slides\nframes:\n  - title: Chain rule\n    derive: (x**2 + 2)**3\n    wrt: x\n",
        )
    )
    assert deck.title == "DNN supplementary slides"
    assert isinstance(deck.frames[0], DerivationFrame) and deck.frames[0].wrt == "x"


def test_frame_kinds_are_inferred(tmp_path):
    deck, _ = load_deck(
        write(
            tmp_path,
            "title: T\nframes:\n"
            "  - {title: A, derive: x**2}\n"
            "  - {title: B, rules: [sum]}\n"
            "  - {title: C, formulas: ['a^2']}\n"
            "  - {title: D, text: hello}\n"
            "  - {kind: text, title: E, latex: '\\\\LaTeX'}\n",
        )
    )
    kinds = [type(frame) for frame in deck.frames]
    assert kinds == [DerivationFrame, RulesFrame, DefinitionFrame, TextFrame, TextFrame]


def test_numbers_and_dates_become_text(tmp_path):
    deck, _ = load_deck(write(tmp_path, "title: T\ndate: 2026-11-28\nframes:\n  - {title: A, derive: 5}\n"))
    assert deck.date == "2026-11-28" and deck.frames[0].derive == "5"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "title: T\nframes:\n  - title: C\n    derive: x\n    wrtt: x\n",
            5,
            "unknown key 'wrtt' (did you mean 'wrt'?)",
        ),
        ("title: T\nframes:\n  - title: C\n    derive: x\n    detail: loud\n", 5, "frames[0].detail"),
        ("title: T\nframes:\n  - title: C\n    derive: {a: 1}\n", 4, "frames[0].derive"),
        ("title: T\nframes:\n  - derive: x\n", 3, "needs the key 'title'"),
        ("title: T\n", 1, "needs the key 'frames'"),
        ("title: T\nframes: []\n", 2, "at least 1"),
        ("title: T\nframes:\n  - kind: video\n    title: V\n", 3, "unknown frame kind"),
        ("title: T\nskin: dark\nframes:\n  - {title: A, text: a}\n", 2, "unknown key 'skin'"),
        ("title: T\ntheme: 'dark}x'\nframes:\n  - {title: A, text: a}\n", 2, "a theme name is letters and digits"),
        ("title: T\nlogo: ../l.png\nframes:\n  - {title: A, text: a}\n", 2, "logo: Value error, the logo is a"),
        ("title: T\nnotes: everyone\nframes:\n  - {title: A, text: a}\n", 2, "notes: Input should be 'speaker'"),
        ("title: T\nrows_per_frame: 1\nframes:\n  - {title: A, text: a}\n", 2, "rows_per_frame"),
        ("- a\n- b\n", 1, "not a list"),
        ("just text\n", 1, "not a text"),
        ("title: T\ntitle: U\nframes: []\n", 2, "appears twice"),
        ("title: 'unclosed\nframes: []\n", 3, "invalid YAML"),
        ("title: [1, 2\n", 2, "invalid YAML"),
        ("title: !!python/object/apply:os.system ['true']\n", 1, "tag"),
        ("title: !!python/name:os.system\n", 1, "tag"),
        (
            "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
            "f: [*e, *e, *e, *e, *e, *e, *e, *e]\n",
            None,
            "aliases",
        ),
        ("base: &base {title: A}\nframes:\n  - <<: *base\n", 3, "merge keys"),
        ("", 1, "empty"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        load_deck(path)
    message = caught.value.one_line()
    assert words in message
    prefix = f"{path}:{line}:" if line else f"{path}:"
    assert message.startswith(prefix), message


def test_binary_and_huge_files_are_refused(tmp_path):
    path = tmp_path / "random.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SpecError, match=r"UTF-8|NUL"):
        load_deck(path)
    path.write_text("title: " + "x" * 2_000_000)
    with pytest.raises(SpecError, match="limit"):
        load_deck(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        load_deck(tmp_path / "nope.yaml")
