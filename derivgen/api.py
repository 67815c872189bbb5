"""The package's front door: :func:`derive` as the calculus layer's, with the lecturer's printer
attached to the result, so that ``latex()``, ``_repr_latex_()`` (notebooks) and ``to_dict()`` (with
its ``*_latex`` fields) work on what it returns.  It sits above every layer, so the calculus model
never has to import the printer."""

from __future__ import annotations

import functools
from typing import Any

from .calculus import front
from .calculus.model import DerivationResult
from .presentation.body import LECTURE_PRESENTER


@functools.wraps(front.derive)
def derive(*args: Any, **kwargs: Any) -> DerivationResult:
    result = front.derive(*args, **kwargs)
    for shown in (result, *(part.derivation for part in result.parts if part.derivation is not None)):
        shown.presenter = LECTURE_PRESENTER
    return result
