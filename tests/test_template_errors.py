"""A user's templates folder: every mistake in it is one line naming the template file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from derivgen.cli import main

DECK = "title: T\nframes:\n  - title: One\n    derive: x**2\n"
SHEET = "title: T\nexercises:\n  - derive: x**2\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
EXTENDS = '\\BLOCK{ extends "base.tex.j2" }\n\\BLOCK{ block body }\n'


def build(tmp_path: Path, capsys, templates: dict[str, bytes], document: str = DECK) -> tuple[int, str, Path]:
    folder = tmp_path / "mine"
    for name, content in templates.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    path = tmp_path / "doc.yaml"
    path.write_text(document)
    out = tmp_path / "out"
    code = main(["build", str(path), "-o", str(out), "--tex-only", "--templates", str(folder)])
    return code, capsys.readouterr().err, folder


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("templates", "where", "words"),
    [
        (  # Latin-1: the é of line 2
            {"slides.tex.j2": EXTENDS.encode() + "caf\xe9\n\\BLOCK{ endblock }\n".encode("latin-1")},
            "slides.tex.j2:3",
            "not UTF-8 text (byte 0xe9)",
        ),
        ({"beamer/derivation.tex.j2": PNG}, "beamer/derivation.tex.j2:1", "not UTF-8 text (byte 0x89)"),
        (
            {"slides.tex.j2": (EXTENDS + "text\n\\VAR{1/0}\n\\BLOCK{ endblock }\n").encode()},
            "slides.tex.j2:4",
            "template error: ZeroDivisionError: division by zero",
        ),
        (
            {"slides.tex.j2": (EXTENDS + "\\VAR{ deck.nothing.more }\n\\BLOCK{ endblock }\n").encode()},
            "slides.tex.j2:3",
            "template error: 'derivgen.documents.render.DeckInfo object' has no attribute 'nothing'",
        ),
        (
            {"slides.tex.j2": (EXTENDS + "\\BLOCK{ if }\n\\BLOCK{ endblock }\n").encode()},
            "slides.tex.j2:3",
            "template error: Expected an expression",
        ),
        (  # a template that includes a picture
            {"slides.tex.j2": b'x\n\\BLOCK{ include "logo.png" }\n', "logo.png": PNG},
            "slides.tex.j2:2",
            "loads a file that is not UTF-8 text",
        ),
    ],
)
def test_template_errors_are_one_line_with_the_file_and_line(tmp_path, capsys, templates, where, words):
    code, err, folder = build(tmp_path, capsys, templates)
    line = one_line(err)
    assert code == 2 and line.startswith(f"derivgen: error: {folder / where}: ") and words in line, line
    assert not (tmp_path / "out").exists()


def test_other_files_in_the_templates_folder_are_left_alone(tmp_path, capsys):
    code, err, _ = build(tmp_path, capsys, {"logo.png": PNG, "notes.txt": "caf\xe9".encode("latin-1")})
    assert code == 0, err
    assert (tmp_path / "out" / "doc.tex").exists()


def test_a_sheet_template_that_raises_names_its_line(tmp_path, capsys):
    builtin = (Path(__file__).resolve().parent.parent / "templates" / "sheet.tex.j2").read_text().splitlines()
    broken = [*builtin[:20], "\\VAR{ 1 // 0 }", *builtin[20:]]  # line 21, in the preamble block
    code, err, folder = build(tmp_path, capsys, {"sheet.tex.j2": "\n".join(broken).encode()}, SHEET)
    line = one_line(err)
    assert code == 2 and f"{folder / 'sheet.tex.j2'}:21: template error: ZeroDivisionError" in line, line
