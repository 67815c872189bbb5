"""Incremental slides builds against a full build, in one process (issue 16).

    python benchmarks/incremental.py [--sizes 60 200] [--deck examples/dnn_supplementary.yaml]

For each size, a deck of that many frames is made in a temporary folder from the frames of the
example deck (every kind: derivations scalar and matrix, definitions, rules, a plot), cycled, each
with a title of its own.  Measured, format slides:
  full         a build into an empty output folder (every frame derived and measured, TeX cold);
  one frame    the same deck with one derivation frame's expression changed;
  comment      the same deck with a comment and a blank line added (no TeX at all, nothing derived);
  bare latexmk a latexmk of the built .tex in a fresh folder.
Printed as seconds and as ratios to the full build.  Targets: one frame <= 35 %, comment <= 15 %
of the full build on the 60-frame deck.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from derivgen.documents.build import build_deck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import bare_latexmk  # benchmarks/build.py: the same bare latexmk

ROOT = Path(__file__).resolve().parent.parent


def make_deck(source: Path, size: int) -> tuple[dict, int]:
    """A deck of ``size`` frames cycled from ``source``, and the index of the frame the edit changes."""
    deck = yaml.safe_load(source.read_text())
    frames = deck["frames"]
    made = []
    for number in range(size):
        frame = dict(frames[number % len(frames)])
        frame["title"] = f"{frame.get('title', 'Frame')} ({number + 1})"
        made.append(frame)
    deck["frames"] = made
    # a scalar derivation of x in the middle of the deck
    middle = size // 2
    edited = next(
        index
        for index in list(range(middle, size)) + list(range(middle))
        if isinstance(made[index].get("derive"), str)
        and "symbols" not in made[index]
        and made[index].get("wrt") in (None, "x")
        and "x" in made[index]["derive"]
        and "y" not in made[index]["derive"]
    )
    return deck, edited


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def run(source: Path, size: int) -> dict[str, float]:
    deck, edited = make_deck(source, size)
    with tempfile.TemporaryDirectory(prefix="derivgen-incremental-") as folder:
        path, out = Path(folder) / "deck.yaml", Path(folder) / "out"
        text = yaml.safe_dump(deck, sort_keys=False, allow_unicode=True)
        path.write_text(text)

        def build():
            return build_deck(path, out, formats=("slides",))

        full, first = timed(build)
        deck["frames"][edited]["derive"] = f"({deck['frames'][edited]['derive']}) * cos(x)"
        path.write_text(yaml.safe_dump(deck, sort_keys=False, allow_unicode=True))
        one, second = timed(build)
        path.write_text("# a comment\n\n" + path.read_text())
        comment, third = timed(build)
        bare = bare_latexmk(out / "deck.tex")
    assert second.derived == (edited + 1,), second.derived
    assert third.derived == () and third.compiled == (), (third.derived, third.compiled)
    return {
        "full": full,
        "one frame": one,
        "comment": comment,
        "bare latexmk": bare,
        "passes full": first.passes.get("slides", 0),
        "passes one frame": second.passes.get("slides", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=Path, default=ROOT / "examples" / "dnn_supplementary.yaml")
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 200])
    args = parser.parse_args()
    build_deck(args.deck, tempfile.mkdtemp(prefix="derivgen-warm-"), formats=("slides",), tex_only=True)  # imports
    for size in args.sizes:
        figures = run(args.deck, size)
        full = figures["full"]
        print(f"{size} frames (format slides, {args.deck.name}'s frames cycled)")
        print(f"  full build:            {full:7.2f} s  (pdflatex passes: {figures['passes full']})")
        for name, target in (("one frame", 0.35), ("comment", 0.15)):
            ratio = figures[name] / full
            print(f"  {name + ' edit:':21}{figures[name]:7.2f} s  {ratio:6.1%} of full  (target <= {target:.0%})")
        print(f"  (one-frame edit: pdflatex passes {figures['passes one frame']})")
        bare = figures["bare latexmk"]
        print(f"  bare latexmk (cold):   {bare:7.2f} s  {bare / full:6.1%} of full")


if __name__ == "__main__":
    main()
