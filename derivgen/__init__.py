"""derivgen: step-by-step derivations with named, checked rules, for lecture slides."""

from .engine import derive
from .errors import DerivgenError, LimitExceeded, ParseError, UnsupportedExpression, VerificationError
from .parse import parse
from .trace import Derivation, Step

__version__ = "0.1.0"
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
