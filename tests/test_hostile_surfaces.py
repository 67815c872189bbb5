"""Hostile and odd input against the surfaces of issue 17: LaTeX input, --format html, --format moodle,
the changed-frames splice.  Each test is a bug found by attacking them; it fails on the code before its fix."""

from __future__ import annotations

import time

import sympy

from derivgen import derive
from tests.conftest import same_function

x = sympy.Symbol("x", real=True)


def test_a_tower_of_e_powers_is_checked_in_seconds():
    # e^{e^{e^{e^{x}}}} took 7 minutes through the API (the 30 s limit is looked at between steps):
    # mpmath.power(e, a huge whole number) squares its way up; the check now takes exp of the exponent
    started = time.monotonic()
    derivation = derive(r"e^{e^{e^{e^{x}}}}", "x")
    assert time.monotonic() - started < 20
    assert same_function(derivation.result, sympy.diff(sympy.exp(sympy.exp(sympy.exp(sympy.exp(x)))), x))
