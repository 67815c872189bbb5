#!/usr/bin/env bash
# Sets up what is missing (Python packages, TeX), then builds the seed deck:
# output/dnn_supplementary.pdf (slides), -handout.pdf, -handout-2up.pdf and -notes.pdf.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
cd "$root"
bash scripts/setup.sh --tex
"$python" -m derivgen build examples/dnn_supplementary.yaml -o output "$@"
