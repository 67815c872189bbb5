"""The rule registry.  The search order is declared here, as data; the engine names no rule.

Order matters only where two rules could both apply: structural rules on sums and products come
before the function table, the table (f at x itself) before the chain rule (f at an inner
function), the special functions' table (:mod:`.special`: Bessel, gamma, floor, …, with its refusals and
its rule for several arguments that hold x) before the chain rule too, and sympy's own table as the
fallback last.  The tidy family runs in its order after the last
derivative rule; the final-form family after it, the first rule that shortens the expression each time.
The limit family only names the steps of a derivative from first principles (no function: never searched).
"""

from __future__ import annotations

from . import chain, elementary, final_form, index, limits, multivariate, scalar, special, tidy
from .base import STRUCTURAL, TRIVIAL, Context, Rewrite, Rule, RuleRegistry

REGISTRY = RuleRegistry(
    [
        *scalar.RULES,
        *index.RULES,
        *elementary.RULES,
        *special.RULES,
        *chain.RULES,
        elementary.SPECIAL,
        *tidy.RULES,
        *final_form.RULES,
        *multivariate.RULES,
        *limits.RULES,
    ]
)

__all__ = ["REGISTRY", "STRUCTURAL", "TRIVIAL", "Context", "Rewrite", "Rule", "RuleRegistry"]
