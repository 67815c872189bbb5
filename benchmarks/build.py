"""Speed of `derivgen build` against a bare latexmk of the same .tex, in one process.

    python benchmarks/build.py [--deck examples/dnn_supplementary.yaml] [--repeat 3]

Prints: the slides build (derive + render + latexmk, from a cold build folder) ÷ a bare
latexmk of the kept .tex (also cold), and the wall time of the whole `derivgen build` command
when nothing changed (Python start-up included).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from derivgen.documents.build import build_deck

ROOT = Path(__file__).resolve().parent.parent


def bare_latexmk(tex: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / tex.name
        shutil.copy(tex, copy)
        start = time.perf_counter()
        subprocess.run(
            ["latexmk", "-norc", "-pdf", "-interaction=nonstopmode", "-halt-on-error", f"-outdir={folder}", copy.name],
            cwd=folder,
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=Path, default=ROOT / "examples" / "dnn_supplementary.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    builds, bares, unchanged = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for _ in range(args.repeat):
            start = time.perf_counter()
            build_deck(args.deck, out, formats=("slides",), force=True)
            builds.append(time.perf_counter() - start)
            bares.append(bare_latexmk(out / f"{args.deck.stem}.tex"))
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "derivgen", "build", str(args.deck), "-o", str(out), "--format", "slides"],
                check=True,
                capture_output=True,
            )
            unchanged.append(time.perf_counter() - start)
        start = time.perf_counter()
        build_deck(args.deck, out, force=True)
        everything = time.perf_counter() - start
    build, bare = statistics.median(builds), statistics.median(bares)
    print(f"deck: {args.deck}  ({args.repeat} runs, medians)")
    print(f"slides build (derive + render + latexmk):  {build:.2f} s")
    print(f"bare latexmk of the kept .tex:             {bare:.2f} s")
    print(f"ratio build / bare latexmk:                {build / bare:.2f}  (target <= 1.15)")
    print(f"unchanged rebuild, whole command:          {statistics.median(unchanged):.2f} s  (target < 1 s)")
    print(f"all four formats (in parallel):            {everything:.2f} s")


if __name__ == "__main__":
    main()
