#!/usr/bin/env bash
# Mutation testing of the engine, rules, printer and checks with mutmut (configuration in
# pyproject.toml, [tool.mutmut]).  Slow — about an hour on 2 cores — so not part of CI.
#   bash scripts/mutation.sh            run (or resume) and print the score
#   bash scripts/mutation.sh --jobs 2   run with two worker processes
# Survivors: `mutmut results`, one in full: `mutmut show NAME`.  Work happens in ./mutants (git-ignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
cd "$root"
jobs=1
[[ "${1:-}" == "--jobs" ]] && jobs="${2:?--jobs needs a number}"
bash scripts/setup.sh --test
"$python" -c "import mutmut" 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check -e ".[test,mutation]"
export HYPOTHESIS_PROFILE=mutation
"$python" -m mutmut run --max-children "$jobs" | tr '\r' '\n' | tail -n 1
"$python" scripts/mutation_score.py
