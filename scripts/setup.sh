#!/usr/bin/env bash
# Installs what derivgen needs and is missing; does nothing where it is all there already.
#   bash scripts/setup.sh          derivgen (editable, from this folder) and its Python dependencies
#   bash scripts/setup.sh --test   the same plus the test tools (pytest, hypothesis, ruff)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
extra=""
[[ "${1:-}" == "--test" ]] && extra="test"

# Every requirement of pyproject.toml (and of the extra) installed at a fitting version, and
# `import derivgen` resolving to this very folder (a clone elsewhere must not use another copy).
python_ready() {
  (cd / && "$python" - "$root" "$extra" <<'PY'
import importlib.metadata as metadata, pathlib, sys, tomllib
from packaging.requirements import Requirement

root, extra = pathlib.Path(sys.argv[1]), sys.argv[2]
project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
wanted = list(project["dependencies"]) + (project["optional-dependencies"][extra] if extra else [])
for line in wanted:
    requirement = Requirement(line)
    try:
        if metadata.version(requirement.name) not in requirement.specifier:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
import derivgen
sys.exit(0 if pathlib.Path(derivgen.__file__).resolve().parent.parent == root.resolve() else 1)
PY
  ) >/dev/null 2>&1
}

# the readiness check itself reads version specifiers with `packaging`
"$python" -c "import packaging" 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check packaging

if python_ready; then
  echo "setup: Python packages already in place"
else
  echo "setup: installing derivgen${extra:+[$extra]} and its Python dependencies"
  "$python" -m pip install --quiet --disable-pip-version-check -e "$root${extra:+[$extra]}"
  python_ready || { echo "setup: the Python packages are still not importable" >&2; exit 1; }
fi
