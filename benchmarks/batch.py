"""A 1000-variant batch of an exercise sheet: sheets per minute on the process pool (or a Dask cluster).

    python benchmarks/batch.py [--target 1000] [--tex-only-sample 1000] [--pdf-sample 100] [--jobs N]
                               [--cluster tcp://HOST:PORT] [--sheet examples/exercise_sheet.yaml]

Two measured runs into fresh folders: ``--tex-only`` (derive, check, lay out — one small TeX run measures the
solution rows — and write the .tex) on ``--tex-only-sample`` variants, and with PDFs (two latexmk runs more
per variant) on ``--pdf-sample``.  Each prints its wall time, sheets per minute (a sheet with its
solutions), the cost of one variant in worker-seconds (wall × workers / variants), and, where the sample is
smaller than ``--target``, the target's time extrapolated linearly from the sample (variants are independent
jobs: the batch's cost is linear in their number; the start-up of the pool is counted in the sample, once).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from derivgen.documents.build import build_sheet

ROOT = Path(__file__).resolve().parent.parent


def measure(sheet: Path, variants: int, tex_only: bool, jobs: int | None, cluster: str | None) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        build_sheet(sheet, Path(folder), variants=variants, seed=1, tex_only=tex_only, jobs=jobs, cluster=cluster)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=1000)
    parser.add_argument("--tex-only-sample", type=int, default=1000)
    parser.add_argument("--pdf-sample", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--cluster", default=None)
    parser.add_argument("--sheet", type=Path, default=ROOT / "examples" / "exercise_sheet.yaml")
    args = parser.parse_args()
    workers = "the cluster's workers" if args.cluster else f"{args.jobs or os.cpu_count() or 1} processes"
    print(f"{args.sheet.name}, seed 1, on {workers}; target batch: {args.target} variants")
    for label, tex_only, sample in (("--tex-only", True, args.tex_only_sample), ("with PDFs", False, args.pdf_sample)):
        seconds = measure(args.sheet, sample, tex_only, args.jobs, args.cluster)
        per_minute = 60 * sample / seconds
        line = f"{label:10}: {sample:5} variants in {seconds:7.1f} s = {per_minute:6.1f} sheets/min"
        if not args.cluster:
            line += f", {seconds * (args.jobs or os.cpu_count() or 1) / sample:5.2f} worker-s per variant"
        if sample < args.target:
            line += f"; {args.target} extrapolated: {seconds * args.target / sample / 60:5.1f} min (measured {sample})"
        print(line, flush=True)


if __name__ == "__main__":
    main()
