"""Gradients, Jacobians, Hessians and higher derivatives, built from one-variable derivations.

Each entry ∂f_i/∂x_j is derived by the scalar engine (the other variables held constant, shown
with ∂), checked like every derivation, and the entries are then collected by one named step.
Conventions follow the seed deck: the gradient of a scalar is a 1×n row vector, the Jacobian of
m functions of n variables is m×n.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations_with_replacement, product
from typing import Any

import sympy
from sympy import Derivative, ImmutableMatrix

from ..errors import DerivgenError
from .model import Derivation, LatexOf, Left, Part, Result, Step
from .rules import REGISTRY

KINDS = ("gradient", "jacobian", "hessian", "higher", "tensor")


@dataclass
class MatrixDerivation(Result):
    """Several checked derivations and the step that collects them into a matrix (or, for a
    higher derivative of one variable, chains them)."""

    kind: str  # gradient | jacobian | hessian | higher
    expressions: tuple[sympy.Expr, ...]
    variables: tuple[sympy.Symbol, ...]
    order: int
    components: list[Derivation]
    positions: list[tuple[int, int]]  # (row, column) of each component; (order - 1, 0) for "higher"
    collect: Step | None = None
    verified: bool = False
    first_order: list[Derivation] = field(default_factory=list)  # a Hessian's gradient components

    @property
    def steps(self) -> list[Step]:
        """Every step, component by component, then the collecting step."""
        steps = [step for derivation in self.first_order + self.components for step in derivation.steps]
        return steps + ([self.collect] if self.collect is not None else [])

    @property
    def result(self) -> Any:
        if self.collect is not None:
            return self.collect.after
        return self.components[-1].result

    @property
    def shape(self) -> tuple[int, ...]:
        return self.result.shape if isinstance(self.result, sympy.MatrixBase) else (1, 1)

    def component(self, row: int, column: int) -> Derivation:
        return self.components[self.positions.index((row, column))]

    @property
    def left(self) -> Left:
        written = frozenset().union(*(derivation.written for derivation in self.first_order + self.components))
        return Left(self.kind, tuple(self.expressions), tuple(self.variables), self.order, written=written)

    @property
    def parts(self) -> list[Part]:
        """Each component's derivation (a Hessian's gradient first), then the collecting line."""
        parts = [
            Part(component.left, derivation=component, heading=f"first derivative by {component.wrt}")
            for component in self.first_order
        ]
        for (row, column), component in zip(self.positions, self.components, strict=True):
            where = f"entry ({row + 1}, {column + 1})" if self.kind != "higher" else f"derivative {row + 1}"
            parts.append(Part(component.left, derivation=component, heading=where))
        if self.collect is not None:
            parts.append(Part(self.left, collected=self, heading=self.collect.label))
        return parts

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
        latex = self._latex_of(latex)
        data: dict[str, Any] = {
            "kind": self.kind,
            "expressions": [str(e) for e in self.expressions],
            "wrt": [str(v) for v in self.variables],
            "order": self.order,
            "components": [
                {"row": row, "column": column, **derivation.to_dict(latex)}
                for (row, column), derivation in zip(self.positions, self.components, strict=True)
            ],
            "result": str(self.result.tolist() if isinstance(self.result, sympy.MatrixBase) else self.result),
        }
        if latex is not None:
            data["result_latex"] = latex(self.result)
        data["verified"] = self.verified
        return data


DeriveOne = Callable[[sympy.Expr, sympy.Symbol], Derivation]


def derive_many(
    expressions: Sequence[sympy.Expr],
    variables: Sequence[sympy.Symbol],
    order: int,
    derive_one: DeriveOne,
    verified: bool,
) -> MatrixDerivation:
    """The gradient (one expression), Jacobian (several) or Hessian (one, order 2) by components."""
    if order < 1:
        raise DerivgenError(f"the order of a derivative is at least 1, not {order}")
    if len(set(variables)) != len(variables):
        raise DerivgenError("each variable to differentiate by may appear only once")
    if len(expressions) > 1 and order > 1:
        raise DerivgenError("higher derivatives of several functions (tensors) are not supported; give one function")
    if len(variables) == 1 and len(expressions) == 1:
        return _higher(expressions[0], variables[0], order, derive_one, verified)
    if order > 2:
        return _tensor(expressions[0], variables, order, derive_one, verified)
    if order == 2:
        return _hessian(expressions[0], variables, derive_one, verified)
    kind = "gradient" if len(expressions) == 1 else "jacobian"
    components, positions = [], []
    for row, expression in enumerate(expressions):
        for column, variable in enumerate(variables):
            components.append(derive_one(expression, variable))
            positions.append((row, column))
    shape = (len(expressions), len(variables))
    collect = _collect(kind, shape, components, positions)
    return MatrixDerivation(kind, tuple(expressions), tuple(variables), 1, components, positions, collect, verified)


def _higher(expression, variable, order, derive_one: DeriveOne, verified: bool) -> MatrixDerivation:
    components, current = [], expression
    for _ in range(order):
        derivation = derive_one(current, variable)
        components.append(derivation)
        current = derivation.result
    positions = [(k, 0) for k in range(order)]
    return MatrixDerivation("higher", (expression,), (variable,), order, components, positions, None, verified)


def _hessian(expression, variables, derive_one: DeriveOne, verified: bool) -> MatrixDerivation:
    gradient = [derive_one(expression, variable) for variable in variables]
    components, positions = [], []
    for row, first in enumerate(gradient):
        for column, variable in enumerate(variables):
            components.append(derive_one(first.result, variable))
            positions.append((row, column))
    n = len(variables)
    collect = _collect("hessian", (n, n), components, positions)
    return MatrixDerivation(
        "hessian", (expression,), tuple(variables), 2, components, positions, collect, verified, first_order=gradient
    )


def _collect(kind: str, shape: tuple[int, int], components: list[Derivation], positions) -> Step:
    entries_before = [[None] * shape[1] for _ in range(shape[0])]
    entries_after = [[None] * shape[1] for _ in range(shape[0])]
    for (row, column), derivation in zip(positions, components, strict=True):
        entries_before[row][column] = Derivative(derivation.expression, derivation.wrt, evaluate=False)
        entries_after[row][column] = derivation.result
    before, after = ImmutableMatrix(entries_before), ImmutableMatrix(entries_after)
    rule = REGISTRY[f"collect_{kind}"]  # collect_gradient, collect_jacobian, collect_hessian
    return Step(
        rule=rule.id,
        label=rule.label,
        before=before,
        after=after,
        focus=before,
        replacement=after,
        is_tidy=True,
    )


@dataclass
class TensorDerivation(MatrixDerivation):
    """The partial derivatives of order ≥ 3 by several variables: a tensor, shown as its slices.

    By the symmetry of mixed partials each distinct partial (a multiset of variables) is derived once,
    step by step from the one of an order lower (∂³f/∂x²∂y from ∂²f/∂x∂y, by x); the tensor's slices
    are Hessians of the partials of order − 2 (for order 3 by x, y: ∂/∂x of the Hessian, ∂/∂y of the
    Hessian), each collected by its own step."""

    partials: dict[tuple[int, ...], Derivation] = field(default_factory=dict)
    slices: list[tuple[tuple[int, ...], MatrixDerivation]] = field(default_factory=list)

    @property
    def steps(self) -> list[Step]:
        steps = [step for derivation in self.partials.values() for step in derivation.steps]
        return steps + [piece.collect for _, piece in self.slices if piece.collect is not None]

    @property
    def result(self) -> Any:
        n = len(self.variables)
        entries = [self.partials[tuple(sorted(index))].result for index in product(range(n), repeat=self.order)]
        return sympy.ImmutableDenseNDimArray(entries, (n,) * self.order)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.variables),) * self.order

    def _by(self, index: tuple[int, ...]) -> str:
        return ", ".join(str(self.variables[i]) for i in index)

    @property
    def parts(self) -> list[Part]:
        parts = [
            Part(derivation.left, derivation=derivation, heading=f"partial derivative by {self._by(index)}")
            for index, derivation in self.partials.items()
        ]
        for prefix, piece in self.slices:
            heading = f"slice by {self._by(prefix)} of the Hessian"
            parts.append(Part(piece.left, collected=piece, heading=heading))
        return parts

    def to_dict(self, latex: LatexOf | None = None) -> dict[str, Any]:
        latex = self._latex_of(latex)
        data: dict[str, Any] = {
            "kind": self.kind,
            "expressions": [str(e) for e in self.expressions],
            "wrt": [str(v) for v in self.variables],
            "order": self.order,
            "partials": [
                {"by": [str(self.variables[i]) for i in index], **derivation.to_dict(latex)}
                for index, derivation in self.partials.items()
            ],
            "slices": [
                {"by": [str(self.variables[i]) for i in prefix], "result": str(piece.result.tolist())}
                for prefix, piece in self.slices
            ],
            "result": str(self.result.tolist()),
        }
        if latex is not None:
            data["slices_latex"] = [latex(piece.result) for _, piece in self.slices]
        data["verified"] = self.verified
        return data


def _tensor(expression, variables, order: int, derive_one: DeriveOne, verified: bool) -> TensorDerivation:
    n = len(variables)
    partials: dict[tuple[int, ...], Derivation] = {}
    for k in range(1, order + 1):
        for index in combinations_with_replacement(range(n), k):  # each distinct partial once
            parent = partials[index[:-1]].result if k > 1 else expression
            partials[index] = derive_one(parent, variables[index[-1]])
    slices = []
    for prefix in product(range(n), repeat=order - 2):
        function = partials[tuple(sorted(prefix))].result if prefix else expression
        components, positions = [], []
        for row, column in product(range(n), repeat=2):
            components.append(partials[tuple(sorted((*prefix, row, column)))])
            positions.append((row, column))
        collect = _collect("hessian", (n, n), components, positions)
        piece = MatrixDerivation("hessian", (function,), tuple(variables), 2, components, positions, collect, verified)
        slices.append((prefix, piece))
    return TensorDerivation(
        "tensor", (expression,), tuple(variables), order, [], [], None, verified, partials=partials, slices=slices
    )
