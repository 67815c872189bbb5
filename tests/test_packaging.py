"""The distributions: the sdist and the wheel carry the code and the templates, and an installed
wheel builds a deck with no source tree in sight.

The wheel is built from the sdist (as ``python -m build`` does), so a template missing from the
sdist fails here too.  Everything runs offline: setuptools and wheel come from this Python
(``--no-build-isolation``), the rest of derivgen's dependencies from its site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# left out of the copy that is built: version control, caches, build products, what does not ship
NOT_SHIPPED = (".git", ".*cache", ".hypothesis", ".benchmarks", "__pycache__", "*.egg-info", "build", "dist")
NOT_SHIPPED += ("output", "tests", "benchmarks")

DECK = """\
title: Installed deck
frames:
  - title: Chain rule
    derive: (x**2 + 2)**3
    wrt: x
"""


def _run(args: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # nothing from the repo
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _source_files(folder: str, pattern: str) -> set[str]:
    return {path.relative_to(ROOT / folder).as_posix() for path in (ROOT / folder).rglob(pattern)}


@pytest.mark.slow
def test_the_installed_wheel_builds_a_deck_from_another_folder(tmp_path):
    pytest.importorskip("wheel", reason="setuptools < 70.1 needs the wheel package: bash scripts/setup.sh --test")
    # a copy of the project, so building leaves nothing in the shared work tree
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(*NOT_SHIPPED),
    )
    dist = tmp_path / "dist"
    dist.mkdir()
    sdist_name = _run(
        [sys.executable, "-c", f"from setuptools import build_meta; print(build_meta.build_sdist({str(dist)!r}))"],
        source,
    ).split()[-1]
    with tarfile.open(dist / sdist_name) as sdist:
        top = sdist_name.removesuffix(".tar.gz")
        in_sdist = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    templates = _source_files("templates", "*.j2")
    # KaTeX, inlined into the HTML pages: the page needs every one of these files
    katex = _source_files("templates", "html/katex/**/*")
    templates |= {name for name in katex if (ROOT / "templates" / name).is_file()}
    assert {f"templates/{name}" for name in templates} <= in_sdist
    assert {f"examples/{name}" for name in _source_files("examples", "*.yaml")} <= in_sdist

    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--no-index", "-w", str(dist), str(dist / sdist_name)],
        tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("derivgen-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = {f"derivgen/{name}" for name in _source_files("derivgen", "*.py")} - in_wheel
    missing |= {f"derivgen/templates/{name}" for name in templates} - in_wheel
    assert not missing, f"not in the wheel (a subpackage missing from pyproject.toml?): {sorted(missing)}"

    # a fresh environment: sympy and friends from this Python, derivgen only from the wheel
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-index",
         str(wheel)],
        tmp_path,
    )  # fmt: skip
    elsewhere = tmp_path / "lecture"
    elsewhere.mkdir()
    where = "import derivgen, derivgen.templates as t; print(derivgen.__file__, t.__file__)"
    imported = _run([str(python), "-c", where], elsewhere).split()
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], elsewhere).strip())
    assert all(Path(path).is_relative_to(site) for path in imported), (imported, site)

    (elsewhere / "deck.yaml").write_text(DECK, encoding="utf-8")
    out = _run([str(venv / "bin" / "derivgen"), "build", "deck.yaml", "--format", "slides"], elsewhere)
    assert "wrote output/deck.pdf" in out
    text = _run(["pdftotext", "-raw", str(elsewhere / "output" / "deck.pdf"), "-"], elsewhere)
    assert "Installed deck" in text and "chain rule" in text
    out = _run([str(venv / "bin" / "derivgen"), "build", "deck.yaml", "--format", "html"], elsewhere)
    page = (elsewhere / "output" / "deck.html").read_text(encoding="utf-8")
    assert "wrote output/deck.html" in out and "font/woff2;base64" in page and "Installed deck" in page
