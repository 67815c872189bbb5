#!/usr/bin/env bash
# Installs what derivgen needs and is missing; does nothing where it is all there already.
#   bash scripts/setup.sh          derivgen (editable, from this folder) and its Python dependencies
#   bash scripts/setup.sh --test   the same plus the test tools (pytest, hypothesis, ruff; dask and distributed
#                                  for the LocalCluster of tests/test_executor.py; Chromium, apt-get, for
#                                  the HTML pages' browser tests)
#   bash scripts/setup.sh --dask   the same plus dask and distributed (derivgen[dask]: build --cluster, and
#                                  every worker machine of the cluster, with --tex)
#   bash scripts/setup.sh --tex    also TeX Live with latexmk and poppler, and bubblewrap, the sandbox TeX
#                                  runs in (Debian packages, apt-get)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
extra=""
tex=0
for argument in "$@"; do
  case "$argument" in
    --test) extra="test" ;;  # the test extra holds dask's packages too
    --dask) [[ "$extra" == test ]] || extra="dask" ;;
    --tex) tex=1 ;;
    *) echo "setup: unknown option $argument (use --test, --dask, --tex)" >&2; exit 2 ;;
  esac
done

# apt_install WHAT PACKAGE...: Debian packages without recommends (they would pull in a Java runtime),
# through sudo when not root
apt_install() {
  local what="$1" sudo=""
  shift
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: installing $what needs root (apt-get)" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# TeX: the programs and every LaTeX package the templates use.  Beamer comes with latex-recommended,
# pgf and pgfplots with pictures, exam, adjustbox and mylatexformat (precompiled preambles) with latex-extra.
# bubblewrap: TeX sees only the TeX tree and its build folder (README, "Threat model"); util-linux
# (prlimit, setpriv: a file-size cap and "die with derivgen") is part of every Debian system.
tex_packages=(latexmk texlive-latex-recommended texlive-latex-extra texlive-pictures lmodern poppler-utils bubblewrap)
tex_ready() {
  local program file
  for program in latexmk pdflatex kpsewhich pdftotext pdftoppm pdfdetach bwrap; do
    command -v "$program" >/dev/null 2>&1 || return 1
  done
  for file in beamer.cls exam.cls pgfpages.sty pgfplots.sty adjustbox.sty mylatexformat.ltx lmodern.sty; do
    [[ -n "$(kpsewhich "$file" 2>/dev/null)" ]] || return 1
  done
}
if [[ "$tex" == 1 ]]; then
  if tex_ready; then
    echo "setup: TeX already in place"
  else
    echo "setup: installing TeX (${tex_packages[*]})"
    apt_install TeX "${tex_packages[@]}"
    tex_ready || { echo "setup: TeX is still incomplete after apt-get" >&2; exit 1; }
  fi
fi

# Chromium (--test): tests/test_html.py loads the HTML pages in a real browser, headless and offline
if [[ "$extra" == test ]]; then
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    echo "setup: Chromium already in place"
  else
    echo "setup: installing Chromium (the HTML pages' tests)"
    apt_install Chromium chromium
    command -v chromium >/dev/null 2>&1 || { echo "setup: chromium is still missing after apt-get" >&2; exit 1; }
  fi
fi

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
import derivgen, derivgen.templates  # an install older than the templates' package mapping: redo it
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
