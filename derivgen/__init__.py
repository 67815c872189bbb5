"""derivgen: step-by-step derivations with named, checked rules, for lecture slides."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .errors import DerivgenError, LimitExceeded, ParseError, UnsupportedExpression, VerificationError

if TYPE_CHECKING:
    from .api import derive
    from .calculus.model import Derivation, Step
    from .input.parser import parse

from .version import __version__

# One BLAS thread, set before numpy loads: derivgen forks a worker for every derivation
# (calculus/worker.py), and a fork of a process with native threads (OpenBLAS starts a pool when numpy
# is imported) can leave the child waiting on a lock a thread held that the child does not have.  The
# matrices of the numeric checks are tiny, so a pool gains nothing.  A caller's own setting is kept.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__all__ = [
    "Derivation",
    "DerivgenError",
    "LimitExceeded",
    "ParseError",
    "Step",
    "UnsupportedExpression",
    "VerificationError",
    "__version__",
    "derive",
    "parse",
]

# sympy takes a while to import; the command line must answer an unchanged build without it
_LAZY = {"derive": "api", "parse": "input.parser", "Derivation": "calculus.model", "Step": "calculus.model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'derivgen' has no attribute {name!r}")
