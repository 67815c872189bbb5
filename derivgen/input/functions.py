"""Functions lecturers use that sympy does not define itself."""

from __future__ import annotations

import sympy
from sympy import Function, S, exp


class sigmoid(Function):
    r"""The logistic function :math:`\sigma(x) = 1/(1 + e^{-x})`."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg is S.Zero:
            return S.Half
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + exp(-arg))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        tex = rf"\sigma\left({printer._print(self.args[0])}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"

    def _eval_evalf(self, prec):
        return (1 / (1 + exp(-self.args[0])))._eval_evalf(prec)
