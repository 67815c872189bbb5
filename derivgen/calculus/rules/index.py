"""Rules of index notation (matrix calculus written out entry by entry, as in the seed S7-S10).

The derivative is taken by one entry, x_i or A_ij.  Entries of the same vector or matrix may be
it (x_k with k = i), which the Kronecker delta records: ∂x_k/∂x_i = δ_ik, ∂A_kl/∂A_ij = δ_ik δ_jl.
Where index notation is not how a lecture goes, the standard identity is a named rule.
"""

from __future__ import annotations

import sympy
from sympy import Determinant, Inverse, KroneckerDelta, MatMul, MatPow, MatrixExpr, MatrixSymbol, Sum
from sympy.matrices.expressions.matexpr import MatrixElement

from ...input.matrices import Softmax
from ..indices import ONE, entry
from .base import ELEMENTARY, STRUCTURAL, TRIVIAL, Context, Rewrite, Rule, d, depends, mul


def sum_into_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂/∂x_i Σ_k f_k -> Σ_k ∂f_k/∂x_i."""
    return Rewrite(Sum(d(expr.function, ctx.wrt), *expr.limits))


def kronecker_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂x_k/∂x_i -> δ_ik,  ∂A_kl/∂A_ij -> δ_ik δ_jl."""
    variable = ctx.wrt
    if not isinstance(variable, MatrixElement) or expr.parent != variable.parent or expr == variable:
        return None
    deltas = [KroneckerDelta(variable.i, expr.i, evaluate=False)]
    if variable.parent.shape[1] != 1:
        deltas.append(KroneckerDelta(variable.j, expr.j, evaluate=False))
    return Rewrite(mul(*deltas) if len(deltas) > 1 else deltas[0])


