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


_SIGMOID = {"sigmoid": lambda z: 1 / (1 + np.exp(-z))}  # σ written with exp, which numpy knows


def _function(e: sympy.Function, ev: Callable[[sympy.Basic], Any]) -> Any:
    """An elementary function of one argument (log, exp, tanh, …) applied with numpy."""
    (argument,) = e.args
    t = sympy.Dummy("t")
    return sympy.lambdify(t, e.func(t), [_SIGMOID, "numpy"])(ev(argument))


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
            return sympy.lambdify(e.function.variables, e.function.expr, [_SIGMOID, "numpy"])(ev(e.expr))
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


# -- the corpus's functions read straight from their text with numpy ---------------------------------------
#
# An oracle that shares nothing with derivgen's reader: Python's ast walked by hand (never eval), ``*`` the
# matrix product (a scalar or 1×1 factor scales), ``**`` a matrix power of a square matrix, the named
# functions numpy's own, applied entrywise to arrays.

_NUMPY_ENTRYWISE: dict[str, Callable[[Any], Any]] = {
    "log": np.log,
    "ln": np.log,
    "exp": np.exp,
    "tanh": np.tanh,
    "sigmoid": _SIGMOID["sigmoid"],
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "atan": np.arctan,
    "arctan": np.arctan,
}


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.shape != (1, 1)


def _times(left: Any, right: Any) -> Any:
    if _is_array(left) and _is_array(right):
        return left @ right
    if isinstance(left, np.ndarray) and isinstance(right, np.ndarray) and left.shape[1] == right.shape[0]:
        return left @ right  # (1×1)(1×k) or (k×1)(1×1): still a product
    return (left.item() if np.shape(left) == (1, 1) else left) * (right.item() if np.shape(right) == (1, 1) else right)


def _power(base: Any, exponent: Any) -> Any:
    if _is_array(base):
        return np.linalg.matrix_power(base, int(exponent))
    return (base.item() if isinstance(base, np.ndarray) else base) ** exponent


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def evaluate_text(text: str, values: Values, sizes: dict[str, int]) -> Any:
    """The function ``text`` (derivgen's matrix syntax) at ``values``, computed with numpy alone."""
    import ast

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return {"pi": np.pi, "e": np.e}.get(node.id, values.get(node.id))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return ev(node.value).T
        if isinstance(node, ast.UnaryOp):
            value = ev(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return _times(left, right)
            if isinstance(node.op, ast.Div):
                return _times(left, 1 / (right.item() if isinstance(right, np.ndarray) else right))
            if isinstance(node.op, ast.Pow):
                return _power(left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name == "ones":
                dim = node.args[0]
                return np.ones((sizes[dim.id] if isinstance(dim, ast.Name) else int(dim.value), 1))
            args = [ev(arg) for arg in node.args]
            simple = {
                "tr": np.trace,
                "trace": np.trace,
                "det": np.linalg.det,
                "inv": np.linalg.inv,
                "transpose": np.transpose,
                "softmax": _softmax,
                "hadamard": np.multiply,
                **_NUMPY_ENTRYWISE,
            }
            if name in simple:
                return simple[name](*args)
        raise NotImplementedError(f"the test's reader cannot read {ast.dump(node)[:60]}")

    return ev(ast.parse(text, mode="eval"))
