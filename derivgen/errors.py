"""The one error family of derivgen.

Every error a user can cause is a :class:`DerivgenError`; the command line prints its
``one_line()`` form and exits non-zero without a traceback.  Anything else escaping is a bug.
"""

from __future__ import annotations


class DerivgenError(Exception):
    """Base of every error derivgen reports to a user."""

    #: exit status the command line uses for this kind of error
    exit_code = 2

    def one_line(self) -> str:
        """The message as a single line, for the command line."""
        return " ".join(str(self).split())


class ParseError(DerivgenError):
    """An expression could not be read; names the column (1-based) of the culprit."""

    def __init__(self, message: str, text: str = "", column: int | None = None):
        self.message = message
        self.text = text
        self.column = column
        super().__init__(message)

    def __str__(self) -> str:
        if self.column is None or not self.text:
            return self.message
        caret = " " * (self.column - 1) + "^"
        return f"column {self.column}: {self.message}\n  {self.text}\n  {caret}"

    def one_line(self) -> str:
        if self.column is None:
            return self.message
        snippet = self.text[max(0, self.column - 1) : self.column + 11]
        return f"column {self.column} (at {snippet!r}): {self.message}"


class LimitExceeded(DerivgenError):
    """An input or a derivation exceeds a configured resource limit."""


class UnsupportedExpression(DerivgenError):
    """No rule covers a sub-expression; names the function that is missing.  ``culprit`` is the
    derivative no rule took (``d/du 0**u``), so that a chain rule can name it in the user's terms."""

    def __init__(self, message: str, culprit: object = None):
        super().__init__(message)
        self.culprit = culprit


class VerificationError(DerivgenError):
    """A step did not check: a bug in a rule, never shown to students."""

    exit_code = 3
