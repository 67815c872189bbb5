"""The package's front door: :func:`derive` as the calculus layer's, with the lecturer's printer
attached to the result (and to every derivation inside it), so that ``latex()``, ``_repr_latex_()``
(notebooks) and ``to_dict()`` (with its ``*_latex`` fields) work on what it returns.  It sits above
every layer, so the calculus model never has to import the printer."""

from __future__ import annotations

from typing import Any

from .calculus import front
from .calculus.matrix_engine import MatrixCalculus
from .calculus.model import ChainInfo, Derivation, DerivationResult
from .calculus.multivariate import MatrixDerivation
from .presentation.notebook import LECTURE_PRESENTER


def derive(*args: Any, **kwargs: Any) -> Derivation | MatrixDerivation | MatrixCalculus:
    result = front.derive(*args, **kwargs)
    _attach_printer(result)
    return result


# its own module and name (functools.wraps would copy front's, and pickle would then find front.derive)
derive.__doc__ = front.derive.__doc__


def _attach_printer(result: DerivationResult) -> None:
    """The printer on the result, its parts' derivations and the chain rule's nested derivations."""
    result.presenter = LECTURE_PRESENTER
    nested: list[DerivationResult] = [part.derivation for part in result.parts if part.derivation is not None]
    for step in result.steps:
        if isinstance(step.chain, ChainInfo) and step.chain.outer_derivation is not None:
            nested.append(step.chain.outer_derivation)
    for derivation in nested:
        if derivation is not result and derivation.presenter is None:
            _attach_printer(derivation)
