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
if [[ $# -gt 0 ]]; then
  exec "$python" -m pytest "$@"
fi
# The whole suite: as many shards as cores (at most 2), every shard a plain pytest process taking every
# n-th test (tests/conftest.py, DERIVGEN_TEST_SHARD). One process leaves a core idle while it waits for
# TeX; pytest-xdist would add its I/O thread to every process, and derivgen forks derivation workers.
shards=$(( $(nproc) >= 2 ? 2 : 1 ))
if [[ "$shards" == 1 ]]; then
  exec "$python" -m pytest
fi
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
pids=()
for k in $(seq 1 "$shards"); do
  DERIVGEN_TEST_SHARD="$k/$shards" "$python" -m pytest -p no:cacheprovider --basetemp="$logs/tmp$k" \
    >"$logs/shard$k.log" 2>&1 &
  pids+=($!)
done
status=0
for k in $(seq 1 "$shards"); do
  wait "${pids[$((k - 1))]}" || status=1
  echo "=== tests, shard $k of $shards"
  cat "$logs/shard$k.log"
done
exit "$status"
