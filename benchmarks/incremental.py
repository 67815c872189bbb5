"""Incremental slides builds against a full build, in one process (issue 16).

    python benchmarks/incremental.py [--sizes 60 200] [--deck examples/dnn_supplementary.yaml]

For each size, a deck of that many frames is made in a temporary folder from the frames of the
example deck (every kind: derivations scalar and matrix, definitions, rules, a plot), cycled, each
with a title of its own.  Measured, format slides:
  full         a build into an empty output folder (every frame derived and measured, TeX cold);
  one frame    one derivation frame's expression changed: x**2 to x**3 (the same steps, so the same
               pages: that frame is typeset alone and spliced in), then multiplied by cos(x) (more
               lines: pages move, the whole document goes through latexmk, two passes);
  comment      the same deck with a comment and a blank line added (no TeX at all, nothing derived);
  bare latexmk a latexmk of the built .tex in a fresh folder.
Printed as seconds and as ratios to the full build.  Targets: one frame (same pages) <= 35 %, comment <= 15 %
of the full build on the 60-frame deck.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from derivgen.documents.build import BuildResult, build_deck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import bare_latexmk  # benchmarks/build.py: the same bare latexmk

ROOT = Path(__file__).resolve().parent.parent


def make_deck(source: Path, size: int) -> tuple[dict, int]:
    """A deck of ``size`` frames cycled from ``source``, and the index of the frame the edits change:
    a scalar rule-based derivation of x near the middle, with a square in it."""
    deck = yaml.safe_load(source.read_text())
    frames = deck["frames"]
    made = []
    for number in range(size):
        frame = dict(frames[number % len(frames)])
        frame["title"] = f"{frame.get('title', 'Frame')} ({number + 1})"
        made.append(frame)
    deck["frames"] = made

    def editable(frame: dict) -> bool:
        derive = frame.get("derive")
        plain = not any(key in frame for key in ("symbols", "method", "style")) and frame.get("wrt") in (None, "x")
        return plain and isinstance(derive, str) and "x**2" in derive and "y" not in derive

    middle = size // 2
    edited = next(index for index in [*range(middle, size), *range(middle)] if editable(made[index]))
    return deck, edited


def timed(work: Callable[[], BuildResult]) -> tuple[float, BuildResult]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


EDITS = {
    # a lecturer's typical fix: another power, the same steps and so the same pages
    "one frame, same pages": lambda derive: derive.replace("x**2", "x**3", 1),
    # a bigger change: a product rule more, more lines (pages move, so latexmk needs a second pass)
    "one frame, more lines": lambda derive: f"({derive}) * cos(x)",
}


def run(source: Path, size: int) -> dict[str, tuple[float, BuildResult]]:
    deck, edited = make_deck(source, size)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="derivgen-incremental-") as folder:
        path, out = Path(folder) / "deck.yaml", Path(folder) / "out"

        def save() -> None:
            path.write_text(yaml.safe_dump(deck, sort_keys=False, allow_unicode=True))

        def build() -> BuildResult:
            return build_deck(path, out, formats=("slides",), timeout=900)  # 200 frames: minutes of TeX

        save()
        figures["full"] = timed(build)
        for name, edit in EDITS.items():
            deck["frames"][edited]["derive"] = edit(deck["frames"][edited]["derive"])
            save()
            figures[name] = timed(build)
            assert figures[name][1].derived == (edited + 1,), figures[name][1].derived
        path.write_text("# a comment\n\n" + path.read_text())
        figures["comment"] = timed(build)
        assert figures["comment"][1].derived == () and figures["comment"][1].compiled == ()
        start = time.perf_counter()
        bare_latexmk(out / "deck.tex")
        figures["bare latexmk (cold)"] = (time.perf_counter() - start, figures["comment"][1])
    return figures


TARGETS = {"one frame, same pages": 0.35, "comment": 0.15}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=Path, default=ROOT / "examples" / "dnn_supplementary.yaml")
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 200])
    args = parser.parse_args()
    build_deck(args.deck, tempfile.mkdtemp(prefix="derivgen-warm-"), formats=("slides",), tex_only=True)  # imports
    for size in args.sizes:
        figures = run(args.deck, size)
        full = figures["full"][0]
        print(f"{size} frames (format slides, the frames of {args.deck.name} cycled)")
        for name, (seconds, result) in figures.items():
            target = f"  (target <= {TARGETS[name]:.0%})" if name in TARGETS else ""
            passes = f", pdflatex passes {result.passes['slides']}" if "slides" in result.passes else ""
            if "slides" in result.typeset_alone:
                passes += f" (frame {', '.join(map(str, result.typeset_alone['slides']))} typeset alone)"
            if name.startswith("bare"):
                passes = ""
            print(f"  {name + ':':24}{seconds:7.2f} s {seconds / full:6.1%} of full{passes}{target}")


if __name__ == "__main__":
    main()
