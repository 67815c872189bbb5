"""General statements of the multivariate rules, for the rules slide (seed S5).

Partial derivatives are worked out by the one-variable rules with the other variables held
constant, so these entries rewrite nothing themselves; the chain rule through several inner
functions, which does, is ``multivariate_chain`` in :mod:`.chain`.
"""

from __future__ import annotations

from .base import Rule

RULES = [
    Rule(
        id="multivariate_product",
        label="product rule",
        statement=r"\frac{\partial}{\partial \mathbf{x}}\bigl(f(\mathbf{x})\,g(\mathbf{x})\bigr) = "
        r"\frac{\partial f}{\partial \mathbf{x}}\, g(\mathbf{x}) "
        r"+ f(\mathbf{x})\, \frac{\partial g}{\partial \mathbf{x}}",
        apply=None,
        family="multivariate",
    ),
    Rule(
        id="multivariate_sum",
        label="sum rule",
        statement=r"\frac{\partial}{\partial \mathbf{x}}\bigl(f(\mathbf{x}) + g(\mathbf{x})\bigr) = "
        r"\frac{\partial f}{\partial \mathbf{x}} + \frac{\partial g}{\partial \mathbf{x}}",
        apply=None,
        family="multivariate",
    ),
    Rule(
        id="vector_chain",
        label="chain rule",
        statement=r"\frac{\partial}{\partial \mathbf{x}} (g \circ f)(\mathbf{x}) = "
        r"\frac{\partial}{\partial \mathbf{x}}\bigl(g(f(\mathbf{x}))\bigr) = "
        r"\frac{\partial g}{\partial f}\, \frac{\partial f}{\partial \mathbf{x}}",
        apply=None,
        family="multivariate",
    ),
]

# The last step of a gradient, Jacobian or Hessian (:mod:`derivgen.calculus.multivariate`): the
# derived entries collected into one matrix.
RULES += [
    Rule(
        id="collect_gradient",
        label="collect the partial derivatives (a row vector)",
        statement=r"\nabla_{\mathbf{x}} f = \begin{bmatrix} \frac{\partial f}{\partial x_1} & \cdots & "
        r"\frac{\partial f}{\partial x_n} \end{bmatrix}",
        apply=None,
        family="multivariate",
    ),
    Rule(
        id="collect_jacobian",
        label="collect the partial derivatives (the Jacobian)",
        statement=r"J_{\mathbf{x}} \mathbf{f} = \Bigl[\frac{\partial f_i}{\partial x_j}\Bigr]_{i,j}",
        apply=None,
        family="multivariate",
    ),
    Rule(
        id="collect_hessian",
        label="collect the second partial derivatives (the Hessian)",
        statement=r"H_{\mathbf{x}} f = \Bigl[\frac{\partial^2 f}{\partial x_i\, \partial x_j}\Bigr]_{i,j}",
        apply=None,
        family="multivariate",
    ),
]
