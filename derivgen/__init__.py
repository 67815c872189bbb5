"""derivgen: step-by-step derivations with named, checked rules, for lecture slides."""

from .errors import DerivgenError, LimitExceeded, ParseError, UnsupportedExpression, VerificationError
from .parse import parse

__version__ = "0.1.0"
__all__ = [
    "DerivgenError",
    "LimitExceeded",
    "ParseError",
    "UnsupportedExpression",
    "VerificationError",
    "__version__",
    "parse",
]
