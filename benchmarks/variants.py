"""Batch builds of exercise-sheet variants: serial against parallel, in one process.

    python benchmarks/variants.py [--variants 100] [--sheet examples/exercise_sheet.yaml]

Builds every variant (sheet + solutions, two latexmk runs each) once with one worker and once with
all cores, into fresh folders; prints both wall times, the speed-up (target ≥ 1.7 on 2 cores) and
sheets per minute.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from derivgen.documents.build import build_sheet

ROOT = Path(__file__).resolve().parent.parent


def timed(sheet: Path, variants: int, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        build_sheet(sheet, Path(folder), variants=variants, seed=1, jobs=jobs)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--sheet", type=Path, default=ROOT / "examples" / "exercise_sheet.yaml")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    serial = timed(args.sheet, args.variants, 1)
    parallel = timed(args.sheet, args.variants, cores)
    print(f"{args.variants} variants of {args.sheet.name} (sheet + solutions each)")
    print(f"serial (1 process):        {serial:7.1f} s")
    print(f"parallel ({cores} processes):   {parallel:7.1f} s")
    print(f"speed-up:                  {serial / parallel:7.2f}  (target >= 1.7 on 2 cores)")
    print(f"sheets per minute:         {60 * args.variants / parallel:7.1f}  (each with its solutions)")


if __name__ == "__main__":
    main()
