#!/usr/bin/env bash
# Sets up what is missing, then runs the linter and the whole test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k parse`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
cd "$root"
bash scripts/setup.sh --test --tex
"$python" -m ruff check .
"$python" -m mypy  # the package, as configured in pyproject.toml [tool.mypy]
"$python" -m pytest "$@"
