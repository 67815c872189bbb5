#!/usr/bin/env bash
# Sets up what is missing, then derives the seed deck's chain-rule example step by step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
cd "$root"
bash scripts/setup.sh
"$python" -m derivgen derive "(x^2 + 2)^3" --wrt x
"$python" -m derivgen derive "(x^2 + 2)^3" --wrt x --latex > output/chain_rule.tex
echo "LaTeX lines written to output/chain_rule.tex"