def jacobi_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂det(X)/∂X_ij -> det(X) (X⁻¹)_ji   (Jacobi's formula)."""
    variable = ctx.wrt
    matrix = expr.arg
    if not isinstance(variable, MatrixElement) or matrix != variable.parent:
        return None
    return Rewrite(
        mul(expr, MatrixElement(Inverse(matrix), variable.j, variable.i)),
        note=r"Matrix Cookbook (49): $\partial \det X / \partial X = \det(X)\, X^{-T}$; needs $X$ invertible",
    )


def inverse_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂(X⁻¹)_kl/∂X_ij -> -(X⁻¹)_ki (X⁻¹)_jl."""
    variable = ctx.wrt
    if not (isinstance(expr.parent, Inverse) and isinstance(variable, MatrixElement)):
        return None
    if expr.parent.arg != variable.parent:
        return None
    inverse = expr.parent
    return Rewrite(
        mul(
            sympy.S.NegativeOne, MatrixElement(inverse, expr.i, variable.i), MatrixElement(inverse, variable.j, expr.j)
        ),
        note=r"Matrix Cookbook (60): $\partial (X^{-1})_{kl} / \partial X_{ij} = -(X^{-1})_{ki} (X^{-1})_{jl}$",
    )


def _inner(matrix: sympy.Basic, ctx: Context) -> bool:
    """A matrix expression holding the variable other than the variable itself: the chain rule's case."""
    variable = ctx.wrt
    bare = isinstance(variable, MatrixElement) and matrix == variable.parent
    return ctx.indices is not None and not bare and depends(matrix, variable)


def jacobi_chain_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂det(F)/∂X_ij -> det(F) Σ_k Σ_l (F⁻¹)_lk ∂F_kl/∂X_ij   (Jacobi's formula through F)."""
    matrix, indices = expr.arg, ctx.indices
    if indices is None or not _inner(matrix, ctx):
        return None
    row, col = (indices.fresh(size) for size in matrix.shape)
    inner = mul(MatrixElement(Inverse(matrix), col, row), d(MatrixElement(matrix, row, col), ctx.wrt))
    return Rewrite(
        mul(expr, Sum(inner, indices.limits(row), indices.limits(col))),
        note=r"Matrix Cookbook (46): $\partial \det(Y) = \det(Y) \operatorname{tr}(Y^{-1} \partial Y)$; "
        r"needs $Y$ invertible",
    )


def inverse_chain_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂(F⁻¹)_kl/∂X_ij -> -Σ_p Σ_q (F⁻¹)_kp ∂F_pq/∂X_ij (F⁻¹)_ql."""
    indices = ctx.indices
    if indices is None or not isinstance(expr.parent, Inverse) or not _inner(expr.parent.arg, ctx):
        return None
    inverse, matrix = expr.parent, expr.parent.arg
    p, q = (indices.fresh(size) for size in matrix.shape)
    inner = mul(
        MatrixElement(inverse, expr.i, p), d(MatrixElement(matrix, p, q), ctx.wrt), MatrixElement(inverse, q, expr.j)
    )
    return Rewrite(
        mul(sympy.S.NegativeOne, Sum(inner, indices.limits(p), indices.limits(q))),
        note=r"Matrix Cookbook (59): $\partial (Y^{-1}) = -Y^{-1} (\partial Y) Y^{-1}$",
    )


def _softmax_entry(expr: sympy.Basic) -> bool:
    return isinstance(expr, MatrixElement) and isinstance(expr.parent, Softmax)


def log_softmax_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂ log softmax(g)_k/∂x -> ∂(g_k − log Σ_l e^{g_l})/∂x: the log of a quotient written as the
    difference a lecturer differentiates (no quotient rule inside the log)."""
    (argument,) = expr.args
    if ctx.indices is None or not _softmax_entry(argument) or not depends(argument, ctx.wrt):
        return None
    inner = argument.parent.arg
    l = ctx.indices.fresh(inner.shape[0])  # noqa: E741 - the lecturer's index
    normaliser = Sum(sympy.exp(MatrixElement(inner, l, ONE)), ctx.indices.limits(l))
    written = sympy.Add(MatrixElement(inner, argument.i, ONE), -sympy.log(normaliser), evaluate=False)
    return Rewrite(d(written, ctx.wrt))


def softmax_jacobian_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂softmax(g)_k/∂x -> Σ_l p_k (δ_kl − p_l) ∂g_l/∂x with p = softmax(g): the softmax Jacobian
    diag(p) − ppᵀ, entry (k, l), times the inner derivative."""
    if ctx.indices is None or not _softmax_entry(expr) or not depends(expr, ctx.wrt):
        return None
    softmax, k = expr.parent, expr.i
    l = ctx.indices.fresh(softmax.shape[0])  # noqa: E741 - the lecturer's index
    jacobian = mul(
        MatrixElement(softmax, k, ONE),
        sympy.Add(KroneckerDelta(k, l, evaluate=False), -MatrixElement(softmax, l, ONE), evaluate=False),
    )
    inner = d(MatrixElement(softmax.arg, l, ONE), ctx.wrt)
    return Rewrite(
        Sum(mul(jacobian, inner), ctx.indices.limits(l)),
        note=r"$\mathbf{p} = \operatorname{softmax}(\mathbf{z})$: "
        r"$\partial \mathbf{p} / \partial \mathbf{z} = \operatorname{diag}(\mathbf{p}) - \mathbf{p}\mathbf{p}^T$",
    )


def _written_entry(expr: sympy.Expr, ctx: Context, product: bool) -> Rewrite | None:
    """∂(AXB)_kl/∂X_ij -> ∂(Σ_p Σ_q A_kp X_pq B_ql)/∂X_ij: the entry of a matrix expression written out
    (``product``: one holding a matrix product, the definition of the matrix product)."""
    matrix = expr.parent
    if ctx.indices is None or isinstance(matrix, MatrixSymbol | Inverse) or not depends(matrix, ctx.wrt):
        return None
    has_product = matrix.has(MatPow) or any(
        isinstance(node, MatMul) and sum(isinstance(arg, MatrixExpr) for arg in node.args) > 1
        for node in sympy.preorder_traversal(matrix)
    )
    if has_product != product:
        return None
    return Rewrite(d(entry(matrix, expr.i, expr.j, ctx.indices), ctx.wrt))


def entry_product_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂(AXB)_kl/∂X_ij -> ∂(Σ_p Σ_q A_kp X_pq B_ql)/∂X_ij."""
    return _written_entry(expr, ctx, product=True)


def entry_definition_rule(expr: sympy.Expr, ctx: Context) -> Rewrite | None:
    """∂(X + A)ᵀ_kl/∂X_ij -> ∂(X_lk + A_lk)/∂X_ij."""
    return _written_entry(expr, ctx, product=False)


DERIVATIVE_RULES = [
    Rule(
        id="log_softmax",
        label="log-softmax",
        statement=r"\log \operatorname{softmax}(\mathbf{z})_k = z_k - \log \sum_l e^{z_l}",
        apply=log_softmax_rule,
        family="index",
        level=STRUCTURAL,
        heads=(sympy.log,),
    ),
    Rule(
        id="softmax_jacobian",
        label="Jacobian of softmax",
        statement=r"\frac{\partial \operatorname{softmax}(\mathbf{z})}{\partial \mathbf{z}} = "
        r"\operatorname{diag}(\mathbf{p}) - \mathbf{p}\mathbf{p}^T, \quad "
        r"\frac{\partial p_k}{\partial z_l} = p_k\,(\delta_{kl} - p_l)",
        apply=softmax_jacobian_rule,
        family="index",
        level=STRUCTURAL,
        heads=(MatrixElement,),
    ),
    Rule(
        id="sum_into_sum",
        label="sum rule",
        statement=r"\frac{\partial}{\partial x_i} \sum_k f_k = \sum_k \frac{\partial f_k}{\partial x_i}",
        apply=sum_into_rule,
        family="index",
        heads=(Sum,),
    ),
    Rule(
        id="kronecker",
        label="Kronecker delta property",
        statement=r"\frac{\partial x_k}{\partial x_i} = \delta_{ik}, \quad "
        r"\frac{\partial A_{kl}}{\partial A_{ij}} = \delta_{ik}\,\delta_{jl}",
        apply=kronecker_rule,
        family="index",
        heads=(MatrixElement,),
    ),
    Rule(
        id="inverse",
        label="derivative of the inverse",
        statement=r"\frac{\partial (X^{-1})_{kl}}{\partial X_{ij}} = -(X^{-1})_{ki}\,(X^{-1})_{jl}",
        apply=inverse_rule,
        family="index",
        heads=(MatrixElement,),
    ),
    Rule(
        id="inverse_chain",
        label="derivative of the inverse (chain rule)",
        statement=r"\frac{\partial (\mathbf{Y}^{-1})_{kl}}{\partial x} = "
        r"-\sum_p \sum_q (\mathbf{Y}^{-1})_{kp}\, \frac{\partial Y_{pq}}{\partial x}\, (\mathbf{Y}^{-1})_{ql}"
        r"\quad \text{(Matrix Cookbook (59))}",
        apply=inverse_chain_rule,
        family="index",
        level=STRUCTURAL,
        heads=(MatrixElement,),
    ),
    Rule(
        id="entry_product",
        label="definition of the matrix product",
        statement=r"(\mathbf{A}\mathbf{B})_{k,l} = \sum_p A_{k,p}\, B_{p,l}",
        apply=entry_product_rule,
        family="index",
        level=STRUCTURAL,
        heads=(MatrixElement,),
    ),
    Rule(
        id="entry_definition",
        label="index notation",
        statement=r"(\mathbf{A}^T)_{k,l} = A_{l,k}, \quad (\mathbf{A} + \mathbf{B})_{k,l} = A_{k,l} + B_{k,l}",
        apply=entry_definition_rule,
        family="index",
        level=STRUCTURAL,
        heads=(MatrixElement,),
    ),
    Rule(
        id="jacobi",
        label="Jacobi's formula",
        statement=r"\frac{\partial \det X}{\partial X_{ij}} = \det(X)\,(X^{-1})_{ji}",
        apply=jacobi_rule,
        family="index",
        level=STRUCTURAL,
        heads=(Determinant,),
    ),
    Rule(
        id="jacobi_chain",
        label="Jacobi's formula (chain rule)",
        statement=r"\frac{\partial \det \mathbf{Y}}{\partial x} = \det(\mathbf{Y}) \sum_k \sum_l "
        r"(\mathbf{Y}^{-1})_{lk}\, \frac{\partial Y_{kl}}{\partial x} \quad \text{(Matrix Cookbook (46))}",
        apply=jacobi_chain_rule,
        family="index",
        level=STRUCTURAL,
        heads=(Determinant,),
    ),
]


def _applied_by_the_matrix_engine(
    rule_id: str, label: str, statement: str, level: int = ELEMENTARY, subject: str | None = None
) -> Rule:
    return Rule(id=rule_id, label=label, statement=statement, apply=None, family="index", level=level, subject=subject)


# Rewrites the matrix engine (:mod:`derivgen.calculus.matrix_engine`) applies to the whole expression
# itself: before the derivative rules (index notation), after them (contraction, renaming) and on the
# way back to matrix form.  They are listed here so that every label a step carries is a rule of the
# registry, with a statement a rules slide can show; they have no function for the rule engine.
MATRIX_STEPS = [
    _applied_by_the_matrix_engine(
        "trace_definition", "definition of the trace", r"\operatorname{tr}(\mathbf{A}) = \sum_k A_{k,k}", STRUCTURAL
    ),
    _applied_by_the_matrix_engine(
        "matrix_product",
        "definition of the matrix product",
        r"(\mathbf{A}\mathbf{B})_{i,j} = \sum_k A_{i,k}\, B_{k,j}",
        STRUCTURAL,
    ),
    _applied_by_the_matrix_engine(
        "index_notation",
        "index notation",
        r"(\mathbf{A} \circ \mathbf{B})_{i,j} = A_{i,j}\, B_{i,j}, \quad f(\mathbf{A})_{i,j} = f(A_{i,j})",
        STRUCTURAL,
    ),
    _applied_by_the_matrix_engine(
        "softmax_definition",
        "definition of softmax",
        r"\operatorname{softmax}(\mathbf{z})_i = \frac{e^{z_i}}{\sum_k e^{z_k}}",
    ),
    _applied_by_the_matrix_engine(
        "multiply_out", "multiply out", r"\sum_k c\,(a_k + b_k) = \sum_k (c\,a_k + c\,b_k)", TRIVIAL
    ),
    _applied_by_the_matrix_engine("split_sum", "split the sum", r"\sum_k (a_k + b_k) = \sum_k a_k + \sum_k b_k"),
    _applied_by_the_matrix_engine(
        "merge_sums", "move the factor into the sum", r"a_k \sum_p b_p = \sum_p a_k\, b_p", TRIVIAL
    ),
    _applied_by_the_matrix_engine("contract", "Kronecker delta property", r"\sum_k \delta_{i,k}\, a_k = a_i"),
    _applied_by_the_matrix_engine(
        "symmetric",
        "requires M to be symmetric",  # the seed's label; a step names its own matrix
        r"\mathbf{M}^T = \mathbf{M}, \quad M_{k,i} = M_{i,k}",
        subject="M",
    ),
    _applied_by_the_matrix_engine(
        "sums_to_one",
        "requires the entries of y to sum to one",
        r"\mathbf{1}^T \mathbf{y} = \sum_k y_k = 1",
        subject="y",
    ),
    _applied_by_the_matrix_engine("rename", "renaming dummy indices", r"\sum_k a_k = \sum_l a_l", TRIVIAL),
    _applied_by_the_matrix_engine("combine_sums", "combine the sums", r"\sum_k a_k + \sum_k b_k = \sum_k (a_k + b_k)"),
    _applied_by_the_matrix_engine(
        "to_matrix",
        "back to matrix form",
        r"\sum_k A_{i,k}\, x_k = (\mathbf{A}\mathbf{x})_i, \quad A_{j,i} = (\mathbf{A}^T)_{i,j}",
        STRUCTURAL,
    ),
    _applied_by_the_matrix_engine(
        "gradient_row",
        "the gradient is a row vector",
        r"\nabla_{\mathbf{x}} f = \begin{bmatrix} \frac{\partial f}{\partial x_1} & \cdots & "
        r"\frac{\partial f}{\partial x_n} \end{bmatrix}",
        STRUCTURAL,
    ),
    _applied_by_the_matrix_engine(
        "gradient_shape",
        "the gradient has the shape of the variable",
        r"\bigl(\nabla_{\mathbf{X}} f\bigr)_{i,j} = \frac{\partial f}{\partial X_{i,j}}",
        STRUCTURAL,
    ),
    _applied_by_the_matrix_engine(
        "factor_matrix",
        "factor out the common factor",
        r"\mathbf{A}\mathbf{B} + \mathbf{A}\mathbf{C} = \mathbf{A}(\mathbf{B} + \mathbf{C})",
    ),
]
RULES = [*DERIVATIVE_RULES, *MATRIX_STEPS]
