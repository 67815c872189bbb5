"""A numpy evaluator of sympy matrix expressions for the tests: an oracle independent of derivgen's
own numeric checker (derivgen/matrix_check.py evaluates with mpmath, this with numpy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy
from sympy import Inverse, MatrixSymbol, Symbol, Transpose
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derivgen.input.matrices import AsScalar, Diag, Softmax

Values = dict[str, Any]


def _function(e: sympy.Function, ev: Callable[[sympy.Basic], Any]) -> Any:
    """An elementary function of one argument (log, exp, tanh, …) applied with numpy."""
    (argument,) = e.args
    t = sympy.Dummy("t")
    return sympy.lambdify(t, e.func(t), "numpy")(ev(argument))


def numeric(expr: sympy.Basic, values: Values, sizes: dict[str, int]) -> Any:
    """A sympy matrix expression evaluated with numpy (independent of derivgen's checker)."""

    def size(dim: sympy.Expr) -> int:
        return int(dim.subs({Symbol(k, integer=True, positive=True): v for k, v in sizes.items()}))

    def ev(e: sympy.Basic) -> Any:
        if isinstance(e, MatrixSymbol):
            return values[e.name]
        if isinstance(e, AsScalar):
            return ev(e.matrix).item()
        if isinstance(e, Transpose):
            return ev(e.arg).T
        if isinstance(e, Inverse):
            return np.linalg.inv(ev(e.arg))
        if isinstance(e, sympy.Determinant):
            return np.linalg.det(ev(e.arg))
        if isinstance(e, sympy.Trace):
            return np.trace(ev(e.arg))
        if isinstance(e, sympy.Identity):
            return np.eye(size(e.shape[0]))
        if isinstance(e, sympy.OneMatrix):
            return np.ones((size(e.shape[0]), size(e.shape[1])))
        if isinstance(e, Diag):
            return np.diag(ev(e.arg)[:, 0])
        if isinstance(e, Softmax):
            exps = np.exp(ev(e.arg))
            return exps / exps.sum()
        if isinstance(e, sympy.ZeroMatrix):
            return np.zeros((size(e.shape[0]), size(e.shape[1])))
        if isinstance(e, sympy.MatAdd | sympy.Add):
            return sum(ev(term) for term in e.args)
        if isinstance(e, sympy.MatMul | sympy.Mul):
            product = ev(e.args[0])
            for factor in e.args[1:]:
                value = ev(factor)
                both = isinstance(product, np.ndarray) and isinstance(value, np.ndarray)
                product = product @ value if both else product * value
            return product
        if isinstance(e, sympy.HadamardProduct):
            product = ev(e.args[0])
            for factor in e.args[1:]:
                product = product * ev(factor)  # numpy's * is entrywise
            return product
        if isinstance(e, sympy.HadamardPower):
            return ev(e.base) ** ev(e.exp)
        if isinstance(e, ElementwiseApplyFunction):
            # the entrywise function (a sympy Lambda) through sympy's own lambdify, not derivgen
            # (σ written with exp, which numpy knows)
            sigmoid = {"sigmoid": lambda z: 1 / (1 + np.exp(-z))}
            return sympy.lambdify(e.function.variables, e.function.expr, [sigmoid, "numpy"])(ev(e.expr))
        if isinstance(e, sympy.MatPow):
            return np.linalg.matrix_power(ev(e.base), int(e.exp))
        if isinstance(e, sympy.Pow):
            return ev(e.base) ** ev(e.exp)
        if isinstance(e, sympy.Function) and not isinstance(e, sympy.core.function.AppliedUndef):
            return _function(e, ev)
        if isinstance(e, Symbol):  # a scalar, or a dimension (2ⁿ det X in ∂det(2X)/∂X)
            return values[e.name] if e.name in values else sizes[e.name]
        if e.is_Number:
            return float(e)
        raise NotImplementedError(f"the test's evaluator cannot evaluate {type(e).__name__}")

    return ev(expr)


def scalar(value: Any) -> float:
    """A number from a number or a 1×1 array (xᵀx in numpy)."""
    return float(np.asarray(value).item())


def finite_differences(function: Callable[[Values], Any], values: Values, wrt: str, h: float = 1e-6) -> np.ndarray:
    """Central differences of the numpy function by every entry of ``wrt``."""
    point = values[wrt]
    gradient = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        up, down = point.copy(), point.copy()
        up[index] += h
        down[index] -= h
        gradient[index] = (scalar(function({**values, wrt: up})) - scalar(function({**values, wrt: down}))) / (2 * h)
    return gradient
