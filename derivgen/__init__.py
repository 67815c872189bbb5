"""derivgen: step-by-step derivations with named, checked rules, for lecture slides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DerivgenError, LimitExceeded, ParseError, UnsupportedExpression, VerificationError

if TYPE_CHECKING:
    from .api import derive
    from .calculus.model import Derivation, Step
    from .input.parser import parse

from .version import __version__

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
