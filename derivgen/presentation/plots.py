"""Pictures drawn by TeX: f sampled by derivgen, the secant and the tangent at x0 (seed S1).

f is evaluated at evenly spaced points with the same numeric evaluator that checks the steps
(no eval, no lambdify); points where f is undefined or not real become gaps, so log x or 1/x
draw sensibly.  The tangent's slope is f'(x0) from a checked derivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy

from ..calculus.front import derive, only_variable
from ..calculus.verify import NumericEvaluator, Unevaluable
from ..input.parser import parse
from .printer import to_latex
from .text import Latex

SAMPLES = 160


@dataclass(frozen=True)
class Curve:
    coordinates: str  # "(x,y) (x,nan) …" for pgfplots
    legend: Latex


@dataclass(frozen=True)
class Picture:
    """Everything a template needs to draw: numbers as text, labels as LaTeX."""

    xmin: str
    xmax: str
    ymin: str
    ymax: str
    function: Curve
    derivative: Curve | None = None
    secant: str = ""  # coordinates of the secant line across the plot
    tangent: str = ""
    points: str = ""  # the two points of the secant
    x0: str = ""
    x1: str = ""
    y0: str = ""
    y1: str = ""


def picture(
    text: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float] | None,
    x0: float | None,
    dx: float,
    show: list[str],
    substitutions: dict | None = None,
) -> Picture:
    """Sample f (and f′) and lay out the secant and tangent at x0; ``substitutions`` puts a
    sheet variant's drawn numbers in for its parameters."""
    expression = parse(text)
    if substitutions:
        expression = expression.xreplace(
            {s: substitutions[s.name] for s in expression.free_symbols if s.name in substitutions}
        )
    variable_name = only_variable(expression)
    (part,) = derive(expression, variable_name).parts  # one function, one variable: one part
    derivation = part.derivation
    assert derivation is not None, "a derivation by one variable shows its lines"
    variable = derivation.wrt
    evaluator = NumericEvaluator({})

    def f(value: float, expr: sympy.Expr = expression) -> float | None:
        try:
            with mpmath.workdps(20):
                result = evaluator.value(expr, {variable: mpmath.mpf(value)})
        except (Unevaluable, ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None
        if isinstance(result, mpmath.mpc):
            if abs(result.imag) > 1e-12:
                return None
            result = result.real
        return float(result) if mpmath.isfinite(result) else None

    low, high = x_range
    xs = [low + (high - low) * k / (SAMPLES - 1) for k in range(SAMPLES)]
    ys = [f(v) for v in xs]
    slopes = [f(v, derivation.result) for v in xs] if "derivative" in show else []
    finite = sorted(y for y in ys + [s for s in slopes if s is not None] if y is not None)
    if not finite:
        raise ValueError(f"{text} has no real value between {low:g} and {high:g}")
    if y_range is None:
        # robust range: the middle 90 % of the values, widened, so a pole does not flatten the picture
        lo, hi = finite[int(0.05 * (len(finite) - 1))], finite[int(0.95 * (len(finite) - 1))]
        margin = max(hi - lo, 1.0) * 0.25
        y_range = (lo - margin, hi + margin)
    ymin, ymax = y_range
    extras: dict[str, str] = {}
    if x0 is not None and ("secant" in show or "tangent" in show):
        y0, y1 = f(x0), f(x0 + dx)
        slope0 = f(x0, derivation.result)
        if y0 is None or y1 is None or slope0 is None:
            raise ValueError(f"{text} is not defined at x0 = {x0:g} or x0 + dx = {x0 + dx:g}")
        ends = (low, high)
        if "secant" in show:
            m = (y1 - y0) / dx
            extras["secant"] = _coordinates([(e, y0 + m * (e - x0)) for e in ends], ymin, ymax, gaps=False)
            extras.update(x1=_number(x0 + dx), y1=_number(y1))
            extras["points"] = _coordinates([(x0, y0), (x0 + dx, y1)], ymin, ymax, gaps=False)
        if "tangent" in show:
            extras["tangent"] = _coordinates([(e, y0 + slope0 * (e - x0)) for e in ends], ymin, ymax, gaps=False)
        extras.update(x0=_number(x0), y0=_number(y0))
    function = Curve(
        _coordinates(list(zip(xs, ys, strict=True)), ymin, ymax),
        Latex(f"f({to_latex(variable)}) = {to_latex(expression)}"),
    )
    derivative = None
    if "derivative" in show:
        derivative = Curve(
            _coordinates(list(zip(xs, slopes, strict=True)), ymin, ymax),
            Latex(f"f'({to_latex(variable)}) = {to_latex(derivation.result)}"),
        )
    return Picture(_number(low), _number(high), _number(ymin), _number(ymax), function, derivative, **extras)


def _number(value: float) -> Latex:
    """A number for pgfplots (our own output, so marked as LaTeX: escaping would turn - into {-})."""
    return Latex(f"{value:.6g}")


def _coordinates(points: list[tuple[float, float | None]], ymin: float, ymax: float, gaps: bool = True) -> Latex:
    """pgfplots coordinates; a missing or (on a curve) far-out value is a gap (nan, with
    unbounded coords=jump), so a pole does not draw a vertical line."""
    span = ymax - ymin
    parts = []
    for x, y in points:
        if y is None or (gaps and not (ymin - 10 * span <= y <= ymax + 10 * span)):
            parts.append(f"({_number(x)},nan)")
        else:
            parts.append(f"({_number(x)},{_number(y)})")
    return Latex(" ".join(parts))
