"""The steps of a derivative from first principles (:mod:`derivgen.calculus.limits`), as rules.

The limit method rewrites the whole expression itself (the difference quotient, then expanding,
cancelling and taking the limit), so these entries rewrite nothing for the rule engine; they are
listed so that every label a step carries is a rule of the registry, with a statement a rules slide
can show.  Every step is elementary (a line of its own, as before).  Their labels do not name the
step variable: it is ``k`` or ``t`` where f already uses ``h`` (the first line's note says so).
"""

from __future__ import annotations

from .base import ELEMENTARY, Rule


def _limit_step(rule_id: str, label: str, statement: str, level: int = ELEMENTARY) -> Rule:
    return Rule(id=rule_id, label=label, statement=statement, apply=None, family="limit", level=level)


RULES = [
    _limit_step(
        "limit_definition",
        "definition of the derivative",
        r"f'(x) = \lim_{h \to 0} \frac{f(x + h) - f(x)}{h}",
    ),
    _limit_step(
        "limit_sum",
        "limit of a sum and of a constant multiple",
        r"\lim_{h \to 0} \bigl(a\,u(h) + b\,v(h)\bigr) = a \lim_{h \to 0} u(h) + b \lim_{h \to 0} v(h)",
    ),
    _limit_step("limit_expand", "expand", r"(x + h)^2 - x^2 = x^2 + 2xh + h^2 - x^2 = 2xh + h^2"),
    _limit_step(
        "limit_combine_fractions",
        "combine the fractions",
        r"\frac{1}{x + h} - \frac{1}{x} = \frac{x - (x + h)}{x\,(x + h)}",
    ),
    _limit_step("limit_cancel", "cancel the common factor", r"\frac{h\,g(x, h)}{h} = g(x, h) \quad (h \neq 0)"),
    _limit_step(
        "limit_rationalise",
        "rationalise the numerator",
        r"\frac{\sqrt{a} - \sqrt{b}}{h} = \frac{a - b}{h\,(\sqrt{a} + \sqrt{b})}",
    ),
    _limit_step(
        "limit_angle_addition",
        "angle addition",
        r"\sin(a + b) = \sin a \cos b + \cos a \sin b, \quad \cos(a + b) = \cos a \cos b - \sin a \sin b",
    ),
    _limit_step(
        "limit_regroup",
        "regroup; limit of a sum",
        r"\lim_{h \to 0} \frac{f(x)(\cos h - 1) + g(x) \sin h}{h} = "
        r"f(x) \lim_{h \to 0} \frac{\cos h - 1}{h} + g(x) \lim_{h \to 0} \frac{\sin h}{h}",
    ),
    _limit_step("limit_factor_exp", "factor out the exponential", r"e^{x + h} - e^{x} = e^{x}\,(e^{h} - 1)"),
    _limit_step("limit_sin", "standard limit: sin h / h → 1", r"\lim_{h \to 0} \frac{\sin h}{h} = 1"),
    _limit_step("limit_cos", "standard limit: (cos h − 1) / h → 0", r"\lim_{h \to 0} \frac{\cos h - 1}{h} = 0"),
    _limit_step("limit_exp", "standard limit: (e^h − 1) / h → 1", r"\lim_{h \to 0} \frac{e^{h} - 1}{h} = 1"),
    _limit_step(
        "limit_take",
        "take the limit",
        r"\lim_{h \to 0} g(x, h) = g(x, 0) \quad \text{for } g \text{ continuous at } h = 0",
    ),
]
